//! Connection options, set before the connection starts (the originals' `max_length`, `require_masking`,
//! `masking`, plus in-place reassembly).
//!
//! Plain data: no validation happens here beyond what the setters' types forbid.

use crate::handshake::head::MAX_HEADERS;
use crate::time::Duration;

const fn clamp_millis(d: Duration) -> u32 {
    if d.millis() > u32::MAX as u64 {
        u32::MAX
    } else {
        d.millis() as u32
    }
}

/// The default largest message: 2^26 − 1 bytes, as the originals.
pub const DEFAULT_MAX_LENGTH: u64 = (1 << 26) - 1;

/// The default limit of an HTTP head, request or response (BEHAVIOUR H7).
pub const DEFAULT_HEAD_LIMIT: usize = 8 * 1024;

/// The default time a client waits for the server to close the transport after the closing handshake
/// (S8).
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time a peer may stay silent after a keepalive ping fell due before the connection is
/// closed.
pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(20);

/// Options of a [`Driver`](crate::Driver). Build with [`Config::default`] and the setters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    pub(crate) max_length: u64,
    pub(crate) require_masking: bool,
    pub(crate) masking: bool,
    pub(crate) reassemble: bool,
    pub(crate) allow_drafts: bool,
    max_headers: u8,
    pub(crate) head_limit: u32,
    /// Milliseconds (kept small: the driver holds a copy).
    handshake_timeout: Option<u32>,
    close_timeout: u32,
    /// Milliseconds; `None`: no keepalive.
    ping_interval: Option<u32>,
    pong_timeout: u32,
    pub(crate) require_host: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_length: DEFAULT_MAX_LENGTH,
            require_masking: true,
            masking: true,
            reassemble: false,
            allow_drafts: false,
            head_limit: DEFAULT_HEAD_LIMIT as u32,
            max_headers: MAX_HEADERS as u8,
            handshake_timeout: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT.millis() as u32,
            ping_interval: None,
            pong_timeout: DEFAULT_PONG_TIMEOUT.millis() as u32,
            require_host: true,
        }
    }
}

impl Config {
    /// The largest message accepted, in bytes (F9): a longer one fails the connection with 1009, decided
    /// from the frame header before its payload is buffered. Equal to the limit is allowed.
    pub const fn max_length(mut self, bytes: u64) -> Self {
        self.max_length = bytes;
        self
    }

    /// Server only: refuse unmasked frames from the client (RFC 6455 §5.1; F7). Default on.
    pub const fn require_masking(mut self, on: bool) -> Self {
        self.require_masking = on;
        self
    }

    /// Client only: mask outgoing frames (RFC 6455 §5.3; F16). Default on; turning it off breaks
    /// RFC 6455 and exists for the originals' option of that name.
    pub const fn masking(mut self, on: bool) -> Self {
        self.masking = on;
        self
    }

    /// Deliver a fragmented message that fits in the receive buffer as one view, moving each fragment's
    /// payload once past the headers and control frames between (F14). Default off: fragments arrive as
    /// chunks. Either way, a message larger than the buffer arrives as chunks.
    pub const fn reassemble(mut self, on: bool) -> Self {
        self.reassemble = on;
        self
    }

    /// Serve the legacy hixie-75 and hixie-76 drafts (V3). Default off, as in the newest original after
    /// GHSA-xv26-6w52-cph6; needs the `drafts` cargo feature too.
    pub const fn allow_drafts(mut self, on: bool) -> Self {
        self.allow_drafts = on;
        self
    }

    /// The largest HTTP head read, request or response (H7; default 8 KiB). A larger request is refused
    /// with 431. The limit is clamped to the receive buffer's capacity: with a 2 KiB buffer a head over
    /// 2 KiB is refused the same way, never a buffer error.
    pub const fn head_limit(mut self, bytes: u32) -> Self {
        self.head_limit = bytes;
        self
    }

    /// The most header lines a head may have (H7; default and maximum 64).
    pub const fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = if count < MAX_HEADERS {
            count as u8
        } else {
            MAX_HEADERS as u8
        };
        self
    }

    /// Fail a handshake that has not completed this long after the first `poll` (off by default;
    /// at most 2^32 − 1 ms).
    pub const fn with_handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = match timeout {
            Some(t) => Some(clamp_millis(t)),
            None => None,
        };
        self
    }

    /// How long the closing may take (RFC 6455 §7.1.1, §7.1.3; S4, S8; default 5 s; at most
    /// 2^32 − 1 ms). One `close_timeout` serves both waits of the closing: armed when `close()` sends
    /// our close frame (counted from the `now` of the next `poll`), it bounds the wait for the peer's
    /// close — past it the connection is closed with 1006 — and then a client's wait for the server to
    /// close the transport (S8), so the whole closing never takes longer. When the peer closes first, a
    /// client waits this long for the server to close the transport.
    pub const fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = clamp_millis(timeout);
        self
    }

    /// Keepalive (RFC 6455 §5.5.2): when the peer has been silent for `interval`, a ping is sent; if it
    /// stays silent for the [pong timeout](Self::with_pong_timeout) after that, the connection is closed
    /// and the close event reports 1006 (no close frame is sent: a peer that answers no ping would not
    /// answer a close either). Anything received — a frame header or payload bytes, not only a pong —
    /// counts as the peer speaking. Off (`None`) by default; at most 2^32 − 1 ms.
    pub const fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = match interval {
            Some(t) => Some(clamp_millis(t)),
            None => None,
        };
        self
    }

    /// How long the peer may stay silent after a keepalive ping fell due (default 20 s).
    pub const fn with_pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = clamp_millis(timeout);
        self
    }

    /// Server: refuse a request without a `Host` header with 400 (RFC 6455 §4.2.1; H3). Default on;
    /// off restores the originals' leniency.
    pub const fn require_host(mut self, on: bool) -> Self {
        self.require_host = on;
        self
    }

    /// The configured head limit.
    pub const fn get_head_limit(&self) -> usize {
        self.head_limit as usize
    }

    pub(crate) const fn header_limit(&self) -> usize {
        self.max_headers as usize
    }

    pub(crate) const fn handshake_timeout(&self) -> Option<Duration> {
        match self.handshake_timeout {
            Some(ms) => Some(Duration::from_millis(ms as u64)),
            None => None,
        }
    }

    pub(crate) const fn close_timeout(&self) -> Duration {
        Duration::from_millis(self.close_timeout as u64)
    }

    pub(crate) const fn ping_interval(&self) -> Option<Duration> {
        match self.ping_interval {
            Some(ms) => Some(Duration::from_millis(ms as u64)),
            None => None,
        }
    }

    pub(crate) const fn pong_timeout(&self) -> Duration {
        Duration::from_millis(self.pong_timeout as u64)
    }

    /// The configured largest message.
    pub const fn get_max_length(&self) -> u64 {
        self.max_length
    }
}
