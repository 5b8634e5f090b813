//! TCP and UDP checks. TCP: a connect within the timeout is passing (every resolved address is
//! tried in order, so `localhost` works whether the target listens on `::1` or `127.0.0.1`).
//! UDP: a datagram is sent; a reply or silence until the timeout is passing, an error critical.

use std::net::SocketAddr;
use std::time::Duration;

use legate_state::model::health;
use tokio::net::TcpStream;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::probe::ProbeResult;
use super::probe::go_io_error;

/// A TCP connect check.
pub(crate) struct TcpProbe {
    addr: String,
    timeout: Duration,
}

impl TcpProbe {
    pub(crate) fn new(addr: String, timeout: Duration) -> Self {
        TcpProbe { addr, timeout }
    }

    pub(crate) async fn check(&self) -> ProbeResult {
        match connect_any(&self.addr, self.timeout).await {
            Ok(_) => ProbeResult {
                status: health::PASSING,
                output: format!("TCP connect {}: Success", self.addr),
            },
            Err(msg) => ProbeResult {
                status: health::CRITICAL,
                output: msg,
            },
        }
    }
}

/// Resolves `addr` and connects to each address in turn within one overall `timeout`.
/// The error reads like Go's dialer (`dial tcp 127.0.0.1:1: connect: connection refused`).
pub(crate) async fn connect_any(addr: &str, timeout: Duration) -> Result<TcpStream, String> {
    let deadline = Instant::now() + timeout;
    let addrs = resolve(addr, deadline, "tcp").await?;
    let mut last = format!("dial tcp {addr}: no addresses");
    for sa in addrs {
        match tokio::time::timeout_at(deadline, TcpStream::connect(sa)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = format!("dial tcp {sa}: connect: {}", go_io_error(&e)),
            Err(_) => return Err(format!("dial tcp {sa}: i/o timeout")),
        }
    }
    Err(last)
}

async fn resolve(addr: &str, deadline: Instant, net: &str) -> Result<Vec<SocketAddr>, String> {
    match tokio::time::timeout_at(deadline, tokio::net::lookup_host(addr)).await {
        Ok(Ok(addrs)) => Ok(addrs.collect()),
        Ok(Err(e)) => {
            let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
            if addr.rsplit_once(':').is_none() {
                Err(format!(
                    "dial {net} {addr}: address {addr}: missing port in address"
                ))
            } else {
                Err(format!("dial {net}: lookup {host}: {}", go_io_error(&e)))
            }
        }
        Err(_) => Err(format!("dial {net} {addr}: i/o timeout")),
    }
}

/// A UDP check.
pub(crate) struct UdpProbe {
    addr: String,
    timeout: Duration,
}

impl UdpProbe {
    pub(crate) fn new(addr: String, timeout: Duration) -> Self {
        UdpProbe { addr, timeout }
    }

    pub(crate) async fn check(&self) -> ProbeResult {
        let critical = |output: String| ProbeResult {
            status: health::CRITICAL,
            output,
        };
        let passing = || ProbeResult {
            status: health::PASSING,
            output: format!("UDP connect {}: Success", self.addr),
        };
        let deadline = Instant::now() + self.timeout;
        let target = match resolve(&self.addr, deadline, "udp").await {
            Ok(addrs) => match addrs.into_iter().next() {
                Some(sa) => sa,
                None => return critical(format!("dial udp {}: no addresses", self.addr)),
            },
            Err(msg) => return critical(msg),
        };
        let bind: SocketAddr = if target.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let socket = match UdpSocket::bind(bind).await {
            Ok(s) => s,
            Err(e) => return critical(format!("dial udp {target}: {}", go_io_error(&e))),
        };
        if let Err(e) = socket.connect(target).await {
            return critical(format!("dial udp {target}: {}", go_io_error(&e)));
        }
        if let Err(e) = socket.send(&[]).await {
            return critical(format!("write udp {target}: {}", go_io_error(&e)));
        }
        let mut buf = [0u8; 1];
        match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) | Ok(Ok(_)) => passing(),
            Ok(Err(e)) => critical(format!("read udp {target}: {}", go_io_error(&e))),
        }
    }
}
