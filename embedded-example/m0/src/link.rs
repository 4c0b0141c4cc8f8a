//! The in-memory link between the two ends: one bounded byte queue each way, standing in for a
//! transport with a small window. Bytes go from one end's transmit buffer into a queue and from the
//! queue into the other end's receive buffer, as much as fits each time.

/// A bounded FIFO of bytes over a caller's static storage.
pub struct Pipe {
    buf: &'static mut [u8],
    head: usize,
    len: usize,
    /// Bytes that went through, ever.
    pub total: u64,
}

impl Pipe {
    pub fn new(buf: &'static mut [u8]) -> Self {
        Pipe {
            buf,
            head: 0,
            len: 0,
            total: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes as much of `data` as fits; returns how much.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let cap = self.buf.len();
        let n = data.len().min(cap - self.len);
        let mut tail = (self.head + self.len) % cap;
        for &b in &data[..n] {
            self.buf[tail] = b;
            tail = if tail + 1 == cap { 0 } else { tail + 1 };
        }
        self.len += n;
        self.total += n as u64;
        n
    }

    /// Moves as much as fits into `out`; returns how much.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let cap = self.buf.len();
        let n = out.len().min(self.len);
        for b in &mut out[..n] {
            *b = self.buf[self.head];
            self.head = if self.head + 1 == cap {
                0
            } else {
                self.head + 1
            };
        }
        self.len -= n;
        n
    }
}
