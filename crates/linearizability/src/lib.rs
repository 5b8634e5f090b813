//! A linearizability checker for histories of a key-value store.
//!
//! Clients record every call as an [`Operation`]: the key, what was asked
//! ([`Op`]: write, delete, read, compare-and-set on the value), the
//! invocation time and the [`Outcome`] (a reply and its response time, or
//! [`Outcome::Indeterminate`] for timeouts and lost connections). [`check`]
//! then decides whether some total order of the operations respects both the
//! real-time order (an operation that responded before another was invoked
//! comes first) and the sequential semantics of a register per key.
//!
//! Keys are independent registers, so linearizability is checked key by key
//! (P-compositionality). Each key is searched with Wing & Gong's algorithm,
//! using Lowe's just-in-time linearization and memoisation of
//! (linearized set, value) pairs, as in Knossos and Porcupine.
//!
//! Lost acknowledged writes, duplicated effects, stale reads and reordered
//! acknowledged operations all show up as a [`Violation`] naming the key, the
//! operation that could not be placed, and its concurrent candidates.

mod bitset;
mod history;
mod model;
mod search;
mod violation;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

pub use history::{Op, Operation, Outcome, Reply};
pub use violation::{CheckError, Involved, RECENT_OPS, Violation};

use model::{Interner, Lowered};
use search::{Failure, SearchOp};

/// Checks that `history` is linearizable, one key at a time.
///
/// Every key starts absent. Times are monotonic nanoseconds from one clock;
/// operations whose intervals touch or overlap are concurrent. Keys are
/// checked in ascending order and the first violation is returned.
pub fn check<K, V>(history: &[Operation<K, V>]) -> Result<(), CheckError<K, V>>
where
    K: Clone + Ord + Debug,
    V: Clone + Eq + Hash + Debug,
{
    let mut by_key: BTreeMap<&K, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        if op.response().is_some_and(|at| at < op.invoke) {
            return Err(CheckError::NegativeDuration {
                index,
                op: Box::new(op.clone()),
            });
        }
        by_key.entry(&op.key).or_default().push(index);
    }
    for (key, indices) in by_key {
        check_key(key, history, &indices)?;
    }
    Ok(())
}

/// Checks the operations `indices` of `history`, all on `key`.
fn check_key<K, V>(
    key: &K,
    history: &[Operation<K, V>],
    indices: &[usize],
) -> Result<(), CheckError<K, V>>
where
    K: Clone + Ord + Debug,
    V: Clone + Eq + Hash + Debug,
{
    let mut interner = Interner::new();
    let mut ops: Vec<(SearchOp, usize)> = Vec::with_capacity(indices.len());
    for &index in indices {
        let op = &history[index];
        let lowered =
            interner
                .lower(&op.op, &op.outcome)
                .map_err(|_| CheckError::ReplyMismatch {
                    index,
                    op: Box::new(op.clone()),
                })?;
        if let Lowered::Step(step) = lowered {
            let search_op = SearchOp {
                invoke: op.invoke,
                response: op.response(),
                step,
            };
            ops.push((search_op, index));
        }
    }
    // Number operations in invocation order so linearized sets stay compact.
    ops.sort_by_key(|(op, index)| (op.invoke, *index));
    let (search_ops, origin): (Vec<SearchOp>, Vec<usize>) = ops.into_iter().unzip();
    search::linearize(&search_ops).map_err(|failure| {
        let violation = explain(key, history, &origin, &interner, failure);
        CheckError::NotLinearizable(Box::new(violation))
    })
}

/// Maps a search failure back onto the caller's operations.
fn explain<K, V>(
    key: &K,
    history: &[Operation<K, V>],
    origin: &[usize],
    interner: &Interner<V>,
    failure: Failure,
) -> Violation<K, V>
where
    K: Clone,
    V: Clone + Eq + Hash,
{
    let involved = |local: usize| {
        let index = origin[local];
        Involved {
            index,
            op: history[index].clone(),
        }
    };
    let skip = failure.linearized.len().saturating_sub(RECENT_OPS);
    Violation {
        key: key.clone(),
        linearized_count: failure.linearized.len(),
        recent: failure.linearized[skip..]
            .iter()
            .map(|&l| involved(l))
            .collect(),
        value: interner.state(failure.state),
        stuck: involved(failure.stuck),
        concurrent: failure
            .concurrent
            .iter()
            .filter(|&&l| l != failure.stuck)
            .map(|&l| involved(l))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
