//! `legate health …`: health views of the catalog. Consul has no such command; this is our
//! small extension (issue 4) so operators can see imported services and their health from
//! the CLI (`legate health service web -peer dc2`) without crafting HTTP requests.

pub(crate) mod service;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Shows service health from the catalog";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: legate health <subcommand> [options] [args]\n\n  \
     This command has subcommands for reading service health from the catalog,\n  \
     including services imported from cluster peers.\n\n  \
     Show the instances of a service and their health:\n\n      $ legate health service web\n\n  \
     Show a service imported from the peer dc2:\n\n      $ legate health service -peer dc2 web"
        .to_string()
}
