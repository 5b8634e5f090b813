//! `service-intentions`: who may call a destination service. Each source either has an `Action`
//! (allow|deny) or L7 `Permissions`, never both; a source (name, peer, sameness group) appears
//! once. Normalisation fills `Type` = `consul`, computes each source's `Precedence` and sorts
//! sources by it, as Consul does.

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::list_of;
use super::schema::str_of;

static HEADER: &[Field] = &[
    field("Name", "", Shape::Str, Never),
    field("Present", "", Shape::Bool, Empty),
    field("Exact", "", Shape::Str, Empty),
    field("Prefix", "", Shape::Str, Empty),
    field("Suffix", "", Shape::Str, Empty),
    field("Regex", "", Shape::Str, Empty),
    field("Invert", "", Shape::Bool, Empty),
];

static HTTP: &[Field] = &[
    field("PathExact", "path_exact", Shape::Str, Empty),
    field("PathPrefix", "path_prefix", Shape::Str, Empty),
    field("PathRegex", "path_regex", Shape::Str, Empty),
    field("Header", "", Shape::List(HEADER), Empty),
    field("Methods", "", Shape::StrList, Empty),
];

static PERMISSION: &[Field] = &[
    field("Action", "", Shape::Str, Never),
    field("HTTP", "", Shape::Ptr(HTTP), Empty),
    field("JWT", "", Shape::Any, Empty),
];

static SOURCE: &[Field] = &[
    field("Name", "", Shape::Str, Never),
    field("Action", "", Shape::Str, Empty),
    field("Permissions", "", Shape::List(PERMISSION), Empty),
    field("Precedence", "", Shape::Int, Never),
    field("LegacyID", "legacy_id", Shape::Str, Empty),
    field("Type", "", Shape::Str, Never),
    field("Description", "", Shape::Str, Empty),
    field("LegacyMeta", "legacy_meta", Shape::StrMap, Empty),
    field("LegacyCreateTime", "legacy_create_time", Shape::Any, Empty),
    field("LegacyUpdateTime", "legacy_update_time", Shape::Any, Empty),
    field("Peer", "", Shape::Str, Empty),
    field("SamenessGroup", "sameness_group", Shape::Str, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Sources", "", Shape::List(SOURCE), Never),
    field("JWT", "", Shape::Any, Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "service-intentions",
    fields: FIELDS,
    normalize,
    validate,
    fixed_name: None,
};

/// Exact (non-wildcard) parts of a name in CE, where the namespace is always `default`.
fn count_exact(name: &str) -> i64 {
    if name == "*" { 1 } else { 2 }
}

fn normalize(body: &mut Map<String, Value>) -> Result<(), String> {
    let max = match count_exact(str_of(body, "Name")) {
        2 => 9,
        _ => 6,
    };
    let Some(Value::Array(sources)) = body.get_mut("Sources") else {
        return Ok(());
    };
    for src in sources.iter_mut() {
        let Some(src) = src.as_object_mut() else {
            continue;
        };
        if str_of(src, "Type").is_empty() {
            src.insert("Type".into(), Value::String("consul".into()));
        }
        let precedence = max - (2 - count_exact(str_of(src, "Name")));
        src.insert("Precedence".into(), Value::from(precedence));
        src.remove("LegacyID");
        src.remove("LegacyCreateTime");
        src.remove("LegacyUpdateTime");
        if let Some(Value::Array(perms)) = src.get_mut("Permissions") {
            for perm in perms.iter_mut() {
                let methods = perm
                    .get_mut("HTTP")
                    .and_then(|h| h.get_mut("Methods"))
                    .and_then(Value::as_array_mut);
                for method in methods.into_iter().flatten() {
                    if let Some(m) = method.as_str() {
                        *method = Value::String(m.to_uppercase());
                    }
                }
            }
        }
    }
    // Stable: sources of equal precedence keep the order the client gave.
    sources.sort_by_key(|s| std::cmp::Reverse(s.get("Precedence").and_then(Value::as_i64)));
    Ok(())
}

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    wildcards(str_of(body, "Name"), "", "")?;
    common::validate_meta(body)?;
    let dest_is_wild = str_of(body, "Name") == "*";
    let sources = list_of(body, "Sources");
    if sources.is_empty() {
        return Err("At least one source is required".to_string());
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, src) in sources.iter().enumerate() {
        let Some(src) = src.as_object() else { continue };
        validate_source(i, src, dest_is_wild)?;
        let (name, peer, group) = (
            str_of(src, "Name"),
            str_of(src, "Peer"),
            str_of(src, "SamenessGroup"),
        );
        if !seen.insert((name, peer, group)) {
            return Err(if !peer.is_empty() {
                format!("Sources[{i}] defines peer({peer:?}) {name:?} more than once")
            } else if !group.is_empty() {
                format!("Sources[{i}] defines sameness-group({group:?}) {name:?} more than once")
            } else {
                format!("Sources[{i}] defines {name:?} more than once")
            });
        }
    }
    Ok(())
}

fn validate_source(i: usize, src: &Map<String, Value>, dest_is_wild: bool) -> Result<(), String> {
    let name = str_of(src, "Name");
    if name.is_empty() {
        return Err(format!("Sources[{i}].Name is required"));
    }
    let (peer, group) = (str_of(src, "Peer"), str_of(src, "SamenessGroup"));
    wildcards(name, peer, group).map_err(|e| format!("Sources[{i}].{e}"))?;
    if !group.is_empty() && !peer.is_empty() {
        return Err(format!(
            "Sources[{i}].SamenessGroup: cannot set SamenessGroup and Peer at the same time"
        ));
    }
    if str_of(src, "Description").len() > common::META_VALUE_MAX {
        return Err(format!(
            "Sources[{i}].Description exceeds maximum length {}",
            common::META_VALUE_MAX
        ));
    }
    if src
        .get("LegacyMeta")
        .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty()))
    {
        return Err(format!("Sources[{i}].LegacyMeta must be omitted"));
    }
    let permissions = list_of(src, "Permissions");
    let action = str_of(src, "Action");
    if permissions.is_empty() && !matches!(action, "allow" | "deny") {
        return Err(format!(
            "Sources[{i}].Action must be set to 'allow' or 'deny'"
        ));
    }
    if !permissions.is_empty() && !action.is_empty() {
        return Err(format!(
            "Sources[{i}].Action must be omitted if Permissions are specified"
        ));
    }
    if dest_is_wild && !permissions.is_empty() {
        return Err(format!(
            "Sources[{i}].Permissions cannot be specified on intentions with wildcarded destinations"
        ));
    }
    if str_of(src, "Type") != "consul" {
        return Err(format!("Sources[{i}].Type must be set to 'consul'"));
    }
    for (j, perm) in permissions.iter().enumerate() {
        let Some(perm) = perm.as_object() else {
            continue;
        };
        validate_permission(i, j, perm)?;
    }
    Ok(())
}

fn validate_permission(i: usize, j: usize, perm: &Map<String, Value>) -> Result<(), String> {
    if !matches!(str_of(perm, "Action"), "allow" | "deny") {
        return Err(format!(
            "Sources[{i}].Permissions[{j}].Action must be set to 'allow' or 'deny'"
        ));
    }
    let prefix = format!("Sources[{i}].Permissions[{j}].HTTP");
    let Some(http) = perm.get("HTTP").and_then(Value::as_object) else {
        return Err(format!("{prefix} is required"));
    };
    let mut path_parts = 0;
    for key in ["PathExact", "PathPrefix"] {
        let path = str_of(http, key);
        if !path.is_empty() {
            path_parts += 1;
            if !path.starts_with('/') {
                return Err(format!("{prefix}.{key} doesn't start with '/': {path:?}"));
            }
        }
    }
    if !str_of(http, "PathRegex").is_empty() {
        path_parts += 1;
    }
    if path_parts > 1 {
        return Err(format!(
            "{prefix} should only contain at most one of PathExact, PathPrefix, or PathRegex"
        ));
    }
    let mut parts = path_parts;
    for (k, hdr) in list_of(http, "Header").iter().enumerate() {
        let Some(hdr) = hdr.as_object() else { continue };
        if str_of(hdr, "Name").is_empty() {
            return Err(format!("{prefix}.Header[{k}] missing required Name field"));
        }
        let present = usize::from(hdr.get("Present") == Some(&Value::Bool(true)));
        let set = ["Exact", "Regex", "Prefix", "Suffix"]
            .into_iter()
            .filter(|key| !str_of(hdr, key).is_empty())
            .count();
        if present + set != 1 {
            return Err(format!(
                "{prefix}.Header[{k}] should only contain one of Present, Exact, Prefix, Suffix, or Regex"
            ));
        }
        parts += 1;
    }
    let methods = list_of(http, "Methods");
    if !methods.is_empty() {
        let mut found = std::collections::BTreeSet::new();
        for m in methods.iter().filter_map(Value::as_str) {
            if !HTTP_METHODS.contains(&m) {
                return Err(format!("{prefix}.Methods contains an invalid method {m:?}"));
            }
            if !found.insert(m) {
                return Err(format!("{prefix}.Methods contains {m:?} more than once"));
            }
        }
        parts += 1;
    }
    if parts == 0 {
        return Err(format!("{prefix} should not be empty"));
    }
    Ok(())
}

/// Methods Go's `net/http` names.
const HTTP_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
];

/// Consul's `validateIntentionWildcards` for CE (namespace and partition are always default).
fn wildcards(name: &str, peer: &str, group: &str) -> Result<(), String> {
    if name != "*" && name.contains('*') {
        return Err("Name: wildcard character '*' cannot be used with partial values".to_string());
    }
    if peer.contains('*') {
        return Err("Peer: cannot use wildcard '*' in peer".to_string());
    }
    if group.contains('*') {
        return Err("SamenessGroup: cannot use wildcard '*' in sameness group".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    fn bad(v: serde_json::Value) -> String {
        match decode(&v) {
            Err(EntryError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn good_entry_is_normalised_and_sorted() {
        let e = decode(&json!({"Kind": "service-intentions", "Name": "db",
            "Sources": [{"Name": "*", "Action": "deny"}, {"name": "web", "action": "allow"},
                {"Name": "api", "Peer": "other", "Permissions": [{"Action": "allow",
                    "HTTP": {"path_prefix": "/v1", "Methods": ["get"]}}]}]}))
        .unwrap();
        assert_eq!(
            e.body,
            json!({"Kind": "service-intentions", "Name": "db", "Sources": [
                {"Name": "web", "Action": "allow", "Precedence": 9, "Type": "consul"},
                {"Name": "api", "Permissions": [{"Action": "allow",
                    "HTTP": {"PathPrefix": "/v1", "Methods": ["GET"]}}],
                    "Precedence": 9, "Type": "consul", "Peer": "other"},
                {"Name": "*", "Action": "deny", "Precedence": 8, "Type": "consul"}]})
        );
    }

    #[test]
    fn action_and_permissions_are_exclusive() {
        assert_eq!(
            bad(
                json!({"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web",
                "Action": "allow", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/"}}]}]})
            ),
            "Sources[0].Action must be omitted if Permissions are specified"
        );
        assert_eq!(
            bad(json!({"Kind": "service-intentions", "Name": "db",
                "Sources": [{"Name": "web", "Action": "maybe"}]})),
            "Sources[0].Action must be set to 'allow' or 'deny'"
        );
    }

    #[test]
    fn duplicate_sources_and_other_errors() {
        assert_eq!(
            bad(
                json!({"Kind": "service-intentions", "Name": "db", "Sources": [
                {"Name": "web", "Action": "allow"}, {"Name": "web", "Action": "deny"}]})
            ),
            "Sources[1] defines \"web\" more than once"
        );
        assert_eq!(
            bad(
                json!({"Kind": "service-intentions", "Name": "db", "Sources": [
                {"Name": "web", "Peer": "p", "Action": "allow"},
                {"Name": "web", "Peer": "p", "Action": "deny"}]})
            ),
            "Sources[1] defines peer(\"p\") \"web\" more than once"
        );
        assert_eq!(
            bad(json!({"Kind": "service-intentions", "Name": "db", "Sources": []})),
            "At least one source is required"
        );
        assert_eq!(
            bad(json!({"Kind": "service-intentions", "Name": "db",
                "Sources": [{"Action": "allow"}]})),
            "Sources[0].Name is required"
        );
        assert_eq!(
            bad(
                json!({"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "w",
                "Permissions": [{"Action": "allow", "HTTP": {}}]}]})
            ),
            "Sources[0].Permissions[0].HTTP should not be empty"
        );
        assert_eq!(
            bad(json!({"Kind": "service-intentions", "Name": "web*",
                "Sources": [{"Name": "a", "Action": "allow"}]})),
            "Name: wildcard character '*' cannot be used with partial values"
        );
    }
}
