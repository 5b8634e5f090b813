//! `consul services register [-name -id -address -port -tag -meta -kind] [FILE...]`.

use legate_config::goflag::FlagSet;
use serde_json::Map;
use serde_json::Value;
use serde_json::json;

use super::services_from_files;
use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Register services with the local agent";

const USAGE: &str = "Usage: consul services register [options] [FILE...]

  Register one or more services using the local agent API. Services can
  be registered from standard Consul configuration files (HCL or JSON) or
  using flags. The service is registered and the command returns. The caller
  must remember to call \"consul services deregister\" or a similar API to
  deregister the service when complete.

      $ consul services register web.json

  Additional flags and more advanced use cases are detailed below.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("services register");
    fs.string(
        "id",
        "",
        "ID of the service to register for arg-based registration.",
    )
    .string(
        "name",
        "",
        "Name of the service to register for arg-based registration.",
    )
    .string(
        "address",
        "",
        "Address of the service to register for arg-based registration.",
    )
    .int(
        "port",
        0,
        "Port of the service to register for arg-based registration.",
    )
    .string("socket", "", "Path to the Unix domain socket to register.")
    .strings(
        "meta",
        "Metadata to set on the service, formatted as key=value.",
    )
    .strings("tag", "Tag to add to the service.")
    .strings(
        "tagged-address",
        "Tagged address to set on the service, as key=value.",
    )
    .string("kind", "", "The services 'kind'");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// The registration built from flags alone.
fn service_from_flags(f: &legate_config::goflag::Flags) -> Map<String, Value> {
    let mut svc = Map::new();
    let mut put_str = |key: &str, flag: &str| {
        let v = f.string(flag);
        if !v.is_empty() {
            svc.insert(key.to_string(), Value::String(v));
        }
    };
    put_str("Kind", "kind");
    put_str("ID", "id");
    put_str("Name", "name");
    put_str("Address", "address");
    put_str("SocketPath", "socket");
    let port = f.int("port");
    if port != 0 {
        svc.insert("Port".into(), json!(port));
    }
    let tags = f.strings("tag");
    if !tags.is_empty() {
        svc.insert("Tags".into(), json!(tags));
    }
    let meta = flags::key_values(&f.strings("meta"));
    if !meta.is_empty() {
        let m: Map<String, Value> = meta
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        svc.insert("Meta".into(), Value::Object(m));
    }
    let tagged = flags::key_values(&f.strings("tagged-address"));
    if !tagged.is_empty() {
        let m: Map<String, Value> = tagged
            .into_iter()
            .map(|(k, v)| {
                let (addr, port) = match v.rsplit_once(':') {
                    Some((a, p)) if p.parse::<u16>().is_ok() => (
                        a.trim_matches(|c| c == '[' || c == ']').to_string(),
                        p.parse::<u16>().unwrap_or(0),
                    ),
                    _ => (v.clone(), 0),
                };
                (k, json!({"Address": addr, "Port": port}))
            })
            .collect();
        svc.insert("TaggedAddresses".into(), Value::Object(m));
    }
    svc
}

/// Consul's `CombineArgs`: flag values fill fields the file left empty; tags append and
/// meta/tagged addresses merge.
pub(crate) fn combine(file_svc: &mut Value, flag_svc: &Map<String, Value>) {
    let Some(obj) = file_svc.as_object_mut() else {
        return;
    };
    for key in ["ID", "Name", "Address", "Port", "Kind", "SocketPath"] {
        let Some(flag_val) = flag_svc.get(key) else {
            continue;
        };
        let existing = common::field(&Value::Object(obj.clone()), key).cloned();
        let empty = match existing {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            _ => false,
        };
        if empty {
            obj.retain(|k, _| k.replace('_', "").to_lowercase() != key.to_lowercase());
            obj.insert(key.to_string(), flag_val.clone());
        }
    }
    for (key, lower) in [("Meta", "meta"), ("TaggedAddresses", "tagged_addresses")] {
        if let Some(Value::Object(extra)) = flag_svc.get(key) {
            let slot_key = if obj.contains_key(lower) { lower } else { key };
            let slot = obj
                .entry(slot_key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = slot.as_object_mut() {
                for (k, v) in extra {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if let Some(Value::Array(extra)) = flag_svc.get("Tags") {
        let slot_key = if obj.contains_key("tags") {
            "tags"
        } else {
            "Tags"
        };
        let slot = obj
            .entry(slot_key.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = slot.as_array_mut() {
            list.extend(extra.iter().cloned());
        }
    }
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let flag_svc = service_from_flags(&f);
    let name_flag = f.string("name");
    if f.args.is_empty() && name_flag.is_empty() {
        ui.error("Service registration requires at least one argument or flags.");
        return 1;
    } else if !f.args.is_empty() && !name_flag.is_empty() {
        ui.error("Service registration requires arguments or -id, not both.");
        return 1;
    }
    let mut svcs = if f.args.is_empty() {
        Vec::new()
    } else {
        match services_from_files(&f.args) {
            Ok(s) => s,
            Err(e) => {
                ui.error(&format!("Error: {e}"));
                return 1;
            }
        }
    };
    for svc in &mut svcs {
        combine(svc, &flag_svc);
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    if svcs.is_empty() {
        svcs.push(Value::Object(flag_svc));
    }
    for svc in &svcs {
        let name = common::field_str(svc, "Name");
        if let Err(e) = client.put("/v1/agent/service/register").json(svc).send() {
            ui.error(&format!("Error registering service {name:?}: {e}"));
            return 1;
        }
        ui.output(&format!("Registered service: {name}"));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_fill_missing_file_fields() {
        let mut file = json!({"name": "web", "tags": ["a"], "meta": {"x": "1"}});
        let mut flag_svc = Map::new();
        flag_svc.insert("ID".into(), json!("web-1"));
        flag_svc.insert("Name".into(), json!("ignored"));
        flag_svc.insert("Port".into(), json!(8080));
        flag_svc.insert("Tags".into(), json!(["b"]));
        flag_svc.insert("Meta".into(), json!({"y": "2"}));
        combine(&mut file, &flag_svc);
        assert_eq!(
            file,
            json!({"name": "web", "tags": ["a", "b"], "meta": {"x": "1", "y": "2"}, "ID": "web-1", "Port": 8080})
        );
    }

    #[test]
    fn requires_files_or_flags() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        assert_eq!(run(&[], &mut Ui::new(&mut out, &mut err, &mut input)), 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Service registration requires at least one argument or flags.\n"
        );
    }
}
