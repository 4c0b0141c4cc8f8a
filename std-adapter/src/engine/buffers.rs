//! The engine's two buffers on the heap: allocated on demand, grown while a burst needs it, shrunk or
//! released once drained (the core's `swap_storage` moves their bytes; the core never notices).
//!
//! Nothing here reads the bytes or decides anything about the protocol.

use websocket_driver::{MIN_RX_CAPACITY, MIN_TX_CAPACITY, State};

use super::Engine;
use crate::options::Options;

/// The smallest transmit ring allocated: a few control frames.
const TX_BASE: usize = 256;

/// Room past the high-water mark for the frame that crosses it (a control frame is at most 131 bytes).
const TX_SLACK: usize = 1024;

/// The largest TLS record's plaintext (RFC 8446 §5.1: 2^14 bytes), what a TLS layer may hold of a
/// write it could not finish.
const TLS_RECORD: usize = 1 << 14;

/// A drained transmit ring larger than this is released rather than kept.
const TX_KEEP: usize = 16 * 1024;

/// How large the buffers may grow, and when reading stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The receive buffer allocated when reading starts; a message up to about this size arrives from
    /// the core in one view (default 4 KiB).
    pub read_size: usize,
    /// The receive buffer never grows past this (`Options::receive_buffer`); larger messages arrive from
    /// the core in chunks and are assembled once.
    pub max_read: usize,
    /// Replies the peer made us queue (pongs, the close echo) above this many bytes stop reading
    /// (`Options::transmit_buffer`).
    pub high_water: usize,
    /// The receive buffer while an HTTP head is read: heads up to this size are accepted (H7).
    pub head: usize,
}

impl Limits {
    pub(crate) fn from_options(options: &Options) -> Self {
        let max_read = options.receive_buffer.max(MIN_RX_CAPACITY);
        Limits {
            read_size: (4 * 1024).min(max_read),
            max_read,
            high_water: options.transmit_buffer.max(MIN_TX_CAPACITY),
            head: options.config().get_head_limit().max(MIN_RX_CAPACITY),
        }
    }
}

impl Engine {
    /// I/O side: free space to read into, allocating or growing the receive buffer as needed (up to
    /// [`Limits::max_read`]). Empty only when the buffer is full at its largest, which the core never
    /// leaves it (it hands out chunks first).
    ///
    /// While a large frame is under way (at least [`Limits::read_size`] of it still to come) the buffer grows at once to hold the rest of it, and the
    /// space offered ends where the frame ends: the buffer then empties after the frame, and the next
    /// frame starts at its front rather than being moved there.
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.buffers_for_poll();
        let remaining = usize::try_from(self.core.frame_remaining(&self.rx)).unwrap_or(usize::MAX);
        let large = remaining >= self.limits.read_size;
        if large && self.rx.room() < remaining && self.rx.capacity() < self.limits.max_read {
            let cap = self.rx.len().saturating_add(remaining);
            self.swap_rx(cap.min(self.limits.max_read));
        } else if self.rx.room() == 0 && self.rx.capacity() < self.limits.max_read {
            let cap = (self.rx.capacity() * 2).min(self.limits.max_read);
            self.swap_rx(cap);
        }
        let free = self.rx.free_space();
        if large {
            let n = free.len().min(remaining);
            &mut free[..n]
        } else {
            free
        }
    }

    /// I/O side: whether a data frame is under way whose rest has not been read (its header read,
    /// handled by `next_event` or not). A reader that has more bytes at hand reads them before the
    /// next [`next_event`](Self::next_event): the frame's text is then checked once, as a whole
    /// (what `next_event` finds incomplete is still checked at once, F10).
    pub fn frame_under_way(&self) -> bool {
        self.core.frame_remaining(&self.rx) > 0
    }

    /// I/O side: `n` bytes were read into the start of [`read_buf`](Self::read_buf).
    pub fn commit(&mut self, n: usize) {
        self.rx.commit(n);
    }

    /// I/O side: copies as much of `bytes` as the receive buffer takes now and returns the count; call
    /// [`next_event`](Self::next_event) until it returns `None`, then offer the rest.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let mut taken = 0;
        while taken < bytes.len() {
            let free = self.read_buf();
            let n = free.len().min(bytes.len() - taken);
            if n == 0 {
                break;
            }
            free[..n].copy_from_slice(&bytes[taken..taken + n]);
            self.rx.commit(n);
            taken += n;
        }
        taken
    }

    /// I/O side: the next bytes to write to the transport. They stay as they are until the next call
    /// that takes `&mut self`; one that reads input may replace an unsent pong at the end with a newer
    /// ping's (RFC 6455 §5.5.3, when pongs pile up). Write them and
    /// [`consume_output`](Self::consume_output) before reading on, or take them with
    /// [`lend_output`](Self::lend_output) to write them without holding the engine; after a write
    /// that did not complete, call [`write_pending`](Self::write_pending).
    pub fn output(&self) -> &[u8] {
        self.tx.peek()
    }

    /// I/O side: a write of [`output`](Self::output) did not complete (`WouldBlock`, `Pending`, a
    /// write timeout) and will be tried again. A TLS layer may already hold the first record of what
    /// it was offered (OpenSSL requires the retry to offer the same bytes again), so the first 16 KiB
    /// (a record's plaintext) are lent ([`lend_output`](Self::lend_output)) until consumed.
    pub fn write_pending(&mut self) {
        let _ = self.lend_output(TLS_RECORD);
    }

    /// I/O side, for writing without holding the engine (a writer thread that copies output and lets
    /// go of a lock while it writes): the next bytes to write, at most `max`, which stay as they are
    /// until consumed, whatever the engine reads meanwhile. Copy them, write them, then
    /// [`consume_output`](Self::consume_output) what was written.
    pub fn lend_output(&mut self, max: usize) -> &[u8] {
        let n = self.tx.peek().len().min(max);
        self.lent = self.lent.max(n);
        self.tx.peek().get(..n).unwrap_or_default()
    }

    /// I/O side: both parts of what is ready to write, for a vectored write.
    pub fn output_vectored(&self) -> [&[u8]; 2] {
        self.tx.peek_vectored()
    }

    /// I/O side: `n` bytes of [`output`](Self::output) were written. A large ring, once drained, is
    /// released.
    pub fn consume_output(&mut self, n: usize) {
        self.tx.consume(n);
        self.replies.written(n);
        self.lent = self.lent.saturating_sub(n);
        if self.tx.is_empty() && self.tx.capacity() > TX_KEEP {
            let _ = self.tx.swap_storage(Vec::new());
        }
    }

    /// Bytes queued for the transport and not yet written (the original's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.tx.len()
    }

    /// Both buffers big enough for the core to run: allocated on first use (a head's worth while the
    /// handshake reads a head).
    pub(super) fn buffers_for_poll(&mut self) {
        let want = if self.core.state() == State::Connecting {
            self.limits.head.max(self.limits.read_size)
        } else {
            self.limits.read_size
        };
        if self.rx.capacity() < MIN_RX_CAPACITY
            || (self.core.state() == State::Connecting && self.rx.capacity() < want)
        {
            self.swap_rx(want);
        }
        if self.tx.capacity() < MIN_TX_CAPACITY {
            self.grow_tx(TX_BASE);
        }
    }

    /// Makes room for `extra` more bytes of output.
    pub(super) fn grow_tx(&mut self, extra: usize) {
        if self.tx.free() >= extra && self.tx.capacity() >= MIN_TX_CAPACITY {
            return;
        }
        // Doubling, but not past the high-water mark for what fits under it: the output the peer can
        // cause (pongs, the close echo) stays within `high_water` plus one frame.
        let need = self.tx.len() + extra;
        let mut cap = need.max(TX_BASE).next_power_of_two();
        if need <= self.limits.high_water + TX_SLACK {
            cap = cap.min(self.limits.high_water + TX_SLACK);
        }
        let _ = self.tx.swap_storage(vec![0; cap]);
    }

    /// Makes room for `n` more bytes of input at once, past [`Limits::max_read`] if need be (a body an
    /// HTTP server read past the head, H5); [`shrink_rx`](Self::shrink_rx) gives it back.
    pub(super) fn reserve_rx(&mut self, n: usize) {
        self.buffers_for_poll();
        if self.rx.room() < n {
            self.swap_rx(self.rx.len().saturating_add(n));
        }
    }

    fn swap_rx(&mut self, cap: usize) {
        let cap = cap.max(self.rx.len()).max(MIN_RX_CAPACITY);
        let _ = self.rx.swap_storage(vec![0; cap]);
    }

    /// After a large message: a receive buffer grown past its usual size shrinks back.
    pub(super) fn shrink_rx(&mut self) {
        if self.core.state() != State::Connecting
            && self.rx.capacity() > self.limits.read_size
            && self.rx.len() <= self.limits.read_size / 2
        {
            self.swap_rx(self.limits.read_size);
        }
    }

    /// Releases drained buffers (an idle connection holds none).
    pub(super) fn release_buffers(&mut self) {
        if self.rx.is_empty() && self.rx.capacity() > 0 {
            let _ = self.rx.swap_storage(Vec::new());
        }
        if self.tx.is_empty() && self.tx.capacity() > 0 {
            let _ = self.tx.swap_storage(Vec::new());
        }
    }

    /// The heap the buffers hold, in bytes (for tests and the memory docs).
    pub fn buffer_capacity(&self) -> usize {
        self.rx.capacity() + self.tx.capacity()
    }
}
