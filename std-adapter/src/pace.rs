//! How slowly a peer may take what we write before a send gives up on it, and which write errors end
//! a blocking connection.
//!
//! A send waiting on a peer that does not read would wait for good: keepalive cannot end it, as the
//! pong is not read while the sender waits (a blocking write, or a tokio `send` on an unsplit stream).
//! The blocking write timeout a connection sets (`ping_interval + pong_timeout`) bounds a write that
//! makes no progress at all; but a peer that reads a few bytes now and then makes some. So the peer
//! must take at least [`MIN_PROGRESS`] bytes (or everything pending, when less is) in every span of
//! that [`window`] — a minimum data rate, as HTTP servers keep for slow readers.

use std::io;
use std::time::{Duration, Instant};

use crate::Options;

/// What the peer must take of our output in each span of the write timeout: 4 KiB per 50 s with the
/// default options, about 80 bytes a second, which any live reader exceeds.
pub(crate) const MIN_PROGRESS: usize = 4096;

/// The span in which the peer must take [`MIN_PROGRESS`] bytes: keepalive's `ping_interval +
/// pong_timeout`, how long a silent peer is given (`None` without keepalive: no pace is kept).
pub(crate) fn window(options: &Options) -> Option<Duration> {
    options.ping_interval.map(|i| i + options.pong_timeout)
}

/// The pace of one blocking drain of the output.
#[derive(Debug)]
pub(crate) struct Pace {
    /// The span the peer has to take `MIN_PROGRESS` bytes (`None`: the application bounds writes
    /// itself, and no pace is kept).
    window: Option<Duration>,
    since: Instant,
    taken: usize,
}

impl Pace {
    /// A drain starting now, with the connection's write timeout (`None` when it set none).
    pub(crate) fn new(window: Option<Duration>) -> Self {
        Pace {
            window,
            since: Instant::now(),
            taken: 0,
        }
    }

    /// Counts `n` bytes the peer took, with `left` still to write: `TimedOut` when a whole window
    /// passed in which it took less than `MIN_PROGRESS` and did not take everything.
    pub(crate) fn took(&mut self, n: usize, left: usize) -> io::Result<()> {
        let Some(window) = self.window else {
            return Ok(());
        };
        self.taken += n;
        if self.taken >= MIN_PROGRESS || left == 0 {
            self.since = Instant::now();
            self.taken = 0;
        } else if self.since.elapsed() >= window {
            return Err(too_slow());
        }
        Ok(())
    }
}

/// The error of a send the peer took too little of.
pub(crate) fn too_slow() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, SLOW)
}

/// Why: also the reason of the close event (1006) of a connection that ended so.
pub(crate) const SLOW: &str = "The peer takes what is written too slowly";

/// Whether a write error ends the connection: any but an interruption, and but a timeout of the
/// application's own write timeout (`ours` false), which it may retry — the output stays queued.
pub(crate) fn is_fatal(e: &io::Error, ours: bool) -> bool {
    match e.kind() {
        io::ErrorKind::Interrupted => false,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ours,
        _ => true,
    }
}
