//! `consul snapshot …`: save and restore server state snapshots (`/v1/snapshot`).

pub(crate) mod restore;
pub(crate) mod save;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Saves, restores and inspects snapshots of Consul server state";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul snapshot <subcommand> [options] [args]\n\n  \
     This command has subcommands for saving, restoring, and inspecting the state\n  \
     of the Consul servers for disaster recovery. These are atomic, point-in-time\n  \
     snapshots which include key/value entries, service catalog, prepared queries,\n  \
     sessions, and ACLs.\n\n  \
     Create a snapshot:\n\n      $ consul snapshot save backup.snap\n\n  \
     Restore a snapshot:\n\n      $ consul snapshot restore backup.snap\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}
