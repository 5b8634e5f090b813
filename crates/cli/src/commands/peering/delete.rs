//! `consul peering delete -name N`: `DELETE /v1/peering/<name>`; the peering is marked for
//! deletion and removed in the background.

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Delete a peering connection";

const USAGE: &str = "Usage: consul peering delete [options] -name <peer name>

  Delete a peering connection.  Consul deletes all data imported from the peer 
  in the background. The peering connection is removed after all associated 
  data has been deleted. Operators can still read the peering connections 
  while the data is being removed. A 'DeletedAt' field will be populated with 
  the timestamp of when the peering was marked for deletion.

  Example:

    $ consul peering delete -name west-dc";

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&super::flag_set("peering delete", true, false)))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = super::flag_set("peering delete", true, false);
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let Some(name) = super::required_name(f.string("name"), ui) else {
        return 1;
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let path = format!("/v1/peering/{}", escape_path(&name));
    match client
        .delete(&path)
        .query_nonempty("partition", &f.string("partition"))
        .send()
    {
        Ok(_) => {
            ui.output(&format!(
                "Successfully submitted peering connection, {name}, for deletion"
            ));
            0
        }
        Err(e) => {
            ui.error(&format!("Error deleting peering for {name}: {e}"));
            1
        }
    }
}
