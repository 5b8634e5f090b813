//! End-to-end tests of the `legate` binary: real agent processes on loopback with OS-chosen
//! ports, driven over HTTP and through the CLI, as a user would.

mod process;

mod cli;
mod cluster;
mod config_files;
mod durability;
mod faults;
mod fleet;
mod launch_styles;
mod lifecycle;
mod linearizability;
