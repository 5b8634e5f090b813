//! End-to-end tests of the `legate` binary: real agent processes on loopback with OS-chosen
//! ports, driven over HTTP and through the CLI, as a user would.

mod process;

mod autopilot;
mod cli;
mod cluster;
mod cluster_snapshot;
mod config_files;
mod connect_ca;
mod coordinates;
mod durability;
mod faults;
mod fleet;
mod forwarding;
mod keyring;
mod launch_styles;
mod lifecycle;
mod linearizability;
mod members;
mod moved_server;
mod peering;
mod peering_cli;
mod peering_fleet;
mod rejoin;
mod sessions;
