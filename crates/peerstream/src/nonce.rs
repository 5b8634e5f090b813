//! Response nonces: a per-stream counter rendered as 8 lowercase hex digits, as Consul does.

/// Hands out the nonces of one stream: `00000001`, `00000002`, …
#[derive(Debug, Default, Clone)]
pub struct NonceCounter {
    last: u64,
}

impl NonceCounter {
    /// A counter whose first nonce is `00000001`.
    pub fn new() -> NonceCounter {
        NonceCounter::default()
    }

    /// The next nonce.
    pub fn next_nonce(&mut self) -> String {
        self.last = self.last.wrapping_add(1);
        format!("{:08x}", self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_one_and_pads_to_eight_hex_digits() {
        let mut c = NonceCounter::new();
        assert_eq!(c.next_nonce(), "00000001");
        assert_eq!(c.next_nonce(), "00000002");
        for _ in 0..13 {
            c.next_nonce();
        }
        assert_eq!(c.next_nonce(), "00000010");
    }

    #[test]
    fn nonces_are_unique_and_increasing() {
        let mut c = NonceCounter::new();
        let all: Vec<String> = (0..1000).map(|_| c.next_nonce()).collect();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, all);
    }
}
