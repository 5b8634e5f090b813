//! End-to-end tests of the peering port: real TCP on 127.0.0.1, real mutual TLS with
//! certificates from two independent built-in CAs (legate-connect), a test handler playing
//! the acceptor's agent, and the dialer from this crate.

mod fixture;
mod flow;
mod redirect;
mod refusals;
