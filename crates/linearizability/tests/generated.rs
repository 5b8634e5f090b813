//! Histories produced by running a real sequential register model, with each
//! operation's interval stretched randomly around its linearization point:
//! they must always be accepted, and injecting a stale read must be caught.

use legate_linearizability::{CheckError, Op, Operation, check};
use proptest::prelude::*;

/// A small deterministic PRNG (splitmix64) so one proptest seed drives a
/// whole history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

struct Gen {
    ops: usize,
    keys: u64,
    /// Maximum stretch of an interval on each side of its linearization point
    /// (points are 100 apart).
    spread: u64,
    /// Per-mille chance that an operation's outcome is lost.
    indeterminate: u64,
}

type History = Vec<Operation<u64, u64>>;

/// Runs a sequential model and records a concurrent-looking history of it.
fn generate(seed: u64, g: &Gen) -> History {
    let mut rng = Rng(seed);
    let mut state: Vec<Option<u64>> = vec![None; g.keys as usize];
    let mut written: Vec<u64> = Vec::new();
    let mut fresh = 0u64;
    let mut history = Vec::with_capacity(g.ops);
    for i in 0..g.ops as u64 {
        let point = g.spread + 1_000 + i * 100;
        let invoke = point - rng.below(g.spread + 1);
        let response = point + rng.below(g.spread + 1);
        let key = rng.below(g.keys);
        let cur = &mut state[key as usize];
        let lost = rng.below(1000) < g.indeterminate;
        let op = match rng.below(10) {
            0..=2 => {
                fresh += 1;
                written.push(fresh);
                let op = Operation::write(key, fresh, invoke, response);
                if !(lost && rng.below(2) == 0) {
                    *cur = Some(fresh);
                }
                op
            }
            3 => {
                *cur = None;
                Operation::delete(key, invoke, response)
            }
            4..=6 => Operation::read(key, invoke, response, *cur),
            _ => {
                let expect = match rng.below(3) {
                    0 => *cur,
                    1 => None,
                    _ => written
                        .get(rng.below(written.len() as u64) as usize)
                        .copied(),
                };
                fresh += 1;
                let swapped = *cur == expect && !(lost && rng.below(2) == 0);
                if swapped {
                    *cur = Some(fresh);
                }
                Operation::cas(key, expect, fresh, invoke, response, swapped)
            }
        };
        history.push(if lost { op.into_indeterminate() } else { op });
    }
    history
}

/// Changes the state of the key: acknowledged writes, deletes and swaps.
fn changes_state(op: &Operation<u64, u64>) -> bool {
    use legate_linearizability::{Outcome, Reply};
    match (&op.op, &op.outcome) {
        (Op::Write(_) | Op::Delete, Outcome::Ok { .. }) => true,
        (
            Op::Cas { .. },
            Outcome::Ok {
                reply: Reply::Swapped(s),
                ..
            },
        ) => *s,
        _ => false,
    }
}

/// The value an acknowledged state-changing operation wrote, if any.
fn written_value(op: &Operation<u64, u64>) -> Option<u64> {
    match &op.op {
        Op::Write(v) | Op::Cas { new: v, .. } if changes_state(op) => Some(*v),
        _ => None,
    }
}

/// Adds a read returning a value that a later, strictly subsequent,
/// acknowledged operation had already overwritten. Values are unique, so
/// that read cannot be linearized.
fn inject_stale_read(h: &mut History) -> Option<usize> {
    for (i, w) in h.iter().enumerate() {
        let (Some(v), Some(done)) = (written_value(w), w.response()) else {
            continue;
        };
        let later = h[i + 1..]
            .iter()
            .find(|o| o.key == w.key && changes_state(o) && o.invoke > done);
        if let Some(overwrite) = later.and_then(|o| o.response()) {
            let at = overwrite + 1;
            h.push(Operation::read(w.key, at, at + 1, Some(v)));
            return Some(h.len() - 1);
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn model_histories_are_linearizable(
        seed in any::<u64>(),
        ops in 1usize..300,
        keys in 1u64..4,
        spread in 0u64..400,
        indeterminate in 0u64..100,
    ) {
        let h = generate(seed, &Gen { ops, keys, spread, indeterminate });
        let result = check(&h);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }

    #[test]
    fn injected_stale_reads_are_rejected(
        seed in any::<u64>(),
        ops in 2usize..300,
        keys in 1u64..4,
        spread in 0u64..400,
    ) {
        let mut h = generate(seed, &Gen { ops, keys, spread, indeterminate: 0 });
        if let Some(stale) = inject_stale_read(&mut h) {
            match check(&h) {
                Err(CheckError::NotLinearizable(v)) => prop_assert_eq!(v.key, h[stale].key),
                other => prop_assert!(false, "stale read #{} accepted: {:?}", stale, other),
            }
        }
    }
}

/// A few thousand operations on one key with ~8 concurrent clients.
#[test]
fn thousands_of_ops_per_key_check_quickly() {
    let g = Gen {
        ops: 4_000,
        keys: 1,
        spread: 400,
        indeterminate: 5,
    };
    let h = generate(7, &g);
    assert!(check(&h).is_ok());
    let mut bad = generate(
        8,
        &Gen {
            indeterminate: 0,
            ..g
        },
    );
    inject_stale_read(&mut bad).expect("a stale read can be injected");
    assert!(check(&bad).is_err());
}
