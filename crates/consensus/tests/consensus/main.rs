//! Integration tests for `legate-consensus`: one test binary, one module per area.

mod cluster;
mod conformance;
mod crash;
mod lifecycle;
mod readdress;
mod router;
mod snapshots;
mod support;
