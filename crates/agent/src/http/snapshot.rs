//! `/v1/snapshot`: save the whole state as an archive (`GET`) and restore one (`PUT`). The
//! archive format is in `docs/snapshot-format.md`: a gzip'd tar of `meta.json`, `state.bin`
//! (the state store's own snapshot encoding) and `SHA256SUMS`. A restore is checked completely
//! (archive, checksums, decoding) before anything changes, then applied through Raft so every
//! server replaces its state at the same log index.

use std::io::Read;
use std::io::Write;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use http::HeaderValue;
use http::Method;
use http::header::CONTENT_TYPE;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::snapshot::Snapshot;
use serde::Deserialize;
use serde::Serialize;
use sha2::Digest;
use sha2::Sha256;

use super::AppState;
use super::error::ApiError;
use super::query::Consistency;
use super::query::Params;
use super::reply;
use super::reply::QueryMeta;

/// Largest archive, and largest decompressed member, a restore accepts.
const MAX_ARCHIVE_BYTES: usize = 1 << 30;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/snapshot", get(save).put(restore).fallback(not_allowed))
        .layer(DefaultBodyLimit::max(MAX_ARCHIVE_BYTES))
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// `meta.json`: what the archive holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// Archive format version (1).
    #[serde(rename = "Version")]
    pub(crate) version: u32,
    /// `<term>-<index>-<unix ms>`, as Raft names snapshots.
    #[serde(rename = "ID")]
    pub(crate) id: String,
    /// Last Raft index the state includes.
    #[serde(rename = "Index")]
    pub(crate) index: u64,
    /// Raft term at the time of the save.
    #[serde(rename = "Term")]
    pub(crate) term: u64,
    /// Size of `state.bin` in bytes.
    #[serde(rename = "Size")]
    pub(crate) size: u64,
    /// The Legate version that wrote the archive.
    #[serde(rename = "LegateVersion")]
    pub(crate) legate_version: String,
}

/// Current archive format version.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Why an archive cannot be restored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ArchiveError {
    /// Not a readable gzip'd tar.
    #[error("failed to read snapshot archive: {0}")]
    Read(String),
    /// A required member is missing.
    #[error("snapshot archive is missing {0}")]
    Missing(&'static str),
    /// A member's SHA-256 does not match `SHA256SUMS`.
    #[error("checksum mismatch for {0}")]
    Checksum(String),
    /// `meta.json` or `state.bin` does not decode.
    #[error("failed to decode snapshot {0}")]
    Decode(String),
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Build an archive from an encoded state snapshot.
pub(crate) fn write_archive(meta: &Meta, state: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let meta_bytes = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
    let sums = format!(
        "{}  meta.json\n{}  state.bin\n",
        sha256_hex(&meta_bytes),
        sha256_hex(state)
    );
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in [
        ("meta.json", meta_bytes.as_slice()),
        ("state.bin", state),
        ("SHA256SUMS", sums.as_bytes()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, name, data)?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// Read and verify an archive, returning its metadata and decoded state.
pub(crate) fn read_archive(archive: &[u8]) -> Result<(Meta, Snapshot), ArchiveError> {
    let read_err = |e: std::io::Error| ArchiveError::Read(e.to_string());
    let gz = flate2::read::GzDecoder::new(archive);
    let mut tar = tar::Archive::new(gz.take(MAX_ARCHIVE_BYTES as u64));
    let (mut meta, mut state, mut sums) = (None, None, None);
    for entry in tar.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let name = entry
            .path()
            .map_err(read_err)?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(read_err)?;
        match name.as_str() {
            "meta.json" => meta = Some(data),
            "state.bin" => state = Some(data),
            "SHA256SUMS" => sums = Some(data),
            _ => {}
        }
    }
    let meta = meta.ok_or(ArchiveError::Missing("meta.json"))?;
    let state = state.ok_or(ArchiveError::Missing("state.bin"))?;
    let sums = sums.ok_or(ArchiveError::Missing("SHA256SUMS"))?;
    let sums = String::from_utf8_lossy(&sums);
    for (name, data) in [("meta.json", &meta), ("state.bin", &state)] {
        let listed = sums.lines().find_map(|line| {
            let (hash, file) = line.split_once(char::is_whitespace)?;
            (file.trim_start_matches([' ', '*']) == name).then_some(hash)
        });
        if listed != Some(sha256_hex(data).as_str()) {
            return Err(ArchiveError::Checksum(name.to_string()));
        }
    }
    let meta: Meta = serde_json::from_slice(&meta)
        .map_err(|e| ArchiveError::Decode(format!("metadata: {e}")))?;
    if meta.version != FORMAT_VERSION {
        return Err(ArchiveError::Decode(format!(
            "metadata: unsupported version {}",
            meta.version
        )));
    }
    let snapshot =
        Snapshot::decode(&state).map_err(|e| ArchiveError::Decode(format!("state: {e}")))?;
    Ok((meta, snapshot))
}

/// `GET /v1/snapshot[?stale]`.
async fn save(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let consensus = agent.server().consensus();
    if opts.consistency != Consistency::Stale && !consensus.is_leader() {
        return Err(ApiError::Internal("No cluster leader".to_string()));
    }
    let snapshot = agent.server().store().snapshot();
    let state = snapshot.encode();
    let stats = consensus.stats();
    let term = stats.get("term").and_then(|t| t.parse().ok()).unwrap_or(0);
    let meta = Meta {
        version: FORMAT_VERSION,
        id: format!(
            "{term}-{}-{}",
            snapshot.last_index,
            crate::clock::now_unix_ms()
        ),
        index: snapshot.last_index,
        term,
        size: state.len() as u64,
        legate_version: legate_types::version::LEGATE_VERSION.to_string(),
    };
    let archive = write_archive(&meta, &state)
        .map_err(|e| ApiError::Internal(format!("failed to write snapshot archive: {e}")))?;
    let mut response = (
        [(CONTENT_TYPE, HeaderValue::from_static("application/x-gzip"))],
        archive,
    )
        .into_response();
    reply::add_meta(
        &mut response,
        &QueryMeta {
            index: snapshot.last_index,
            known_leader: consensus.leader_addr().is_some(),
            last_contact_ms: consensus
                .last_contact()
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            consistency: opts.consistency,
        },
    );
    Ok(response)
}

/// `PUT /v1/snapshot`.
async fn restore(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    let (_meta, snapshot) = read_archive(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    match agent
        .server()
        .write(Command::Restore(Box::new(snapshot)))
        .await?
    {
        CommandResult::Rejected(message) => Err(ApiError::BadRequest(message)),
        _ => Ok(reply::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(size: u64) -> Meta {
        Meta {
            version: FORMAT_VERSION,
            id: "2-10-0".into(),
            index: 10,
            term: 2,
            size,
            legate_version: "0.1.0".into(),
        }
    }

    #[test]
    fn archive_round_trips() {
        let snap = Snapshot {
            last_index: 10,
            ..Snapshot::default()
        };
        let state = snap.encode();
        let archive = write_archive(&meta(state.len() as u64), &state).unwrap();
        let (m, back) = read_archive(&archive).unwrap();
        assert_eq!(m, meta(state.len() as u64));
        assert_eq!(back, snap);
    }

    #[test]
    fn garbage_and_tampering_are_refused() {
        assert!(matches!(
            read_archive(b"not an archive"),
            Err(ArchiveError::Read(_))
        ));
        let state = Snapshot::default().encode();
        let mut tampered = state.clone();
        tampered.push(b' ');
        // An archive whose SHA256SUMS lists the original state but carries another.
        let good = write_archive(&meta(0), &state).unwrap();
        let (_, _) = read_archive(&good).unwrap();
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let meta_bytes = serde_json::to_vec(&meta(0)).unwrap();
        let sums = format!(
            "{}  meta.json\n{}  state.bin\n",
            sha256_hex(&meta_bytes),
            sha256_hex(&state)
        );
        for (name, data) in [
            ("meta.json", meta_bytes.as_slice()),
            ("state.bin", tampered.as_slice()),
            ("SHA256SUMS", sums.as_bytes()),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_cksum();
            tar.append_data(&mut header, name, data).unwrap();
        }
        let bad = tar.into_inner().unwrap().finish().unwrap();
        assert_eq!(
            read_archive(&bad),
            Err(ArchiveError::Checksum("state.bin".into()))
        );
    }
}
