//! Vivaldi network coordinates, compatible with Serf's `coordinate` package
//! and Consul's coordinate API.
//!
//! Each node owns a [`Client`] that refines its [`Coordinate`] from observed
//! round-trip times to peers (gossip probe acks carry the peer's coordinate).
//! Any two coordinates then estimate the RTT between their nodes with
//! [`distance_to`], which Consul uses for `?near=` sorting
//! ([`sort_by_distance`]) and `consul rtt`.
//!
//! The algorithm is Vivaldi (Dabek et al.) with Serf's refinements: a height
//! term for access links, a per-peer moving-median latency filter, an
//! adjustment term from a window of recent residuals, and gravity towards the
//! origin against drift. The module is pure: no I/O, no clocks, and its only
//! randomness is a seeded generator.

mod client;
mod config;
mod coordinate;
mod error;
mod rng;
mod sort;

pub use client::{Client, MAX_RTT, Stats};
pub use config::{Config, DIMENSIONALITY};
pub use coordinate::{Coordinate, compute_distance, distance_to};
pub use error::Error;
pub use sort::sort_by_distance;
