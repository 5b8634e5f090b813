//! Helpers shared by the unit tests of several modules.

use crate::Store;
use crate::command::Command;
use crate::command::KvOp;
use crate::command::KvVerb;
use crate::command::RegisterRequest;
use crate::model::Node;
use crate::model::Session;
use crate::model::SessionBehavior;

pub(crate) fn op(verb: KvVerb, key: &str) -> KvOp {
    KvOp {
        verb,
        key: key.to_string(),
        value: Some(b"v".to_vec()),
        flags: 0,
        index: 0,
        session: None,
        now_ms: 0,
    }
}

pub(crate) fn with_value(mut o: KvOp, v: &str) -> KvOp {
    o.value = Some(v.as_bytes().to_vec());
    o
}

pub(crate) fn with_session(mut o: KvOp, s: &str) -> KvOp {
    o.session = Some(s.to_string());
    o
}

/// A store with node `n1` and sessions `s1` (release, 15s lock delay) and `s2` (delete).
pub(crate) fn store_with_sessions() -> Store {
    let s = Store::new();
    s.apply(
        1,
        Command::Register(RegisterRequest {
            node: Node {
                node: "n1".to_string(),
                address: "10.0.0.1".to_string(),
                ..Node::default()
            },
            ..RegisterRequest::default()
        }),
    );
    s.apply(
        2,
        Command::SessionCreate(Session {
            id: "s1".to_string(),
            node: "n1".to_string(),
            lock_delay_ns: 15_000_000_000,
            ..Session::default()
        }),
    );
    s.apply(
        3,
        Command::SessionCreate(Session {
            id: "s2".to_string(),
            node: "n1".to_string(),
            behavior: SessionBehavior::Delete,
            ..Session::default()
        }),
    );
    s
}
