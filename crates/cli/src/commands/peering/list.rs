//! `consul peering list [-format pretty|json]`: `GET /v1/peerings` as a table
//! (`Name  State  Imported Svcs  Exported Svcs  Meta`), sorted by name.

use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "List peering connections";

const USAGE: &str = "Usage: consul peering list [options]

  List all peering connections.  The results will be filtered according
  to ACL policy configuration.

  Example:

    $ consul peering list";

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&super::flag_set("peering list", false, true)))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = super::flag_set("peering list", false, true);
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let format = f.string("format");
    if !super::check_format(&format, ui) {
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let Ok(mut peerings) = client
        .get("/v1/peerings")
        .query_nonempty("partition", &f.string("partition"))
        .send()
        .and_then(|r| r.json::<Option<Vec<Value>>>())
        .map(Option::unwrap_or_default)
    else {
        ui.error("Error listing peerings");
        return 1;
    };
    peerings.sort_by_key(|p| common::field_str(p, "Name"));
    if format == "json" {
        ui.output(&gojson::marshal(&peerings));
        return 0;
    }
    if peerings.is_empty() {
        ui.output("There are no peering connections.");
        return 0;
    }
    ui.output(&table(&peerings));
    0
}

/// The pretty table: one row per peering, meta as `k=v` pairs joined by commas.
fn table(peerings: &[Value]) -> String {
    let mut lines = vec![columnize::row(&[
        "Name",
        "State",
        "Imported Svcs",
        "Exported Svcs",
        "Meta",
    ])];
    for p in peerings {
        let meta: Vec<String> = p["Meta"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let status = &p["StreamStatus"];
        lines.push(columnize::row(&[
            common::field_str(p, "Name"),
            common::field_str(p, "State"),
            super::list_len(&status["ImportedServices"]).to_string(),
            super::list_len(&status["ExportedServices"]).to_string(),
            meta.join(","),
        ]));
    }
    columnize::format(&lines)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn table_has_consuls_columns() {
        let got = table(&[
            json!({"Name": "a", "State": "ACTIVE", "Meta": {"env": "p", "k": "v"},
                   "StreamStatus": {"ImportedServices": ["x", "y"], "ExportedServices": null}}),
            json!({"Name": "bb", "State": "PENDING", "StreamStatus": {}}),
        ]);
        assert_eq!(
            got,
            "Name  State    Imported Svcs  Exported Svcs  Meta\n\
             a     ACTIVE   2              0              env=p,k=v\n\
             bb    PENDING  0              0              "
        );
    }
}
