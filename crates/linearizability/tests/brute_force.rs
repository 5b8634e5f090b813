//! Cross-checks the search against brute force on small random histories
//! with arbitrary (mostly non-linearizable) replies: every subset of the
//! indeterminate operations, every order of the chosen operations.

use legate_linearizability::{Op, Operation, Outcome, Reply, check};
use proptest::prelude::*;

type History = Vec<Operation<u8, u8>>;

fn arb_op() -> impl Strategy<Value = Operation<u8, u8>> {
    let value = 0u8..3;
    let kind = prop_oneof![
        value.clone().prop_map(Op::Write),
        Just(Op::Delete),
        Just(Op::Read),
        (proptest::option::of(value.clone()), value.clone())
            .prop_map(|(expect, new)| Op::Cas { expect, new }),
    ];
    (
        kind,
        0u64..20,
        0u64..10,
        proptest::option::of(value),
        any::<bool>(),
        0u8..5,
        0u8..2,
    )
        .prop_map(|(op, invoke, len, seen, swapped, fate, key)| {
            let outcome = if fate == 0 {
                Outcome::Indeterminate
            } else {
                let reply = match op {
                    Op::Write(_) | Op::Delete => Reply::Done,
                    Op::Read => Reply::Value(seen),
                    Op::Cas { .. } => Reply::Swapped(swapped),
                };
                Outcome::Ok {
                    at: invoke + len,
                    reply,
                }
            };
            Operation {
                key,
                op,
                invoke,
                outcome,
            }
        })
}

/// Applies `op` to the register `state`, if the recorded reply allows it.
fn step(state: Option<u8>, op: &Operation<u8, u8>) -> Option<Option<u8>> {
    let reply = match &op.outcome {
        Outcome::Ok { reply, .. } => Some(reply),
        Outcome::Indeterminate => None,
    };
    match (&op.op, reply) {
        (Op::Write(v), _) => Some(Some(*v)),
        (Op::Delete, _) => Some(None),
        (Op::Read, None) => Some(state),
        (Op::Read, Some(Reply::Value(seen))) => (*seen == state).then_some(state),
        (Op::Cas { expect, new }, Some(Reply::Swapped(s))) => match (state == *expect, *s) {
            (true, true) => Some(Some(*new)),
            (false, false) => Some(state),
            _ => None,
        },
        (Op::Cas { expect, new }, None) => Some(if state == *expect { Some(*new) } else { state }),
        _ => None,
    }
}

/// Tries every order of `chosen` (indices) that respects real time.
fn some_order_works(
    h: &History,
    chosen: &mut Vec<usize>,
    placed: usize,
    state: Option<u8>,
) -> bool {
    if placed == chosen.len() {
        return true;
    }
    for i in placed..chosen.len() {
        chosen.swap(placed, i);
        let op = &h[chosen[placed]];
        // Nothing still unplaced may have responded before `op` was invoked.
        let respects_time = chosen[placed + 1..]
            .iter()
            .all(|&o| h[o].response().is_none_or(|at| at >= op.invoke));
        let works = respects_time
            && step(state, op).is_some_and(|next| some_order_works(h, chosen, placed + 1, next));
        if works {
            chosen.swap(placed, i);
            return true;
        }
        chosen.swap(placed, i);
    }
    false
}

fn brute_force_key(h: &History, key: u8) -> bool {
    let ops: Vec<usize> = (0..h.len()).filter(|&i| h[i].key == key).collect();
    let (sure, maybe): (Vec<usize>, Vec<usize>) =
        ops.into_iter().partition(|&i| h[i].response().is_some());
    (0u32..1 << maybe.len()).any(|mask| {
        let mut chosen = sure.clone();
        chosen.extend(
            maybe
                .iter()
                .enumerate()
                .filter(|(b, _)| mask & (1 << b) != 0)
                .map(|(_, &i)| i),
        );
        some_order_works(h, &mut chosen, 0, None)
    })
}

fn brute_force(h: &History) -> bool {
    (0..2).all(|key| brute_force_key(h, key))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn search_agrees_with_brute_force(h in proptest::collection::vec(arb_op(), 0..7)) {
        let expected = brute_force(&h);
        let got = check(&h);
        prop_assert_eq!(got.is_ok(), expected, "{:?}", got);
    }
}

#[test]
fn brute_force_sanity() {
    let ok: History = vec![
        Operation::write(0, 1, 0, 5),
        Operation::read(0, 6, 7, Some(1)),
    ];
    assert!(brute_force(&ok));
    let bad: History = vec![Operation::write(0, 1, 0, 5), Operation::read(0, 6, 7, None)];
    assert!(!brute_force(&bad));
}
