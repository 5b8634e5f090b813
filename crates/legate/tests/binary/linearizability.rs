//! Linearizability under leader loss: three servers and a client agent; workers write, read
//! and compare-and-set a few keys through every agent while the leader is SIGKILLed and
//! restarted again and again. Every operation is recorded with its invocation and response
//! time; the history must be linearizable (a real Wing & Gong search, not a count): no lost,
//! duplicated or reordered acknowledged operation. Operations whose outcome the client cannot
//! know (timeouts, errors mid-election) are recorded as indeterminate.
//!
//! `LEGATE_SOAK_KILLS` sets the number of leader kills (default 20; the soak variant is 100).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Instant;

use legate_linearizability::Op;
use legate_linearizability::Operation;
use rand::Rng;

use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;

type History = Vec<Operation<String, String>>;

/// Keys per kill round. Workers move to fresh keys every round, so each key lives through at
/// most one leader kill: indeterminate operations never linearize "before" anything, so
/// letting them pile up on one key makes the (exponential) search explode.
const KEYS: usize = 3;
const WORKERS: usize = 6;

/// One worker: random operations on random keys through random agents until `stop`.
fn worker(
    id: usize,
    urls: Vec<String>,
    start: Instant,
    stop: Arc<AtomicBool>,
    round: Arc<AtomicUsize>,
    history: Arc<Mutex<History>>,
) {
    let c = client();
    let mut rng = rand::rng();
    let now = || u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let mut seq = 0u64;
    let record = |op: Operation<String, String>| history.lock().unwrap().push(op);
    while !stop.load(Ordering::Relaxed) {
        let key = format!(
            "lin/{}/{}",
            round.load(Ordering::Relaxed),
            rng.random_range(0..KEYS)
        );
        let base = &urls[rng.random_range(0..urls.len())];
        seq += 1;
        let value = format!("w{id}-{seq}");
        match rng.random_range(0..10) {
            0..4 => {
                let invoke = now();
                let put = c
                    .put(format!("{base}/v1/kv/{key}"))
                    .body(value.clone())
                    .send();
                match put.and_then(|r| r.text()) {
                    Ok(t) if t == "true" => record(Operation::write(key, value, invoke, now())),
                    _ => record(Operation::indeterminate(key, Op::Write(value), invoke)),
                }
            }
            4..7 => {
                let invoke = now();
                if let Ok(r) = c.get(format!("{base}/v1/kv/{key}?raw")).send() {
                    match r.status().as_u16() {
                        200 => {
                            if let Ok(body) = r.text() {
                                record(Operation::read(key, invoke, now(), Some(body)));
                            }
                        }
                        404 => record(Operation::read(key, invoke, now(), None)),
                        _ => {} // a failed read says nothing
                    }
                }
            }
            _ => {
                // Read the current value and its index (recorded as a read), then CAS on the
                // index. Values are unique, so index-CAS is value-CAS on what was read.
                let invoke = now();
                let Ok(r) = c.get(format!("{base}/v1/kv/{key}")).send() else {
                    continue;
                };
                let (expect, index) = match r.status().as_u16() {
                    200 => {
                        let Ok(entries) = r.json::<serde_json::Value>() else {
                            continue;
                        };
                        let entry = &entries[0];
                        let raw = entry["Value"].as_str().unwrap_or("");
                        let decoded = base64_decode(raw);
                        (Some(decoded), entry["ModifyIndex"].as_u64().unwrap_or(0))
                    }
                    404 => (None, 0),
                    _ => continue,
                };
                record(Operation::read(key.clone(), invoke, now(), expect.clone()));
                let invoke = now();
                let put = c
                    .put(format!("{base}/v1/kv/{key}?cas={index}"))
                    .body(value.clone())
                    .send();
                match put.and_then(|r| r.text()) {
                    Ok(t) if t == "true" || t == "false" => {
                        record(Operation::cas(
                            key,
                            expect,
                            value,
                            invoke,
                            now(),
                            t == "true",
                        ));
                    }
                    _ => record(Operation::indeterminate(
                        key,
                        Op::Cas { expect, new: value },
                        invoke,
                    )),
                }
            }
        }
    }
}

fn base64_decode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

#[test]
fn kv_is_linearizable_across_leader_kills() {
    let kills: usize = std::env::var("LEGATE_SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = datacenter(dir.path(), 3, 1, &[]);
    for m in &mut cluster {
        m.start();
    }
    let c = client();
    wait_for("a leader known to every agent", || {
        let leaders: Vec<Option<String>> = cluster.iter().map(|m| leader_of(&c, m)).collect();
        leaders.iter().all(|l| l.is_some()) && leaders.windows(2).all(|w| w[0] == w[1])
    });

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let current_round = Arc::new(AtomicUsize::new(0));
    let history: Arc<Mutex<History>> = Arc::default();
    let urls: Vec<String> = cluster.iter().map(|m| m.url("")).collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let (urls, stop, history) = (urls.clone(), stop.clone(), history.clone());
            let round = current_round.clone();
            std::thread::spawn(move || worker(id, urls, start, stop, round, history))
        })
        .collect();

    for round in 0..kills {
        current_round.store(round, Ordering::Relaxed);
        let leader = cluster[..3]
            .iter()
            .find_map(|m| leader_of(&c, m))
            .expect("a leader");
        let victim = member_at(&cluster[..3], &leader).expect("leader is a server");
        cluster[victim].kill();
        wait_for(&format!("round {round}: a new leader"), || {
            cluster[..3]
                .iter()
                .filter(|m| m.process.is_some())
                .any(|m| leader_of(&c, m).is_some_and(|l| l != leader))
        });
        cluster[victim].start();
        wait_for(
            &format!("round {round}: the restarted server follows a leader"),
            || leader_of(&c, &cluster[victim]).is_some(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }

    let history = history.lock().unwrap().clone();
    let acknowledged = history.iter().filter(|o| o.response().is_some()).count();
    eprintln!(
        "{kills} leader kills, {} operations ({acknowledged} acknowledged)",
        history.len()
    );
    assert!(
        acknowledged > 100,
        "too few acknowledged operations to mean anything: {acknowledged}"
    );
    if let Err(err) = legate_linearizability::check(&history) {
        panic!("history is not linearizable:\n{err}");
    }
}
