//! HTTP API tests: each test starts a real agent in this process (in-memory Raft, HTTP on a
//! free loopback port) and talks to it over HTTP as a client would.

mod harness;

mod agent_endpoints;
mod catalog;
mod cluster;
mod config;
mod connect_ca;
mod coordinate;
mod event;
mod golden;
mod health;
mod keyring;
mod kv;
mod metrics;
mod operator;
mod peer_catalog;
mod peering;
mod peering_e2e;
mod peering_manage;
mod session;
mod snapshot;
mod txn;
