//! What the checker reports: a [`Violation`] explaining where the search for a
//! linearization got stuck, or a malformed history.

use std::fmt;

use crate::history::Operation;

/// How many operations of the linearized prefix a violation keeps.
pub const RECENT_OPS: usize = 8;

/// An operation referenced by a violation, with its index in the checked slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involved<K, V> {
    /// Index of the operation in the history given to [`crate::check`].
    pub index: usize,
    /// The operation itself.
    pub op: Operation<K, V>,
}

/// A key whose operations have no linearization.
///
/// The explanation is taken at the deepest point of the search: the longest
/// prefix that could be linearized, the value the key held after it, and the
/// acknowledged operation that could not be placed before its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation<K, V> {
    /// The key whose history is not linearizable.
    pub key: K,
    /// How many operations the longest linearizable prefix holds.
    pub linearized_count: usize,
    /// The last (up to [`RECENT_OPS`]) operations of that prefix, in order.
    pub recent: Vec<Involved<K, V>>,
    /// The key's value after the prefix (`None` = absent).
    pub value: Option<V>,
    /// The acknowledged operation that cannot be linearized after the prefix.
    pub stuck: Involved<K, V>,
    /// The other operations that were invoked before `stuck` responded and
    /// were not in the prefix (the candidates the search tried).
    pub concurrent: Vec<Involved<K, V>>,
}

/// Why [`crate::check`] rejected a history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError<K: fmt::Debug, V: fmt::Debug> {
    /// Some key's operations are not linearizable.
    #[error("{0}")]
    NotLinearizable(Box<Violation<K, V>>),
    /// An operation's reply does not match its kind (e.g. a read answered
    /// with `Swapped`).
    #[error("operation #{index} has a reply that does not match its kind: {op:?}")]
    ReplyMismatch {
        /// Index of the operation in the history.
        index: usize,
        /// The operation.
        op: Box<Operation<K, V>>,
    },
    /// An operation responded before it was invoked.
    #[error("operation #{index} responds before it is invoked: {op:?}")]
    NegativeDuration {
        /// Index of the operation in the history.
        index: usize,
        /// The operation.
        op: Box<Operation<K, V>>,
    },
}

impl<K, V> CheckError<K, V>
where
    K: fmt::Debug,
    V: fmt::Debug,
{
    /// The violation, when the history was well formed but not linearizable.
    pub fn violation(&self) -> Option<&Violation<K, V>> {
        match self {
            CheckError::NotLinearizable(v) => Some(v),
            _ => None,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Display for Involved<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = &self.op;
        write!(f, "#{} {:?} invoke={} ", self.index, op.op, op.invoke)?;
        match &op.outcome {
            crate::Outcome::Ok { at, reply } => write!(f, "response={at} -> {reply:?}"),
            crate::Outcome::Indeterminate => write!(f, "indeterminate"),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Display for Violation<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "key {:?} is not linearizable: after {} linearized operations (value {:?}),",
            self.key, self.linearized_count, self.value
        )?;
        writeln!(f, "  cannot linearize {}", self.stuck)?;
        if !self.recent.is_empty() {
            writeln!(f, "  last linearized:")?;
            for op in &self.recent {
                writeln!(f, "    {op}")?;
            }
        }
        if !self.concurrent.is_empty() {
            writeln!(f, "  concurrent candidates:")?;
            for op in &self.concurrent {
                writeln!(f, "    {op}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_stuck_operation() {
        let v = Violation {
            key: "k",
            linearized_count: 1,
            recent: vec![Involved {
                index: 0,
                op: Operation::write("k", 1, 0, 1),
            }],
            value: Some(1),
            stuck: Involved {
                index: 1,
                op: Operation::read("k", 2, 3, None),
            },
            concurrent: Vec::new(),
        };
        let text = CheckError::NotLinearizable(Box::new(v)).to_string();
        assert!(text.contains("key \"k\" is not linearizable"), "{text}");
        assert!(
            text.contains("cannot linearize #1 Read invoke=2 response=3"),
            "{text}"
        );
        assert!(text.contains("#0 Write(1)"), "{text}");
    }
}
