//! Service definitions: decoding (`PUT /v1/agent/service/register` and config files),
//! Consul's agent-side validation, the `Service` state record, and the service's checks with
//! their IDs assigned (`service:<id>`, `service:<id>:1`, …).

use std::collections::BTreeMap;

use legate_state::model::Service;
use legate_state::model::ServiceAddress;
use legate_state::model::Weights;
use serde_json::Value;

use super::check::CheckDefinition;
use super::error::DefinitionError;
use super::fields::Fields;
use super::validate::validate_meta;
use super::validate::validate_weights;

/// Normalised keys a service definition may carry (config files reject anything else).
const KNOWN_KEYS: &[&str] = &[
    "kind",
    "id",
    "name",
    "tags",
    "address",
    "taggedaddresses",
    "meta",
    "port",
    "socketpath",
    "check",
    "checks",
    "weights",
    "token",
    "enabletagoverride",
    "proxy",
    "connect",
    "locality",
    "namespace",
    "partition",
];

/// A service as registered with the agent.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDefinition {
    /// `""` for a typical service, else `connect-proxy`, `mesh-gateway`, …
    pub kind: String,
    /// Service ID (defaults to the name).
    pub id: String,
    /// Service name.
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Service address (`""` = the node's).
    pub address: String,
    /// Tagged addresses (`lan`, `wan`, …).
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    /// Service meta.
    pub meta: BTreeMap<String, String>,
    /// Port.
    pub port: u16,
    /// DNS weights (`{1, 1}` when not given).
    pub weights: Weights,
    /// Let the catalog's tags override the agent's.
    pub enable_tag_override: bool,
    /// The service's checks (`Check` first, then `Checks`), IDs not yet assigned.
    pub checks: Vec<CheckDefinition>,
    /// Proxy configuration, kept as given.
    pub proxy: Option<Value>,
    /// Connect configuration, kept as given.
    pub connect: Option<Value>,
}

impl ServiceDefinition {
    /// Decodes a registration from the HTTP API: unknown keys are ignored.
    pub fn from_value(v: &Value) -> Result<Self, DefinitionError> {
        Self::from_value_opts(v, false)
    }

    /// Decodes a registration; with `strict` (config files) unknown keys are an error.
    pub fn from_value_opts(v: &Value, strict: bool) -> Result<Self, DefinitionError> {
        let f = Fields::new(v, "ServiceDefinition")?;
        if strict {
            f.reject_unknown(KNOWN_KEYS, "service")?;
        }
        let name = f.string(&["name"], "Name")?;
        let mut id = f.string(&["id"], "ID")?;
        let kind = f.string(&["kind"], "Kind")?;
        let tags = f.strings(&["tags"], "Tags")?;
        let address = f.string(&["address"], "Address")?;
        let meta = f.string_map(&["meta"], "Meta")?;
        let port_raw = f.int(&["port"], "Port")?;
        let enable_tag_override = f.boolean(&["enabletagoverride"], "EnableTagOverride")?;
        let tagged_addresses = decode_tagged_addresses(&f, strict)?;
        let weights = f
            .get(&["weights"])
            .map(|w| decode_weights(w, strict))
            .transpose()?;
        let proxy = f.get(&["proxy"]).cloned();
        let connect = f.get(&["connect"]).cloned();

        let mut checks = Vec::new();
        if let Some(check) = f.get(&["check"]) {
            checks.extend(CheckDefinition::from_service_value(
                check,
                strict,
                "service.check",
            )?);
        }
        match f.get(&["checks"]) {
            None => {}
            Some(Value::Array(items)) => {
                for item in items {
                    checks.extend(CheckDefinition::from_service_value(
                        item,
                        strict,
                        "service.checks",
                    )?);
                }
            }
            Some(_) => {
                return Err(DefinitionError::Decode(
                    "json: cannot unmarshal object into Go struct field ServiceDefinition.Checks of type \
                     structs.CheckTypes"
                        .into(),
                ));
            }
        }

        // The agent endpoint's checks, in its order.
        if name.is_empty() {
            return Err(DefinitionError::MissingServiceName);
        }
        if is_any_address(&address) {
            return Err(DefinitionError::InvalidServiceAddress);
        }
        if let Some(w) = &weights {
            validate_weights(w).map_err(DefinitionError::InvalidWeights)?;
        }
        validate_meta(&meta).map_err(DefinitionError::InvalidMeta)?;
        let port = u16::try_from(port_raw).map_err(|_| DefinitionError::InvalidPort(port_raw))?;
        if id.is_empty() {
            id = name.clone();
        }
        Ok(ServiceDefinition {
            kind,
            id,
            name,
            tags,
            address,
            tagged_addresses,
            meta,
            port,
            weights: weights.unwrap_or_default(),
            enable_tag_override,
            checks,
            proxy,
            connect,
        })
    }

    /// The state record (indexes 0).
    pub fn to_service(&self) -> Service {
        Service {
            kind: self.kind.clone(),
            id: self.id.clone(),
            service: self.name.clone(),
            tags: self.tags.clone(),
            address: self.address.clone(),
            tagged_addresses: self.tagged_addresses.clone(),
            meta: self.meta.clone(),
            port: self.port,
            weights: self.weights.clone(),
            enable_tag_override: self.enable_tag_override,
            proxy: self.proxy.clone(),
            connect: self.connect.clone(),
            peer_name: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }

    /// The service's checks ready to register: a check without an ID gets `service:<id>`
    /// (or `service:<id>:<n>`, counting from 1, when there are several), `ServiceID` is set
    /// and the name defaults to `Service '<name>' check`.
    pub fn check_definitions(&self) -> Vec<CheckDefinition> {
        let several = self.checks.len() > 1;
        self.checks
            .iter()
            .enumerate()
            .map(|(i, check)| {
                let mut check = check.clone();
                if check.id.is_empty() {
                    check.id = if several {
                        format!("service:{}:{}", self.id, i + 1)
                    } else {
                        format!("service:{}", self.id)
                    };
                }
                if check.name.is_empty() {
                    check.name = format!("Service '{}' check", self.name);
                }
                check.service_id = self.id.clone();
                check
            })
            .collect()
    }
}

/// Go's `ipaddr.IsAny`.
fn is_any_address(addr: &str) -> bool {
    matches!(addr, "0.0.0.0" | "::" | "[::]")
}

fn decode_tagged_addresses(
    f: &Fields<'_>,
    strict: bool,
) -> Result<BTreeMap<String, ServiceAddress>, DefinitionError> {
    let mut out = BTreeMap::new();
    match f.get(&["taggedaddresses"]) {
        None => {}
        Some(Value::Object(obj)) => {
            for (tag, addr) in obj {
                let af = Fields::new(addr, "ServiceAddress")?;
                if strict {
                    af.reject_unknown(
                        &["address", "port"],
                        &format!("service.tagged_addresses.{tag}"),
                    )?;
                }
                let address = af.string(&["address"], "Address")?;
                let port_raw = af.int(&["port"], "Port")?;
                let port =
                    u16::try_from(port_raw).map_err(|_| DefinitionError::InvalidPort(port_raw))?;
                out.insert(tag.clone(), ServiceAddress { address, port });
            }
        }
        Some(_) => {
            return Err(DefinitionError::Decode(
                "json: cannot unmarshal into Go struct field ServiceDefinition.TaggedAddresses of type \
                 map[string]structs.ServiceAddress"
                    .into(),
            ));
        }
    }
    Ok(out)
}

fn decode_weights(v: &Value, strict: bool) -> Result<Weights, DefinitionError> {
    let wf = Fields::new(v, "Weights")?;
    if strict {
        wf.reject_unknown(&["passing", "warning"], "service.weights")?;
    }
    let clamp = |n: i64| i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX });
    Ok(Weights {
        passing: clamp(wf.int(&["passing"], "Passing")?),
        warning: clamp(wf.int(&["warning"], "Warning")?),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::definition::CheckKind;

    #[test]
    fn pascal_and_snake_case_decode_alike() {
        let pascal = json!({
            "Name": "web", "Tags": ["v1"], "Port": 8080, "Address": "10.0.0.1",
            "EnableTagOverride": true, "Meta": {"env": "prod"},
            "TaggedAddresses": {"lan": {"Address": "10.0.0.1", "Port": 8080}},
            "Weights": {"Passing": 3, "Warning": 2}
        });
        let snake = json!({
            "name": "web", "tags": ["v1"], "port": 8080, "address": "10.0.0.1",
            "enable_tag_override": true, "meta": {"env": "prod"},
            "tagged_addresses": {"lan": {"address": "10.0.0.1", "port": 8080}},
            "weights": {"passing": 3, "warning": 2}
        });
        let a = ServiceDefinition::from_value(&pascal).unwrap();
        let b = ServiceDefinition::from_value_opts(&snake, true).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id, "web");
        assert_eq!(
            a.weights,
            Weights {
                passing: 3,
                warning: 2
            }
        );
        let svc = a.to_service();
        assert_eq!(svc.service, "web");
        assert_eq!(svc.port, 8080);
        assert!(svc.enable_tag_override);
        assert_eq!(svc.tagged_addresses["lan"].port, 8080);
    }

    #[test]
    fn weights_default_to_one_one() {
        let def = ServiceDefinition::from_value(&json!({"Name": "web"})).unwrap();
        assert_eq!(
            def.weights,
            Weights {
                passing: 1,
                warning: 1
            }
        );
    }

    #[test]
    fn single_check_gets_service_prefixed_id() {
        let def = ServiceDefinition::from_value(&json!({
            "Name": "redis", "ID": "redis1", "Check": {"TTL": "10s", "Notes": "n"}
        }))
        .unwrap();
        let checks = def.check_definitions();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].id, "service:redis1");
        assert_eq!(checks[0].name, "Service 'redis' check");
        assert_eq!(checks[0].service_id, "redis1");
        assert_eq!(checks[0].notes, "n");
    }

    #[test]
    fn id_defaults_to_name_for_check_ids() {
        let def =
            ServiceDefinition::from_value(&json!({"name": "web", "check": {"ttl": "1s"}})).unwrap();
        assert_eq!(def.check_definitions()[0].id, "service:web");
    }

    #[test]
    fn several_checks_are_numbered_and_explicit_ids_kept() {
        let def = ServiceDefinition::from_value(&json!({
            "Name": "web",
            "Check": {"TTL": "10s"},
            "Checks": [
                {"TCP": "127.0.0.1:80", "Interval": "10s"},
                {"CheckID": "custom", "Name": "mine", "args": ["/bin/true"], "interval": "5s"}
            ]
        }))
        .unwrap();
        let ids: Vec<_> = def.check_definitions().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["service:web:1", "service:web:2", "custom"]);
        assert!(matches!(def.checks[1].kind, CheckKind::Tcp { .. }));
    }

    #[test]
    fn empty_check_object_is_dropped() {
        let def = ServiceDefinition::from_value(&json!({"Name": "web", "Check": {}})).unwrap();
        assert!(def.check_definitions().is_empty());
    }

    #[test]
    fn consul_error_texts() {
        let cases = [
            (json!({"Port": 80}), "Missing service name"),
            (
                json!({"Name": "a", "Address": "0.0.0.0"}),
                "Invalid service address",
            ),
            (
                json!({"Name": "a", "Weights": {"Passing": 0}}),
                "Invalid Weights: Passing must be greater than 0",
            ),
            (
                json!({"Name": "a", "Meta": {"consul-x": "1"}}),
                "Invalid Service Meta: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is \
                 reserved for internal use",
            ),
            (
                json!({"Name": "a", "Port": 70000}),
                "Invalid service port 70000: must be between 0 and 65535",
            ),
            (
                json!({"Name": "a", "Check": {"Interval": "10s"}}),
                "Invalid check: TTL must be > 0 for TTL checks",
            ),
            (
                json!({"Name": "a", "Check": {"TTL": "10s", "Status": "up"}}),
                "Status for checks must 'passing', 'warning', 'critical'",
            ),
            (
                json!({"Name": "a", "Checks": [{"HTTP": "http://x"}]}),
                "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
            ),
            (
                json!({"Name": "a", "Port": "80"}),
                "Request decode failed: json: cannot unmarshal string into Go struct field \
                 ServiceDefinition.Port of type int",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(
                ServiceDefinition::from_value(&v).unwrap_err().to_string(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn strict_mode_rejects_unknown_nested_keys() {
        let v = json!({"name": "a", "check": {"ttl": "1s", "bogus": 1}});
        assert!(ServiceDefinition::from_value(&v).is_ok());
        assert_eq!(
            ServiceDefinition::from_value_opts(&v, true)
                .unwrap_err()
                .to_string(),
            "invalid config key service.check.bogus"
        );
        let v = json!({"name": "a", "wat": 1});
        assert_eq!(
            ServiceDefinition::from_value_opts(&v, true)
                .unwrap_err()
                .to_string(),
            "invalid config key service.wat"
        );
    }
}
