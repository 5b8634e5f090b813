//! `/v1/event`: fire a user event (`PUT /v1/event/fire/{name}`, with `?node=`, `?service=`,
//! `?tag=` regexp filters and the body as payload) and list the events this agent has seen
//! (`GET /v1/event/list`, `?name=`), blocking as Consul does on an index derived from the
//! last event's ID. A fired event is broadcast by gossip; every agent (this one included)
//! keeps it when its node, service and tag filters match that agent.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::put;
use bytes::Bytes;
use http::HeaderValue;
use legate_state::model::Service;
use regex::Regex;

use super::AppState;
use super::error::ApiError;
use super::kv::method_not_allowed;
use super::query::Params;
use super::reply;
use crate::events::EventLog;
use crate::events::UserEvent;
use crate::events::list_index;

/// Version of the user event format (Consul's `userEventMaxVersion`).
const USER_EVENT_VERSION: u32 = 1;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/event/fire/{name}",
            put(fire).fallback(method_not_allowed),
        )
        .route(
            "/v1/event/fire/",
            put(missing_name).fallback(method_not_allowed),
        )
        .route("/v1/event/list", get(list).fallback(method_not_allowed))
}

async fn missing_name() -> ApiError {
    ApiError::BadRequest("Missing name".to_string())
}

/// `PUT /v1/event/fire/{name}` → the event as fired (`LTime` 0: gossip stamps it later).
async fn fire(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    if params
        .non_empty("dc")
        .is_some_and(|dc| dc != agent.node().datacenter)
    {
        return Err(ApiError::NoPathToDatacenter);
    }
    let event = UserEvent {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        payload: (!body.is_empty()).then(|| body.to_vec()),
        node_filter: params.non_empty("node").unwrap_or_default().to_string(),
        service_filter: params.non_empty("service").unwrap_or_default().to_string(),
        tag_filter: params.non_empty("tag").unwrap_or_default().to_string(),
        version: USER_EVENT_VERSION,
        ltime: 0,
    };
    Filters::compile(&event).map_err(ApiError::Internal)?;
    if let Some(lan) = agent.lan() {
        lan.user_event(
            &event.name,
            &crate::membership::encode_user_event(&event),
            false,
        )
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    }
    deliver(&agent, event.clone());
    reply::json(&event, params.has("pretty"))
}

/// Hand an event (fired here or received by gossip) to this agent when its node, service and
/// tag filters match this agent.
pub(crate) fn deliver(agent: &crate::agent::Agent, event: UserEvent) {
    let Ok(filters) = Filters::compile(&event) else {
        return;
    };
    let services = agent.local().snapshot().services;
    if filters.matches(&agent.node().name, services.values()) {
        agent.events().fire(event);
    }
}

/// An event's filters, compiled (Consul's `validateUserEventParams`).
struct Filters {
    node: Option<Regex>,
    service: Option<Regex>,
    tag: Option<Regex>,
}

impl Filters {
    fn compile(event: &UserEvent) -> Result<Filters, String> {
        if !event.tag_filter.is_empty() && event.service_filter.is_empty() {
            return Err("Cannot provide tag filter without service filter".to_string());
        }
        let compile = |what: &str, pattern: &str| -> Result<Option<Regex>, String> {
            if pattern.is_empty() {
                return Ok(None);
            }
            Regex::new(pattern)
                .map(Some)
                .map_err(|err| format!("Invalid {what} filter: {err}"))
        };
        Ok(Filters {
            node: compile("node", &event.node_filter)?,
            service: compile("service", &event.service_filter)?,
            tag: compile("tag", &event.tag_filter)?,
        })
    }

    /// Consul's `shouldProcessUserEvent`: the node name matches, and some local service (by
    /// ID) matches the service filter with, when given, a tag matching the tag filter.
    fn matches<'a>(&self, node: &str, services: impl IntoIterator<Item = &'a Service>) -> bool {
        if self.node.as_ref().is_some_and(|re| !re.is_match(node)) {
            return false;
        }
        let Some(service_re) = &self.service else {
            return true;
        };
        services.into_iter().any(|service| {
            service_re.is_match(&service.id)
                && self
                    .tag
                    .as_ref()
                    .is_none_or(|tag_re| service.tags.iter().any(|t| tag_re.is_match(t)))
        })
    }
}

/// `GET /v1/event/list` → the remembered events, oldest first (`[]` when none). With
/// `?index=`, waits until the index differs from it (the index is a hash, not monotonic).
async fn list(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let name = opts.params.non_empty("name").map(str::to_string);
    let (events, index) =
        wait_for_events(agent.events(), name.as_deref(), opts.min_index, opts.wait).await;
    let mut response = reply::json(&events, opts.pretty)?;
    response
        .headers_mut()
        .insert("X-Consul-Index", HeaderValue::from(index));
    Ok(response)
}

/// The events named `name` (all without a name) and their index; when `min_index` is set and
/// equals the index, wait up to `wait` for a new event first.
async fn wait_for_events(
    log: &EventLog,
    name: Option<&str>,
    min_index: u64,
    wait: Duration,
) -> (Vec<UserEvent>, u64) {
    let mut changes = log.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        changes.borrow_and_update();
        let events = log.list(name);
        let index = list_index(&events);
        if min_index == 0 || index != min_index {
            return (events, index);
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return (events, index) },
            () = tokio::time::sleep_until(deadline) => return (events, index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(node: &str, service: &str, tag: &str) -> UserEvent {
        UserEvent {
            id: uuid::Uuid::new_v4().to_string(),
            name: "deploy".into(),
            payload: None,
            node_filter: node.into(),
            service_filter: service.into(),
            tag_filter: tag.into(),
            version: USER_EVENT_VERSION,
            ltime: 0,
        }
    }

    fn service(id: &str, tags: &[&str]) -> Service {
        Service {
            id: id.into(),
            service: id.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Service::default()
        }
    }

    #[test]
    fn routes_build_without_conflicts() {
        let _ = routes();
    }

    #[test]
    fn filters_follow_consul_rules() {
        let web = [service("web-1", &["v2"])];
        let f = |n: &str, s: &str, t: &str| Filters::compile(&event(n, s, t)).unwrap();
        assert!(f("", "", "").matches("node1", &web));
        assert!(f("^node", "", "").matches("node1", &web));
        assert!(!f("^db", "", "").matches("node1", &web));
        assert!(f("", "web", "").matches("node1", &web));
        assert!(!f("", "api", "").matches("node1", &web));
        assert!(f("", "web", "^v2$").matches("node1", &web));
        assert!(!f("", "web", "v1").matches("node1", &web));
        assert!(!f("", "web", "").matches("node1", &[]));
    }

    #[test]
    fn filter_errors_match_consul() {
        let err = |e: UserEvent| Filters::compile(&e).err().unwrap();
        assert_eq!(
            err(event("", "", "v1")),
            "Cannot provide tag filter without service filter"
        );
        assert!(err(event("(", "", "")).starts_with("Invalid node filter: "));
        assert!(err(event("", "[", "")).starts_with("Invalid service filter: "));
    }

    #[tokio::test]
    async fn list_returns_at_once_without_index_or_on_other_index() {
        let log = EventLog::default();
        let (events, index) = wait_for_events(&log, None, 0, Duration::from_secs(60)).await;
        assert!(events.is_empty());
        assert_eq!(index, 1);
        let fired = log.fire(event("", "", ""));
        let (events, index) = wait_for_events(&log, None, 1, Duration::from_secs(60)).await;
        assert_eq!(events, vec![fired]);
        assert_eq!(index, list_index(&events));
        let (events, _) = wait_for_events(&log, Some("other"), 0, Duration::ZERO).await;
        assert!(events.is_empty());
    }

    #[tokio::test]
    async fn list_wakes_on_new_event() {
        let log = std::sync::Arc::new(EventLog::default());
        let waiter = {
            let log = log.clone();
            tokio::spawn(
                async move { wait_for_events(&log, None, 1, Duration::from_secs(60)).await },
            )
        };
        let fired = log.fire(event("", "", ""));
        let (events, index) = waiter.await.unwrap();
        assert_eq!(events, vec![fired]);
        assert_ne!(index, 1);
    }
}
