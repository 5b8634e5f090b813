//! Turns one parsed source (JSON or HCL, as a JSON value) into Consul's canonical shape:
//! keys matched case-insensitively to their canonical names, HCL block arrays and
//! labelled blocks unwrapped (`"acl":[{…}]` → `"acl":{…}`), `service`/`check` folded into
//! `services`/`checks`, nulls dropped and deprecated keys mapped to their new names.
//! Wrongly typed values and unknown keys are reported in Consul's wording.

use serde_json::{Map, Value};

use crate::error::multierror;
use crate::schema::{self, Field, Ty};

/// Keys inside service/check definitions that hold lists (compared lowercased, no `_`).
const OPEN_LIST_KEYS: &[&str] = &[
    "checks",
    "upstreams",
    "paths",
    "tags",
    "args",
    "scriptargs",
    "addheaders",
    "dnssan",
    "ipsan",
];

#[derive(Default)]
struct Errors {
    decode: Vec<String>,
    unknown: Vec<String>,
}

/// Normalises a whole source. The error is the message Consul prints after
/// `failed to parse <source>: `.
pub(crate) fn normalize(raw: Value) -> Result<Map<String, Value>, String> {
    let obj = match raw {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            ));
        }
    };
    let mut errs = Errors::default();
    let mut out = fields(obj, schema::TOP, "", &mut errs);
    if !errs.decode.is_empty() {
        let list: Vec<String> = errs.decode.iter().map(|e| format!("* {e}")).collect();
        return Err(format!(
            "{} error(s) decoding:\n\n{}",
            errs.decode.len(),
            list.join("\n")
        ));
    }
    if !errs.unknown.is_empty() {
        let list: Vec<String> = errs
            .unknown
            .iter()
            .map(|k| format!("invalid config key {k}"))
            .collect();
        return Err(multierror(&list));
    }
    fold_single(&mut out, "service", "services");
    fold_single(&mut out, "check", "checks");
    apply_deprecated(&mut out);
    Ok(out)
}

fn fields(
    obj: Map<String, Value>,
    schema: &'static [Field],
    path: &str,
    errs: &mut Errors,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, val) in obj {
        let full = join(path, &key);
        let Some((name, ty)) = schema::lookup(schema, &key) else {
            errs.unknown.push(full);
            continue;
        };
        if let Some(v) = value(val, *ty, &join(path, name), errs) {
            out.insert((*name).to_string(), v);
        }
    }
    out
}

/// Normalises one value against its type; `None` drops it (null or empty wrapper).
fn value(v: Value, ty: Ty, path: &str, errs: &mut Errors) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    match ty {
        Ty::Any => Some(v),
        Ty::Obj(inner) => match as_object(v) {
            Ok(m) => Some(Value::Object(fields(m, inner, path, errs))),
            Err(v) => {
                errs.decode
                    .push(format!("'{path}' expected a map, got '{}'", go_kind(&v)));
                None
            }
        },
        Ty::Map => match as_object(v) {
            Ok(m) => Some(Value::Object(m)),
            Err(v) => {
                errs.decode
                    .push(format!("'{path}' expected a map, got '{}'", go_kind(&v)));
                None
            }
        },
        Ty::MapOf(inner) => match as_object(v) {
            Ok(m) => {
                let mut out = Map::new();
                for (k, item) in m {
                    let p = format!("{path}[{k}]");
                    match as_object(item) {
                        Ok(o) => {
                            out.insert(k, Value::Object(fields(o, inner, &p, errs)));
                        }
                        Err(v) => errs
                            .decode
                            .push(format!("'{p}' expected a map, got '{}'", go_kind(&v))),
                    }
                }
                Some(Value::Object(out))
            }
            Err(v) => {
                errs.decode
                    .push(format!("'{path}' expected a map, got '{}'", go_kind(&v)));
                None
            }
        },
        Ty::ObjList(inner) => {
            let items = as_list(v);
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                let p = format!("{path}[{i}]");
                match as_object(item) {
                    Ok(o) => out.push(Value::Object(fields(o, inner, &p, errs))),
                    Err(v) => errs
                        .decode
                        .push(format!("'{p}' expected a map, got '{}'", go_kind(&v))),
                }
            }
            Some(Value::Array(out))
        }
        Ty::OpenList => {
            let items = as_list(v);
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                match as_object(item) {
                    Ok(o) => out.push(Value::Object(open(o))),
                    Err(v) => errs.decode.push(format!(
                        "'{path}[{i}]' expected a map, got '{}'",
                        go_kind(&v)
                    )),
                }
            }
            Some(Value::Array(out))
        }
        Ty::StrList => match v {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(_) => out.push(item),
                        other => {
                            errs.decode
                                .push(mismatch(&format!("{path}[{i}]"), "string", &other))
                        }
                    }
                }
                Some(Value::Array(out))
            }
            other => {
                errs.decode.push(format!(
                    "'{path}': source data must be an array or slice, got {}",
                    go_kind(&other)
                ));
                None
            }
        },
        Ty::Str | Ty::Dur | Ty::Bool | Ty::Int | Ty::Float => {
            let v = match v {
                Value::Array(mut items) if items.len() == 1 => items.remove(0),
                Value::Array(items) if items.is_empty() => return None,
                other => other,
            };
            let ok = match ty {
                Ty::Str | Ty::Dur => v.is_string(),
                Ty::Bool => v.is_boolean(),
                _ => v.is_number(),
            };
            if ok {
                Some(v)
            } else {
                let want = match ty {
                    Ty::Str | Ty::Dur => "string",
                    Ty::Bool => "bool",
                    Ty::Int => "int",
                    _ => "float64",
                };
                errs.decode.push(mismatch(path, want, &v));
                None
            }
        }
    }
}

/// Shape-normalises a service or check definition, keeping its keys as written.
fn open(obj: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, val) in obj {
        let canon: String = key
            .chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let is_list = OPEN_LIST_KEYS.contains(&canon.as_str());
        let v = match val {
            Value::Null => continue,
            Value::Object(m) if is_list => Value::Array(vec![Value::Object(open(m))]),
            Value::Array(items) if is_list => Value::Array(
                items
                    .into_iter()
                    .map(|i| match i {
                        Value::Object(m) => Value::Object(open(m)),
                        other => other,
                    })
                    .collect(),
            ),
            Value::Array(mut items) if items.len() == 1 && items[0].is_object() => {
                match items.remove(0) {
                    Value::Object(m) => Value::Object(open(m)),
                    other => other,
                }
            }
            Value::Object(m) => Value::Object(open(m)),
            other => other,
        };
        out.insert(key, v);
    }
    out
}

/// An object, or a one-element (or empty) array wrapping one, as Consul's decode hook allows.
fn as_object(v: Value) -> Result<Map<String, Value>, Value> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Array(items) if items.is_empty() => Ok(Map::new()),
        Value::Array(mut items) if items.len() == 1 && items[0].is_object() => {
            match items.remove(0) {
                Value::Object(m) => Ok(m),
                other => Err(other),
            }
        }
        other => Err(other),
    }
}

/// A list: arrays as they are, a single object wrapped.
fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => vec![other],
    }
}

fn fold_single(out: &mut Map<String, Value>, single: &str, list: &str) {
    let Some(Value::Array(items)) = out.remove(single) else {
        return;
    };
    match out.get_mut(list) {
        Some(Value::Array(existing)) => existing.extend(items),
        _ => {
            out.insert(list.to_string(), Value::Array(items));
        }
    }
}

/// Consul's `applyDeprecatedConfig`: old names fill new ones unless those are set.
fn apply_deprecated(c: &mut Map<String, Value>) {
    let tokens = [
        ("acl.tokens.agent_master", "acl.tokens.agent_recovery"),
        ("acl_agent_master_token", "acl.tokens.agent_recovery"),
        ("acl_agent_token", "acl.tokens.agent"),
        ("acl_token", "acl.tokens.default"),
        ("acl.tokens.master", "acl.tokens.initial_management"),
        ("acl_master_token", "acl.tokens.initial_management"),
        ("enable_acl_replication", "acl.enable_token_replication"),
        ("acl_default_policy", "acl.default_policy"),
        ("acl_down_policy", "acl.down_policy"),
        ("acl_ttl", "acl.token_ttl"),
        ("acl_enable_key_list_policy", "acl.enable_key_list_policy"),
        ("ca_file", "tls.defaults.ca_file"),
        ("ca_path", "tls.defaults.ca_path"),
        ("cert_file", "tls.defaults.cert_file"),
        ("key_file", "tls.defaults.key_file"),
        ("tls_cipher_suites", "tls.defaults.tls_cipher_suites"),
        ("tls_min_version", "tls.defaults.tls_min_version"),
        ("verify_incoming", "tls.defaults.verify_incoming"),
        ("verify_incoming_https", "tls.https.verify_incoming"),
        ("verify_incoming_rpc", "tls.internal_rpc.verify_incoming"),
        ("verify_outgoing", "tls.defaults.verify_outgoing"),
        (
            "verify_server_hostname",
            "tls.internal_rpc.verify_server_hostname",
        ),
    ];
    if take(c, "acl_replication_token").is_some_and(|v| {
        set_if_absent(c, "acl.tokens.replication", v);
        true
    }) {
        set(c, "acl.enable_token_replication", Value::Bool(true));
    }
    if let Some(dc) = take(c, "acl_datacenter") {
        set_if_absent(c, "primary_datacenter", dc);
        set(c, "acl.enabled", Value::Bool(true));
    }
    for (old, new) in tokens {
        if let Some(v) = take(c, old) {
            set_if_absent(c, new, v);
        }
    }
    for (old, new) in [
        ("start_join", "retry_join"),
        ("start_join_wan", "retry_join_wan"),
    ] {
        if let Some(Value::Array(items)) = take(c, old) {
            match c.get_mut(new) {
                Some(Value::Array(existing)) => existing.extend(items),
                _ => {
                    c.insert(new.to_string(), Value::Array(items));
                }
            }
        }
    }
    for ignored in [
        "tls_prefer_server_cipher_suites",
        "acl_enforce_version_8",
        "raft_boltdb",
    ] {
        c.remove(ignored);
    }
}

/// Removes the value at a dotted path.
fn take(c: &mut Map<String, Value>, path: &str) -> Option<Value> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?;
    let mut cur = c;
    for p in parts {
        cur = cur.get_mut(p)?.as_object_mut()?;
    }
    cur.remove(last)
}

/// Sets the value at a dotted path, creating objects on the way.
pub(crate) fn set(c: &mut Map<String, Value>, path: &str, v: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = c;
    for p in parts {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Some(next) = entry.as_object_mut() else {
            return;
        };
        cur = next;
    }
    cur.insert(last.to_string(), v);
}

fn set_if_absent(c: &mut Map<String, Value>, path: &str, v: Value) {
    if get(c, path).is_none() {
        set(c, path, v);
    }
}

/// Reads the value at a dotted path.
pub(crate) fn get<'a>(c: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = c.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn mismatch(path: &str, want: &str, got: &Value) -> String {
    let shown = match got {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!(
        "'{path}' expected type '{want}', got unconvertible type '{}', value: '{shown}'",
        go_kind(got)
    )
}

/// The Go type name `encoding/json` gives a JSON value.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// The JSON kind names Go's `encoding/json` errors use.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(v: Value) -> Value {
        Value::Object(normalize(v).unwrap())
    }

    #[test]
    fn unknown_key_message() {
        let e = normalize(json!({"foo": 1})).unwrap_err();
        assert_eq!(e, "1 error occurred:\n\t* invalid config key foo\n\n");
        let e = normalize(json!({"ports": {"htp": 1}})).unwrap_err();
        assert_eq!(e, "1 error occurred:\n\t* invalid config key ports.htp\n\n");
    }

    #[test]
    fn type_mismatch_message() {
        let e = normalize(json!({"ports": {"http": "abc"}})).unwrap_err();
        assert_eq!(
            e,
            "1 error(s) decoding:\n\n* 'ports.http' expected type 'int', got unconvertible \
             type 'string', value: 'abc'"
        );
    }

    #[test]
    fn tolerated_keys() {
        let v = norm(
            json!({"segments": null, "version": "1.20.0", "addresses": {},
                            "acl": {"tokens": {}}, "experiments": ["x"], "audit": {"enabled": false}}),
        );
        assert_eq!(v["addresses"], json!({}));
        assert!(v.get("segments").is_none());
    }

    #[test]
    fn block_array_form_unwrapped() {
        let v = norm(
            json!({"acl": [{"enabled": true, "tokens": [{"initial_management": "t"}]}],
                            "ports": [{"grpc": 8502}]}),
        );
        assert_eq!(
            v["acl"],
            json!({"enabled": true, "tokens": {"initial_management": "t"}})
        );
        assert_eq!(v["ports"]["grpc"], 8502);
    }

    #[test]
    fn services_and_service_folded() {
        let v = norm(json!({"service": {"name": "a"}, "services": [{"Name": "b"}]}));
        assert_eq!(v["services"], json!([{"Name": "b"}, {"name": "a"}]));
        let v = norm(json!({"services": {"name": "only"}}));
        assert_eq!(v["services"], json!([{"name": "only"}]));
        let v = norm(json!({"check": {"id": "c"}, "checks": []}));
        assert_eq!(v["checks"], json!([{"id": "c"}]));
    }

    #[test]
    fn service_inner_shapes() {
        let v = norm(json!({"services": [{"name": "a", "check": [{"ttl": "10s"}],
            "checks": {"ttl": "5s"}, "tags": ["x"], "meta": [{"k": "v"}],
            "connect": [{"sidecar_service": [{"port": 1}]}]}]}));
        assert_eq!(
            v["services"][0],
            json!({"name": "a", "check": {"ttl": "10s"}, "checks": [{"ttl": "5s"}],
                   "tags": ["x"], "meta": {"k": "v"}, "connect": {"sidecar_service": {"port": 1}}})
        );
    }

    #[test]
    fn case_insensitive_keys_canonicalised() {
        let v = norm(json!({"Datacenter": "dc2", "Ports": {"HTTP": 1}}));
        assert_eq!(v, json!({"datacenter": "dc2", "ports": {"http": 1}}));
    }

    #[test]
    fn deprecated_acl_names() {
        let v = norm(
            json!({"acl": {"tokens": {"master": "m", "agent_master": "a"}},
                            "acl_default_policy": "deny"}),
        );
        assert_eq!(v["acl"]["tokens"]["initial_management"], "m");
        assert_eq!(v["acl"]["tokens"]["agent_recovery"], "a");
        assert_eq!(v["acl"]["default_policy"], "deny");
        assert!(v["acl"]["tokens"].get("master").is_none());
        let v = norm(json!({"acl": {"tokens": {"master": "m", "initial_management": "i"}}}));
        assert_eq!(v["acl"]["tokens"]["initial_management"], "i");
        let v = norm(json!({"acl_master_token": "x", "acl_datacenter": "dc1"}));
        assert_eq!(v["acl"]["tokens"]["initial_management"], "x");
        assert_eq!(v["acl"]["enabled"], true);
        assert_eq!(v["primary_datacenter"], "dc1");
        let v = norm(json!({"start_join": ["a"], "retry_join": ["b"]}));
        assert_eq!(v["retry_join"], json!(["b", "a"]));
    }

    /// Wraps every object in a one-element array, as HCL1 decoding does for blocks.
    fn block_array(v: Value) -> Value {
        match v {
            Value::Object(m) => Value::Array(vec![Value::Object(
                m.into_iter().map(|(k, v)| (k, block_array(v))).collect(),
            )]),
            other => other,
        }
    }

    proptest::proptest! {
        #[test]
        fn block_array_form_equals_plain_form(
            http in -1i64..70000, dns in -1i64..70000, enabled: bool,
            token in "[a-f0-9-]{1,36}", dc in "[a-z0-9]{1,8}",
        ) {
            let plain = json!({"datacenter": dc, "ports": {"http": http, "dns": dns},
                "acl": {"enabled": enabled, "tokens": {"initial_management": token}},
                "connect": {"ca_config": {"cluster_id": "x"}}});
            let wrapped = match block_array(plain.clone()) {
                Value::Array(mut items) => items.remove(0),
                other => other,
            };
            proptest::prop_assert_eq!(normalize(wrapped).unwrap(), normalize(plain).unwrap());
        }
    }

    #[test]
    fn top_level_must_be_object() {
        assert!(normalize(json!([1])).is_err());
        assert!(normalize(Value::Null).unwrap().is_empty());
    }
}
