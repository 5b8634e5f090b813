//! `/v1/txn`: Consul's all-or-nothing transactions of KV operations. The body is decoded and
//! checked here (size, op count, verbs, keys, lock delays — Consul's `preCheck`), then the
//! ops go through Raft as one [`Command::Txn`]. 200 with `Results` when every op succeeded,
//! 409 with `Errors` (and nothing changed) otherwise. Node, service and check ops are not
//! supported yet.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::put;
use base64::Engine;
use bytes::Bytes;
use http::HeaderValue;
use http::StatusCode;
use legate_state::StateView;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::KvOp;
use legate_state::command::KvVerb;
use legate_state::command::TxnOp;
use legate_state::command::TxnOutcome;
use serde_json::Map;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::kv::KV_MAX_VALUE_SIZE;
use super::kv::KvPair;
use super::kv::method_not_allowed;
use super::query::Params;
use super::reply;

/// Most operations one transaction may hold, as Consul.
pub(super) const MAX_TXN_OPS: usize = 64;

/// Largest transaction body (Consul's `txn_max_req_len` default, never below the KV limit).
const MAX_TXN_LEN: usize = KV_MAX_VALUE_SIZE;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/txn", put(txn).fallback(method_not_allowed))
}

async fn txn(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let ops = decode_ops(&body)?;
    let now_ms = crate::clock::now_unix_ms();
    let ops: Vec<PendingOp> = ops.into_iter().map(|op| op.into_pending(now_ms)).collect();
    let read_only = ops.iter().all(|op| !op.is_write());

    let view = agent.server().store().view();
    let errors = pre_check(&ops, &view, now_ms);
    let outcome = if errors.is_empty() {
        let ops = ops
            .into_iter()
            .filter_map(|op| op.op.map(TxnOp::Kv))
            .collect();
        match agent.server().write(Command::Txn(ops)).await? {
            CommandResult::Txn(outcome) => outcome,
            CommandResult::Rejected(message) => {
                return Err(ApiError::Internal(format!("raft apply failed: {message}")));
            }
            other => {
                return Err(ApiError::Internal(format!(
                    "unexpected transaction result: {other:?}"
                )));
            }
        }
    } else {
        TxnOutcome {
            results: Vec::new(),
            errors,
        }
    };

    let consensus = agent.server().consensus();
    let known_leader = consensus.leader_addr().is_some();
    let last_contact_ms = if consensus.is_leader() {
        0
    } else {
        consensus
            .last_contact()
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    let mut value = response_json(&outcome);
    if read_only {
        // Consul answers read-only transactions from `Txn.Read`, whose reply embeds QueryMeta.
        if let Value::Object(map) = &mut value {
            map.insert("Index".into(), json!(0));
            map.insert("LastContact".into(), json!(last_contact_ms * 1_000_000));
            map.insert("KnownLeader".into(), json!(known_leader));
            map.insert("ConsistencyLevel".into(), json!(""));
            map.insert("NotModified".into(), json!(false));
            map.insert("Backend".into(), json!(0));
            map.insert("ResultsFilteredByACLs".into(), json!(false));
        }
    }
    let body = reply::encode_json(&value, opts.pretty)?;
    let status = if outcome.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let mut response = (
        status,
        [(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if read_only {
        let headers = response.headers_mut();
        headers.insert("X-Consul-LastContact", HeaderValue::from(last_contact_ms));
        headers.insert(
            "X-Consul-KnownLeader",
            HeaderValue::from_static(if known_leader { "true" } else { "false" }),
        );
    }
    Ok(response)
}

/// `{"Results": [...], "Errors": null}` or `{"Results": null, "Errors": [...]}`.
fn response_json(outcome: &TxnOutcome) -> Value {
    if outcome.errors.is_empty() {
        let results: Vec<Value> = outcome
            .results
            .iter()
            .map(|entry| json!({ "KV": KvPair::from(entry) }))
            .collect();
        json!({ "Results": results, "Errors": null })
    } else {
        let errors: Vec<Value> = outcome
            .errors
            .iter()
            .map(|(index, what)| json!({ "OpIndex": index, "What": what }))
            .collect();
        json!({ "Results": null, "Errors": errors })
    }
}

/// One KV op as the client wrote it.
#[derive(Clone, Debug, Default, PartialEq)]
struct KvInput {
    verb: String,
    key: String,
    value: Option<Vec<u8>>,
    flags: u64,
    index: u64,
    session: String,
}

impl KvInput {
    /// The op ready for the state store, or the verb it does not know.
    fn into_pending(self, now_ms: u64) -> PendingOp {
        let verb = parse_verb(&self.verb);
        let op = verb.clone().map(|verb| KvOp {
            verb,
            key: self.key.clone(),
            value: self.value,
            flags: self.flags,
            index: self.index,
            session: (!self.session.is_empty()).then_some(self.session),
            now_ms,
        });
        PendingOp {
            verb_text: self.verb,
            key: self.key,
            op,
        }
    }
}

/// An op after decoding: `op` is `None` when the verb is unknown.
#[derive(Debug)]
struct PendingOp {
    verb_text: String,
    key: String,
    op: Option<KvOp>,
}

impl PendingOp {
    /// Whether the op changes the store (Consul's `isWrite`); unknown verbs count as writes,
    /// since only the write path reports them.
    fn is_write(&self) -> bool {
        match &self.op {
            None => true,
            Some(op) => matches!(
                op.verb,
                KvVerb::Set
                    | KvVerb::Delete
                    | KvVerb::DeleteCas
                    | KvVerb::DeleteTree
                    | KvVerb::Cas
                    | KvVerb::Lock
                    | KvVerb::Unlock
            ),
        }
    }
}

/// Consul's `api.KVOp` verbs.
fn parse_verb(verb: &str) -> Option<KvVerb> {
    Some(match verb {
        "set" => KvVerb::Set,
        "delete" => KvVerb::Delete,
        "delete-cas" => KvVerb::DeleteCas,
        "delete-tree" => KvVerb::DeleteTree,
        "cas" => KvVerb::Cas,
        "lock" => KvVerb::Lock,
        "unlock" => KvVerb::Unlock,
        "get" => KvVerb::Get,
        "get-tree" => KvVerb::GetTree,
        "check-index" => KvVerb::CheckIndex,
        "check-session" => KvVerb::CheckSession,
        "check-not-exists" => KvVerb::CheckNotExists,
        _ => return None,
    })
}

/// Checks made before Raft, each failure reported against its op: a known verb, a key (except
/// for `delete-tree`), and no running lock delay on a key being locked.
fn pre_check(ops: &[PendingOp], view: &StateView, now_ms: u64) -> Vec<(usize, String)> {
    let mut errors = Vec::new();
    for (i, pending) in ops.iter().enumerate() {
        let Some(op) = &pending.op else {
            errors.push((i, format!("unknown KV verb {:?}", pending.verb_text)));
            continue;
        };
        if pending.key.is_empty() && op.verb != KvVerb::DeleteTree {
            errors.push((i, "Must provide key".to_string()));
            continue;
        }
        if op.verb == KvVerb::Lock
            && view
                .lock_delay_until(&pending.key)
                .is_some_and(|until| now_ms < until)
        {
            errors.push((
                i,
                format!("failed to lock key {:?} due to lock delay", pending.key),
            ));
        }
    }
    errors
}

/// Decode and size-check the body: a JSON array of `{"KV": {...}}` objects.
fn decode_ops(body: &Bytes) -> Result<Vec<KvInput>, ApiError> {
    if body.len() > MAX_TXN_LEN {
        return Err(ApiError::TooLarge(format!(
            "Request body too large, max size: {MAX_TXN_LEN} bytes"
        )));
    }
    let parse_error = |what: String| ApiError::BadRequest(format!("Failed to parse body: {what}"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(parse_error("EOF".to_string()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| parse_error(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => {
            return Err(parse_error(format!(
                "json: cannot unmarshal {} into Go value of type api.TxnOps",
                json_kind(&other)
            )));
        }
    };
    if items.len() > MAX_TXN_OPS {
        return Err(ApiError::TooLarge(format!(
            "Transaction contains too many operations ({} > {MAX_TXN_OPS})",
            items.len()
        )));
    }
    let mut ops = Vec::with_capacity(items.len());
    for item in &items {
        let Value::Object(op) = item else {
            return Err(parse_error(format!(
                "json: cannot unmarshal {} into Go value of type api.TxnOp",
                json_kind(item)
            )));
        };
        for kind in ["Node", "Service", "Check"] {
            if field(op, kind).is_some_and(|v| !v.is_null()) {
                return Err(ApiError::BadRequest(format!(
                    "{kind} operations are not supported in transactions yet"
                )));
            }
        }
        // An op with no KV part is dropped, as Consul does.
        let Some(kv) = field(op, "KV").filter(|v| !v.is_null()) else {
            continue;
        };
        let kv = decode_kv(kv).map_err(parse_error)?;
        if let Some(size) = kv
            .value
            .as_ref()
            .map(Vec::len)
            .filter(|n| *n > KV_MAX_VALUE_SIZE)
        {
            return Err(ApiError::TooLarge(format!(
                "Value for key {:?} is too large ({size} > {KV_MAX_VALUE_SIZE} bytes)",
                kv.key
            )));
        }
        ops.push(kv);
    }
    Ok(ops)
}

/// Decode one `KV` object; field names match case-insensitively, as Go's decoder.
fn decode_kv(value: &Value) -> Result<KvInput, String> {
    let Value::Object(kv) = value else {
        return Err(format!(
            "json: cannot unmarshal {} into Go struct field TxnOp.KV of type api.TxnKVOp",
            json_kind(value)
        ));
    };
    let string = |name: &str| -> Result<String, String> {
        match field(kv, name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(type_error(name, other, "string")),
        }
    };
    let uint = |name: &str| -> Result<u64, String> {
        match field(kv, name) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                format!("json: cannot unmarshal number {n} into Go struct field TxnKVOp.KV.{name} of type uint64")
            }),
            Some(other) => Err(type_error(name, other, "uint64")),
        }
    };
    let value = match field(kv, "Value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("illegal base64 data: {e}"))?,
        ),
        Some(other) => return Err(type_error("Value", other, "[]uint8")),
    };
    Ok(KvInput {
        verb: string("Verb")?,
        key: string("Key")?,
        value,
        flags: uint("Flags")?,
        index: uint("Index")?,
        session: string("Session")?,
    })
}

fn type_error(name: &str, value: &Value, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field TxnKVOp.KV.{name} of type {go_type}",
        json_kind(value)
    )
}

/// A member by exact name, else by case-insensitive name (Go's `encoding/json` rule).
pub(super) fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The JSON kind as Go's decoder names it in errors.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use legate_state::model::KvEntry;

    use super::*;

    fn decode(text: &str) -> Result<Vec<KvInput>, ApiError> {
        decode_ops(&Bytes::from(text.to_string()))
    }

    #[test]
    fn routes_build_without_conflicts() {
        let _ = routes();
    }

    #[test]
    fn decodes_kv_ops_case_insensitively() {
        let ops = decode(
            r#"[{"KV":{"Verb":"set","Key":"a","Value":"aGk=","Flags":3}},
                {"kv":{"verb":"cas","key":"b","index":7,"session":"s"}}]"#,
        )
        .unwrap();
        assert_eq!(
            ops[0],
            KvInput {
                verb: "set".into(),
                key: "a".into(),
                value: Some(b"hi".to_vec()),
                flags: 3,
                ..KvInput::default()
            }
        );
        assert_eq!(ops[1].index, 7);
        assert_eq!(ops[1].session, "s");
        assert_eq!(ops[1].value, None);
    }

    #[test]
    fn rejects_bad_bodies_with_consul_statuses() {
        let err = decode("{}").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            err.to_string(),
            "Failed to parse body: json: cannot unmarshal object into Go value of type api.TxnOps"
        );
        assert_eq!(
            decode("").unwrap_err().to_string(),
            "Failed to parse body: EOF"
        );
        let many = format!(
            "[{}]",
            vec![r#"{"KV":{"Verb":"get","Key":"k"}}"#; 65].join(",")
        );
        let err = decode(&many).unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            err.to_string(),
            "Transaction contains too many operations (65 > 64)"
        );
        let err = decode(r#"[{"Node":{"Verb":"get"}}]"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let err = decode(r#"[{"KV":{"Flags":"x"}}]"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn oversized_body_is_413() {
        let err = decode(&"x".repeat(MAX_TXN_LEN + 1)).unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            err.to_string(),
            "Request body too large, max size: 524288 bytes"
        );
    }

    #[test]
    fn pre_check_reports_unknown_verbs_and_missing_keys() {
        let store = legate_state::Store::new();
        let ops: Vec<PendingOp> = [
            ("nope", "k"),
            ("set", ""),
            ("delete-tree", ""),
            ("get", "k"),
        ]
        .into_iter()
        .map(|(verb, key)| {
            KvInput {
                verb: verb.into(),
                key: key.into(),
                ..KvInput::default()
            }
            .into_pending(0)
        })
        .collect();
        let errors = pre_check(&ops, &store.view(), 0);
        assert_eq!(
            errors,
            vec![
                (0, "unknown KV verb \"nope\"".to_string()),
                (1, "Must provide key".to_string()),
            ]
        );
        assert!(ops[0].is_write());
        assert!(!ops[3].is_write());
    }

    #[test]
    fn response_shapes() {
        let ok = TxnOutcome {
            results: vec![KvEntry {
                key: "a".into(),
                create_index: 4,
                modify_index: 4,
                ..KvEntry::default()
            }],
            errors: Vec::new(),
        };
        assert_eq!(
            response_json(&ok).to_string(),
            r#"{"Results":[{"KV":{"LockIndex":0,"Key":"a","Flags":0,"Value":null,"CreateIndex":4,"ModifyIndex":4}}],"Errors":null}"#
        );
        let failed = TxnOutcome {
            results: Vec::new(),
            errors: vec![(1, "boom".into())],
        };
        assert_eq!(
            response_json(&failed).to_string(),
            r#"{"Results":null,"Errors":[{"OpIndex":1,"What":"boom"}]}"#
        );
    }
}
