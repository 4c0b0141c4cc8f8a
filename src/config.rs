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
    /// with 431. In the handshake phases the receive buffer must hold at least this much.
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

    /// How long a client waits for the server to close the transport after the closing handshake before
    /// closing it itself (S8; default 5 s; at most 2^32 − 1 ms).
    pub const fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = clamp_millis(timeout);
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

    /// The configured largest message.
    pub const fn get_max_length(&self) -> u64 {
        self.max_length
    }
}
