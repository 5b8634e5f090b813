//! Evaluating a parsed filter against the JSON form of one response element, with
//! go-bexpr v0.1.2's semantics mapped onto JSON types.
//!
//! go-bexpr validates selectors against the Go struct up front; here the JSON object
//! stands in for the struct. An object is a *struct* (unknown field = invalid selector)
//! unless it is reached through one of Consul's map-typed fields ([`MAP_FIELDS`]), where
//! a missing key simply means "not present". Arrays met in the middle of a selector
//! are searched element by element (go-bexpr's implicit "any").

use serde_json::Number;
use serde_json::Value;

use super::FilterError;
use super::ast::Expr;
use super::ast::MatchExpr;
use super::ast::MatchOp;
use super::coerce;

/// Consul JSON fields whose values are `map[string]…` with a fixed value type: a missing
/// key is "not present", not an invalid selector.
pub const MAP_FIELDS: &[&str] = &[
    "Meta",
    "NodeMeta",
    "ServiceMeta",
    "TaggedAddresses",
    "ServiceTaggedAddresses",
    "Tags",
    "Header",
];

/// Consul JSON fields holding free-form `map[string]interface{}` data (proxy and config
/// entry `Config`): every object below them is a map too.
pub const FREE_FORM_MAP_FIELDS: &[&str] = &["Config"];

/// What a JSON object stands for in Go, which decides how a missing field is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Struct,
    /// A typed map; its values are structs or primitives.
    Map,
    /// `map[string]interface{}`; everything below is free-form.
    FreeForm,
}

impl Kind {
    fn child(self, key: &str) -> Kind {
        match self {
            Kind::Struct if FREE_FORM_MAP_FIELDS.contains(&key) => Kind::FreeForm,
            Kind::Struct if MAP_FIELDS.contains(&key) => Kind::Map,
            Kind::Struct | Kind::Map => Kind::Struct,
            Kind::FreeForm => Kind::FreeForm,
        }
    }

    fn is_map(self) -> bool {
        self != Kind::Struct
    }
}

/// Evaluates `expr` against one element.
pub(crate) fn eval(expr: &Expr, datum: &Value) -> Result<bool, FilterError> {
    match expr {
        Expr::And(items) => {
            for item in items {
                if !eval(item, datum)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Or(items) => {
            for item in items {
                if eval(item, datum)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::Not(inner) => Ok(!eval(inner, datum)?),
        Expr::Match(m) => walk(m, datum, 0, Kind::Struct),
    }
}

fn walk(m: &MatchExpr, cur: &Value, depth: usize, kind: Kind) -> Result<bool, FilterError> {
    let Some(key) = m.selector.0.get(depth) else {
        return apply(m, cur, kind);
    };
    match cur {
        Value::Object(fields) => match fields.get(key) {
            Some(child) => walk(m, child, depth + 1, kind.child(key)),
            None if kind.is_map() => Ok(m.op.not_present_result()),
            None => Err(invalid_selector(m, depth + 1)),
        },
        // Implicit "any" over slices, at the same depth.
        Value::Array(items) => {
            for item in items {
                if walk(m, item, depth, kind)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        // A nil map or pointer: nothing below it is present.
        Value::Null => Ok(m.op.not_present_result()),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => Err(invalid_selector(m, depth + 1)),
    }
}

/// Applies the operator to the selected value.
fn apply(m: &MatchExpr, value: &Value, kind: Kind) -> Result<bool, FilterError> {
    let raw = m.value.as_ref().map_or("", |v| v.raw.as_str());
    let positive = match (value, m.op) {
        // An omitted (`omitempty`) field was Go's zero value; for equality treat it as
        // the empty string. Otherwise null behaves like an absent value.
        (Value::Null, MatchOp::Equal | MatchOp::NotEqual) => raw.is_empty(),
        (Value::Null, op) => return Ok(op.not_present_result()),

        (Value::String(s), MatchOp::Equal | MatchOp::NotEqual) => s == raw,
        (Value::String(s), MatchOp::In | MatchOp::NotIn) => s.contains(raw),
        (Value::String(s), MatchOp::IsEmpty | MatchOp::IsNotEmpty) => s.is_empty(),
        (Value::String(s), MatchOp::Matches | MatchOp::NotMatches) => {
            match m.value.as_ref().and_then(|v| v.regex.as_ref()) {
                Some(re) => re.is_match(s),
                None => return Err(invalid_operator(m)),
            }
        }

        (Value::Bool(b), MatchOp::Equal | MatchOp::NotEqual) => {
            coerce::parse_bool(raw).map_err(|reason| coerce_error(m, reason))? == *b
        }
        (Value::Number(n), MatchOp::Equal | MatchOp::NotEqual) => {
            number_equals(n, raw).map_err(|r| coerce_error(m, r))?
        }

        (Value::Array(items), MatchOp::In | MatchOp::NotIn) => {
            if items.iter().any(|i| i.is_object() || i.is_array()) {
                return Err(invalid_operator(m));
            }
            items.iter().any(|item| element_equals(item, raw))
        }
        (Value::Array(items), MatchOp::IsEmpty | MatchOp::IsNotEmpty) => items.is_empty(),

        (Value::Object(map), MatchOp::In | MatchOp::NotIn) if kind.is_map() => {
            map.contains_key(raw)
        }
        (Value::Object(map), MatchOp::IsEmpty | MatchOp::IsNotEmpty) if kind.is_map() => {
            map.is_empty()
        }

        _ => return Err(invalid_operator(m)),
    };
    Ok(positive != m.op.is_negated())
}

/// Compares a JSON number with the raw text converted to the number's type.
fn number_equals(n: &Number, raw: &str) -> Result<bool, String> {
    if let Some(i) = n.as_i64() {
        Ok(coerce::parse_int(raw)? == i)
    } else if let Some(u) = n.as_u64() {
        Ok(coerce::parse_uint(raw)? == u)
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        Ok(coerce::parse_float(raw)? == f)
    }
}

/// `in` over a slice: each element is compared after converting the raw text to its
/// type; elements the text cannot convert to simply do not match.
fn element_equals(item: &Value, raw: &str) -> bool {
    match item {
        Value::String(s) => s == raw,
        Value::Bool(b) => coerce::parse_bool(raw).is_ok_and(|x| x == *b),
        Value::Number(n) => number_equals(n, raw).unwrap_or(false),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

fn invalid_selector(m: &MatchExpr, len: usize) -> FilterError {
    FilterError::InvalidSelector {
        selector: m.selector.prefix(len),
    }
}

fn invalid_operator(m: &MatchExpr) -> FilterError {
    FilterError::InvalidOperator {
        op: m.op.name(),
        selector: m.selector.to_string(),
    }
}

fn coerce_error(m: &MatchExpr, reason: String) -> FilterError {
    FilterError::Coerce {
        value: m.value.as_ref().map(|v| v.raw.clone()).unwrap_or_default(),
        selector: m.selector.to_string(),
        reason,
    }
}
