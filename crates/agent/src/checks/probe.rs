//! One run of an interval check, whatever its kind: builds the per-kind probe from a
//! definition (applying Consul's default timeouts) and runs it to a raw status and output.

use std::io;
use std::time::Duration;

use super::grpc::GrpcProbe;
use super::http::HttpProbe;
use super::script::ScriptProbe;
use super::tcp::TcpProbe;
use super::tcp::UdpProbe;
use crate::definition::CheckDefinition;
use crate::definition::CheckKind;

/// Default timeout of network checks (HTTP, TCP, UDP, gRPC).
pub(crate) const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of script checks.
pub(crate) const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The raw result of one run, before thresholds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProbeResult {
    pub(crate) status: &'static str,
    pub(crate) output: String,
}

/// A check that runs on an interval.
pub(crate) enum Probe {
    Http(HttpProbe),
    Tcp(TcpProbe),
    Udp(UdpProbe),
    Grpc(GrpcProbe),
    Script(ScriptProbe),
}

impl Probe {
    /// The probe for `def`; `None` for kinds that do not run on an interval (TTL, alias).
    pub(crate) fn from_definition(def: &CheckDefinition) -> Option<Self> {
        let net_timeout = def.timeout.unwrap_or(DEFAULT_NETWORK_TIMEOUT);
        let output_max = def.effective_output_max_size();
        Some(match &def.kind {
            CheckKind::Http { .. } => {
                Probe::Http(HttpProbe::new(&def.kind, net_timeout, output_max))
            }
            CheckKind::Tcp { addr } => Probe::Tcp(TcpProbe::new(addr.clone(), net_timeout)),
            CheckKind::Udp { addr } => Probe::Udp(UdpProbe::new(addr.clone(), net_timeout)),
            CheckKind::Grpc {
                target, use_tls, ..
            } => Probe::Grpc(GrpcProbe::new(target.clone(), *use_tls, net_timeout)),
            CheckKind::Script { args } => Probe::Script(ScriptProbe::new(
                args.clone(),
                def.timeout.unwrap_or(DEFAULT_SCRIPT_TIMEOUT),
                output_max,
            )),
            CheckKind::Ttl { .. } | CheckKind::Alias { .. } => return None,
        })
    }

    /// Runs the check once.
    pub(crate) async fn check(&self) -> ProbeResult {
        match self {
            Probe::Http(p) => p.check().await,
            Probe::Tcp(p) => p.check().await,
            Probe::Udp(p) => p.check().await,
            Probe::Grpc(p) => p.check().await,
            Probe::Script(p) => p.check().await,
        }
    }
}

/// An I/O error worded the way Go's `net` package words it.
pub(crate) fn go_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        io::ErrorKind::TimedOut => "i/o timeout".into(),
        io::ErrorKind::HostUnreachable => "no route to host".into(),
        io::ErrorKind::NetworkUnreachable => "network is unreachable".into(),
        io::ErrorKind::AddrNotAvailable => "cannot assign requested address".into(),
        _ => {
            let text = err.to_string();
            // Drop Rust's " (os error N)" suffix.
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text,
            }
        }
    }
}
