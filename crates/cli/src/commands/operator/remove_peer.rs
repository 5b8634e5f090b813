//! `consul operator raft remove-peer -id=<id> | -address=<ip:port>`: remove a server from the
//! Raft configuration.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Remove a Consul server from the Raft configuration";

const USAGE: &str = "Usage: consul operator raft remove-peer [options]

  Remove the Consul server with given -address from the Raft configuration.

  There are rare cases where a peer may be left behind in the Raft quorum even
  though the server is no longer present and known to the cluster. This command
  can be used to remove the failed server so that it is no longer affects the Raft
  quorum. If the server still shows in the output of the \"consul members\" command,
  it is preferable to clean up by simply running \"consul force-leave\" instead of
  this command.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("operator raft remove-peer");
    fs.string(
        "address",
        "",
        "The address to remove from the Raft configuration.",
    )
    .string("id", "", "The ID to remove from the Raft configuration.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// The query for `address`/`id`, or the error Consul prints for a bad combination.
pub(crate) fn target(address: &str, id: &str) -> Result<(&'static str, String), String> {
    match (address.is_empty(), id.is_empty()) {
        (true, true) => Err("an address or id is required for the peer to remove".to_string()),
        (false, false) => Err("cannot give both an address and id".to_string()),
        (false, true) => Ok(("address", address.to_string())),
        (true, false) => Ok(("id", id.to_string())),
    }
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let (key, value) = match target(&f.string("address"), &f.string("id")) {
        Ok(t) => t,
        Err(e) => {
            ui.error(&format!("Error removing peer: {e}"));
            return 1;
        }
    };
    if let Err(e) = client
        .delete("/v1/operator/raft/peer")
        .query(key, value.clone())
        .send()
    {
        ui.error(&format!("Error removing peer: {e}"));
        return 1;
    }
    ui.output(&format!("Removed peer with {key} {value:?}"));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_of_address_and_id() {
        assert_eq!(
            target("", ""),
            Err("an address or id is required for the peer to remove".to_string())
        );
        assert_eq!(
            target("a:1", "x"),
            Err("cannot give both an address and id".to_string())
        );
        assert_eq!(target("a:1", ""), Ok(("address", "a:1".to_string())));
        assert_eq!(target("", "x"), Ok(("id", "x".to_string())));
    }
}
