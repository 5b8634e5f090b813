//! Text formatters that reproduce the Go libraries Consul's CLI prints with: `columnize`
//! tables, `text/tabwriter` columns and `encoding/json` indentation.

pub(crate) mod columnize;
pub(crate) mod gojson;
pub(crate) mod tabwriter;
