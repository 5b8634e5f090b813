//! One peering stream, either end, from the first message to the last: subscribe to what our
//! role imports; export (watch the store and send what changed — [`super::export`]); import
//! (apply each complete resource through Raft — [`super::import`] — then ACK, or NACK with
//! the error); heartbeat, and end on the peer's silence; on the peer's `Terminated` mark the
//! row TERMINATED and drop its imported data; when our row is marked for deletion (or gone)
//! send `Terminated` and end. Every step is published to the leader's link registry.

use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use futures::StreamExt;
use legate_peerstream::HeartbeatAction;
use legate_peerstream::Inbound;
use legate_peerstream::InboundStream;
use legate_peerstream::Role;
use legate_peerstream::Session;
use legate_peerstream::pb::ReplicationMessage;
use legate_state::StateView;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::Peering;
use legate_state::model::PeeringState;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::export::ExportState;
use super::export::server_addresses;
use super::import;
use crate::agent::Agent;

/// Tables whose changes may change what we export or the row's fate.
const WATCHED: [Table; 6] = [
    Table::Nodes,
    Table::Services,
    Table::Checks,
    Table::ConfigEntries,
    Table::ConnectCa,
    Table::Peerings,
];

/// Longest wait between heartbeat checks (also re-reads gossip for the server addresses).
const MAX_TICK: Duration = Duration::from_secs(1);

/// How long a `Terminated` sender waits for the peer to hang up.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// Which stream this is.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Our end.
    pub role: Role,
    /// The local peering ID.
    pub peering_id: String,
}

/// Why a stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The peer sent `Terminated`; the row is TERMINATED now.
    PeerTerminated,
    /// Our row was deleted or marked for deletion; we sent `Terminated`.
    Deleted,
    /// Cancelled: leadership lost, a newer stream replaced this one, or shutdown.
    Cancelled,
    /// The peer hung up cleanly.
    Closed,
    /// The stream failed.
    Failed(String),
}

impl StreamEnd {
    /// Whether the peering is over (no reconnect).
    pub fn is_final(&self) -> bool {
        matches!(self, StreamEnd::PeerTerminated | StreamEnd::Deleted)
    }

    fn error(&self) -> Option<String> {
        match self {
            StreamEnd::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }
}

/// Run one stream until it ends. `outbound` carries our messages to the peer, `inbound` the
/// peer's; `cancel` ends the stream early.
pub async fn run(
    agent: Arc<Agent>,
    spec: Spec,
    outbound: mpsc::Sender<ReplicationMessage>,
    inbound: InboundStream,
    cancel: CancellationToken,
) -> StreamEnd {
    let registry = agent.peering().registry();
    let (generation, tracker) = registry.begin(&spec.peering_id, cancel.clone());
    let session = Session::new(
        spec.role,
        agent.peering().session_config(),
        tracker,
        SystemTime::now(),
    );
    // Sending never waits on the peer: a writer task drains an unbounded queue into the
    // transport, so this task keeps reading (and ACKing) while a large sync is in flight. With
    // both ends blocked on full send buffers while neither read, a big initial sync used to
    // stall the stream until the heartbeat timeout.
    let (queue, mut queued) = mpsc::unbounded_channel::<ReplicationMessage>();
    let writer = tokio::spawn(async move {
        while let Some(msg) = queued.recv().await {
            if outbound.send(msg).await.is_err() {
                return;
            }
        }
    });
    let mut stream = Stream {
        agent: agent.clone(),
        spec,
        generation,
        session,
        outbound: queue,
        export: ExportState::default(),
        exported_at: None,
        export_due: true,
        imported: None,
    };
    let end = stream.drive(inbound, cancel).await;
    // `terminate` already gave the peer time to take a final `Terminated`; whatever is still
    // queued now is for a stream that is over.
    writer.abort();
    let Stream {
        spec,
        session,
        agent,
        ..
    } = stream;
    let tracker = session.close(end.error(), SystemTime::now());
    agent
        .peering()
        .registry()
        .end(&spec.peering_id, generation, tracker);
    match &end {
        StreamEnd::Failed(e) => {
            tracing::warn!(target: "agent.peering", peering_id = %spec.peering_id, error = %e, "peering stream failed");
        }
        other => {
            tracing::info!(target: "agent.peering", peering_id = %spec.peering_id, end = ?other, "peering stream ended");
        }
    }
    end
}

struct Stream {
    agent: Arc<Agent>,
    spec: Spec,
    generation: u64,
    session: Session,
    outbound: mpsc::UnboundedSender<ReplicationMessage>,
    export: ExportState,
    /// The watched-tables index the last export saw.
    exported_at: Option<u64>,
    /// Export on the next turn even if the store did not move.
    export_due: bool,
    imported: Option<Vec<String>>,
}

impl Stream {
    async fn drive(&mut self, mut inbound: InboundStream, cancel: CancellationToken) -> StreamEnd {
        let mut leadership = self.agent.server().consensus().leadership();
        let shutdown = self.agent.shutdown_token();
        let subscriptions = self.session.subscriptions();
        if let Err(end) = self.send_all(subscriptions).await {
            return end;
        }
        loop {
            let view = self.agent.server().store().view();
            let Some(row) = view.peering_by_id(&self.spec.peering_id) else {
                return self.terminate(&mut inbound).await;
            };
            match row.state {
                PeeringState::Deleting => return self.terminate(&mut inbound).await,
                PeeringState::Terminated => return StreamEnd::Cancelled,
                _ => {}
            }
            // Export only when something it reads may have moved: the store (watched tables),
            // a new subscription, or a tick (gossip-based server addresses). Re-exporting on
            // every inbound message (each ACK) made a large sync crawl.
            let seen = view.max_index(&WATCHED);
            if self.export_due || self.exported_at != Some(seen) {
                if let Err(end) = self.export(&view, &row).await {
                    return end;
                }
                self.exported_at = Some(seen);
                self.export_due = false;
            }
            let wait = match self.session.poll_heartbeat(SystemTime::now()) {
                HeartbeatAction::Send => {
                    if let Err(end) = self.send(Session::heartbeat_message()).await {
                        return end;
                    }
                    Duration::ZERO
                }
                HeartbeatAction::Dead => {
                    return StreamEnd::Failed("no heartbeat from the peer".to_string());
                }
                HeartbeatAction::Wait { until } => {
                    until.duration_since(SystemTime::now()).unwrap_or_default()
                }
            };
            self.publish();
            let store = self.agent.server().store();
            tokio::select! {
                () = cancel.cancelled() => return self.cancelled(&mut inbound).await,
                () = shutdown.cancelled() => return StreamEnd::Cancelled,
                changed = leadership.changed() => {
                    if changed.is_err() || !*leadership.borrow_and_update() {
                        return StreamEnd::Cancelled;
                    }
                }
                msg = inbound.next() => match msg {
                    None => return StreamEnd::Closed,
                    Some(Err(status)) => {
                        return StreamEnd::Failed(format!("{}: {}", status.code(), status.message()));
                    }
                    Some(Ok(msg)) => {
                        if let Some(end) = self.on_message(msg).await {
                            return end;
                        }
                    }
                },
                _ = store.wait_change(&WATCHED, seen, std::future::pending()) => {}
                () = tokio::time::sleep(wait.min(MAX_TICK)) => self.export_due = true,
            }
        }
    }

    /// Cancelled from outside (a newer stream, or the dialer manager dropping a row): if our
    /// row is going away, still tell the peer.
    async fn cancelled(&mut self, inbound: &mut InboundStream) -> StreamEnd {
        let row = self
            .agent
            .server()
            .store()
            .view()
            .peering_by_id(&self.spec.peering_id);
        match row {
            None => self.terminate(inbound).await,
            Some(row) if row.state == PeeringState::Deleting => self.terminate(inbound).await,
            Some(_) => StreamEnd::Cancelled,
        }
    }

    /// Send what changed since the last call.
    async fn export(&mut self, view: &StateView, row: &Peering) -> Result<(), StreamEnd> {
        let addresses = if self
            .session
            .peer_subscribed(legate_peerstream::ResourceUrl::ServerAddresses)
        {
            self.local_addresses(view)
        } else {
            Vec::new()
        };
        let max_part = self.session.config().max_part_bytes;
        let session = &self.session;
        let changes = self
            .export
            .changes(
                view,
                &row.name,
                |u| session.peer_subscribed(u),
                &addresses,
                max_part,
            )
            .map_err(|e| StreamEnd::Failed(format!("encoding a resource: {e}")))?;
        if changes.is_empty() {
            return Ok(());
        }
        let index = view.max_index(&WATCHED);
        let commit_ms = i64::try_from(crate::clock::now_unix_ms()).unwrap_or(i64::MAX);
        for change in changes {
            let msgs = self
                .session
                .resource_messages(change.url, &change.id, change.parts, index, commit_ms)
                .map_err(|e| StreamEnd::Failed(e.to_string()))?;
            self.send_all(msgs).await?;
        }
        Ok(())
    }

    fn local_addresses(&self, view: &StateView) -> Vec<String> {
        let dc = &self.agent.node().datacenter;
        match self.agent.lan() {
            Some(lan) => {
                let members: Vec<_> = lan
                    .members()
                    .iter()
                    .map(crate::membership::member_info)
                    .collect();
                server_addresses(&members, dc, |node| {
                    view.node(node)
                        .and_then(|n| n.tagged_addresses.get("wan").cloned())
                })
            }
            None => self
                .agent
                .config()
                .ports
                .grpc_tls
                .map(|p| vec![format!("{}:{p}", self.agent.node().wan_address)])
                .unwrap_or_default(),
        }
    }

    /// Handle one message from the peer; `Some` ends the stream.
    async fn on_message(&mut self, msg: ReplicationMessage) -> Option<StreamEnd> {
        let inbound = match self.session.on_received(msg, SystemTime::now()) {
            Ok(i) => i,
            Err(e) => return Some(StreamEnd::Failed(e.to_string())),
        };
        match inbound {
            Inbound::Subscribed(url) => {
                tracing::debug!(target: "agent.peering", %url, "peer subscribed");
                self.export_due = true;
                None
            }
            Inbound::Resource(resource) => {
                let reply = match self.apply(&resource).await {
                    Ok(()) => {
                        self.session.on_applied(&resource, SystemTime::now());
                        self.session.ack(&resource)
                    }
                    Err(error) => {
                        tracing::warn!(target: "agent.peering", url = %resource.resource_url, id = %resource.resource_id, %error, "refusing a peer resource");
                        self.session.nack(&resource, tonic::Code::Internal, &error)
                    }
                };
                self.send(reply).await.err()
            }
            Inbound::Refused { reply, error } => {
                tracing::warn!(target: "agent.peering", %error, "refused a peer resource");
                self.send(reply).await.err()
            }
            Inbound::Nacked {
                resource_url,
                resource_id,
                error,
                ..
            } => {
                tracing::warn!(target: "agent.peering", %resource_url, %resource_id, error = %error.message, "peer refused our resource");
                None
            }
            Inbound::Terminated => Some(self.peer_terminated().await),
            _ => None,
        }
    }

    /// Apply one complete resource through Raft.
    async fn apply(
        &mut self,
        resource: &legate_peerstream::AssembledResource,
    ) -> Result<(), String> {
        let view = self.agent.server().store().view();
        let row = view
            .peering_by_id(&self.spec.peering_id)
            .ok_or_else(|| "peering not found".to_string())?;
        let plan = import::plan(resource, self.spec.role, &row)?;
        for command in plan.commands {
            write(&self.agent, command).await?;
        }
        if let Some(list) = plan.imported_list {
            self.imported = Some(list);
        }
        Ok(())
    }

    /// The peer ended the peering: mark our row TERMINATED and drop what it exported to us.
    async fn peer_terminated(&mut self) -> StreamEnd {
        let view = self.agent.server().store().view();
        if let Some(mut row) = view.peering_by_id(&self.spec.peering_id)
            && row.is_active()
        {
            let peer = row.name.clone();
            row.state = PeeringState::Terminated;
            let writes = [
                Command::PeeringWrite {
                    peering: row,
                    secrets: None,
                },
                Command::ImportDropPeer { peer },
            ];
            for command in writes {
                if let Err(e) = write(&self.agent, command).await {
                    tracing::warn!(target: "agent.peering", error = %e, "failed to record the peer's termination");
                }
            }
        }
        self.imported = Some(Vec::new());
        self.publish();
        StreamEnd::PeerTerminated
    }

    /// Our row is going away: tell the peer, and give it a moment to take the message and
    /// hang up (dropping our end at once could reset the stream before it is delivered).
    async fn terminate(&mut self, inbound: &mut InboundStream) -> StreamEnd {
        if self.send(Session::terminated_message()).await.is_ok() {
            let drain = async { while let Some(Ok(_)) = inbound.next().await {} };
            let _ = tokio::time::timeout(TERMINATE_GRACE, drain).await;
        }
        StreamEnd::Deleted
    }

    async fn send_all(&mut self, msgs: Vec<ReplicationMessage>) -> Result<(), StreamEnd> {
        for msg in msgs {
            self.send(msg).await?;
        }
        Ok(())
    }

    async fn send(&mut self, msg: ReplicationMessage) -> Result<(), StreamEnd> {
        let now = SystemTime::now();
        self.session.on_sent(&msg, now);
        if self.outbound.send(msg).is_err() {
            let error = "stream closed while sending".to_string();
            self.session.on_send_failed(error.clone(), now);
            return Err(StreamEnd::Failed(error));
        }
        Ok(())
    }

    fn publish(&self) {
        self.agent.peering().registry().publish(
            &self.spec.peering_id,
            self.generation,
            self.session.tracker().snapshot(),
            self.imported.as_deref(),
            Some(self.export.exported()),
        );
    }
}

/// Propose `command`; a rejection is an error.
async fn write(agent: &Agent, command: Command) -> Result<(), String> {
    match agent.server().write(command).await {
        Ok(CommandResult::Rejected(message)) => Err(message),
        Ok(_) => Ok(()),
        Err(err) => Err(err.to_string()),
    }
}
