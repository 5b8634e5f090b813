//! The importer half of a stream, pure: a complete resource from the peer becomes the Raft
//! commands that apply it, under the peering's *local* name. An error (bad JSON, an instance
//! of another service, bad PEMs or addresses, a resource our role may not receive) is the
//! NACK's message and nothing is written.

use legate_peering::token::valid_server_address;
use legate_peerstream::AssembledResource;
use legate_peerstream::ResourceUrl;
use legate_peerstream::Role;
use legate_peerstream::tls::TrustBundle;
use legate_state::command::Command;
use legate_state::command::ImportedInstance;
use legate_state::model::Peering;
use legate_state::model::PeeringTrustBundle;

use super::export::BundleResource;

/// What applying one resource takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The writes, in order (possibly none).
    pub commands: Vec<Command>,
    /// The peer's new list of exported services, when this was the list.
    pub imported_list: Option<Vec<String>>,
}

/// The writes applying `resource` received by `role` on the stream of `row`.
pub fn plan(resource: &AssembledResource, role: Role, row: &Peering) -> Result<Import, String> {
    let url = ResourceUrl::parse(&resource.resource_url)
        .ok_or_else(|| format!("unknown resource URL {:?}", resource.resource_url))?;
    let peer = row.name.clone();
    let only = |commands: Vec<Command>| Import {
        commands,
        imported_list: None,
    };
    match url {
        ResourceUrl::ExportedServiceList => {
            let services: Vec<String> = resource.decode_single().map_err(|e| e.to_string())?;
            Ok(Import {
                commands: vec![Command::ImportServiceList {
                    peer,
                    services: services.clone(),
                }],
                imported_list: Some(services),
            })
        }
        ResourceUrl::ExportedService => {
            let service = resource.resource_id.clone();
            if service.is_empty() {
                return Err("exported service without a name".to_string());
            }
            let instances: Vec<ImportedInstance> =
                resource.decode_items().map_err(|e| e.to_string())?;
            if let Some(bad) = instances.iter().find(|i| i.service.service != service) {
                return Err(format!(
                    "instance of {:?} in the snapshot of {service:?}",
                    bad.service.service
                ));
            }
            Ok(only(vec![Command::ImportServiceSnapshot {
                peer,
                service,
                instances,
            }]))
        }
        ResourceUrl::TrustBundle => {
            let bundle: BundleResource = resource.decode_single().map_err(|e| e.to_string())?;
            TrustBundle::from_pems(&bundle.root_pems).map_err(|e| e.to_string())?;
            Ok(only(vec![Command::PeeringTrustBundleWrite(
                PeeringTrustBundle {
                    trust_domain: bundle.trust_domain,
                    peer_name: peer,
                    root_pems: bundle.root_pems,
                    ..PeeringTrustBundle::default()
                },
            )]))
        }
        ResourceUrl::ServerAddresses => {
            if role != Role::Dialer {
                return Err("only the dialer receives server addresses".to_string());
            }
            let addresses: Vec<String> = resource.decode_single().map_err(|e| e.to_string())?;
            if let Some(bad) = addresses.iter().find(|a| !valid_server_address(a)) {
                return Err(format!("invalid server address {bad:?}"));
            }
            if addresses.is_empty() || addresses == row.peer_server_addresses {
                return Ok(only(Vec::new()));
            }
            let mut updated = row.clone();
            updated.peer_server_addresses = addresses;
            Ok(only(vec![Command::PeeringWrite {
                peering: updated,
                secrets: None,
            }]))
        }
        _ => Err(format!("resource {url} is not importable")),
    }
}

#[cfg(test)]
mod tests {
    use legate_state::model::Service;

    use super::*;

    fn resource(url: ResourceUrl, id: &str, json: &str) -> AssembledResource {
        AssembledResource {
            nonce: "1".into(),
            resource_url: url.as_str().into(),
            resource_id: id.into(),
            parts: vec![json.as_bytes().to_vec()],
            exporter_index: 1,
            exporter_commit_unix_ms: 0,
        }
    }

    fn row() -> Peering {
        Peering {
            id: "id".into(),
            name: "dc2".into(),
            peer_server_addresses: vec!["10.0.0.1:8503".into()],
            ..Peering::default()
        }
    }

    #[test]
    fn list_and_snapshots_are_imported_under_the_local_name() {
        let list = resource(ResourceUrl::ExportedServiceList, "l", r#"["web"]"#);
        let got = plan(&list, Role::Acceptor, &row()).unwrap();
        assert_eq!(got.imported_list, Some(vec!["web".to_string()]));
        assert_eq!(
            got.commands,
            vec![Command::ImportServiceList {
                peer: "dc2".into(),
                services: vec!["web".into()]
            }]
        );
        let instance = ImportedInstance {
            service: Service {
                id: "web-1".into(),
                service: "web".into(),
                ..Service::default()
            },
            ..ImportedInstance::default()
        };
        let json = serde_json::to_string(&vec![instance.clone()]).unwrap();
        let snap = resource(ResourceUrl::ExportedService, "web", &json);
        assert_eq!(
            plan(&snap, Role::Dialer, &row()).unwrap().commands,
            vec![Command::ImportServiceSnapshot {
                peer: "dc2".into(),
                service: "web".into(),
                instances: vec![instance]
            }]
        );
        let other = resource(ResourceUrl::ExportedService, "api", &json);
        assert!(
            plan(&other, Role::Dialer, &row())
                .unwrap_err()
                .contains("web")
        );
        let junk = resource(ResourceUrl::ExportedService, "web", "{");
        assert!(plan(&junk, Role::Dialer, &row()).is_err());
    }

    #[test]
    fn server_addresses_update_a_dialer_row_only_when_changed() {
        let same = resource(ResourceUrl::ServerAddresses, "a", r#"["10.0.0.1:8503"]"#);
        assert!(
            plan(&same, Role::Dialer, &row())
                .unwrap()
                .commands
                .is_empty()
        );
        let moved = resource(ResourceUrl::ServerAddresses, "a", r#"["10.0.0.2:8503"]"#);
        let got = plan(&moved, Role::Dialer, &row()).unwrap();
        match &got.commands[..] {
            [Command::PeeringWrite { peering, secrets }] => {
                assert_eq!(peering.peer_server_addresses, vec!["10.0.0.2:8503"]);
                assert!(secrets.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(plan(&moved, Role::Acceptor, &row()).is_err());
        let bad = resource(ResourceUrl::ServerAddresses, "a", r#"["nope"]"#);
        assert!(plan(&bad, Role::Dialer, &row()).is_err());
        let empty = resource(ResourceUrl::ServerAddresses, "a", "[]");
        assert!(
            plan(&empty, Role::Dialer, &row())
                .unwrap()
                .commands
                .is_empty()
        );
    }

    #[test]
    fn bad_bundles_and_urls_are_refused() {
        let bad = resource(
            ResourceUrl::TrustBundle,
            "td",
            r#"{"TrustDomain":"x.consul","RootPEMs":["junk"]}"#,
        );
        assert!(plan(&bad, Role::Dialer, &row()).is_err());
        let mut unknown = resource(ResourceUrl::TrustBundle, "td", "{}");
        unknown.resource_url = "nope".into();
        assert!(plan(&unknown, Role::Dialer, &row()).is_err());
    }
}
