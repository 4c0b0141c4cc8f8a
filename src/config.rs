//! Connection options, set before the connection starts (the originals' `max_length`, `require_masking`,
//! `masking`, plus in-place reassembly).
//!
//! Plain data: no validation happens here beyond what the setters' types forbid.

/// The default largest message: 2^26 − 1 bytes, as the originals.
pub const DEFAULT_MAX_LENGTH: u64 = (1 << 26) - 1;

/// Options of a [`Driver`](crate::Driver). Build with [`Config::default`] and the setters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    pub(crate) max_length: u64,
    pub(crate) require_masking: bool,
    pub(crate) masking: bool,
    pub(crate) reassemble: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_length: DEFAULT_MAX_LENGTH,
            require_masking: true,
            masking: true,
            reassemble: false,
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

    /// The configured largest message.
    pub const fn get_max_length(&self) -> u64 {
        self.max_length
    }
}
