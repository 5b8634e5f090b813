//! `legate agent`: load the configuration, start the agent, print Consul's start-up banner,
//! and run until a signal or `agent/leave`.

use std::path::Path;
use std::process::ExitCode;

use legate_agent::agent::Agent;
use legate_agent::logging;
use legate_config::RuntimeConfig;
use legate_types::version::CONSUL_VERSION;

/// Run the agent command with the arguments after `agent`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let config = match legate_config::load(args) {
        Ok(config) => config,
        Err(legate_config::ConfigError::Flag(legate_config::goflag::FlagError::Help)) => {
            println!("{}", legate_config::agent_flags().usage());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("==> {err}");
            return ExitCode::from(1);
        }
    };
    let Some(level) = logging::parse_level(&config.log_level) else {
        eprintln!("==> Invalid log level: {}", config.log_level);
        return ExitCode::from(1);
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("==> Error starting agent: {err}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let signal = wait_for_signal();
        if let Some(pid_file) = &config.pid_file
            && let Err(err) = write_pid(pid_file)
        {
            eprintln!(
                "==> Error starting agent: could not write pid file {}: {err}",
                pid_file.display()
            );
            return ExitCode::from(1);
        }
        println!("==> Starting Consul agent...");
        logging::init(level, config.log_json);
        let agent = match Agent::start(config.clone()).await {
            Ok(agent) => agent,
            Err(err) => {
                eprintln!("==> {err}");
                return ExitCode::from(1);
            }
        };
        print_banner(&config, &agent);
        let signals = agent.clone();
        tokio::spawn(async move {
            signal.await;
            tracing::info!(target: "agent", "Caught signal, shutting down");
            signals.shutdown();
        });
        agent.wait().await;
        if let Some(pid_file) = &config.pid_file {
            let _ = std::fs::remove_file(pid_file);
        }
        tracing::info!(target: "agent", "shutdown complete");
        ExitCode::SUCCESS
    })
}

fn write_pid(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, std::process::id().to_string())
}

fn port(p: Option<u16>) -> String {
    p.map_or_else(|| "-1".to_string(), |p| p.to_string())
}

fn print_banner(config: &RuntimeConfig, agent: &Agent) {
    let node = agent.node();
    let lines = [
        ("Version", format!("'{CONSUL_VERSION}'")),
        ("Node ID", format!("'{}'", node.id)),
        ("Node name", format!("'{}'", node.name)),
        (
            "Datacenter",
            format!("'{}' (Segment: '<all>')", node.datacenter),
        ),
        (
            "Server",
            format!("{} (Bootstrap: {})", config.server, config.bootstrap),
        ),
        (
            "Client Addr",
            format!(
                "[{}] (HTTP: {}, HTTPS: {}, gRPC: {}, gRPC-TLS: {}, DNS: {})",
                config.client_addrs.join(" "),
                port(config.ports.http),
                port(config.ports.https),
                port(config.ports.grpc),
                port(config.ports.grpc_tls),
                port(config.ports.dns)
            ),
        ),
        (
            "Cluster Addr",
            format!(
                "{} (LAN: {}, WAN: {})",
                node.address,
                port(config.ports.serf_lan),
                port(config.ports.serf_wan)
            ),
        ),
        ("Gossip Encryption", config.encrypt.is_some().to_string()),
        ("ACL Enabled", config.acl.enabled.to_string()),
    ];
    for (k, v) in lines {
        println!("{k:>22}: {v}");
    }
    println!();
    println!("==> Log data will now stream in as it occurs:");
    println!();
}

/// Installs the SIGTERM/SIGINT handlers at once (so a signal arriving while the agent starts
/// is not fatal) and returns a future that completes on the first of them.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::SignalKind;
    use tokio::signal::unix::signal;
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            // Without signal handlers the agent still stops through agent/leave.
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}
