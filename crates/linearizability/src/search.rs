//! Wing & Gong's linearizability search with Lowe's just-in-time
//! linearization and memoisation (as in Knossos and Porcupine), for the
//! operations of a single key.
//!
//! The history is a doubly linked list of call and return entries in time
//! order. Walking from the head, a call entry is tentatively linearized when
//! the model accepts it from the current state and the resulting
//! (linearized set, state) pair was never seen before; it is then lifted out
//! of the list together with its return entry and the walk restarts. Reaching
//! a return entry means that operation had to be linearized already, so the
//! search backtracks. Indeterminate operations have no return entry (their
//! response time is +∞): they may be linearized whenever convenient, or never.

use std::collections::HashSet;

use crate::bitset::{BitKey, BitSet};
use crate::model::{State, Step};

/// One operation of the key under search, numbered by its position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchOp {
    pub(crate) invoke: u64,
    /// `None` = indeterminate.
    pub(crate) response: Option<u64>,
    pub(crate) step: Step,
}

/// The deepest point the search reached before giving up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The state after `linearized`.
    pub(crate) state: State,
    /// The longest linearizable prefix found, in order.
    pub(crate) linearized: Vec<usize>,
    /// The operation whose response came before it could be linearized.
    pub(crate) stuck: usize,
    /// Operations invoked before `stuck` responded that were not linearized.
    pub(crate) concurrent: Vec<usize>,
}

const HEAD: usize = 0;

/// The call/return entry list with dancing-links removal.
struct Entries {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For each node: the op it belongs to and whether it is the call.
    node_op: Vec<(usize, bool)>,
    call_node: Vec<usize>,
    ret_node: Vec<Option<usize>>,
    tail: usize,
}

impl Entries {
    fn new(ops: &[SearchOp]) -> Self {
        // (time, is_return, op): calls sort before returns at equal times so
        // touching intervals count as concurrent.
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.invoke, false, i));
            if let Some(at) = op.response {
                events.push((at, true, i));
            }
        }
        events.sort_unstable();
        let tail = events.len() + 1;
        let mut node_op = vec![(usize::MAX, false); tail + 1];
        let mut call_node = vec![0; ops.len()];
        let mut ret_node = vec![None; ops.len()];
        for (n, &(_, is_ret, op)) in events.iter().enumerate() {
            let node = n + 1;
            node_op[node] = (op, !is_ret);
            if is_ret {
                ret_node[op] = Some(node);
            } else {
                call_node[op] = node;
            }
        }
        Self {
            next: (1..=tail + 1).collect(),
            prev: (0..=tail).map(|n| n.saturating_sub(1)).collect(),
            node_op,
            call_node,
            ret_node,
            tail,
        }
    }

    fn unlink(&mut self, n: usize) {
        let (p, x) = (self.prev[n], self.next[n]);
        self.next[p] = x;
        self.prev[x] = p;
    }

    fn relink(&mut self, n: usize) {
        let (p, x) = (self.prev[n], self.next[n]);
        self.next[p] = n;
        self.prev[x] = n;
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.call_node[op]);
        if let Some(r) = self.ret_node[op] {
            self.unlink(r);
        }
    }

    fn unlift(&mut self, op: usize) {
        if let Some(r) = self.ret_node[op] {
            self.relink(r);
        }
        self.relink(self.call_node[op]);
    }

    /// Ops whose call entries precede node `upto` in the list.
    fn calls_before(&self, upto: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = self.next[HEAD];
        while n != upto && n != self.tail {
            let (op, is_call) = self.node_op[n];
            if is_call {
                out.push(op);
            }
            n = self.next[n];
        }
        out
    }
}

/// A linearized operation on the search stack.
struct Frame {
    op: usize,
    /// The state before the operation.
    before: State,
    /// Linearized greedily (a legal state-preserving op): the configuration
    /// below it has no other continuation worth trying.
    forced: bool,
}

/// The search over one key's operations.
struct Search<'a> {
    ops: &'a [SearchOp],
    list: Entries,
    /// Determinate operations not yet linearized.
    remaining: usize,
    linearized: BitSet,
    seen: HashSet<(BitKey, State)>,
    stack: Vec<Frame>,
    state: State,
    best: Option<Failure>,
}

/// Searches for a linearization of `ops`, starting from an absent key.
pub(crate) fn linearize(ops: &[SearchOp]) -> Result<(), Failure> {
    Search {
        ops,
        list: Entries::new(ops),
        remaining: ops.iter().filter(|o| o.response.is_some()).count(),
        linearized: BitSet::new(ops.len()),
        seen: HashSet::new(),
        stack: Vec::new(),
        state: None,
        best: None,
    }
    .run()
}

impl Search<'_> {
    fn run(mut self) -> Result<(), Failure> {
        let mut cur = HEAD;
        let mut fresh = true;
        while self.remaining > 0 {
            if fresh {
                fresh = false;
                // A legal state-preserving candidate (a read, a failed CAS)
                // can always go first: any linearization of the rest can be
                // reordered to start with it without breaking real time.
                if let Some(op) = self.pure_candidate() {
                    if self.descend(op, true) {
                        fresh = true;
                    } else {
                        cur = self.backtrack()?;
                    }
                    continue;
                }
                cur = self.list.next[HEAD];
            }
            if cur == self.list.tail {
                // Unreachable: while a determinate op remains, its return
                // entry lies ahead of every position the walk can be in.
                return Err(self.dead_end());
            }
            let (op, is_call) = self.list.node_op[cur];
            if !is_call {
                self.record_failure(cur, op);
                cur = self.backtrack()?;
            } else if self.descend(op, false) {
                fresh = true;
            } else {
                cur = self.list.next[cur];
            }
        }
        Ok(())
    }

    /// The first call entry before the first return entry whose op is
    /// state-preserving and legal now.
    fn pure_candidate(&self) -> Option<usize> {
        let mut n = self.list.next[HEAD];
        while n != self.list.tail {
            let (op, is_call) = self.list.node_op[n];
            if !is_call {
                return None;
            }
            let step = self.ops[op].step;
            if step.is_pure() && step.apply(self.state).is_some() {
                return Some(op);
            }
            n = self.list.next[n];
        }
        None
    }

    /// Linearizes `op` next if the model allows it and the resulting
    /// configuration is new.
    fn descend(&mut self, op: usize, forced: bool) -> bool {
        let Some(next_state) = self.ops[op].step.apply(self.state) else {
            return false;
        };
        self.linearized.insert(op);
        if !self.seen.insert((self.linearized.key(), next_state)) {
            self.linearized.remove(op);
            return false;
        }
        self.stack.push(Frame {
            op,
            before: self.state,
            forced,
        });
        self.state = next_state;
        self.list.lift(op);
        if self.ops[op].response.is_some() {
            self.remaining -= 1;
        }
        true
    }

    /// Undoes frames until one whose configuration has untried
    /// alternatives; returns where the walk resumes.
    fn backtrack(&mut self) -> Result<usize, Failure> {
        loop {
            let Some(frame) = self.stack.pop() else {
                return Err(self.dead_end());
            };
            self.linearized.remove(frame.op);
            self.state = frame.before;
            self.list.unlift(frame.op);
            if self.ops[frame.op].response.is_some() {
                self.remaining += 1;
            }
            if !frame.forced {
                return Ok(self.list.next[self.list.call_node[frame.op]]);
            }
        }
    }

    /// Remembers the deepest point where an op's response was reached
    /// before it could be linearized.
    fn record_failure(&mut self, node: usize, op: usize) {
        let depth = self.stack.len();
        if self
            .best
            .as_ref()
            .is_none_or(|b| depth > b.linearized.len())
        {
            self.best = Some(Failure {
                state: self.state,
                linearized: self.stack.iter().map(|f| f.op).collect(),
                stuck: op,
                concurrent: self.list.calls_before(node),
            });
        }
    }

    /// The failure to report once the search is exhausted.
    fn dead_end(&mut self) -> Failure {
        self.best.take().unwrap_or_else(|| {
            let stuck = (0..self.ops.len())
                .find(|&i| self.ops[i].response.is_some() && !self.linearized.contains(i))
                .unwrap_or(0);
            Failure {
                state: self.state,
                linearized: self.stack.iter().map(|f| f.op).collect(),
                stuck,
                concurrent: Vec::new(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke: u64, response: u64, step: Step) -> SearchOp {
        SearchOp {
            invoke,
            response: Some(response),
            step,
        }
    }

    #[test]
    fn empty_history_is_linearizable() {
        assert_eq!(linearize(&[]), Ok(()));
    }

    #[test]
    fn sequential_and_overlapping() {
        let ok = [
            op(0, 10, Step::Write(1)),
            op(5, 20, Step::Write(2)),
            op(15, 25, Step::Read(Some(1))),
            op(30, 40, Step::Read(Some(1))),
        ];
        // Write(2) before Write(1) before both reads.
        assert_eq!(linearize(&ok), Ok(()));
    }

    #[test]
    fn failure_points_at_the_stuck_read() {
        let bad = [
            op(0, 10, Step::Write(1)),
            op(20, 30, Step::Write(2)),
            op(40, 50, Step::Read(Some(1))),
        ];
        let f = linearize(&bad).unwrap_err();
        assert_eq!(f.stuck, 2);
        assert_eq!(f.linearized, vec![0, 1]);
        assert_eq!(f.state, Some(2));
        assert_eq!(f.concurrent, vec![2]);
    }

    #[test]
    fn indeterminate_ops_need_no_return() {
        let ops = [
            SearchOp {
                invoke: 0,
                response: None,
                step: Step::Write(1),
            },
            op(100, 110, Step::Read(None)),
            op(120, 130, Step::Read(Some(1))),
        ];
        assert_eq!(linearize(&ops), Ok(()));
    }
}
