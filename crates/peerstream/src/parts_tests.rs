//! Tests of splitting resources into parts and reassembling them (unit and property tests).

use proptest::prelude::*;

use super::*;

fn response(nonce: &str, part: u32, parts: u32, payload: &[u8]) -> Response {
    Response {
        nonce: nonce.to_string(),
        resource_url: "exported-service".to_string(),
        resource_id: "web".to_string(),
        resource: payload.to_vec(),
        part,
        parts,
        exporter_index: 7,
        exporter_commit_unix_ms: 1_000,
    }
}

fn responses(nonce: &str, parts: &[Vec<u8>]) -> Vec<Response> {
    let n = u32::try_from(parts.len()).unwrap();
    (0..n)
        .map(|i| response(nonce, i, n, &parts[i as usize]))
        .collect()
}

#[test]
fn empty_list_is_one_empty_array() {
    let parts = split_parts::<String>(&[], 10).unwrap();
    assert_eq!(parts, vec![b"[]".to_vec()]);
}

#[test]
fn small_list_is_one_part() {
    let parts = split_parts(&["a", "b"], 100).unwrap();
    assert_eq!(parts, vec![br#"["a","b"]"#.to_vec()]);
}

#[test]
fn splits_exactly_at_the_limit() {
    // `["a","b"]` is 9 bytes: fits in 9, splits in 8.
    assert_eq!(split_parts(&["a", "b"], 9).unwrap().len(), 1);
    assert_eq!(
        split_parts(&["a", "b"], 8).unwrap(),
        vec![br#"["a"]"#.to_vec(), br#"["b"]"#.to_vec()]
    );
}

#[test]
fn oversized_item_gets_a_part_of_its_own() {
    let big = "x".repeat(50);
    let parts = split_parts(&["a".to_string(), big.clone(), "b".to_string()], 10).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[1], serde_json::to_vec(&vec![big]).unwrap());
}

#[test]
fn single_part_round_trips() {
    let parts = single_part(&serde_json::json!({"TrustDomain": "x.consul"})).unwrap();
    let mut a = Assembler::new(1 << 20);
    let got = a
        .accept(responses("00000001", &parts).remove(0))
        .unwrap()
        .unwrap();
    let v: serde_json::Value = got.decode_single().unwrap();
    assert_eq!(v["TrustDomain"], "x.consul");
}

#[test]
fn decode_single_refuses_many_parts() {
    let got = AssembledResource {
        nonce: "1".into(),
        resource_url: String::new(),
        resource_id: String::new(),
        parts: vec![b"1".to_vec(), b"2".to_vec()],
        exporter_index: 0,
        exporter_commit_unix_ms: 0,
    };
    assert!(matches!(
        got.decode_single::<u32>(),
        Err(DecodeError::NotSinglePart(2))
    ));
    assert!(matches!(
        got.decode_items::<u32>(),
        Err(DecodeError::Json { part: 0, .. })
    ));
}

#[test]
fn yields_only_when_every_part_arrived() {
    let mut a = Assembler::new(1 << 20);
    assert_eq!(a.accept(response("n", 2, 3, b"[3]")).unwrap(), None);
    assert_eq!(a.accept(response("n", 0, 3, b"[1]")).unwrap(), None);
    assert_eq!(a.pending_resources(), 1);
    assert_eq!(a.pending_bytes(), 6);
    let got = a.accept(response("n", 1, 3, b"[2]")).unwrap().unwrap();
    assert_eq!(got.decode_items::<u32>().unwrap(), vec![1, 2, 3]);
    assert_eq!(got.nonce, "n");
    assert_eq!(got.exporter_index, 7);
    assert_eq!(got.len_bytes(), 9);
    assert_eq!(a.pending_resources(), 0);
    assert_eq!(a.pending_bytes(), 0);
}

#[test]
fn refuses_bad_part_numbers() {
    let mut a = Assembler::new(1 << 20);
    assert_eq!(
        a.accept(response("n", 0, 0, b"[]")),
        Err(PartError::ZeroParts { nonce: "n".into() })
    );
    assert_eq!(
        a.accept(response("n", 3, 3, b"[]")),
        Err(PartError::OutOfRange {
            nonce: "n".into(),
            part: 3,
            parts: 3
        })
    );
    assert!(matches!(
        a.accept(response("n", 0, u32::MAX, b"[]")),
        Err(PartError::TooManyParts { .. })
    ));
}

#[test]
fn duplicate_part_drops_the_whole_resource() {
    let mut a = Assembler::new(1 << 20);
    a.accept(response("n", 0, 2, b"[1]")).unwrap();
    let err = a.accept(response("n", 0, 2, b"[1]")).unwrap_err();
    assert_eq!(err.nonce(), "n");
    assert!(matches!(err, PartError::Duplicate { part: 0, .. }));
    assert_eq!(a.pending_resources(), 0);
    assert_eq!(a.pending_bytes(), 0);
    // The next attempt of the same nonce starts afresh.
    a.accept(response("n", 1, 2, b"[2]")).unwrap();
    let got = a.accept(response("n", 0, 2, b"[1]")).unwrap().unwrap();
    assert_eq!(got.decode_items::<u32>().unwrap(), vec![1, 2]);
}

#[test]
fn inconsistent_parts_are_refused() {
    let mut a = Assembler::new(1 << 20);
    a.accept(response("n", 0, 2, b"[1]")).unwrap();
    let mut other = response("n", 1, 2, b"[2]");
    other.resource_id = "api".into();
    assert_eq!(
        a.accept(other),
        Err(PartError::Inconsistent {
            nonce: "n".into(),
            part: 1,
            field: "resource_id"
        })
    );
    a.accept(response("n", 0, 2, b"[1]")).unwrap();
    assert!(matches!(
        a.accept(response("n", 1, 3, b"[2]")),
        Err(PartError::Inconsistent { field: "parts", .. })
    ));
}

#[test]
fn pending_bytes_are_bounded() {
    let mut a = Assembler::new(10);
    a.accept(response("n", 0, 2, b"123456")).unwrap();
    assert_eq!(
        a.accept(response("m", 0, 2, b"123456")),
        Err(PartError::Overflow {
            nonce: "m".into(),
            limit: 10
        })
    );
    assert_eq!(a.pending_bytes(), 6);
    // A single-part resource never waits, so it is not bounded by the pending limit.
    assert!(
        a.accept(response("s", 0, 1, &[b'1'; 64]))
            .unwrap()
            .is_some()
    );
}

proptest! {
    /// Every part fits the limit unless it holds exactly one item; the parts decode back to
    /// the original items.
    #[test]
    fn split_respects_limit_and_round_trips(
        items in proptest::collection::vec(".{0,40}", 0..60),
        max in 2usize..200,
    ) {
        let parts = split_parts(&items, max).unwrap();
        prop_assert!(!parts.is_empty());
        let mut back: Vec<String> = Vec::new();
        for part in &parts {
            let chunk: Vec<String> = serde_json::from_slice(part).unwrap();
            prop_assert!(part.len() <= max || chunk.len() == 1, "part of {} bytes", part.len());
            prop_assert!(!chunk.is_empty() || items.is_empty());
            back.extend(chunk);
        }
        prop_assert_eq!(back, items);
    }

    /// Two resources' parts interleaved in any order reassemble into the originals, each
    /// yielded exactly once, when its last part arrives.
    #[test]
    fn assembler_reassembles_interleaved_resources(
        a_items in proptest::collection::vec(0u32..1_000_000, 0..80),
        b_items in proptest::collection::vec(".{0,10}", 0..80),
        max in 8usize..64,
        order in proptest::collection::vec(any::<bool>(), 0..400),
        shuffle_seed in any::<u64>(),
    ) {
        let mut a_msgs = responses("a", &split_parts(&a_items, max).unwrap());
        let mut b_msgs = responses("b", &split_parts(&b_items, max).unwrap());
        // Deterministically permute each resource's parts.
        let rotate = |v: &mut Vec<Response>, seed: u64| {
            let len = v.len();
            if len > 1 {
                let k = usize::try_from(seed % len as u64).unwrap();
                v.rotate_left(k);
                if seed & 1 == 1 { v.reverse(); }
            }
        };
        rotate(&mut a_msgs, shuffle_seed);
        rotate(&mut b_msgs, shuffle_seed.rotate_left(17));
        let (a_total, b_total) = (a_msgs.len(), b_msgs.len());
        let mut a_iter = a_msgs.into_iter();
        let mut b_iter = b_msgs.into_iter();
        let mut order = order.into_iter();
        let mut asm = Assembler::new(usize::MAX);
        let (mut a_done, mut b_done) = (None, None);
        let (mut a_seen, mut b_seen) = (0, 0);
        loop {
            let pick_a = order.next().unwrap_or(true);
            let next = if pick_a { a_iter.next().or_else(|| b_iter.next()) } else { b_iter.next().or_else(|| a_iter.next()) };
            let Some(msg) = next else { break };
            let is_a = msg.nonce == "a";
            if is_a { a_seen += 1 } else { b_seen += 1 }
            if let Some(done) = asm.accept(msg).unwrap() {
                if done.nonce == "a" {
                    prop_assert_eq!(a_seen, a_total);
                    prop_assert!(a_done.is_none());
                    a_done = Some(done.decode_items::<u32>().unwrap());
                } else {
                    prop_assert_eq!(b_seen, b_total);
                    prop_assert!(b_done.is_none());
                    b_done = Some(done.decode_items::<String>().unwrap());
                }
            }
        }
        prop_assert_eq!(a_done, Some(a_items));
        prop_assert_eq!(b_done, Some(b_items));
        prop_assert_eq!(asm.pending_bytes(), 0);
    }
}
