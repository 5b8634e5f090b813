//! Consul's `?filter=` expression language (HashiCorp go-bexpr v0.1.2, the version
//! Consul pins): parsing an expression once, then matching response elements.
//!
//! Elements are matched through their JSON form (Consul's field names). Owns the
//! grammar, its error texts and the evaluation semantics; the HTTP layer owns status
//! codes and decides which endpoint filters what.
//!
//! ```
//! use legate_types::filter::{self, Filter};
//! use serde_json::json;
//!
//! let f = Filter::parse(r#"Meta.env == "qa" and "primary" in Tags"#).unwrap();
//! let services = vec![
//!     json!({"ID": "a", "Meta": {"env": "qa"}, "Tags": ["primary"]}),
//!     json!({"ID": "b", "Meta": {}, "Tags": []}),
//! ];
//! assert_eq!(filter::apply(&f, services).unwrap().len(), 1);
//! ```

mod ast;
mod coerce;
mod eval;
mod parser;
mod to_value;
mod unquote;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use self::ast::Expr;
use self::ast::MatchOp;
use self::coerce::go_quote;
pub use self::eval::FREE_FORM_MAP_FIELDS;
pub use self::eval::MAP_FIELDS;

/// Prefix Consul puts before errors raised while building the evaluator: syntax errors
/// and, because go-bexpr validates against the response type up front, invalid
/// selectors, operators, values and regular expressions.
pub const PARSE_ERROR_PREFIX: &str = "Failed to create boolean expression evaluator: ";

/// Prefix Consul puts before errors raised while filtering: none, go-bexpr's
/// `Filter.Execute` errors are returned as they are.
pub const EVALUATION_ERROR_PREFIX: &str = "";

/// A parsed filter expression, ready to match elements.
#[derive(Debug, Clone)]
pub struct Filter {
    source: String,
    /// `None` for the empty expression, which matches everything (as Consul treats an
    /// absent or empty `?filter=`).
    root: Option<Expr>,
}

impl Filter {
    /// Parses an expression. The empty string gives a filter that matches everything;
    /// anything else (even whitespace alone) must follow the grammar.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        if expr.is_empty() {
            return Ok(Filter {
                source: String::new(),
                root: None,
            });
        }
        let mut root = parser::parse(expr).map_err(FilterError::Syntax)?;
        compile_regexes(&mut root)?;
        Ok(Filter {
            source: expr.to_owned(),
            root: Some(root),
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.source
    }

    /// Whether this is the empty filter, which keeps every element.
    pub fn is_match_all(&self) -> bool {
        self.root.is_none()
    }

    /// Evaluates the filter against the JSON form of one response element.
    pub fn matches(&self, element: &Value) -> Result<bool, FilterError> {
        match &self.root {
            None => Ok(true),
            Some(root) => eval::eval(root, element),
        }
    }

    /// Evaluates the filter against one element, serialized as the API would (fields
    /// skipped by `skip_serializing_if` still count as known, with no value).
    pub fn matches_item<T: Serialize + ?Sized>(&self, element: &T) -> Result<bool, FilterError> {
        if self.root.is_none() {
            return Ok(true);
        }
        let value = to_value::to_filter_value(element)
            .map_err(|e| FilterError::Serialize(e.to_string()))?;
        self.matches(&value)
    }
}

/// Keeps the elements of a list response that match, in order.
pub fn apply<T: Serialize>(filter: &Filter, items: Vec<T>) -> Result<Vec<T>, FilterError> {
    if filter.is_match_all() {
        return Ok(items);
    }
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if filter.matches_item(&item)? {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// Keeps the entries of a map response (e.g. `/v1/agent/services`) whose values match.
pub fn apply_map<T: Serialize>(
    filter: &Filter,
    items: BTreeMap<String, T>,
) -> Result<BTreeMap<String, T>, FilterError> {
    if filter.is_match_all() {
        return Ok(items);
    }
    let mut kept = BTreeMap::new();
    for (key, item) in items {
        if filter.matches_item(&item)? {
            kept.insert(key, item);
        }
    }
    Ok(kept)
}

/// Why a filter could not be built or applied. `Display` is go-bexpr's message, without
/// Consul's prefix; see [`FilterError::consul_message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The expression does not follow the grammar (pigeon-style position and message,
    /// e.g. `1:4 (3): no match found, expected: "!=", …`).
    #[error("{0}")]
    Syntax(String),
    /// A `matches` pattern is not a valid regular expression.
    #[error("Failed to compile regular expression {}: {reason}", go_quote(.pattern))]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The selector names a field the element does not have.
    #[error("Selector {} is not valid", go_quote(.selector))]
    InvalidSelector {
        /// The selector up to and including the unknown field.
        selector: String,
    },
    /// The operator cannot apply to the selected field's type (`==` on a list, …).
    #[error("Invalid match operator {} for selector {}", go_quote(.op), go_quote(.selector))]
    InvalidOperator {
        /// go-bexpr's operator name (`"Equal"`, `"Is Empty"`, …).
        op: &'static str,
        /// The full selector.
        selector: String,
    },
    /// The value cannot be converted to the field's type (`Port == abc`).
    #[error("Failed to coerce value {} for selector {}: {reason}", go_quote(.value), go_quote(.selector))]
    Coerce {
        /// The raw value text.
        value: String,
        /// The full selector.
        selector: String,
        /// Go's `strconv` error text.
        reason: String,
    },
    /// The element could not be serialized to JSON.
    #[error("failed to serialize element for filtering: {0}")]
    Serialize(String),
}

impl FilterError {
    /// Whether Consul reports this error while creating the evaluator (and so prefixes
    /// it with [`PARSE_ERROR_PREFIX`]). go-bexpr checks selectors, operators and values
    /// against the Go type before filtering, so all of those count.
    pub fn is_parse_error(&self) -> bool {
        !matches!(self, FilterError::Serialize(_))
    }

    /// The full message Consul would send: the right prefix, then this error.
    pub fn consul_message(&self) -> String {
        let prefix = if self.is_parse_error() {
            PARSE_ERROR_PREFIX
        } else {
            EVALUATION_ERROR_PREFIX
        };
        format!("{prefix}{self}")
    }
}

/// Compiles the pattern of every `matches` / `not matches` once, up front.
fn compile_regexes(expr: &mut Expr) -> Result<(), FilterError> {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter_mut().try_for_each(compile_regexes),
        Expr::Not(inner) => compile_regexes(inner),
        Expr::Match(m) => {
            if !matches!(m.op, MatchOp::Matches | MatchOp::NotMatches) {
                return Ok(());
            }
            let Some(value) = m.value.as_mut() else {
                return Ok(());
            };
            let re = regex::Regex::new(&value.raw).map_err(|e| FilterError::Regex {
                pattern: value.raw.clone(),
                reason: regex_reason(&e),
            })?;
            value.regex = Some(re);
            Ok(())
        }
    }
}

/// The one-line cause from the regex crate's multi-line report.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_owned))
        .unwrap_or_else(|| text.lines().last().unwrap_or_default().trim().to_owned())
}

#[cfg(test)]
mod tests;
