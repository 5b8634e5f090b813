//! The sequential specification of one key: a register holding an optional
//! value, with values interned to small integers so search states hash cheaply.

use std::collections::HashMap;
use std::hash::Hash;

use crate::history::{Op, Outcome, Reply};

/// An interned value id.
pub(crate) type ValueId = u32;

/// The register state: the interned value, or `None` when the key is absent.
pub(crate) type State = Option<ValueId>;

/// One operation in interned form, with what was observed about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A write (acknowledged or not: a write always succeeds if it happens).
    Write(ValueId),
    /// A delete (likewise).
    Delete,
    /// An acknowledged read that returned this state.
    Read(State),
    /// A compare-and-set; `swapped` is `None` when indeterminate.
    Cas {
        expect: State,
        new: ValueId,
        swapped: Option<bool>,
    },
}

impl Step {
    /// True for acknowledged operations that never change the state when
    /// legal: reads and failed compare-and-sets.
    pub(crate) fn is_pure(self) -> bool {
        matches!(
            self,
            Step::Read(_)
                | Step::Cas {
                    swapped: Some(false),
                    ..
                }
        )
    }

    /// Applies the step to `state`: the next state, or `None` when the
    /// observed reply is impossible from `state`.
    pub(crate) fn apply(self, state: State) -> Option<State> {
        match self {
            Step::Write(v) => Some(Some(v)),
            Step::Delete => Some(None),
            Step::Read(seen) => (seen == state).then_some(state),
            Step::Cas {
                expect,
                new,
                swapped,
            } => {
                let matches = state == expect;
                match swapped {
                    Some(true) => matches.then_some(Some(new)),
                    Some(false) => (!matches).then_some(state),
                    None => Some(if matches { Some(new) } else { state }),
                }
            }
        }
    }
}

/// Why an operation cannot be turned into a [`Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// The reply kind does not belong to the operation kind.
    ReplyMismatch,
}

/// What to do with one recorded operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lowered {
    /// Search over it.
    Step(Step),
    /// It cannot affect linearizability (an indeterminate read).
    Skip,
}

/// Interns values and lowers operations of one key.
#[derive(Debug)]
pub(crate) struct Interner<V> {
    ids: HashMap<V, ValueId>,
    values: Vec<V>,
}

impl<V: Clone + Eq + Hash> Interner<V> {
    pub(crate) fn new() -> Self {
        Self {
            ids: HashMap::new(),
            values: Vec::new(),
        }
    }

    /// The value behind an id.
    pub(crate) fn value(&self, id: ValueId) -> Option<&V> {
        self.values.get(id as usize)
    }

    /// The user-facing value of a state.
    pub(crate) fn state(&self, state: State) -> Option<V> {
        state.and_then(|id| self.value(id).cloned())
    }

    fn intern(&mut self, v: &V) -> ValueId {
        if let Some(id) = self.ids.get(v) {
            return *id;
        }
        let id = ValueId::try_from(self.values.len()).unwrap_or(ValueId::MAX);
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    fn intern_opt(&mut self, v: Option<&V>) -> State {
        v.map(|v| self.intern(v))
    }

    /// Lowers an operation and its outcome.
    pub(crate) fn lower(&mut self, op: &Op<V>, outcome: &Outcome<V>) -> Result<Lowered, Malformed> {
        let reply = match outcome {
            Outcome::Ok { reply, .. } => Some(reply),
            Outcome::Indeterminate => None,
        };
        let step = match (op, reply) {
            (Op::Write(v), None | Some(Reply::Done)) => Step::Write(self.intern(v)),
            (Op::Delete, None | Some(Reply::Done)) => Step::Delete,
            (Op::Read, None) => return Ok(Lowered::Skip),
            (Op::Read, Some(Reply::Value(seen))) => Step::Read(self.intern_opt(seen.as_ref())),
            (Op::Cas { expect, new }, None | Some(Reply::Swapped(_))) => Step::Cas {
                expect: self.intern_opt(expect.as_ref()),
                new: self.intern(new),
                swapped: match reply {
                    Some(Reply::Swapped(s)) => Some(*s),
                    _ => None,
                },
            },
            _ => return Err(Malformed::ReplyMismatch),
        };
        Ok(Lowered::Step(step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_delete_read() {
        assert_eq!(Step::Write(3).apply(None), Some(Some(3)));
        assert_eq!(Step::Delete.apply(Some(3)), Some(None));
        assert_eq!(Step::Read(Some(3)).apply(Some(3)), Some(Some(3)));
        assert_eq!(Step::Read(None).apply(Some(3)), None);
    }

    #[test]
    fn cas_semantics() {
        let ok = |swapped| Step::Cas {
            expect: Some(1),
            new: 2,
            swapped,
        };
        assert_eq!(ok(Some(true)).apply(Some(1)), Some(Some(2)));
        assert_eq!(ok(Some(true)).apply(Some(7)), None);
        assert_eq!(ok(Some(false)).apply(Some(7)), Some(Some(7)));
        assert_eq!(ok(Some(false)).apply(Some(1)), None);
        assert_eq!(ok(None).apply(Some(1)), Some(Some(2)));
        assert_eq!(ok(None).apply(None), Some(None));
    }

    #[test]
    fn lowering_interns_and_rejects_mismatches() {
        let mut i = Interner::new();
        let done = Outcome::Ok {
            at: 1,
            reply: Reply::Done,
        };
        assert_eq!(
            i.lower(&Op::Write("a"), &done),
            Ok(Lowered::Step(Step::Write(0)))
        );
        let seen = Outcome::Ok {
            at: 1,
            reply: Reply::Value(Some("a")),
        };
        assert_eq!(
            i.lower(&Op::Read, &seen),
            Ok(Lowered::Step(Step::Read(Some(0))))
        );
        assert_eq!(
            i.lower(&Op::Read, &Outcome::Indeterminate),
            Ok(Lowered::Skip)
        );
        assert_eq!(
            i.lower(&Op::Write("b"), &seen),
            Err(Malformed::ReplyMismatch)
        );
        assert_eq!(i.state(Some(0)), Some("a"));
    }
}
