//! Output capture for checks: a tail buffer that keeps the last N bytes (Consul's `circbuf`),
//! and the truncation texts Consul puts around captured output.

use std::collections::VecDeque;

/// Keeps the last `cap` bytes written and counts everything written.
#[derive(Debug)]
pub(crate) struct TailBuffer {
    cap: usize,
    buf: VecDeque<u8>,
    total: usize,
}

impl TailBuffer {
    pub(crate) fn new(cap: usize) -> Self {
        TailBuffer {
            cap,
            buf: VecDeque::with_capacity(cap.min(64 * 1024)),
            total: 0,
        }
    }

    pub(crate) fn write(&mut self, data: &[u8]) {
        self.total = self.total.saturating_add(data.len());
        let keep = &data[data.len().saturating_sub(self.cap)..];
        let overflow = (self.buf.len() + keep.len()).saturating_sub(self.cap);
        self.buf.drain(..overflow);
        self.buf.extend(keep);
    }

    /// The kept bytes as (lossy) UTF-8.
    pub(crate) fn text(&self) -> String {
        let bytes: Vec<u8> = self.buf.iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Script-style output: the tail, prefixed by `Captured N of M bytes` when truncated.
    pub(crate) fn captured_text(&self) -> String {
        if self.total > self.buf.len() {
            format!(
                "Captured {} of {} bytes\n...\n{}",
                self.buf.len(),
                self.total,
                self.text()
            )
        } else {
            self.text()
        }
    }
}

/// TTL-update style truncation: the head, then `... (captured N of M bytes)`.
pub(crate) fn truncate_head(output: &str, max: usize) -> String {
    if output.len() <= max {
        return output.to_string();
    }
    let mut end = max;
    while !output.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{} ... (captured {} of {} bytes)",
        &output[..end],
        max,
        output.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buffer_keeps_last_bytes() {
        let mut b = TailBuffer::new(4);
        b.write(b"ab");
        assert_eq!(b.captured_text(), "ab");
        b.write(b"cdef");
        assert_eq!(b.text(), "cdef");
        b.write(b"g");
        assert_eq!(b.captured_text(), "Captured 4 of 7 bytes\n...\ndefg");
    }

    #[test]
    fn head_truncation_respects_char_boundaries() {
        assert_eq!(truncate_head("hello", 10), "hello");
        assert_eq!(truncate_head("hello", 2), "he ... (captured 2 of 5 bytes)");
        assert_eq!(truncate_head("é", 1), " ... (captured 1 of 2 bytes)");
    }
}
