//! gRPC checks: the standard `grpc.health.v1.Health/Check` call over cleartext HTTP/2
//! (target `host:port[/service]`). SERVING is passing, anything else or any error critical.
//! The two tiny protobuf messages are encoded by hand in [`codec`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
use legate_state::model::health;

use super::probe::ProbeResult;
use super::tcp::connect_any;

/// A gRPC health check.
pub(crate) struct GrpcProbe {
    target: String,
    server: String,
    service: String,
    use_tls: bool,
    timeout: Duration,
}

impl GrpcProbe {
    pub(crate) fn new(target: String, use_tls: bool, timeout: Duration) -> Self {
        let (server, service) = match target.split_once('/') {
            Some((server, service)) => (server.to_string(), service.to_string()),
            None => (target.clone(), String::new()),
        };
        GrpcProbe {
            target,
            server,
            service,
            use_tls,
            timeout,
        }
    }

    pub(crate) async fn check(&self) -> ProbeResult {
        let critical = |output: String| ProbeResult {
            status: health::CRITICAL,
            output,
        };
        if self.use_tls {
            return critical("gRPC checks with TLS are not supported by this agent".into());
        }
        let outcome = tokio::time::timeout(self.timeout, self.call()).await;
        match outcome {
            Err(_) => critical(
                "rpc error: code = DeadlineExceeded desc = context deadline exceeded".into(),
            ),
            Ok(Err(msg)) => critical(msg),
            Ok(Ok(codec::SERVING)) => ProbeResult {
                status: health::PASSING,
                output: format!("gRPC check {}: success", self.target),
            },
            Ok(Ok(status)) => critical(format!(
                "gRPC {} serving status: {}",
                self.target,
                codec::status_name(status)
            )),
        }
    }

    /// One `Health/Check` call; the serving status, or an error text.
    async fn call(&self) -> Result<u64, String> {
        let unavailable =
            |e: &dyn std::fmt::Display| format!("rpc error: code = Unavailable desc = {e}");
        let stream = connect_any(&self.server, self.timeout).await.map_err(|e| {
            unavailable(&format!(
                "connection error: desc = \"transport: Error while dialing: {e}\""
            ))
        })?;
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(|e| unavailable(&e))?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped; its error is already reported.
            let _ = conn.await;
        });
        let request = http::Request::post(format!(
            "http://{}/grpc.health.v1.Health/Check",
            self.server
        ))
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header(http::header::TE, "trailers")
        .body(Full::new(codec::frame(&codec::encode_request(
            &self.service,
        ))))
        .map_err(|e| unavailable(&e))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unavailable(&e))?;
        let (parts, body) = response.into_parts();
        let collected = body.collect().await.map_err(|e| unavailable(&e))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let grpc_status = trailers
            .get("grpc-status")
            .or_else(|| parts.headers.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u32>().ok());
        match grpc_status {
            Some(0) => {}
            Some(code) => {
                let message = trailers
                    .get("grpc-message")
                    .or_else(|| parts.headers.get("grpc-message"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Err(format!(
                    "rpc error: code = {} desc = {message}",
                    codec::code_name(code)
                ));
            }
            None => {
                return Err(format!(
                    "rpc error: code = Unknown desc = unexpected HTTP status code received from server: {}",
                    parts.status.as_u16()
                ));
            }
        }
        let bytes: Bytes = collected.to_bytes();
        codec::decode_response(&bytes).ok_or_else(|| {
            "rpc error: code = Internal desc = grpc: failed to unmarshal the received message"
                .into()
        })
    }
}

/// Hand-rolled protobuf and gRPC framing for the health protocol.
pub(crate) mod codec {
    /// `HealthCheckResponse.ServingStatus.SERVING`.
    pub(crate) const SERVING: u64 = 1;

    /// `HealthCheckRequest { string service = 1; }`.
    pub(crate) fn encode_request(service: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if !service.is_empty() {
            out.push(0x0a);
            put_varint(&mut out, service.len() as u64);
            out.extend_from_slice(service.as_bytes());
        }
        out
    }

    /// `HealthCheckResponse { ServingStatus status = 1; }` (test servers use it).
    #[cfg(test)]
    pub(crate) fn encode_response(status: u64) -> Vec<u8> {
        let mut out = vec![0x08];
        put_varint(&mut out, status);
        out
    }

    /// Prefixes a message with gRPC's 5-byte header (uncompressed, big-endian length).
    pub(crate) fn frame(message: &[u8]) -> bytes::Bytes {
        let mut out = Vec::with_capacity(5 + message.len());
        out.push(0);
        out.extend_from_slice(
            &u32::try_from(message.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(message);
        out.into()
    }

    /// Parses one framed message (request or response body) and returns its payload.
    pub(crate) fn unframe(body: &[u8]) -> Option<&[u8]> {
        let (header, rest) = body.split_at_checked(5)?;
        if header[0] != 0 {
            return None;
        }
        let len = usize::try_from(u32::from_be_bytes([
            header[1], header[2], header[3], header[4],
        ]))
        .ok()?;
        rest.get(..len)
    }

    /// Decodes a framed `HealthCheckResponse`, skipping unknown fields.
    pub(crate) fn decode_response(body: &[u8]) -> Option<u64> {
        let mut msg = unframe(body)?;
        let mut status = 0;
        while !msg.is_empty() {
            let key = get_varint(&mut msg)?;
            match (key >> 3, key & 7) {
                (1, 0) => status = get_varint(&mut msg)?,
                (_, 0) => {
                    get_varint(&mut msg)?;
                }
                (_, 1) => msg = msg.get(8..)?,
                (_, 2) => {
                    let len = usize::try_from(get_varint(&mut msg)?).ok()?;
                    msg = msg.get(len..)?;
                }
                (_, 5) => msg = msg.get(4..)?,
                _ => return None,
            }
        }
        Some(status)
    }

    /// Decodes a framed `HealthCheckRequest` to its service name (test servers use it).
    #[cfg(test)]
    pub(crate) fn decode_request(body: &[u8]) -> Option<String> {
        let mut msg = unframe(body)?;
        let mut service = String::new();
        while !msg.is_empty() {
            let key = get_varint(&mut msg)?;
            if key & 7 != 2 {
                return None;
            }
            let len = usize::try_from(get_varint(&mut msg)?).ok()?;
            let (value, rest) = msg.split_at_checked(len)?;
            if key >> 3 == 1 {
                service = String::from_utf8(value.to_vec()).ok()?;
            }
            msg = rest;
        }
        Some(service)
    }

    /// The Go name of a serving status.
    pub(crate) fn status_name(status: u64) -> &'static str {
        match status {
            0 => "UNKNOWN",
            1 => "SERVING",
            2 => "NOT_SERVING",
            3 => "SERVICE_UNKNOWN",
            _ => "UNKNOWN",
        }
    }

    /// The Go name of a gRPC status code.
    pub(crate) fn code_name(code: u32) -> &'static str {
        const NAMES: [&str; 17] = [
            "OK",
            "Canceled",
            "Unknown",
            "InvalidArgument",
            "DeadlineExceeded",
            "NotFound",
            "AlreadyExists",
            "PermissionDenied",
            "ResourceExhausted",
            "FailedPrecondition",
            "Aborted",
            "OutOfRange",
            "Unimplemented",
            "Internal",
            "Unavailable",
            "DataLoss",
            "Unauthenticated",
        ];
        usize::try_from(code)
            .ok()
            .and_then(|i| NAMES.get(i))
            .copied()
            .unwrap_or("Unknown")
    }

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn get_varint(buf: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = buf.split_first()?;
            *buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn request_round_trip() {
            let framed = frame(&encode_request("my.Service"));
            assert_eq!(&framed[..5], &[0, 0, 0, 0, 12]);
            assert_eq!(decode_request(&framed).unwrap(), "my.Service");
            assert_eq!(decode_request(&frame(&encode_request(""))).unwrap(), "");
        }

        #[test]
        fn response_decoding() {
            assert_eq!(decode_response(&frame(&encode_response(1))), Some(SERVING));
            assert_eq!(decode_response(&frame(&encode_response(2))), Some(2));
            assert_eq!(decode_response(&frame(&[])), Some(0));
            // Unknown length-delimited field 2 is skipped.
            assert_eq!(
                decode_response(&frame(&[0x12, 0x01, 0xff, 0x08, 0x01])),
                Some(1)
            );
            assert_eq!(decode_response(&[0, 0, 0]), None);
            assert_eq!(decode_response(&frame(&[0x08])), None);
        }

        #[test]
        fn long_varints() {
            let mut out = Vec::new();
            put_varint(&mut out, 300);
            assert_eq!(out, [0xac, 0x02]);
            assert_eq!(get_varint(&mut out.as_slice()), Some(300));
        }
    }
}
