//! Cross-entry rules of the discovery chain: a service-router or service-splitter only makes
//! sense for a service whose protocol is L7 (`http`, `http2`, `grpc`), resolved as Consul does
//! from the service's service-defaults, then the global proxy-defaults, else `tcp`.

use legate_state::StateView;
use serde_json::Value;

use super::EntryError;

/// Kinds that need an L7 protocol.
const L7_KINDS: [&str; 2] = ["service-router", "service-splitter"];
/// Protocols that permit routing and splitting.
const L7_PROTOCOLS: [&str; 3] = ["http", "http2", "grpc"];

/// The protocol of service `name` as the discovery chain sees it.
pub fn protocol_of(view: &StateView, name: &str) -> String {
    let non_empty = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_ascii_lowercase)
    };
    view.config_entry("service-defaults", name)
        .and_then(|e| non_empty(e.body.get("Protocol")))
        .or_else(|| {
            view.config_entry("proxy-defaults", "global")
                .and_then(|e| non_empty(e.body.get("Config").and_then(|c| c.get("protocol"))))
        })
        .unwrap_or_else(|| "tcp".to_string())
}

/// Refuse a router or splitter for a service whose protocol cannot route L7.
pub fn check_protocol(kind: &str, name: &str, view: &StateView) -> Result<(), EntryError> {
    if !L7_KINDS.contains(&kind) {
        return Ok(());
    }
    let protocol = protocol_of(view, name);
    if L7_PROTOCOLS.contains(&protocol.as_str()) {
        return Ok(());
    }
    Err(EntryError::Invalid(format!(
        "discovery chain {name:?} uses a protocol {protocol:?} that does not permit advanced routing or splitting behavior"
    )))
}

#[cfg(test)]
mod tests {
    use legate_state::Store;
    use legate_state::command::Command;
    use legate_state::model::ConfigEntry;
    use serde_json::json;

    use super::*;

    fn set(store: &Store, kind: &str, name: &str, body: Value) {
        let index = store.last_index() + 1;
        let entry = ConfigEntry {
            kind: kind.into(),
            name: name.into(),
            body,
            create_index: 0,
            modify_index: 0,
        };
        store.apply(index, Command::ConfigSet { entry, cas: None });
    }

    #[test]
    fn routers_need_an_l7_protocol() {
        let store = Store::new();
        assert!(check_protocol("service-router", "web", &store.view()).is_err());
        assert!(check_protocol("service-resolver", "web", &store.view()).is_ok());
        set(
            &store,
            "proxy-defaults",
            "global",
            json!({"Kind": "proxy-defaults", "Name": "global", "Config": {"protocol": "http"}}),
        );
        assert!(check_protocol("service-router", "web", &store.view()).is_ok());
        set(
            &store,
            "service-defaults",
            "web",
            json!({"Kind": "service-defaults", "Name": "web", "Protocol": "tcp"}),
        );
        let err = check_protocol("service-splitter", "web", &store.view()).unwrap_err();
        assert!(
            err.to_string().contains("does not permit advanced routing"),
            "{err}"
        );
    }
}
