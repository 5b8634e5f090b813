//! Big resources travel in parts. The sender serializes a list resource (the instances of an
//! exported service) item by item and groups consecutive items into JSON arrays of at most
//! `max_bytes` ([`split_parts`]); every part of one resource carries the same nonce, its index
//! and the part count. The receiver's [`Assembler`] keeps parts until the whole set has arrived
//! and only then yields the resource, so an importer never applies half a service and no
//! resource is too big for one message.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pb::replication_message::Response;

/// The gRPC message size limit on both ends of a peering stream (send and receive).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// How big the sender makes one part by default.
pub const DEFAULT_MAX_PART_BYTES: usize = 4 << 20;
/// The most parts one resource may claim; bounds what a bogus `parts` field can allocate.
const MAX_PARTS: u32 = 1 << 16;

/// Serialize `items` and group consecutive items into JSON arrays, each at most `max_bytes`
/// long unless it holds a single item that is larger on its own. There is always at least one
/// part: an empty list is the single part `[]` (for an exported service: "no instances").
pub fn split_parts<T: Serialize>(
    items: &[T],
    max_bytes: usize,
) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    let mut parts = Vec::new();
    let mut current = vec![b'['];
    for item in items {
        let encoded = serde_json::to_vec(item)?;
        let holds_items = current.len() > 1;
        // Bytes after adding this item and closing the array: comma (if any) + item + `]`.
        let after = current.len() + usize::from(holds_items) + encoded.len() + 1;
        if holds_items && after > max_bytes {
            current.push(b']');
            parts.push(std::mem::replace(&mut current, vec![b'[']));
        }
        if current.len() > 1 {
            current.push(b',');
        }
        current.extend_from_slice(&encoded);
    }
    current.push(b']');
    parts.push(current);
    Ok(parts)
}

/// A resource that is not a list (a trust bundle, the server addresses) as its one part.
pub fn single_part<T: Serialize>(value: &T) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    Ok(vec![serde_json::to_vec(value)?])
}

/// Why a part was refused. The whole resource (its nonce) is dropped and should be NACKed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// The part count was 0.
    #[error("response {nonce}: part count is 0")]
    ZeroParts {
        /// The resource's nonce.
        nonce: String,
    },
    /// The part count exceeds what a receiver accepts.
    #[error("response {nonce}: {parts} parts is more than the {max} allowed")]
    TooManyParts {
        /// The resource's nonce.
        nonce: String,
        /// The claimed count.
        parts: u32,
        /// The limit.
        max: u32,
    },
    /// The part index is not below the part count.
    #[error("response {nonce}: part {part} is out of range for {parts} parts")]
    OutOfRange {
        /// The resource's nonce.
        nonce: String,
        /// The index received.
        part: u32,
        /// The part count.
        parts: u32,
    },
    /// The same part arrived twice.
    #[error("response {nonce}: part {part} arrived twice")]
    Duplicate {
        /// The resource's nonce.
        nonce: String,
        /// The repeated index.
        part: u32,
    },
    /// A part disagrees with the earlier parts of its nonce on what resource it belongs to.
    #[error("response {nonce}: part {part} disagrees with earlier parts on {field}")]
    Inconsistent {
        /// The resource's nonce.
        nonce: String,
        /// The offending index.
        part: u32,
        /// Which field differs.
        field: &'static str,
    },
    /// Incomplete resources hold more bytes than the receiver allows.
    #[error("response {nonce}: incomplete resources would hold more than {limit} bytes")]
    Overflow {
        /// The resource's nonce.
        nonce: String,
        /// The byte limit.
        limit: usize,
    },
}

impl PartError {
    /// The nonce of the refused resource (what to NACK).
    pub fn nonce(&self) -> &str {
        match self {
            PartError::ZeroParts { nonce }
            | PartError::TooManyParts { nonce, .. }
            | PartError::OutOfRange { nonce, .. }
            | PartError::Duplicate { nonce, .. }
            | PartError::Inconsistent { nonce, .. }
            | PartError::Overflow { nonce, .. } => nonce,
        }
    }
}

/// A complete resource: every part of one nonce, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledResource {
    /// The nonce shared by the parts; ACK or NACK it once.
    pub nonce: String,
    /// The resource URL, as sent.
    pub resource_url: String,
    /// The resource ID (a service name, `roots`, …).
    pub resource_id: String,
    /// The parts' payloads, ordered by part index.
    pub parts: Vec<Vec<u8>>,
    /// The exporter's Raft index the resource was read at.
    pub exporter_index: u64,
    /// When the exporter committed that index, Unix milliseconds.
    pub exporter_commit_unix_ms: i64,
}

/// Why an assembled resource could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A part is not the JSON expected.
    #[error("part {part}: {source}")]
    Json {
        /// The index of the bad part.
        part: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A non-list resource came in more than one part.
    #[error("expected a single part, got {0}")]
    NotSinglePart(usize),
}

impl AssembledResource {
    /// Decode a list resource: each part is a JSON array of `T`, concatenated in order.
    pub fn decode_items<T: DeserializeOwned>(&self) -> Result<Vec<T>, DecodeError> {
        let mut items = Vec::new();
        for (part, bytes) in self.parts.iter().enumerate() {
            let chunk: Vec<T> = serde_json::from_slice(bytes)
                .map_err(|source| DecodeError::Json { part, source })?;
            items.extend(chunk);
        }
        Ok(items)
    }

    /// Decode a resource sent as one part ([`single_part`]).
    pub fn decode_single<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        match self.parts.as_slice() {
            [only] => {
                serde_json::from_slice(only).map_err(|source| DecodeError::Json { part: 0, source })
            }
            parts => Err(DecodeError::NotSinglePart(parts.len())),
        }
    }

    /// Total payload bytes.
    pub fn len_bytes(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }
}

/// Parts received so far for one nonce.
#[derive(Debug)]
struct Pending {
    resource_url: String,
    resource_id: String,
    exporter_index: u64,
    exporter_commit_unix_ms: i64,
    parts: Vec<Option<Vec<u8>>>,
    missing: usize,
    bytes: usize,
}

/// Collects parts per nonce and yields each resource once all its parts are in.
#[derive(Debug)]
pub struct Assembler {
    pending: BTreeMap<String, Pending>,
    pending_bytes: usize,
    max_pending_bytes: usize,
}

impl Assembler {
    /// An assembler that refuses to hold more than `max_pending_bytes` of incomplete parts.
    pub fn new(max_pending_bytes: usize) -> Assembler {
        Assembler {
            pending: BTreeMap::new(),
            pending_bytes: 0,
            max_pending_bytes,
        }
    }

    /// Bytes held in incomplete resources.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Number of incomplete resources.
    pub fn pending_resources(&self) -> usize {
        self.pending.len()
    }

    /// Take one part. Returns the whole resource when this part completes it, `None` while
    /// parts are missing. On error every part of that nonce is dropped.
    pub fn accept(&mut self, response: Response) -> Result<Option<AssembledResource>, PartError> {
        let nonce = response.nonce.clone();
        let result = self.accept_inner(response);
        if result.is_err() {
            self.drop_nonce(&nonce);
        }
        result
    }

    fn accept_inner(&mut self, r: Response) -> Result<Option<AssembledResource>, PartError> {
        let nonce = r.nonce.clone();
        if r.parts == 0 {
            return Err(PartError::ZeroParts { nonce });
        }
        if r.parts > MAX_PARTS {
            return Err(PartError::TooManyParts {
                nonce,
                parts: r.parts,
                max: MAX_PARTS,
            });
        }
        if r.part >= r.parts {
            return Err(PartError::OutOfRange {
                nonce,
                part: r.part,
                parts: r.parts,
            });
        }
        if r.parts == 1 && !self.pending.contains_key(&nonce) {
            return Ok(Some(AssembledResource {
                nonce,
                resource_url: r.resource_url,
                resource_id: r.resource_id,
                parts: vec![r.resource],
                exporter_index: r.exporter_index,
                exporter_commit_unix_ms: r.exporter_commit_unix_ms,
            }));
        }
        if self.pending_bytes + r.resource.len() > self.max_pending_bytes {
            return Err(PartError::Overflow {
                nonce,
                limit: self.max_pending_bytes,
            });
        }
        let entry = self
            .pending
            .entry(nonce.clone())
            .or_insert_with(|| Pending {
                resource_url: r.resource_url.clone(),
                resource_id: r.resource_id.clone(),
                exporter_index: r.exporter_index,
                exporter_commit_unix_ms: r.exporter_commit_unix_ms,
                parts: vec![None; r.parts as usize],
                missing: r.parts as usize,
                bytes: 0,
            });
        let inconsistent = |field| PartError::Inconsistent {
            nonce: nonce.clone(),
            part: r.part,
            field,
        };
        if entry.parts.len() != r.parts as usize {
            return Err(inconsistent("parts"));
        }
        if entry.resource_url != r.resource_url {
            return Err(inconsistent("resource_url"));
        }
        if entry.resource_id != r.resource_id {
            return Err(inconsistent("resource_id"));
        }
        if entry.exporter_index != r.exporter_index {
            return Err(inconsistent("exporter_index"));
        }
        if entry.exporter_commit_unix_ms != r.exporter_commit_unix_ms {
            return Err(inconsistent("exporter_commit_unix_ms"));
        }
        let slot = entry
            .parts
            .get_mut(r.part as usize)
            .ok_or_else(|| inconsistent("part"))?;
        if slot.is_some() {
            return Err(PartError::Duplicate {
                nonce,
                part: r.part,
            });
        }
        let len = r.resource.len();
        *slot = Some(r.resource);
        entry.missing -= 1;
        entry.bytes += len;
        self.pending_bytes += len;
        if entry.missing > 0 {
            return Ok(None);
        }
        let Some(done) = self.pending.remove(&nonce) else {
            return Ok(None);
        };
        self.pending_bytes -= done.bytes;
        Ok(Some(AssembledResource {
            nonce,
            resource_url: done.resource_url,
            resource_id: done.resource_id,
            parts: done.parts.into_iter().flatten().collect(),
            exporter_index: done.exporter_index,
            exporter_commit_unix_ms: done.exporter_commit_unix_ms,
        }))
    }

    fn drop_nonce(&mut self, nonce: &str) {
        if let Some(p) = self.pending.remove(nonce) {
            self.pending_bytes -= p.bytes;
        }
    }
}

#[cfg(test)]
#[path = "parts_tests.rs"]
mod tests;
