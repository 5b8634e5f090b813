//! Registering services and checks with this agent — from its API or its config files — and
//! removing them: the definition is parsed, its checks get runners, and local state records it
//! for anti-entropy. Also node and service maintenance, and the reaper for
//! `deregister_critical_service_after`.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use legate_config::RuntimeConfig;
use legate_state::model::HealthCheck;
use legate_state::model::health;

use crate::agent::Agent;
use crate::checks::CheckSource;
use crate::definition::CheckDefinition;
use crate::definition::CheckKind;
use crate::definition::ServiceDefinition;
use crate::http::error::ApiError;

/// Check ID of node maintenance mode.
pub const NODE_MAINTENANCE_CHECK_ID: &str = "_node_maintenance";
/// Prefix of a service's maintenance check ID (`_service_maintenance:<service-id>`).
pub const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";
const DEFAULT_NODE_MAINTENANCE_REASON: &str = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
const DEFAULT_SERVICE_MAINTENANCE_REASON: &str = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";
/// How often the reaper looks for services critical for too long.
const REAP_INTERVAL: Duration = Duration::from_secs(1);

/// Register a service and its checks.
pub fn register_service(
    agent: &Arc<Agent>,
    definition: &ServiceDefinition,
    source: CheckSource,
    replace_existing_checks: bool,
) -> Result<(), ApiError> {
    let mut service = definition.to_service();
    add_default_tagged_addresses(&mut service);
    let checks = definition.check_definitions();
    let node = agent.node().name.clone();
    if replace_existing_checks {
        let keep: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        let stale: Vec<String> = agent
            .local()
            .snapshot()
            .checks
            .values()
            .filter(|c| {
                c.check.service_id == service.id && !keep.contains(&c.check.check_id.as_str())
            })
            .map(|c| c.check.check_id.clone())
            .collect();
        for id in stale {
            agent.runners().stop(&id);
            agent.local().remove_check(&id);
        }
    }
    let mut records = Vec::with_capacity(checks.len());
    for check in &checks {
        let record = check.to_health_check(&node, Some(&service));
        records.push(start_check(agent, check, source, record)?);
    }
    agent.local().add_service(service, records);
    Ok(())
}

/// Consul gives a service with an IP address `lan_ipv4`/`wan_ipv4` (or `_ipv6`) tagged
/// addresses equal to that address and port, unless the registration set them.
fn add_default_tagged_addresses(service: &mut legate_state::model::Service) {
    let Ok(ip) = service.address.parse::<std::net::IpAddr>() else {
        return;
    };
    let family = if ip.is_ipv4() { "ipv4" } else { "ipv6" };
    for scope in ["lan", "wan"] {
        service
            .tagged_addresses
            .entry(format!("{scope}_{family}"))
            .or_insert_with(|| legate_state::model::ServiceAddress {
                address: service.address.clone(),
                port: service.port,
            });
    }
}

/// Register a node or service check.
pub fn register_check(
    agent: &Arc<Agent>,
    definition: &CheckDefinition,
    source: CheckSource,
) -> Result<(), ApiError> {
    let service = if definition.service_id.is_empty() {
        None
    } else {
        Some(
            agent
                .local()
                .service(&definition.service_id)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "ServiceID {:?} does not exist",
                        definition.service_id
                    ))
                })?,
        )
    };
    let check = definition.to_health_check(&agent.node().name, service.as_ref());
    let (check, deregister_after) = start_check(agent, definition, source, check)?;
    agent.local().add_check(check, deregister_after);
    Ok(())
}

/// Start the runner of a check and return the record local state should hold for it.
fn start_check(
    agent: &Arc<Agent>,
    definition: &CheckDefinition,
    source: CheckSource,
    mut check: HealthCheck,
) -> Result<(HealthCheck, Option<std::time::Duration>), ApiError> {
    // Re-registering a check keeps its last result until the runner reports again.
    if let Some(existing) = agent.local().check(&definition.id)
        && existing.check_type == check.check_type
        && definition.status.is_none()
    {
        check.status = existing.status;
        check.output = existing.output;
    }
    agent
        .runners()
        .start(definition, source)
        .map_err(|err| ApiError::BadRequest(err.to_string()))?;
    if let CheckKind::Alias { node, service_id } = &definition.kind {
        let target = crate::alias::AliasTarget {
            node: node.clone(),
            service_id: service_id.clone(),
        };
        crate::alias::start(agent, &definition.id, target);
    }
    Ok((check, definition.deregister_critical_service_after))
}

/// Deregister a service and its checks.
pub fn deregister_service(agent: &Agent, id: &str) -> Result<(), ApiError> {
    let checks = agent.local().remove_service(id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."
        ))
    })?;
    for check in checks {
        agent.runners().stop(&check);
    }
    Ok(())
}

/// Deregister a check.
pub fn deregister_check(agent: &Agent, id: &str) -> Result<(), ApiError> {
    if !agent.local().remove_check(id) {
        return Err(ApiError::NotFound(format!(
            "Unknown check ID {id:?}. Ensure that the check ID is passed, not the check name."
        )));
    }
    agent.runners().stop(id);
    Ok(())
}

/// Turn node maintenance on (with `reason`, or Consul's default note) or off.
pub fn node_maintenance(agent: &Agent, enable: bool, reason: &str) {
    if !enable {
        agent.local().remove_check(NODE_MAINTENANCE_CHECK_ID);
        return;
    }
    agent.local().add_check(
        maintenance_check(
            agent,
            NODE_MAINTENANCE_CHECK_ID,
            "Node Maintenance Mode",
            reason,
            DEFAULT_NODE_MAINTENANCE_REASON,
            None,
        ),
        None,
    );
}

/// Turn a service's maintenance mode on or off.
pub fn service_maintenance(
    agent: &Agent,
    service_id: &str,
    enable: bool,
    reason: &str,
) -> Result<(), ApiError> {
    let service = agent
        .local()
        .service(service_id)
        .ok_or_else(|| ApiError::NotFound(format!("Unknown service ID {service_id:?}")))?;
    let check_id = format!("{SERVICE_MAINTENANCE_PREFIX}{service_id}");
    if !enable {
        agent.local().remove_check(&check_id);
        return Ok(());
    }
    let check = maintenance_check(
        agent,
        &check_id,
        "Service Maintenance Mode",
        reason,
        DEFAULT_SERVICE_MAINTENANCE_REASON,
        Some(&service),
    );
    agent.local().add_check(check, None);
    Ok(())
}

fn maintenance_check(
    agent: &Agent,
    id: &str,
    name: &str,
    reason: &str,
    default_reason: &str,
    service: Option<&legate_state::model::Service>,
) -> HealthCheck {
    HealthCheck {
        node: agent.node().name.clone(),
        check_id: id.to_string(),
        name: name.to_string(),
        status: health::CRITICAL.to_string(),
        notes: if reason.is_empty() {
            default_reason.to_string()
        } else {
            reason.to_string()
        },
        service_id: service.map(|s| s.id.clone()).unwrap_or_default(),
        service_name: service.map(|s| s.service.clone()).unwrap_or_default(),
        service_tags: service.map(|s| s.tags.clone()).unwrap_or_default(),
        check_type: "maintenance".to_string(),
        definition: serde_json::json!({}),
        ..HealthCheck::default()
    }
}

/// Register the services and checks of the config files.
pub fn load_config_definitions(agent: &Arc<Agent>, config: &RuntimeConfig) -> Result<(), ApiError> {
    for value in &config.services {
        let definition = ServiceDefinition::from_value(value)
            .map_err(|err| ApiError::BadRequest(err.to_string()))?;
        register_service(agent, &definition, CheckSource::LocalConfig, false)?;
    }
    for value in &config.checks {
        let definition = CheckDefinition::from_value(value)
            .map_err(|err| ApiError::BadRequest(err.to_string()))?;
        register_check(agent, &definition, CheckSource::LocalConfig)?;
    }
    Ok(())
}

/// Re-read config services and checks after `agent/reload`: drop the ones the old config
/// declared, register the new ones.
pub fn reload_config_definitions(
    agent: &Arc<Agent>,
    old: &RuntimeConfig,
    new: &RuntimeConfig,
) -> Result<(), ApiError> {
    for value in &old.services {
        if let Ok(definition) = ServiceDefinition::from_value(value) {
            let _ = deregister_service(agent, &definition.id);
        }
    }
    for value in &old.checks {
        if let Ok(definition) = CheckDefinition::from_value(value) {
            let _ = deregister_check(agent, &definition.id);
        }
    }
    load_config_definitions(agent, new)
}

/// Deregister services whose checks have been critical longer than they allow.
pub async fn reap_critical_services(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut tick = tokio::time::interval(REAP_INTERVAL);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        for service_id in agent.local().services_to_reap(Instant::now()) {
            tracing::info!(target: "agent", "Check for service has been critical for too long; deregistered service: service={service_id}");
            let _ = deregister_service(&agent, &service_id);
        }
    }
}
