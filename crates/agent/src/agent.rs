//! The running agent: owns the configuration, the server (state store + consensus), the local
//! services and checks, the check runners and the HTTP listeners, and starts the background
//! routines (anti-entropy, check results, leader duties). [`Agent::start`] returns once every
//! listener is bound; leadership and catalog registration follow within milliseconds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;
use std::time::SystemTime;

use legate_config::ListenAddr;
use legate_config::RuntimeConfig;
use legate_consensus::Consensus;
use legate_consensus::RaftConfig;
use legate_state::Store;
use legate_state::model::Node;
use legate_types::version::CONSUL_VERSION;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::checks::CheckRunners;
use crate::checks::CheckUpdate;
use crate::checks::RunnerOptions;
use crate::http;
use crate::http::error::ApiError;
use crate::http::query::Params;
use crate::http::query::QueryOptions;
use crate::local::LocalState;
use crate::server::Server;
use crate::server::StoreMachine;

/// How long in-flight HTTP requests may finish after shutdown begins.
const HTTP_DRAIN: Duration = Duration::from_secs(1);

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A listener could not bind.
    #[error("Error starting agent: Failed to start {what} listener on {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The address it tried.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The data directory is unusable.
    #[error("Error starting agent: data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Consensus could not start.
    #[error("Error starting agent: {0}")]
    Consensus(String),
    /// A service or check in the configuration is invalid.
    #[error("Error starting agent: {0}")]
    Definition(String),
}

/// Who this agent is in the catalog.
#[derive(Clone, Debug)]
pub struct NodeIdentity {
    /// Node name.
    pub name: String,
    /// Node ID (UUID).
    pub id: String,
    /// Datacenter.
    pub datacenter: String,
    /// Advertised LAN address.
    pub address: String,
    /// Advertised WAN address.
    pub wan_address: String,
    /// Server RPC address (`ip:port`), what `status/leader` reports.
    pub rpc_addr: String,
}

/// The agent.
pub struct Agent {
    config: RwLock<Arc<RuntimeConfig>>,
    node: NodeIdentity,
    server: Server,
    local: LocalState,
    runners: CheckRunners,
    events: crate::events::EventLog,
    session_timers: crate::sessions::SessionTimers,
    shutdown: CancellationToken,
    started: SystemTime,
    http_addrs: RwLock<Vec<SocketAddr>>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    lan: Option<legate_gossip::Gossip>,
    /// Moves whenever gossip membership changes (wakes the leader's reconciliation).
    members_version: tokio::sync::watch::Sender<u64>,
    /// The latest autopilot state (while this server leads).
    autopilot: crate::autopilot_run::Tracker,
    /// Network-coordinate settings and the server's update queue.
    coordinates: crate::coordinates::Coordinates,
    /// The secret exchange of peering establish (replaceable: transport or test fake).
    peering_exchanger: RwLock<Arc<dyn crate::peering_exchange::SecretExchanger>>,
    /// The peering runtime: link registry, peering certificate, stream tunables.
    peering: crate::peering::PeeringRuntime,
}

impl Agent {
    /// Start the agent: consensus, background routines, config services and checks, and the
    /// HTTP listeners.
    pub async fn start(config: RuntimeConfig) -> Result<Arc<Agent>, AgentError> {
        if let Some(dir) = &config.data_dir {
            std::fs::create_dir_all(dir).map_err(|source| AgentError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let node = identity(&config)?;
        let store = Arc::new(Store::new());
        let rpc = legate_rpc::RpcClient::new();
        // Bind server RPC before Raft starts, so a port conflict stops start-up cleanly.
        let rpc_listener = match (config.server, config.ports.server) {
            (true, Some(port)) => {
                let addr = SocketAddr::new(config.bind_addr, port);
                Some(
                    tokio::net::TcpListener::bind(addr)
                        .await
                        .map_err(|source| AgentError::Bind {
                            what: "server RPC",
                            addr: addr.to_string(),
                            source,
                        })?,
                )
            }
            _ => None,
        };
        let consensus = Consensus::start(
            RaftConfig {
                node_id: node.id.clone(),
                node_name: node.name.clone(),
                rpc_addr: node.rpc_addr.clone(),
                data_dir: config.data_dir.clone(),
                bootstrap: config.server && (config.bootstrap || config.bootstrap_expect == 1),
                raft_multiplier: config.raft_multiplier.max(1),
                snapshot_threshold: config.raft_snapshot_threshold,
                trailing_logs: config.raft_trailing_logs,
                transport: Some(Arc::new(rpc.clone())),
            },
            Arc::new(StoreMachine::new(store.clone())),
        )
        .await
        .map_err(|err| AgentError::Consensus(err.to_string()))?;

        let lan = crate::membership::start_lan(&config, &node).await?;
        let (updates_tx, updates_rx) = mpsc::unbounded_channel();
        let runners = CheckRunners::new(
            updates_tx,
            RunnerOptions {
                enable_script_checks: config.enable_script_checks,
                enable_local_script_checks: config.enable_local_script_checks,
            },
        );
        let agent = Arc::new(Agent {
            node,
            server: Server::new(store, consensus, rpc),
            local: LocalState::new(),
            runners,
            events: crate::events::EventLog::default(),
            session_timers: crate::sessions::SessionTimers::default(),
            shutdown: CancellationToken::new(),
            started: SystemTime::now(),
            http_addrs: RwLock::new(Vec::new()),
            tasks: std::sync::Mutex::new(Vec::new()),
            lan,
            members_version: tokio::sync::watch::channel(0).0,
            autopilot: crate::autopilot_run::Tracker::default(),
            coordinates: crate::coordinates::Coordinates::new(&config),
            peering_exchanger: RwLock::new(Arc::new(crate::peering_exchange::NoTransport)),
            peering: crate::peering::PeeringRuntime::default(),
            config: RwLock::new(Arc::new(config.clone())),
        });

        crate::registration::load_config_definitions(&agent, &config)
            .map_err(|err| AgentError::Definition(err.to_string()))?;

        agent.spawn(check_results(agent.clone(), updates_rx));
        agent.spawn(crate::anti_entropy::run(agent.clone()));
        agent.spawn(crate::leader::run(agent.clone()));
        agent.spawn(crate::autopilot_run::run(agent.clone(), Default::default()));
        agent.spawn(crate::sessions::run(agent.clone()));
        agent.spawn(crate::membership::run_events(agent.clone()));
        agent.spawn(crate::membership::retry_join(agent.clone()));
        agent.spawn(crate::bootstrap::run(agent.clone()));
        agent.spawn(crate::registration::reap_critical_services(agent.clone()));
        agent.spawn(crate::coordinates::run_sync(agent.clone()));
        agent.spawn(crate::coordinates::run_flush(agent.clone()));
        crate::peering::start(&agent);

        if let Some(listener) = rpc_listener {
            let handler = Arc::new(crate::rpc_handler::AgentRpc::new(&agent));
            let token = agent.shutdown.clone();
            tracing::info!(target: "agent.server", "Started server RPC: address={}", listener.local_addr().map_or_else(|_| "?".to_string(), |a| a.to_string()));
            agent.spawn(async move {
                if let Err(err) =
                    legate_rpc::serve(listener, handler, token.cancelled_owned()).await
                {
                    tracing::error!(target: "agent.server", error = %err, "server RPC failed");
                }
            });
        }

        for addr in &config.http_addrs {
            agent.serve_http(addr).await?;
        }
        Ok(agent)
    }

    /// Bind one HTTP listener and serve the API on it until shutdown (then let in-flight
    /// requests finish for up to [`HTTP_DRAIN`]; blocking queries are cut there).
    async fn serve_http(self: &Arc<Self>, addr: &ListenAddr) -> Result<(), AgentError> {
        let bind_error = |source| AgentError::Bind {
            what: "HTTP",
            addr: match addr {
                ListenAddr::Tcp(socket) => socket.to_string(),
                ListenAddr::Unix(path) => format!("unix://{}", path.display()),
            },
            source,
        };
        let router = http::router(self.clone());
        let token = self.shutdown.clone();
        let drain_token = token.clone();
        let drained = move || {
            let token = drain_token.clone();
            async move {
                token.cancelled().await;
                tokio::time::sleep(HTTP_DRAIN).await;
            }
        };
        match addr {
            ListenAddr::Tcp(socket) => {
                let listener = tokio::net::TcpListener::bind(socket)
                    .await
                    .map_err(bind_error)?;
                let bound = listener.local_addr().unwrap_or(*socket);
                write_lock(&self.http_addrs).push(bound);
                tracing::info!(target: "agent", "Started HTTP server: address={bound} network=tcp");
                let serve = http::serve::serve(listener, router, token.cancelled_owned());
                let drained = drained();
                self.spawn(async move {
                    tokio::select! {
                        () = serve => {}
                        () = drained => {}
                    }
                });
            }
            ListenAddr::Unix(path) => {
                // A stale socket file from a previous run would make bind fail.
                let _ = std::fs::remove_file(path);
                let listener = tokio::net::UnixListener::bind(path).map_err(bind_error)?;
                tracing::info!(target: "agent", "Started HTTP server: address={} network=unix", path.display());
                let serve = http::serve::serve(listener, router, token.cancelled_owned());
                let drained = drained();
                self.spawn(async move {
                    tokio::select! {
                        () = serve => {}
                        () = drained => {}
                    }
                });
            }
        }
        Ok(())
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }

    /// The configuration in force (replaced by a reload).
    pub fn config(&self) -> Arc<RuntimeConfig> {
        read_lock(&self.config).clone()
    }

    /// Replace the configuration after a reload.
    pub fn set_config(&self, config: RuntimeConfig) {
        *write_lock(&self.config) = Arc::new(config);
    }

    /// Who this agent is.
    pub fn node(&self) -> &NodeIdentity {
        &self.node
    }

    /// The server role (state store and consensus).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The latest autopilot state this server computed.
    pub fn autopilot(&self) -> &crate::autopilot_run::Tracker {
        &self.autopilot
    }

    /// Local services and checks.
    pub fn local(&self) -> &LocalState {
        &self.local
    }

    /// The check runners.
    pub fn runners(&self) -> &CheckRunners {
        &self.runners
    }

    /// User events seen by this agent.
    pub fn events(&self) -> &crate::events::EventLog {
        &self.events
    }

    /// What the catalog holds for node `name`: from the local store on a server, from a
    /// server (over RPC) on a client agent.
    pub async fn catalog_entry(
        &self,
        name: &str,
    ) -> Result<crate::anti_entropy::CatalogNode, String> {
        if self.config().server {
            let view = self.server.store().view();
            return Ok(crate::anti_entropy::CatalogNode::read(&view, name));
        }
        let request = legate_rpc::HttpRequest {
            method: "GET".to_string(),
            path_and_query: format!("/v1/internal/legate/node/{name}"),
            ..legate_rpc::HttpRequest::default()
        };
        let reply = crate::http::forward::to_any_server(self, request)
            .await
            .map_err(|err| err.to_string())?;
        if reply.status != 200 {
            return Err(format!(
                "server answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        serde_json::from_slice(&reply.body).map_err(|err| err.to_string())
    }

    /// The LAN gossip pool (None when `ports.serf_lan` is disabled).
    pub fn lan(&self) -> Option<&legate_gossip::Gossip> {
        self.lan.as_ref()
    }

    /// Network coordinates: settings and the server's update queue.
    pub fn coordinates(&self) -> &crate::coordinates::Coordinates {
        &self.coordinates
    }

    /// Note that gossip membership changed.
    pub fn members_changed(&self) {
        self.members_version.send_modify(|v| *v += 1);
    }

    /// A receiver that sees every membership change after it was created.
    pub fn members_subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.members_version.subscribe()
    }

    /// The peering runtime (link registry, peering certificate).
    pub fn peering(&self) -> &crate::peering::PeeringRuntime {
        &self.peering
    }

    /// The secret exchanger peering establish uses.
    pub fn peering_exchanger(&self) -> Arc<dyn crate::peering_exchange::SecretExchanger> {
        read_lock(&self.peering_exchanger).clone()
    }

    /// Replace the secret exchanger (the peer-stream transport, or a test fake).
    pub fn set_peering_exchanger(
        &self,
        exchanger: Arc<dyn crate::peering_exchange::SecretExchanger>,
    ) {
        *write_lock(&self.peering_exchanger) = exchanger;
    }

    /// TTL timers of sessions (armed while this server leads).
    pub fn session_timers(&self) -> &crate::sessions::SessionTimers {
        &self.session_timers
    }

    /// When the agent started.
    pub fn started(&self) -> SystemTime {
        self.started
    }

    /// Addresses the HTTP API listens on.
    pub fn http_addrs(&self) -> Vec<SocketAddr> {
        read_lock(&self.http_addrs).clone()
    }

    /// Parse the common query options against this agent's datacenter.
    pub fn query_options(&self, params: Params) -> Result<QueryOptions, ApiError> {
        QueryOptions::parse(params, &self.node.datacenter)
    }

    /// This node as the catalog should show it.
    pub fn catalog_node(&self) -> Node {
        let config = self.config();
        let mut meta: BTreeMap<String, String> = config
            .node_meta
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        meta.insert("consul-network-segment".into(), String::new());
        meta.insert("consul-version".into(), CONSUL_VERSION.into());
        let address = &self.node.address;
        let wan = &self.node.wan_address;
        let mut tagged = BTreeMap::new();
        tagged.insert("lan".to_string(), address.clone());
        tagged.insert("lan_ipv4".to_string(), address.clone());
        tagged.insert("wan".to_string(), wan.clone());
        tagged.insert("wan_ipv4".to_string(), wan.clone());
        Node {
            id: self.node.id.clone(),
            node: self.node.name.clone(),
            address: address.clone(),
            datacenter: self.node.datacenter.clone(),
            tagged_addresses: tagged,
            meta,
            peer_name: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }

    /// A token cancelled when the agent begins shutting down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Begin shutting down (signal, `agent/leave`).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Wait for shutdown to be requested, then stop every routine and consensus.
    pub async fn wait(&self) {
        self.shutdown.cancelled().await;
        self.runners.stop_all();
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let drain = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        let _ = tokio::time::timeout(HTTP_DRAIN * 2, drain).await;
        if let Some(lan) = &self.lan {
            lan.shutdown();
        }
        self.server.consensus().shutdown().await;
    }
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// Apply check results to local state as they arrive.
async fn check_results(agent: Arc<Agent>, mut updates: mpsc::UnboundedReceiver<CheckUpdate>) {
    // The agent itself keeps a sender (for runners started later), so the channel never
    // closes: stop on shutdown, or every shutdown waits out the task-drain timeout.
    let shutdown = agent.shutdown_token();
    loop {
        let update = tokio::select! {
            () = shutdown.cancelled() => return,
            update = updates.recv() => update,
        };
        let Some(update) = update else {
            return;
        };
        agent
            .local
            .update_check(&update.check_id, update.status, &update.output);
    }
}

/// Resolve node name, ID (persisted in the data directory) and addresses.
fn identity(config: &RuntimeConfig) -> Result<NodeIdentity, AgentError> {
    let id = match &config.node_id {
        Some(id) => id.clone(),
        None => persisted_node_id(config.data_dir.as_deref())?,
    };
    let address = config.advertise_addr.to_string();
    let wan_address = config.advertise_addr_wan.to_string();
    let rpc_port = config.ports.server.unwrap_or(8300);
    Ok(NodeIdentity {
        name: config.node_name.clone(),
        datacenter: config.datacenter.clone(),
        rpc_addr: SocketAddr::new(config.advertise_addr, rpc_port).to_string(),
        id,
        address,
        wan_address,
    })
}

/// The node ID stored in `<data-dir>/node-id`, created on first start.
fn persisted_node_id(data_dir: Option<&Path>) -> Result<String, AgentError> {
    let Some(dir) = data_dir else {
        return Ok(uuid::Uuid::new_v4().to_string());
    };
    let path = dir.join("node-id");
    let io_error = |source| AgentError::DataDir {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if uuid::Uuid::parse_str(text.trim()).is_ok() => Ok(text.trim().to_string()),
        Ok(_) | Err(_) => {
            let id = uuid::Uuid::new_v4().to_string();
            std::fs::write(&path, &id).map_err(io_error)?;
            Ok(id)
        }
    }
}
