//! `consul lock [-n 1] [-timeout D] [-name N] [-shell] [-pass-stdin] PREFIX CHILD...`: holds a
//! KV lock at `PREFIX/.lock` (a session with a 15s TTL, renewed in the background) while a
//! child process runs; the child is terminated if the lock is lost, and the lock released and
//! cleaned up when the child exits. Semaphores (`-n` > 1) are not supported yet.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use legate_config::goflag::FlagSet;
use serde_json::Value;
use serde_json::json;

use crate::commands::common;
use crate::commands::kv::KvPair;
use crate::commands::kv::kv_path;
use crate::flags;
use crate::http::ApiError;
use crate::http::Client;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Execute a command holding a lock";

/// Flags value Consul's Go client stores on lock keys.
const LOCK_FLAG_VALUE: u64 = 0x2ddc_cbc0_58a5_0c18;
const SESSION_TTL: &str = "15s";
const RENEW_EVERY: Duration = Duration::from_millis(7500);
const RETRY_TIME: Duration = Duration::from_secs(5);
const KILL_GRACE: Duration = Duration::from_secs(5);

const USAGE: &str = "Usage: consul lock [options] prefix child...

  Acquires a lock or semaphore at a given path, and invokes a child process
  when successful. The child process can assume the lock is held while it
  executes. If the lock is lost or communication is disrupted the child
  process will be sent a SIGTERM signal and given time to gracefully exit.
  After the grace period expires the process will be hard terminated.

  When -n=1, only a single lock holder or leader exists providing mutual
  exclusion. Setting a higher value switches to a semaphore allowing multiple
  holders to coordinate.

  The prefix provided must have write privileges.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("lock");
    fs.bool(
        "child-exit-code",
        false,
        "Exit 2 if the child process exited with an error.",
    )
    .int(
        "n",
        1,
        "Optional limit on the number of concurrent lock holders.",
    )
    .int(
        "monitor-retry",
        3,
        "Number of times to retry if Consul returns a 500 error while monitoring the lock.",
    )
    .string(
        "name",
        "",
        "Optional name to associate with the lock session.",
    )
    .bool("pass-stdin", false, "Pass stdin to the child process.")
    .bool("shell", true, "Use a shell to run the command.")
    .duration(
        "timeout",
        "0s",
        "Maximum amount of time to wait to acquire the lock.",
    )
    .duration("try", "0s", "DEPRECATED. Use -timeout instead.")
    .bool("verbose", false, "Enable verbose (debugging) output.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Go's `path.Join(prefix, ".lock")`.
pub(crate) fn lock_key(prefix: &str) -> String {
    let prefix = prefix.trim_start_matches('/').trim_end_matches('/');
    if prefix.is_empty() {
        ".lock".to_string()
    } else {
        format!("{prefix}/.lock")
    }
}

fn read_pair(
    client: &Client,
    key: &str,
    index: u64,
    wait: Duration,
) -> Result<(u64, Option<KvPair>), ApiError> {
    let mut req = client.get(&kv_path(key));
    if index > 0 {
        req = req
            .query("index", index.to_string())
            .query("wait", format!("{}ms", wait.as_millis().max(1)));
    }
    match req.send_optional()? {
        None => Ok((0, None)),
        Some(r) => {
            let pairs: Vec<KvPair> = r.json()?;
            Ok((r.index.unwrap_or(0), pairs.into_iter().next()))
        }
    }
}

/// Tries to acquire until success or the deadline; `Ok(false)` on timeout.
fn acquire(
    client: &Client,
    key: &str,
    session: &str,
    deadline: Option<Instant>,
) -> Result<bool, String> {
    loop {
        let resp = client
            .put(&kv_path(key))
            .query("acquire", session)
            .query("flags", LOCK_FLAG_VALUE.to_string())
            .bytes(Vec::new())
            .send()
            .map_err(|e| format!("failed to acquire lock: {e}"))?;
        if String::from_utf8_lossy(&resp.body).trim() == "true" {
            return Ok(true);
        }
        let remaining = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(r) if !r.is_zero() => r,
                _ => return Ok(false),
            },
            None => Duration::from_secs(300),
        };
        let (index, pair) = read_pair(client, key, 0, remaining)
            .map_err(|e| format!("failed to read lock: {e}"))?;
        match pair {
            Some(p) if p.flags != LOCK_FLAG_VALUE => {
                return Err("Existing key does not match lock use".to_string());
            }
            Some(p) if p.session.as_deref().is_some_and(|s| !s.is_empty()) => {
                let wait = remaining.min(Duration::from_secs(300));
                let _ = read_pair(client, key, index.max(1), wait);
            }
            _ => std::thread::sleep(remaining.min(RETRY_TIME)),
        }
    }
}

fn spawn_renewer(client: Arc<Client>, session: String, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut last = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= RENEW_EVERY {
                let _ = client
                    .put(&format!("/v1/session/renew/{}", escape_path(&session)))
                    .send();
                last = Instant::now();
            }
        }
    });
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Watches the lock; when it is lost, terminates the child (TERM, then KILL after a grace).
fn spawn_monitor(
    client: Arc<Client>,
    key: String,
    session: String,
    pid: u32,
    done: Arc<AtomicBool>,
    retries: i64,
) {
    std::thread::spawn(move || {
        let mut index = 0u64;
        let mut failures = 0i64;
        while !done.load(Ordering::SeqCst) {
            match read_pair(&client, &key, index, Duration::from_secs(5)) {
                Ok((idx, pair)) => {
                    failures = 0;
                    index = idx;
                    let held = pair.and_then(|p| p.session).is_some_and(|s| s == session);
                    if !held {
                        break;
                    }
                }
                Err(_) if failures < retries => {
                    failures += 1;
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(_) => break,
            }
        }
        if done.load(Ordering::SeqCst) {
            return;
        }
        signal(pid, "TERM");
        let start = Instant::now();
        while start.elapsed() < KILL_GRACE {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        signal(pid, "KILL");
    });
}

/// Releases the lock, deletes the key if nobody holds it, and destroys the session.
fn release(client: &Client, key: &str, session: &str) -> Result<(), String> {
    client
        .put(&kv_path(key))
        .query("release", session)
        .query("flags", LOCK_FLAG_VALUE.to_string())
        .bytes(Vec::new())
        .send()
        .map_err(|e| format!("Lock release failed: {e}"))?;
    if let Ok((_, Some(pair))) = read_pair(client, key, 0, Duration::ZERO)
        && pair.session.as_deref().unwrap_or_default().is_empty()
        && pair.flags == LOCK_FLAG_VALUE
    {
        let _ = client
            .delete(&kv_path(key))
            .query("cas", pair.modify_index.to_string())
            .send();
    }
    let _ = client
        .put(&format!("/v1/session/destroy/{}", escape_path(session)))
        .send();
    Ok(())
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let limit = f.int("n");
    if limit <= 0 {
        ui.error("Lock holder limit must be positive");
        return 1;
    }
    if f.args.len() < 2 {
        ui.error("Key prefix and child command must be specified");
        return 1;
    }
    let prefix = f.args[0].trim_start_matches('/').to_string();
    let child_args = f.args[1..].to_vec();
    let mut timeout = f.duration("timeout");
    if timeout.is_zero() {
        timeout = f.duration("try");
    }
    let name = match f.string("name") {
        n if n.is_empty() => format!("Consul lock for '{}' at '{prefix}'", child_args.join(" ")),
        n => n,
    };
    let retries = f.int("monitor-retry");
    if retries < 0 {
        ui.error("Number for 'monitor-retry' must be >= 0");
        return 1;
    }
    if limit > 1 {
        ui.error("Lock setup failed: semaphores (-n > 1) are not supported by this CLI yet");
        return 1;
    }
    let verbose = f.bool("verbose");
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    if let Err(e) = client.node_name() {
        ui.error(&format!("Error querying Consul agent: {e}"));
        return 1;
    }
    let client = Arc::new(client);
    let key = lock_key(&prefix);
    if verbose {
        ui.output(&format!("Setting up lock at path: {key}"));
    }
    let session = match client
        .put("/v1/session/create")
        .json(&json!({"Name": name, "TTL": SESSION_TTL}))
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(v) => v
            .get("ID")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        Err(e) => {
            ui.error(&format!(
                "Lock acquisition failed: failed to create session: {e}"
            ));
            return 1;
        }
    };
    let stop_renew = Arc::new(AtomicBool::new(false));
    spawn_renewer(
        Arc::clone(&client),
        session.clone(),
        Arc::clone(&stop_renew),
    );
    if verbose {
        ui.output("Attempting lock acquisition");
    }
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    match acquire(&client, &key, &session, deadline) {
        Ok(true) => {}
        Ok(false) => {
            stop_renew.store(true, Ordering::SeqCst);
            let _ = client
                .put(&format!("/v1/session/destroy/{}", escape_path(&session)))
                .send();
            ui.error("Shutdown triggered or timeout during lock acquisition");
            return 1;
        }
        Err(e) => {
            stop_renew.store(true, Ordering::SeqCst);
            let _ = client
                .put(&format!("/v1/session/destroy/{}", escape_path(&session)))
                .send();
            ui.error(&format!("Lock acquisition failed: {e}"));
            return 1;
        }
    }
    let mut child_code = 0;
    match common::child_command(&child_args, f.bool("shell")) {
        None => child_code = 2,
        Some(mut cmd) => {
            cmd.env("CONSUL_LOCK_HELD", "true");
            if !f.bool("pass-stdin") {
                cmd.stdin(Stdio::null());
            }
            if verbose {
                ui.output("Starting handler");
            }
            match cmd.spawn() {
                Err(e) => {
                    ui.error(&format!("Error starting handler: {e}"));
                    child_code = 2;
                }
                Ok(mut child) => {
                    let done = Arc::new(AtomicBool::new(false));
                    spawn_monitor(
                        Arc::clone(&client),
                        key.clone(),
                        session.clone(),
                        child.id(),
                        Arc::clone(&done),
                        retries,
                    );
                    let status = child.wait();
                    done.store(true, Ordering::SeqCst);
                    match status {
                        Ok(s) if s.success() => {}
                        Ok(s) => {
                            ui.error(&format!(
                                "Error running handler: exit status {}",
                                s.code().unwrap_or(-1)
                            ));
                            child_code = 2;
                        }
                        Err(e) => {
                            ui.error(&format!("Error running handler: {e}"));
                            child_code = 2;
                        }
                    }
                    if verbose {
                        ui.output("Child terminated, releasing lock");
                    }
                }
            }
        }
    }
    stop_renew.store(true, Ordering::SeqCst);
    if let Err(e) = release(&client, &key, &session) {
        ui.error(&e);
        return 1;
    }
    if verbose {
        ui.output("Cleanup succeeded");
    }
    if f.bool("child-exit-code") {
        child_code
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_key_joins_like_go_path() {
        assert_eq!(lock_key("service/web"), "service/web/.lock");
        assert_eq!(lock_key("/a/"), "a/.lock");
        assert_eq!(lock_key(""), ".lock");
    }

    #[test]
    fn requires_prefix_and_child() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let args = vec!["prefix".to_string()];
        assert_eq!(run(&args, &mut Ui::new(&mut out, &mut err, &mut input)), 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Key prefix and child command must be specified\n"
        );
    }
}
