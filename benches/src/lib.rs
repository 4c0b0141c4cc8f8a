//! Shared inputs and in-memory streams for the benchmarks in `benches/`.
//!
//! Every implementation gets the same bytes: a buffer of `n` client-to-server frames (masked, each
//! with its own random key), built once by [`masked_frames`]. The streams here do no I/O: reads copy
//! from memory, writes are discarded (after a `black_box`), so what is measured is each library's
//! own per-message work plus the one copy of the input into its buffer.

use std::hint::black_box;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Opcode of a text frame.
pub const TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const BINARY: u8 = 0x2;

/// The receive cases: (payload size, frames per iteration). About 90 KiB to 1 MiB of input each.
pub const RECV_BINARY: &[(usize, usize)] = &[
    (16, 4096),
    (125, 2048),
    (1024, 256),
    (16 * 1024, 64),
    (64 * 1024, 16),
];
/// The text receive cases (multi-byte UTF-8).
pub const RECV_TEXT: &[(usize, usize)] = &[
    (16, 4096),
    (125, 2048),
    (1024, 256),
    (16 * 1024, 64),
    (64 * 1024, 16),
];
/// The send cases: (payload size, messages per iteration).
pub const SEND: &[(usize, usize)] = &[(16, 4096), (125, 2048), (1024, 256), (64 * 1024, 16)];

/// A tiny deterministic generator for inputs (SplitMix64), independent of every library under test.
pub struct Gen(u64);

impl Gen {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Gen(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `len` random bytes.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut g = Gen::new(seed);
    (0..len).map(|_| g.next_u64() as u8).collect()
}

/// Greek text of exactly `len` bytes (mostly 2-byte characters, spaces and punctuation are ASCII).
pub fn greek_text(len: usize) -> String {
    const SRC: &str = "Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ ξέφωτο. \
                       Ξεσκεπάζω τὴν ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε! ";
    let mut s = String::with_capacity(len);
    'outer: loop {
        for ch in SRC.chars() {
            if s.len() + ch.len_utf8() > len {
                break 'outer;
            }
            s.push(ch);
        }
    }
    while s.len() < len {
        s.push(' ');
    }
    s
}

/// `n` masked, final frames with opcode `opcode` carrying `payload`, each with a random mask key: what a
/// client sends a server.
pub fn masked_frames(opcode: u8, payload: &[u8], n: usize, seed: u64) -> Vec<u8> {
    let mut g = Gen::new(seed);
    let mut out = Vec::with_capacity(n * (payload.len() + 14));
    for _ in 0..n {
        out.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= 0xffff {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let key = (g.next_u64() as u32).to_be_bytes();
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }
    out
}

/// A blocking stream for tungstenite: reads from an in-memory input (rewound by the benchmark at the
/// start of each iteration), discards what is written.
pub struct MemStream {
    input: Vec<u8>,
    pos: usize,
}

impl MemStream {
    /// A stream that reads `input`.
    pub fn new(input: Vec<u8>) -> Self {
        MemStream { input, pos: 0 }
    }

    /// Starts reading the input again from its beginning.
    pub fn rewind(&mut self) {
        self.pos = 0;
    }
}

impl io::Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.input[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl io::Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An async stream for fastwebsockets: reads the input over and over (the socket is moved into the
/// `WebSocket`, so it cannot be rewound from outside), discards what is written. Each read stops at the
/// end of the input, so every iteration copies the same bytes on average.
pub struct CycleStream {
    input: Vec<u8>,
    pos: usize,
}

impl CycleStream {
    /// A stream that reads `input` cyclically.
    pub fn new(input: Vec<u8>) -> Self {
        CycleStream { input, pos: 0 }
    }
}

impl tokio::io::AsyncRead for CycleStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.input.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let rest = &this.input[this.pos..];
        let n = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..n]);
        this.pos += n;
        if this.pos == this.input.len() {
            this.pos = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for CycleStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        black_box(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        black_box(bufs);
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// SplitMix64 as a `rand_core` 0.6 generator, for embedded-websocket's client (the same generator as
/// `websocket_driver::mask_source::SplitMix`, so the send rows compare masking, not RNGs).
pub struct SplitMix06(Gen);

impl SplitMix06 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix06(Gen::new(seed))
    }
}

impl rand_core_06::RngCore for SplitMix06 {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let word = self.0.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// A current-thread tokio runtime (no I/O or time driver: the streams here never wait).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

/// Checks that `frame` is one masked, final client frame with opcode `opcode` carrying `payload`
/// (used once per benchmark, outside the measured work, to check the harness).
pub fn check_client_frame(frame: &[u8], opcode: u8, payload: &[u8]) {
    assert_eq!(frame[0], 0x80 | opcode, "first byte");
    assert_eq!(frame[1] & 0x80, 0x80, "mask bit");
    let (len, at) = match frame[1] & 0x7f {
        126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
        127 => (
            u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    assert_eq!(len, payload.len(), "length");
    assert_eq!(frame.len(), at + 4 + len, "frame size");
    let key = &frame[at..at + 4];
    let unmasked: Vec<u8> = frame[at + 4..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    assert!(unmasked == payload, "payload");
}
