//! How slowly a peer may take what a blocking connection writes, and which write errors end it.
//!
//! The write timeout a connection sets (`ping_interval + pong_timeout`) bounds a write that makes no
//! progress at all. A peer that reads a few bytes now and then makes some, and each write then returns
//! within the timeout having sent those few bytes: alone, the timeout would let it hold the writing
//! thread for as long as it likes, with keepalive never run (a blocking write does not read the pong).
//! So the peer must also take at least [`MIN_PROGRESS`] bytes (or everything pending, when less is) in
//! every span of that timeout — a minimum data rate, as HTTP servers keep for slow readers.

use std::io;
use std::time::{Duration, Instant};

/// What the peer must take of our output in each span of the write timeout: 4 KiB per 50 s with the
/// default options, about 80 bytes a second, which any live reader exceeds.
pub(super) const MIN_PROGRESS: usize = 4096;

/// The pace of one blocking drain of the output.
#[derive(Debug)]
pub(super) struct Pace {
    /// The span the peer has to take `MIN_PROGRESS` bytes (`None`: the application bounds writes
    /// itself, and no pace is kept).
    window: Option<Duration>,
    since: Instant,
    taken: usize,
}

impl Pace {
    /// A drain starting now, with the connection's write timeout (`None` when it set none).
    pub(super) fn new(window: Option<Duration>) -> Self {
        Pace {
            window,
            since: Instant::now(),
            taken: 0,
        }
    }

    /// Counts `n` bytes the peer took, with `left` still to write: `TimedOut` when a whole window
    /// passed in which it took less than `MIN_PROGRESS` and did not take everything.
    pub(super) fn took(&mut self, n: usize, left: usize) -> io::Result<()> {
        let Some(window) = self.window else {
            return Ok(());
        };
        self.taken += n;
        if self.taken >= MIN_PROGRESS || left == 0 {
            self.since = Instant::now();
            self.taken = 0;
        } else if self.since.elapsed() >= window {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer takes what is written too slowly",
            ));
        }
        Ok(())
    }
}

/// Whether a write error ends the connection: any but an interruption, and but a timeout of the
/// application's own write timeout (`ours` false), which it may retry — the output stays queued.
pub(super) fn is_fatal(e: &io::Error, ours: bool) -> bool {
    match e.kind() {
        io::ErrorKind::Interrupted => false,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ours,
        _ => true,
    }
}
