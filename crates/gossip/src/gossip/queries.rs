//! The shell side of queries: starting one and collecting its answers until every
//! alive member replied or serf's timeout passed; answering the queries delivered to
//! this node (the keyring operations, which also save the keyring file); and carrying
//! answers to the originator in a TCP response frame (or directly, for our own query).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Gossip, Inner, guard, now};
use crate::crypto;
use crate::error::GossipError;
use crate::keyring::Keyring;
use crate::keyring_file::{KeyringFileError, write_keyring_file};
use crate::keyring_ops::{self, KeyResponse, KeyringOp, NodeKeyResponse};
use crate::member::MemberStatus;
use crate::message;
use crate::query::{
    Collector, INTERNAL_PREFIX, IncomingQuery, QueryKey, QueryMessage, QueryResponse,
};
use crate::transport::{Frame, write_frame};

/// Gossip interval assumed when the profile has no periodic gossip.
const DEFAULT_GOSSIP_INTERVAL: Duration = Duration::from_millis(200);

/// Where the answers to each of our running queries go.
pub(super) type Pending = HashMap<QueryKey, mpsc::UnboundedSender<QueryResponse>>;

impl Gossip {
    /// Runs a keyring operation on every member of the pool, this one included, and
    /// gathers their answers (Consul's `keyring` command and `/v1/operator/keyring`).
    /// Failures on members are reported in the [`KeyResponse`] (see
    /// [`KeyResponse::error`]), not as an `Err`. `relay_factor` is accepted for
    /// Consul compatibility; answers travel over TCP and are not relayed.
    pub async fn keyring_op(
        &self,
        op: KeyringOp,
        relay_factor: u8,
    ) -> Result<KeyResponse, GossipError> {
        let (name, payload) = op.to_query();
        let (expected, answers) = self.inner.query(name, &payload, relay_factor).await?;
        Ok(keyring_ops::aggregate(expected, answers))
    }
}

impl Inner {
    /// Starts a query and waits for the answers of every member alive now (or for the
    /// timeout); returns how many were expected and the answers by node name.
    async fn query(
        self: &Arc<Self>,
        name: &str,
        payload: &[u8],
        relay_factor: u8,
    ) -> Result<(usize, BTreeMap<String, Vec<u8>>), GossipError> {
        self.check_running()?;
        let mut id = [0u8; 4];
        aws_lc_rs::rand::fill(&mut id)
            .map_err(|_| GossipError::Membership("no randomness for a query id".into()))?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (key, expected, outputs) = {
            let mut core = guard(&self.core);
            let expected = core
                .members()
                .iter()
                .filter(|m| matches!(m.status, MemberStatus::Alive | MemberStatus::Leaving))
                .count();
            let (key, outputs) =
                core.query(now(), u32::from_le_bytes(id), name, payload, relay_factor);
            // Registered before the query leaves this node: no answer can be missed.
            guard(&self.pending).insert(key, tx);
            (key, expected, self.publish(outputs))
        };
        self.execute(outputs).await;
        let interval = self
            .timing
            .swim
            .periodic_gossip
            .as_ref()
            .map_or(DEFAULT_GOSSIP_INTERVAL, |p| p.frequency);
        let deadline =
            tokio::time::Instant::now() + crate::query::default_timeout(interval, expected);
        let mut collector = Collector::new(key, expected);
        while !collector.is_complete() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(response)) => {
                    collector.add(response);
                }
                Ok(None) | Err(_) => break,
            }
        }
        guard(&self.pending).remove(&key);
        Ok((collector.expected(), collector.into_responses()))
    }

    /// Answers a query delivered to this node, in the background.
    pub(super) fn answer(self: &Arc<Self>, query: IncomingQuery) {
        let inner = self.clone();
        tokio::spawn(async move { inner.answer_now(query.0).await });
    }

    async fn answer_now(self: Arc<Self>, query: QueryMessage) {
        // Only internal queries have an answerer so far.
        if !query.name.starts_with(INTERNAL_PREFIX) {
            return;
        }
        let Some(payload) = self.handle_internal(&query).await else {
            return;
        };
        let response = QueryResponse {
            ltime: query.ltime,
            id: query.id,
            from: guard(&self.core).local_member().name,
            payload,
        };
        if query.addr == self.local_addr {
            self.deliver(response);
            return;
        }
        let send = async {
            let sealed = crypto::seal(self.keyring().as_ref(), &message::encode(&response))
                .map_err(|e| e.to_string())?;
            let mut stream = TcpStream::connect(query.addr)
                .await
                .map_err(|e| e.to_string())?;
            write_frame(&mut stream, &Frame::Response(sealed))
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(self.timing.stream_timeout, send).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                tracing::debug!(to = %query.addr, %reason, "gossip: cannot answer query");
            }
            Err(_) => tracing::debug!(to = %query.addr, "gossip: answering a query timed out"),
        }
    }

    /// This node's answer to an internal query (`None`: not one we answer).
    async fn handle_internal(&self, query: &QueryMessage) -> Option<Vec<u8>> {
        let answer = match KeyringOp::from_query(&query.name, &query.payload)? {
            Err(message) => NodeKeyResponse {
                message,
                ..NodeKeyResponse::default()
            },
            Ok(op) => {
                let (mut answer, changed) = {
                    let mut ring = self
                        .keyring
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (answer, changed) = keyring_ops::apply(&op, ring.as_mut());
                    (answer, changed.then(|| ring.clone()).flatten())
                };
                tracing::info!(query = %query.name, ok = answer.result, "gossip: keyring query");
                if let Some(ring) = changed
                    && let Err(e) = self.save_keyring_async(ring).await
                {
                    answer.result = false;
                    answer.message = e;
                }
                answer
            }
        };
        Some(message::encode(&answer))
    }

    /// Saves `ring` to the keyring file, if there is one.
    pub(super) fn save_keyring(&self, ring: &Keyring) -> Result<(), KeyringFileError> {
        match &self.keyring_file {
            Some(path) => write_keyring_file(path, ring),
            None => Ok(()),
        }
    }

    async fn save_keyring_async(&self, ring: Keyring) -> Result<(), String> {
        let Some(path) = self.keyring_file.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || write_keyring_file(&path, &ring))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Hands an answer to the query waiting for it (if it still is).
    fn deliver(&self, response: QueryResponse) {
        if let Some(tx) = guard(&self.pending).get(&response.key()) {
            // The query may have timed out and dropped its receiver: nothing to do.
            let _ = tx.send(response);
        }
    }

    /// An answer that arrived in a TCP response frame.
    pub(super) fn receive_response(&self, sealed: &[u8]) {
        let opened = crypto::open(self.keyring().as_ref(), sealed)
            .map_err(|e| e.to_string())
            .and_then(|plain| message::decode::<QueryResponse>(&plain).map_err(|e| e.to_string()));
        match opened {
            Ok(response) => self.deliver(response),
            Err(reason) => {
                self.rejected_streams.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%reason, "gossip: dropped a query answer");
            }
        }
    }
}
