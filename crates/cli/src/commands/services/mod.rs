//! `consul services …`: register and deregister services with the local agent, from flags or
//! from service definition files (HCL or JSON, `service`/`services` blocks).

pub(crate) mod deregister;
pub(crate) mod export;
pub(crate) mod exported_services;
pub(crate) mod register;
pub(crate) mod unexport;

use serde_json::Value;

use crate::commands::common;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Interact with services";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul services <subcommand> [options] [args]\n\n  \
     This command has subcommands for interacting with services. The subcommands\n  \
     default to working with services registered with the local agent.\n\n  \
     To register a simple service:\n\n      $ consul services register -name=web\n\n  \
     To deregister a service:\n\n      $ consul services deregister -id=web\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}

/// Reads service definitions from config files: every `service` (object or list) and
/// `services` (list) entry, in file order.
pub(crate) fn services_from_files(files: &[String]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).map_err(|e| common::go_path_error("open", file, &e))?;
        let doc = if file.ends_with(".json") {
            serde_json::from_str::<Value>(&text).map_err(|e| format!("{file}: {e}"))?
        } else {
            common::parse_hcl_or_json(&text).map_err(|e| format!("{file}: {e}"))?
        };
        for key in ["service", "services"] {
            match doc.get(key) {
                Some(Value::Array(list)) => out.extend(list.iter().cloned()),
                Some(obj @ Value::Object(_)) => out.push(obj.clone()),
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_service_blocks_from_json_and_hcl() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("web.json");
        std::fs::write(&json, r#"{"service": {"name": "web", "port": 80}}"#).unwrap();
        let hcl = dir.path().join("db.hcl");
        std::fs::write(
            &hcl,
            "services {\n  name = \"db\"\n}\nservices {\n  name = \"db2\"\n}\n",
        )
        .unwrap();
        let files = vec![
            json.to_string_lossy().into_owned(),
            hcl.to_string_lossy().into_owned(),
        ];
        let svcs = services_from_files(&files).unwrap();
        let names: Vec<&str> = svcs.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["web", "db", "db2"]);
    }
}
