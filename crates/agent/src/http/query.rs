//! Query-string handling shared by every endpoint: the raw parameters, and the options Consul
//! gives every read (`dc`, blocking `index`/`wait`, consistency, `filter`, `pretty`, …).

use std::time::Duration;

use legate_types::filter::Filter;
use legate_types::go_duration;

use super::error::ApiError;

/// Default wait of a blocking query.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);
/// Longest wait a blocking query may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(10 * 60);

/// Raw query parameters, in order; a bare `?recurse` has an empty value.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parse a raw query string (`None` when the URI has none).
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Params(pairs)
    }

    /// First value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First non-empty value of `name`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether `name` is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean flag: present without a value, or with a value Go's `strconv.ParseBool` accepts
    /// as true.
    pub fn flag(&self, name: &str) -> bool {
        match self.get(name) {
            None => false,
            Some(v) => !matches!(v, "0" | "f" | "F" | "false" | "FALSE" | "False"),
        }
    }

    /// An unsigned integer parameter; `what` names it in the error (`Invalid index`).
    pub fn u64(&self, name: &str, error: &str) -> Result<Option<u64>, ApiError> {
        match self.non_empty(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::BadRequest(error.to_string())),
        }
    }
}

/// How fresh a read must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consistency {
    /// Served by the leader (Consul's default mode).
    Default,
    /// Served by any server from its local state.
    Stale,
    /// Served by the leader after confirming leadership with a quorum.
    Consistent,
}

impl Consistency {
    /// Value of `X-Consul-Effective-Consistency`.
    pub fn header_value(self) -> &'static str {
        match self {
            Consistency::Default => "leader",
            Consistency::Stale => "stale",
            Consistency::Consistent => "consistent",
        }
    }
}

/// Options every read endpoint honours.
#[derive(Clone, Debug)]
pub struct QueryOptions {
    /// The raw parameters, for endpoint-specific ones.
    pub params: Params,
    /// `?index=`: block until the result's index exceeds it (0: do not block).
    pub min_index: u64,
    /// `?wait=`, clamped to [`MAX_WAIT`].
    pub wait: Duration,
    /// `?stale` / `?consistent`.
    pub consistency: Consistency,
    /// `?filter=`, parsed.
    pub filter: Option<Filter>,
    /// `?pretty`.
    pub pretty: bool,
    /// `?near=`.
    pub near: Option<String>,
    /// `?node-meta=key:value` pairs.
    pub node_meta: Vec<(String, String)>,
    /// `?peer=`: query data imported from a peer (empty: local data).
    pub peer: Option<String>,
}

impl QueryOptions {
    /// Parse and validate the common options. `local_dc` is this agent's datacenter; another
    /// `?dc=` cannot be reached until federation exists.
    pub fn parse(params: Params, local_dc: &str) -> Result<Self, ApiError> {
        if params.non_empty("dc").is_some_and(|dc| dc != local_dc) {
            return Err(ApiError::NoPathToDatacenter);
        }
        let stale = params.flag("stale");
        let consistent = params.flag("consistent");
        if stale && consistent {
            return Err(ApiError::BadRequest(
                "Cannot specify ?stale with ?consistent, conflicting semantics.".to_string(),
            ));
        }
        let consistency = match (stale, consistent) {
            (true, _) => Consistency::Stale,
            (_, true) => Consistency::Consistent,
            _ => Consistency::Default,
        };
        let min_index = params.u64("index", "Invalid index")?.unwrap_or(0);
        let wait = match params.non_empty("wait") {
            None => DEFAULT_WAIT,
            Some(w) => go_duration::parse(w)
                .map_err(|_| ApiError::BadRequest("Invalid wait time".to_string()))?
                .min(MAX_WAIT),
        };
        let filter = match params.non_empty("filter") {
            None => None,
            Some(expr) => Some(Filter::parse(expr).map_err(filter_error)?),
        };
        let node_meta = params
            .all("node-meta")
            .into_iter()
            .map(|pair| match pair.split_once(':') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (pair.to_string(), String::new()),
            })
            .collect();
        Ok(QueryOptions {
            pretty: params.has("pretty"),
            near: params.non_empty("near").map(str::to_string),
            peer: params.non_empty("peer").map(str::to_string),
            filter,
            node_meta,
            min_index,
            wait,
            consistency,
            params,
        })
    }

    /// Keep the items that match `?filter=` (all of them when there is none).
    pub fn filter<T: serde::Serialize>(&self, items: Vec<T>) -> Result<Vec<T>, ApiError> {
        match &self.filter {
            None => Ok(items),
            Some(f) => legate_types::filter::apply(f, items).map_err(filter_error),
        }
    }

    /// Keep the map values that match `?filter=`.
    pub fn filter_map<T: serde::Serialize>(
        &self,
        items: std::collections::BTreeMap<String, T>,
    ) -> Result<std::collections::BTreeMap<String, T>, ApiError> {
        match &self.filter {
            None => Ok(items),
            Some(f) => legate_types::filter::apply_map(f, items).map_err(filter_error),
        }
    }
}

fn filter_error(err: legate_types::filter::FilterError) -> ApiError {
    let prefix = if err.is_parse_error() {
        legate_types::filter::PARSE_ERROR_PREFIX
    } else {
        legate_types::filter::EVALUATION_ERROR_PREFIX
    };
    ApiError::BadRequest(format!("{prefix}{err}"))
}
