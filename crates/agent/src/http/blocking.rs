//! Blocking queries: run a read against a state view; when the caller passed `?index=N` and the
//! result's index is not past N, wait for a change to the tables the read touched and run it
//! again, until the index moves or the wait (plus jitter, as Consul adds) runs out.

use std::time::Duration;

use legate_state::StateView;
use legate_state::Table;
use rand::Rng;

use super::error::ApiError;
use super::query::Consistency;
use super::query::QueryOptions;
use super::reply::QueryMeta;
use crate::server::Server;

/// Run `read` under the consistency and blocking rules of `opts`. `read` returns its result
/// and the index that describes it.
pub async fn query<T>(
    server: &Server,
    opts: &QueryOptions,
    tables: &[Table],
    mut read: impl FnMut(&StateView) -> Result<(T, u64), ApiError>,
) -> Result<(T, QueryMeta), ApiError> {
    let consensus = server.consensus();
    match opts.consistency {
        Consistency::Stale => {}
        // An established leader serves default reads from its state (Consul's default mode);
        // a just-elected leader may not have applied the previous term's entries yet, and a
        // follower first catches up to the leader's read index — both go through the barrier.
        Consistency::Default if consensus.is_established_leader() => {}
        Consistency::Default | Consistency::Consistent => server.read_barrier().await?,
    }
    let known_leader = consensus.leader_addr().is_some();
    let meta = |index: u64| QueryMeta {
        index,
        known_leader,
        last_contact_ms: consensus
            .last_contact()
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        consistency: opts.consistency,
    };

    let view = server.store().view();
    let (result, index) = read(&view)?;
    if opts.min_index == 0 || index > opts.min_index {
        return Ok((result, meta(index)));
    }

    let deadline = tokio::time::Instant::now() + with_jitter(opts.wait);
    let mut view = view;
    loop {
        let seen = view.max_index(tables);
        let timeout = tokio::time::sleep_until(deadline);
        view = server.store().wait_change(tables, seen, timeout).await;
        let (result, index) = read(&view)?;
        // A restore can move indexes backwards: answer at once so the client resets.
        if index != opts.min_index || tokio::time::Instant::now() >= deadline {
            return Ok((result, meta(index)));
        }
    }
}

/// Add up to wait/16 of random jitter, as Consul does, so herds of watchers spread out.
fn with_jitter(wait: Duration) -> Duration {
    let max = wait.as_millis() / 16;
    if max == 0 {
        return wait;
    }
    let jitter = rand::rng().random_range(0..u64::try_from(max).unwrap_or(u64::MAX));
    wait + Duration::from_millis(jitter)
}

/// Run a blocking read and answer its result as JSON with the query-metadata headers.
pub async fn json_reply<T: serde::Serialize>(
    server: &Server,
    opts: &QueryOptions,
    tables: &[Table],
    read: impl FnMut(&StateView) -> Result<(T, u64), ApiError>,
) -> Result<axum::response::Response, ApiError> {
    let (value, meta) = query(server, opts, tables, read).await?;
    super::reply::json_with_meta(&value, opts.pretty, &meta)
}
