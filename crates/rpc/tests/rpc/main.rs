//! Integration tests for `legate-rpc`: one test binary, one module per area.

mod cluster;
mod roundtrip;
mod support;
