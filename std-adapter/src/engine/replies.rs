//! Which of the queued output the peer made us queue: the automatic replies (pongs, the close echo, a
//! close for its protocol error), written while reading (RFC 6455 §5.5.2, §5.5.1).
//!
//! Only these count against the high-water mark that stops reading: a peer that floods pings and never
//! reads is held to a bounded backlog, while the application's own messages never stop reading — two
//! ends that both send large messages from split halves would otherwise each wait for the other to read.
//! Nothing here reads the bytes; it counts stream offsets.

use std::collections::VecDeque;

/// At most this many separate spans are kept (1 KiB); past it the two nearest merge, counting the
/// output between them as replies too: reading then stops sooner, never later, and by as little as
/// can be.
const MAX_SPANS: usize = 64;

/// The replies among the output, by stream offset (bytes ever queued, counted from the first).
#[derive(Debug, Default)]
pub(super) struct Replies {
    /// Bytes of output written to the transport so far.
    sent: u64,
    /// Spans of replies not yet entirely written, oldest first, as `(start, end)`; a span queued right
    /// behind the previous one extends it.
    spans: VecDeque<(u64, u64)>,
    /// The total length of `spans`.
    total: u64,
}

impl Replies {
    /// Bytes of output written to the transport so far: with the ring's length, the offset where the
    /// next queued byte goes.
    pub(super) fn sent(&self) -> u64 {
        self.sent
    }

    /// Output from offset `start` to `end` was queued while reading.
    pub(super) fn queued(&mut self, start: u64, end: u64) {
        if end <= start {
            return;
        }
        self.total += end - start;
        if let Some(last) = self.spans.back_mut()
            && last.1 == start
        {
            last.1 = end;
            return;
        }
        self.spans.push_back((start, end));
        if self.spans.len() > MAX_SPANS {
            self.merge_nearest();
        }
    }

    /// Merges the two neighbouring spans with the least output between them.
    fn merge_nearest(&mut self) {
        let nearest = (1..self.spans.len()).min_by_key(|&i| self.spans[i].0 - self.spans[i - 1].1);
        if let Some(i) = nearest
            && let Some((start, end)) = self.spans.remove(i)
        {
            let before = &mut self.spans[i - 1];
            self.total += start - before.1;
            before.1 = end;
        }
    }

    /// `n` more bytes of output were written to the transport (or dropped).
    pub(super) fn written(&mut self, n: usize) {
        self.sent += n as u64;
        while let Some(&(start, end)) = self.spans.front() {
            if end > self.sent {
                break;
            }
            self.total -= end - start;
            self.spans.pop_front();
        }
    }

    /// The last `n` bytes of replies, which end at offset `end`, were taken back: an unsent pong the
    /// core replaced with a newer ping's (RFC 6455 §5.5.3, `Engine::pongs_pile_up`).
    pub(super) fn taken_back(&mut self, end: u64, n: u64) {
        if let Some(last) = self.spans.back_mut()
            && last.1 == end
        {
            let n = n.min(last.1 - last.0);
            last.1 -= n;
            self.total -= n;
            if last.0 == last.1 {
                self.spans.pop_back();
            }
        }
    }

    /// Bytes of replies queued and not yet written.
    pub(super) fn unsent(&self) -> u64 {
        // Every span but the first lies wholly past what was written.
        let written_of_first = self
            .spans
            .front()
            .map_or(0, |&(start, _)| self.sent.saturating_sub(start));
        self.total - written_of_first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against a byte-by-byte model: the count is exact while the spans fit, and never less than
        /// the replies unwritten once the oldest merge.
        #[test]
        fn counts_the_unwritten_replies(ops in proptest::collection::vec((0u8..4, 1usize..300), 0..400)) {
            let mut replies = Replies::default();
            // Every byte queued: whether it is a reply; `written` of them went out.
            let mut model: Vec<bool> = Vec::new();
            let mut written = 0usize;
            let mut merged = false;
            for (op, n) in ops {
                match op {
                    0 | 1 => {
                        let start = model.len() as u64;
                        model.extend(std::iter::repeat_n(op == 0, n));
                        if op == 0 {
                            merged |= replies.spans.len() == MAX_SPANS
                                && replies.spans.back().is_none_or(|s| s.1 != start);
                            replies.queued(start, model.len() as u64);
                        }
                    }
                    2 => {
                        let n = n.min(model.len() - written);
                        written += n;
                        replies.written(n);
                    }
                    _ => {
                        // A pong taken back: the last `n` bytes, when they are unwritten replies.
                        let n = n % 132;
                        let tail = model.len().saturating_sub(n).max(written);
                        if model.len() - tail == n && model[tail..].iter().all(|&r| r) {
                            replies.taken_back(model.len() as u64, n as u64);
                            model.truncate(tail);
                        }
                    }
                }
                let unsent = model[written..].iter().filter(|&&r| r).count() as u64;
                prop_assert_eq!(replies.sent(), written as u64);
                if merged {
                    prop_assert!(replies.unsent() >= unsent);
                } else {
                    prop_assert_eq!(replies.unsent(), unsent);
                }
                prop_assert!(replies.spans.len() <= MAX_SPANS);
            }
        }
    }
}
