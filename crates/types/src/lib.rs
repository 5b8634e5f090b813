//! Consul-compatible API vocabulary shared by every Legate crate: Go duration strings, the
//! `?filter=` expression language, and the versions Legate reports. No I/O.
#![forbid(unsafe_code)]

pub mod filter;
pub mod go_duration;
pub mod version;
