//! The parsed form of a filter expression: boolean connectives over match expressions.
//! Pure data; the parser builds it and the evaluator walks it.

use std::fmt;

use regex::Regex;

/// A boolean expression node.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// `a and b and …` (flattened; evaluated left to right, short-circuiting)
    And(Vec<Expr>),
    /// `a or b or …` (flattened; evaluated left to right, short-circuiting)
    Or(Vec<Expr>),
    /// `not operand`
    Not(Box<Expr>),
    /// A single comparison against a selected field.
    Match(MatchExpr),
}

/// `<Selector> <op> <Value>`, `<Value> in <Selector>` or `<Selector> is [not] empty`.
#[derive(Debug, Clone)]
pub(crate) struct MatchExpr {
    pub(crate) selector: Selector,
    pub(crate) op: MatchOp,
    /// Absent for `is empty` / `is not empty`.
    pub(crate) value: Option<MatchValue>,
}

/// The comparison performed by a [`MatchExpr`]. `contains` is parsed as `In`, exactly as
/// go-bexpr does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchOp {
    Equal,
    NotEqual,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Matches,
    NotMatches,
}

impl MatchOp {
    /// The name go-bexpr prints in error messages (`"Not Equal"`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            MatchOp::Equal => "Equal",
            MatchOp::NotEqual => "Not Equal",
            MatchOp::In => "In",
            MatchOp::NotIn => "Not In",
            MatchOp::IsEmpty => "Is Empty",
            MatchOp::IsNotEmpty => "Is Not Empty",
            MatchOp::Matches => "Matches",
            MatchOp::NotMatches => "Not Matches",
        }
    }

    /// Whether this operator is the negation of its positive form.
    pub(crate) fn is_negated(self) -> bool {
        matches!(
            self,
            MatchOp::NotEqual | MatchOp::NotIn | MatchOp::IsNotEmpty | MatchOp::NotMatches
        )
    }

    /// The result when the selected value is absent (a missing map key or `null`):
    /// nothing equals, contains or matches it, and it is empty.
    pub(crate) fn not_present_result(self) -> bool {
        matches!(
            self,
            MatchOp::NotEqual | MatchOp::NotIn | MatchOp::IsEmpty | MatchOp::NotMatches
        )
    }
}

/// A dotted field path: `Service.Meta.env`, or `Meta["key.with.dots"]` (one segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector(pub(crate) Vec<String>);

impl Selector {
    /// The first `len` segments, joined as go-bexpr prints them.
    pub(crate) fn prefix(&self, len: usize) -> String {
        self.0[..len.min(self.0.len())].join(".")
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// The literal side of a match: the raw text (string contents, number text or a bare
/// word), converted to the field's type only when evaluated, plus the compiled regex for
/// `matches`.
#[derive(Debug, Clone)]
pub(crate) struct MatchValue {
    pub(crate) raw: String,
    pub(crate) regex: Option<Regex>,
}
