//! Classic linearizability examples against [`check`].

use super::*;

type H = Vec<Operation<&'static str, u32>>;

fn violation(h: &H) -> Violation<&'static str, u32> {
    match check(h) {
        Err(CheckError::NotLinearizable(v)) => *v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn empty_history_is_linearizable() {
    assert_eq!(check::<&str, u32>(&[]), Ok(()));
}

#[test]
fn sequential_history_is_linearizable() {
    let h: H = vec![
        Operation::read("x", 0, 1, None),
        Operation::write("x", 1, 2, 3),
        Operation::read("x", 4, 5, Some(1)),
        Operation::cas("x", Some(1), 2, 6, 7, true),
        Operation::read("x", 8, 9, Some(2)),
        Operation::delete("x", 10, 11),
        Operation::read("x", 12, 13, None),
    ];
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn stale_read_after_acknowledged_write_is_rejected() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::write("x", 2, 20, 30),
        Operation::read("x", 40, 50, Some(1)),
    ];
    let v = violation(&h);
    assert_eq!(v.key, "x");
    assert_eq!(v.stuck.index, 2);
    assert_eq!(v.value, Some(2));
    assert_eq!(v.linearized_count, 2);
    let recent: Vec<usize> = v.recent.iter().map(|i| i.index).collect();
    assert_eq!(recent, vec![0, 1]);
}

#[test]
fn overlapping_writes_may_take_either_order() {
    for seen in [1, 2] {
        let h: H = vec![
            Operation::write("x", 1, 0, 20),
            Operation::write("x", 2, 10, 30),
            Operation::read("x", 40, 50, Some(seen)),
            Operation::read("x", 60, 70, Some(seen)),
        ];
        assert_eq!(check(&h), Ok(()), "final value {seen}");
    }
}

#[test]
fn reads_must_agree_once_writes_are_done() {
    let h: H = vec![
        Operation::write("x", 1, 0, 20),
        Operation::write("x", 2, 10, 30),
        Operation::read("x", 40, 50, Some(2)),
        Operation::read("x", 60, 70, Some(1)),
    ];
    assert_eq!(violation(&h).stuck.index, 3);
}

#[test]
fn read_overlapping_a_write_may_see_either_value() {
    for seen in [None, Some(1)] {
        let h: H = vec![
            Operation::write("x", 1, 0, 100),
            Operation::read("x", 10, 20, seen),
        ];
        assert_eq!(check(&h), Ok(()));
    }
}

#[test]
fn touching_intervals_are_concurrent() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::read("x", 10, 20, None),
    ];
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn lost_acknowledged_write_is_caught() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::write("x", 2, 5, 15),
        Operation::read("x", 20, 30, Some(1)),
        Operation::write("x", 3, 40, 50),
        // Write 3 was acknowledged, then silently lost.
        Operation::read("x", 60, 70, Some(1)),
    ];
    let v = violation(&h);
    assert_eq!(v.stuck.index, 4);
    assert_eq!(v.value, Some(3));
}

#[test]
fn lost_write_seen_by_failed_cas_is_caught() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::cas("x", Some(1), 2, 20, 30, false),
    ];
    assert_eq!(violation(&h).stuck.index, 1);
}

#[test]
fn duplicated_cas_is_caught() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::cas("x", Some(1), 2, 20, 30, true),
        // Replayed after a retry: the value was already 2.
        Operation::cas("x", Some(1), 3, 40, 50, true),
    ];
    assert_eq!(violation(&h).stuck.index, 2);
}

#[test]
fn resurrected_value_is_caught() {
    let h: H = vec![
        Operation::cas("x", None, 1, 0, 10, true),
        Operation::write("x", 2, 20, 30),
        Operation::read("x", 40, 50, Some(2)),
        // 1 was only ever written once and already overwritten.
        Operation::read("x", 60, 70, Some(1)),
    ];
    assert_eq!(violation(&h).stuck.index, 3);
}

#[test]
fn concurrent_cas_only_one_may_win() {
    let both: H = vec![
        Operation::cas("x", None, 1, 0, 100, true),
        Operation::cas("x", None, 2, 0, 100, true),
    ];
    assert!(check(&both).is_err());
    let one: H = vec![
        Operation::cas("x", None, 1, 0, 100, false),
        Operation::cas("x", None, 2, 0, 100, true),
        Operation::read("x", 110, 120, Some(2)),
    ];
    assert_eq!(check(&one), Ok(()));
}

#[test]
fn cas_semantics() {
    let h: H = vec![
        Operation::cas("x", Some(7), 1, 0, 1, false),
        Operation::cas("x", None, 1, 2, 3, true),
        Operation::cas("x", None, 2, 4, 5, false),
        Operation::cas("x", Some(1), 3, 6, 7, true),
        Operation::read("x", 8, 9, Some(3)),
    ];
    assert_eq!(check(&h), Ok(()));
    let wrong: H = vec![Operation::cas("x", None, 1, 0, 1, false)];
    assert!(check(&wrong).is_err());
}

#[test]
fn indeterminate_write_that_happened_is_accepted() {
    let h: H = vec![
        Operation::indeterminate("x", Op::Write(1), 0),
        Operation::read("x", 100, 110, Some(1)),
    ];
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn indeterminate_write_that_did_not_happen_is_accepted() {
    let h: H = vec![
        Operation::indeterminate("x", Op::Write(1), 0),
        Operation::read("x", 100, 110, None),
        Operation::write("x", 2, 120, 130),
        Operation::read("x", 140, 150, Some(2)),
    ];
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn indeterminate_write_may_land_late() {
    let h: H = vec![
        Operation::indeterminate("x", Op::Write(1), 0),
        Operation::read("x", 100, 110, None),
        Operation::read("x", 200, 210, Some(1)),
    ];
    assert_eq!(check(&h), Ok(()));
    // ... but only once: it cannot take effect, vanish and come back.
    let mut twice = h.clone();
    twice.push(Operation::write("x", 2, 300, 310));
    twice.push(Operation::read("x", 320, 330, Some(1)));
    assert!(check(&twice).is_err());
}

#[test]
fn indeterminate_write_cannot_act_before_invocation() {
    let h: H = vec![
        Operation::read("x", 0, 10, Some(1)),
        Operation::indeterminate("x", Op::Write(1), 20),
    ];
    assert_eq!(violation(&h).stuck.index, 0);
}

#[test]
fn indeterminate_cas_both_ways() {
    for seen in [1, 2] {
        let h: H = vec![
            Operation::write("x", 1, 0, 10),
            Operation::indeterminate(
                "x",
                Op::Cas {
                    expect: Some(1),
                    new: 2,
                },
                20,
            ),
            Operation::read("x", 30, 40, Some(seen)),
        ];
        assert_eq!(check(&h), Ok(()));
    }
}

#[test]
fn indeterminate_reads_are_ignored() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::read("x", 20, 30, Some(99)).into_indeterminate(),
    ];
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn keys_are_independent() {
    let h: H = vec![
        Operation::write("a", 1, 0, 10),
        Operation::write("b", 2, 0, 10),
        Operation::read("a", 20, 30, Some(1)),
        Operation::read("b", 20, 30, Some(2)),
        Operation::read("c", 20, 30, None),
    ];
    assert_eq!(check(&h), Ok(()));
    let mut bad = h.clone();
    bad.push(Operation::read("b", 40, 50, Some(1)));
    let v = violation(&bad);
    assert_eq!(v.key, "b");
    assert_eq!(v.stuck.index, 5);
}

#[test]
fn mismatched_reply_is_malformed() {
    let mut op = Operation::write("x", 1, 0, 1);
    op.outcome = Outcome::Ok {
        at: 1,
        reply: Reply::Swapped(true),
    };
    assert!(matches!(
        check(&[op]),
        Err(CheckError::ReplyMismatch { index: 0, .. })
    ));
}

#[test]
fn response_before_invoke_is_malformed() {
    let h: H = vec![Operation::write("x", 1, 10, 5)];
    assert!(matches!(
        check(&h),
        Err(CheckError::NegativeDuration { index: 0, .. })
    ));
}

#[test]
fn violation_lists_concurrent_candidates() {
    let h: H = vec![
        Operation::write("x", 1, 0, 10),
        Operation::read("x", 20, 100, Some(5)),
        Operation::read("x", 30, 40, Some(7)),
    ];
    let v = violation(&h);
    assert_eq!(v.stuck.index, 2);
    let concurrent: Vec<usize> = v.concurrent.iter().map(|i| i.index).collect();
    assert_eq!(concurrent, vec![1]);
    assert!(v.to_string().contains("concurrent candidates"));
}
