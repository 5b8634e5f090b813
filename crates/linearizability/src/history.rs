//! The recorded history: one [`Operation`] per client call against a key-value
//! store of independent keys, with its invocation time and its [`Outcome`].

/// What a client asked the store to do to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<V> {
    /// Set the key to a value unconditionally.
    Write(V),
    /// Remove the key.
    Delete,
    /// Read the key's current value.
    Read,
    /// Set the key to `new` only if its current value equals `expect`
    /// (`None` = "only if the key does not exist").
    Cas {
        /// The value the key must hold for the swap to happen.
        expect: Option<V>,
        /// The value written when the swap happens.
        new: V,
    },
}

/// The store's answer to an acknowledged operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<V> {
    /// A write or delete was acknowledged.
    Done,
    /// A read returned this value (`None` = key absent).
    Value(Option<V>),
    /// A compare-and-set reported whether it swapped.
    Swapped(bool),
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<V> {
    /// The client received `reply` at monotonic time `at` (nanoseconds).
    Ok {
        /// Response time, same clock as [`Operation::invoke`].
        at: u64,
        /// The store's answer.
        reply: Reply<V>,
    },
    /// Timeout or lost connection: the operation may or may not have taken
    /// effect. Its response time is +∞, so it may linearize anywhere after
    /// its invocation, or never.
    Indeterminate,
}

/// One recorded client call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<K, V> {
    /// The key operated on; keys are independent registers.
    pub key: K,
    /// What was asked.
    pub op: Op<V>,
    /// Invocation time (monotonic nanoseconds, one clock for the whole history).
    pub invoke: u64,
    /// How it ended.
    pub outcome: Outcome<V>,
}

impl<K, V> Operation<K, V> {
    /// An acknowledged unconditional write.
    pub fn write(key: K, value: V, invoke: u64, response: u64) -> Self {
        Self::done(key, Op::Write(value), invoke, response, Reply::Done)
    }

    /// An acknowledged delete.
    pub fn delete(key: K, invoke: u64, response: u64) -> Self {
        Self::done(key, Op::Delete, invoke, response, Reply::Done)
    }

    /// A read that returned `result`.
    pub fn read(key: K, invoke: u64, response: u64, result: Option<V>) -> Self {
        Self::done(key, Op::Read, invoke, response, Reply::Value(result))
    }

    /// A compare-and-set that reported `swapped`.
    pub fn cas(
        key: K,
        expect: Option<V>,
        new: V,
        invoke: u64,
        response: u64,
        swapped: bool,
    ) -> Self {
        let op = Op::Cas { expect, new };
        Self::done(key, op, invoke, response, Reply::Swapped(swapped))
    }

    /// An operation whose outcome is unknown (timeout, connection lost).
    pub fn indeterminate(key: K, op: Op<V>, invoke: u64) -> Self {
        Self {
            key,
            op,
            invoke,
            outcome: Outcome::Indeterminate,
        }
    }

    /// Turns this operation into an indeterminate one (its reply is dropped).
    #[must_use]
    pub fn into_indeterminate(self) -> Self {
        Self {
            outcome: Outcome::Indeterminate,
            ..self
        }
    }

    /// The response time, `None` when indeterminate (+∞).
    pub fn response(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Ok { at, .. } => Some(at),
            Outcome::Indeterminate => None,
        }
    }

    fn done(key: K, op: Op<V>, invoke: u64, at: u64, reply: Reply<V>) -> Self {
        Self {
            key,
            op,
            invoke,
            outcome: Outcome::Ok { at, reply },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fill_outcomes() {
        let w = Operation::write("k", 1, 5, 9);
        assert_eq!(w.response(), Some(9));
        assert_eq!(
            w.outcome,
            Outcome::Ok {
                at: 9,
                reply: Reply::Done
            }
        );
        let c = Operation::cas("k", None, 2, 1, 2, true).into_indeterminate();
        assert_eq!(c.response(), None);
        assert_eq!(
            c.op,
            Op::Cas {
                expect: None,
                new: 2
            }
        );
    }
}
