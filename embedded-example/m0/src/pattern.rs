//! The messages of the conversation: generated from a seed as they are sent, and generated again to
//! compare what comes back byte by byte, so a 64 KiB message never has to be held anywhere.

/// Text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Binary,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        }
    }
}

/// A message's bytes, one at a time: for binary, a xorshift stream; for text, valid UTF-8 of
/// characters 1 to 4 bytes long, mixed (ASCII, U+0080–U+07FF, U+0800–U+FFFF without surrogates, up to
/// U+10FFFF), exactly `len` bytes long (a character that would not fit is replaced by ASCII).
#[derive(Clone, Debug)]
pub struct Gen {
    kind: Kind,
    state: u32,
    left: usize,
    /// The current character's UTF-8 bytes not handed out yet.
    pending: [u8; 4],
    pending_at: u8,
    pending_len: u8,
}

impl Gen {
    pub fn new(kind: Kind, len: usize, seed: u32) -> Self {
        Gen {
            kind,
            state: seed | 1,
            left: len,
            pending: [0; 4],
            pending_at: 0,
            pending_len: 0,
        }
    }

    /// Bytes still to come.
    pub fn left(&self) -> usize {
        self.left
    }

    fn random(&mut self) -> u32 {
        // xorshift32 (Marsaglia): never 0 from a non-zero state.
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }

    /// The next byte; only while `left() > 0`.
    pub fn next_byte(&mut self) -> u8 {
        self.left -= 1;
        if self.pending_at < self.pending_len {
            self.pending_at += 1;
            return self.pending[usize::from(self.pending_at - 1)];
        }
        let r = self.random();
        if self.kind == Kind::Binary {
            return (r >> 24) as u8;
        }
        let room = self.left + 1;
        let c = match r & 7 {
            4 | 5 if room >= 2 => 0x80 + (r >> 8) % 0x780,
            6 if room >= 3 => {
                let c = 0x800 + (r >> 8) % (0x1_0000 - 0x800 - 0x800);
                // Skip the surrogates U+D800–U+DFFF.
                if c >= 0xD800 { c + 0x800 } else { c }
            }
            7 if room >= 4 => 0x1_0000 + (r >> 8) % 0x10_0000,
            _ => 0x20 + (r >> 8) % 0x5F,
        };
        let c = char::from_u32(c).unwrap_or('?');
        let len = c.encode_utf8(&mut self.pending).len();
        self.pending_len = len as u8;
        self.pending_at = 1;
        self.pending[0]
    }

    /// Fills as much of `buf` as the message has left; returns how much.
    pub fn fill(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.left);
        for b in &mut buf[..n] {
            *b = self.next_byte();
        }
        n
    }
}

/// The client's record of what it expects and what it got.
#[derive(Clone, Debug)]
pub struct Expect {
    /// The message whose echo is being compared: its generator, replayed.
    pub message: Option<Gen>,
    pub kind: Kind,
    pub len: usize,
    pub received: usize,
    /// Chunks the echo arrived in.
    pub chunks: u32,
    /// The echo is complete (its last chunk had `fin`).
    pub done: bool,
    /// The payload of the pong the client waits for, if any; `None` once it came.
    pub pong: Option<&'static [u8]>,
    pub pongs: u32,
    /// Pings from the server (their pongs are automatic).
    pub pings: u32,
    /// The close the client got back: code and reason (at most 32 bytes kept).
    pub close: Option<(u16, [u8; 32], usize)>,
    /// The first mismatch, if any: what went wrong.
    pub error: Option<&'static str>,
}

impl Expect {
    pub const fn new() -> Self {
        Expect {
            message: None,
            kind: Kind::Binary,
            len: 0,
            received: 0,
            chunks: 0,
            done: true,
            pong: None,
            pongs: 0,
            pings: 0,
            close: None,
            error: None,
        }
    }

    /// The echo of a message of `kind`, `len` bytes, from `seed`, is expected next.
    pub fn message(&mut self, kind: Kind, len: usize, seed: u32) {
        self.message = Some(Gen::new(kind, len, seed));
        self.kind = kind;
        self.len = len;
        self.received = 0;
        self.chunks = 0;
        self.done = false;
    }

    fn fail(&mut self, what: &'static str) {
        self.error.get_or_insert(what);
    }

    /// A chunk of a message arrived.
    pub fn data(&mut self, kind: Kind, data: &[u8], fin: bool) {
        let Some(expected) = self.message.as_mut() else {
            return self.fail("a message arrived when none was expected");
        };
        if self.done || kind != self.kind {
            return self.fail("a message of the wrong kind arrived");
        }
        if data.len() > expected.left() {
            return self.fail("the echo is longer than the message");
        }
        if data.iter().any(|&b| b != expected.next_byte()) {
            return self.fail("the echo differs from the message");
        }
        self.received += data.len();
        self.chunks += 1;
        if fin {
            if self.received != self.len {
                return self.fail("the echo ended early");
            }
            self.done = true;
        }
    }

    /// A pong arrived.
    pub fn pong(&mut self, payload: &[u8]) {
        match self.pong {
            Some(expected) if expected == payload => {
                self.pong = None;
                self.pongs += 1;
            }
            _ => self.fail("a pong with the wrong payload, or none expected"),
        }
    }

    /// The close handshake's answer arrived.
    pub fn close(&mut self, code: u16, reason: &str) {
        let mut kept = [0u8; 32];
        let n = reason.len().min(32);
        kept[..n].copy_from_slice(&reason.as_bytes()[..n]);
        self.close = Some((code, kept, n));
    }
}

/// What the server saw, for the checks at the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerLog {
    /// The request asked for the expected resource.
    pub target_ok: bool,
    /// The subprotocol the server chose: an index into its list.
    pub protocol: Option<usize>,
    pub opened: bool,
    /// Messages (last chunks) and chunks echoed.
    pub messages: u32,
    pub chunks: u32,
    pub bytes: u64,
    pub pings: u32,
    /// Pongs that answered the server's own ping with its payload.
    pub pongs: u32,
    /// The client's close code.
    pub close: Option<u16>,
    pub error: Option<&'static str>,
}
