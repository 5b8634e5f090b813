//! `consul operator …`: cluster-level operator tools (Raft peers, autopilot).

pub(crate) mod autopilot_get;
pub(crate) mod autopilot_set;
pub(crate) mod autopilot_state;
pub(crate) mod list_peers;
pub(crate) mod remove_peer;
pub(crate) mod transfer_leader;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Provides cluster-level tools for Consul operators";

/// One-line description of `operator raft`.
pub(crate) const RAFT_SYNOPSIS: &str = "Provides cluster-level tools for Consul operators";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul operator <subcommand> [options]\n\n  \
     Provides cluster-level tools for Consul operators, such as interacting with\n  \
     the Raft subsystem. NOTE: Use this command with extreme caution, as improper\n  \
     use could lead to a Consul outage and even loss of data.\n\n  \
     If ACLs are enabled then a token with operator privileges may be required in\n  \
     order to use this command. Requests are forwarded internally to the leader\n  \
     if required, so this can be run from any Consul node in a cluster.\n\n  \
     Run consul operator <subcommand> with no arguments for help on that\n  \
     subcommand."
        .to_string()
}

/// Help text of `operator raft`.
pub(crate) fn raft_help() -> String {
    "Usage: consul operator raft <subcommand> [options]\n\n  \
     The Raft operator command is used to interact with Consul's Raft subsystem. The\n  \
     command can be used to verify Raft peers or in rare cases to recover quorum by\n  \
     removing invalid peers.\n\n  \
     List Raft peers:\n\n      $ consul operator raft list-peers"
        .to_string()
}

/// One-line description of `operator autopilot`.
pub(crate) const AUTOPILOT_SYNOPSIS: &str = "Provides tools for modifying Autopilot configuration";

/// Help text of `operator autopilot`.
pub(crate) fn autopilot_help() -> String {
    "Usage: consul operator autopilot <subcommand> [options]\n\n  \
     The Autopilot operator command is used to interact with Consul's Autopilot\n  \
     subsystem. The command can be used to view or modify the current configuration."
        .to_string()
}
