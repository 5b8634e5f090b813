//! Integration tests for `legate-consensus`: one test binary, one module per area.

mod conformance;
mod crash;
mod lifecycle;
mod snapshots;
mod support;
