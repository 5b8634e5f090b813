//! The set of already-linearized operations, with a compact canonical form
//! for the memoisation cache.
//!
//! Operations are numbered in invocation order, so the linearized set is
//! nearly always "every op below some frontier, plus a few". The cache key
//! drops the leading all-ones words and the trailing zero words, which keeps
//! it a handful of words long however long the history is.

/// A fixed-capacity bitset.
#[derive(Debug, Clone)]
pub(crate) struct BitSet {
    words: Vec<u64>,
}

/// The canonical, trimmed form of a [`BitSet`] used as a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct BitKey {
    full_words: u32,
    rest: Box<[u64]>,
}

impl BitSet {
    /// An empty set able to hold `0..len`.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    pub(crate) fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    pub(crate) fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// The canonical cache key for the current contents.
    pub(crate) fn key(&self) -> BitKey {
        let full = self.words.iter().take_while(|w| **w == u64::MAX).count();
        let end = self
            .words
            .iter()
            .rposition(|w| *w != 0)
            .map_or(full, |last| (last + 1).max(full));
        BitKey {
            full_words: u32::try_from(full).unwrap_or(u32::MAX),
            rest: self.words[full..end].into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_canonical() {
        let mut a = BitSet::new(200);
        let mut b = BitSet::new(200);
        for i in 0..70 {
            a.insert(i);
        }
        for i in (0..70).rev() {
            b.insert(i);
        }
        b.insert(150);
        b.remove(150);
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key().full_words, 1);
        assert_eq!(a.key().rest.len(), 1);
        a.insert(130);
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn empty_and_full() {
        let e = BitSet::new(128);
        assert_eq!(e.key().rest.len(), 0);
        let mut f = BitSet::new(128);
        (0..128).for_each(|i| f.insert(i));
        assert_eq!(f.key().full_words, 2);
        assert_eq!(f.key().rest.len(), 0);
    }
}
