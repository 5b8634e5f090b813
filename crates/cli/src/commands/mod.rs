//! One module per Consul command or command group. Each command module exposes `SYNOPSIS`,
//! `help()` and `run(args, ui) -> exit code`.

pub(crate) mod catalog;
pub(crate) mod common;
pub(crate) mod config;
pub(crate) mod event;
pub(crate) mod force_leave;
pub(crate) mod health;
pub(crate) mod info;
pub(crate) mod join;
pub(crate) mod keygen;
pub(crate) mod keyring;
pub(crate) mod kv;
pub(crate) mod leave;
pub(crate) mod lock;
pub(crate) mod maint;
pub(crate) mod members;
pub(crate) mod monitor;
pub(crate) mod operator;
pub(crate) mod peering;
pub(crate) mod reload;
pub(crate) mod rtt;
pub(crate) mod services;
pub(crate) mod snapshot;
pub(crate) mod validate;
pub(crate) mod version;
pub(crate) mod watch;
