//! The footprint baseline (`--features stub`): the same two ends with the WebSocket logic replaced by
//! a byte copy, and nothing of `websocket-driver` used. Each end has a receive buffer and a transmit
//! ring of the same sizes over the same statics, moved by the same I/O loop in `main`; the server
//! copies whatever arrives into its ring, and the client compares what comes back with the message
//! it sent, through the same [`Expect`]. No handshake, no frames, no masking: pings and the close are
//! answered on the spot. The firmware with the core minus this one is what the core costs.

use crate::nrf51::Rng;
use crate::pattern::{Expect, Kind, ServerLog};
use crate::{CLOSE_REASON, Fail};

/// What the firmware runs on, for its log.
pub const NAME: &str = "byte-copy stub (no WebSocket)";

/// Matches the core build's agreement, so `main`'s check is the same.
pub const PROTOCOL: (usize, usize) = (1, 0);

/// No driver here.
pub fn driver_size() -> Option<usize> {
    None
}

/// A receive buffer: bytes land at the end, are read from the front, and the rest moves down.
struct Linear {
    buf: &'static mut [u8],
    len: usize,
}

impl Linear {
    fn free_space(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..]
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// A transmit ring: whole writes or nothing, read in contiguous pieces.
struct Ring {
    buf: &'static mut [u8],
    head: usize,
    len: usize,
}

impl Ring {
    fn free(&self) -> usize {
        self.buf.len() - self.len
    }

    fn write(&mut self, data: &[u8]) -> bool {
        if data.len() > self.free() {
            return false;
        }
        let cap = self.buf.len();
        let tail = (self.head + self.len) % cap;
        let first = data.len().min(cap - tail);
        self.buf[tail..tail + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
        self.len += data.len();
        true
    }

    fn peek(&self) -> &[u8] {
        let end = (self.head + self.len).min(self.buf.len());
        &self.buf[self.head..end]
    }

    fn consume(&mut self, n: usize) {
        self.len -= n;
        self.head = if self.len == 0 {
            0
        } else {
            (self.head + n) % self.buf.len()
        };
    }
}

pub struct Client {
    rx: Linear,
    tx: Ring,
    pub protocol: Option<usize>,
    pub status: u16,
    open: bool,
    closed: bool,
}

impl Client {
    pub fn new(rx: &'static mut [u8], tx: &'static mut [u8]) -> Self {
        Client {
            rx: Linear { buf: rx, len: 0 },
            tx: Ring {
                buf: tx,
                head: 0,
                len: 0,
            },
            protocol: None,
            status: 0,
            open: false,
            closed: false,
        }
    }

    /// No handshake: reads a nonce's worth from the RNG (as the core's client does) and is open.
    pub fn start(&mut self, rng: &mut Rng) -> Result<(), Fail> {
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        self.protocol = Some(PROTOCOL.0);
        self.status = 101;
        self.open = true;
        Ok(())
    }

    pub fn is_open(&self) -> bool {
        self.open && !self.closed
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn send(
        &mut self,
        _rng: &mut Rng,
        _kind: Kind,
        data: &[u8],
        _first: bool,
        _fin: bool,
    ) -> Result<bool, Fail> {
        Ok(self.tx.write(data))
    }

    /// Answered on the spot (no frames to carry it).
    pub fn ping(&mut self, _rng: &mut Rng, _payload: &[u8]) -> Result<bool, Fail> {
        Ok(true)
    }

    pub fn close(&mut self, _rng: &mut Rng) -> Result<bool, Fail> {
        self.closed = true;
        Ok(true)
    }

    /// Nothing is masked here.
    pub fn check_wire(&self, _key: [u8; 4], _payload: &[u8]) -> Result<(), Fail> {
        Ok(())
    }

    /// Compares what arrived with the message expected.
    pub fn step(&mut self, _rng: &mut Rng, _now: u64, expect: &mut Expect) -> Result<bool, Fail> {
        if let Some(payload) = expect.pong {
            expect.pong(payload);
        }
        if self.closed && expect.close.is_none() {
            expect.close(1000, CLOSE_REASON);
        }
        let n = self.rx.len;
        if n == 0 {
            if !expect.done && expect.received == expect.len {
                // An empty message: nothing to carry.
                expect.data(expect.kind, &[], true);
                return Ok(true);
            }
            return Ok(false);
        }
        #[cfg(feature = "deps-floor")]
        floor::client(&self.rx.buf[..n]);
        let fin = expect.received + n == expect.len;
        expect.data(expect.kind, &self.rx.buf[..n], fin);
        self.rx.consume(n);
        Ok(true)
    }

    pub fn outgoing(&self) -> &[u8] {
        self.tx.peek()
    }

    pub fn sent(&mut self, n: usize) {
        self.tx.consume(n);
    }

    pub fn space(&mut self) -> &mut [u8] {
        self.rx.free_space()
    }

    pub fn received(&mut self, n: usize) {
        self.rx.len += n;
    }
}

pub struct Server {
    rx: Linear,
    tx: Ring,
    pinged: bool,
}

impl Server {
    pub fn new(rx: &'static mut [u8], tx: &'static mut [u8]) -> Self {
        Server {
            rx: Linear { buf: rx, len: 0 },
            tx: Ring {
                buf: tx,
                head: 0,
                len: 0,
            },
            pinged: false,
        }
    }

    pub fn ping(&mut self, _rng: &mut Rng, _payload: &[u8]) -> Result<bool, Fail> {
        self.pinged = true;
        Ok(true)
    }

    pub fn is_done(&self) -> bool {
        true
    }

    /// Copies what arrived into the ring.
    pub fn step(&mut self, _rng: &mut Rng, _now: u64, log: &mut ServerLog) -> Result<bool, Fail> {
        if !log.opened {
            log.opened = true;
            log.target_ok = true;
            log.protocol = Some(PROTOCOL.1);
        }
        if self.pinged {
            self.pinged = false;
            log.pongs += 1;
        }
        let n = self.rx.len.min(self.tx.free());
        if n == 0 {
            return Ok(false);
        }
        #[cfg(feature = "deps-floor")]
        floor::server(&self.rx.buf[..n]);
        self.tx.write(&self.rx.buf[..n]);
        self.rx.consume(n);
        log.chunks += 1;
        log.bytes += n as u64;
        Ok(true)
    }

    pub fn outgoing(&self) -> &[u8] {
        self.tx.peek()
    }

    pub fn sent(&mut self, n: usize) {
        self.tx.consume(n);
    }

    pub fn space(&mut self) -> &mut [u8] {
        self.rx.free_space()
    }

    pub fn received(&mut self, n: usize) {
        self.rx.len += n;
    }
}

/// The `deps-floor` size build: the core's calls into its dependencies, made on the bytes each end
/// receives, their results kept alive with `black_box` (the conversation itself is the stub's).
#[cfg(feature = "deps-floor")]
mod floor {
    use core::hint::black_box;

    /// A server's: SHA-1 over the key and the GUID (RFC 6455 §4.2.2), httparse over header lines.
    pub fn server(bytes: &[u8]) {
        let bytes = black_box(bytes);
        let mut sha = sha1_smol::Sha1::new();
        sha.update(bytes);
        sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let parsed = httparse::parse_headers(bytes, &mut headers).is_ok();
        black_box((parsed, sha.digest().bytes()));
    }

    /// A client's: httparse over header lines, and a text message as `&str`.
    pub fn client(bytes: &[u8]) {
        let bytes = black_box(bytes);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let parsed = httparse::parse_headers(bytes, &mut headers).is_ok();
        black_box((parsed, core::str::from_utf8(bytes).is_ok()));
    }
}
