//! The original library's options: `max_length`, `protocols`, and the rest of the core's switches.
//!
//! Plain data with builder setters; turned into the core's `Config` when a driver is made.

use std::time::Duration;

use websocket_driver::time::Duration as CoreDuration;
use websocket_driver::{Config, DEFAULT_MAX_LENGTH};

/// Options of a [`Driver`](crate::Driver).
#[derive(Clone, Debug)]
pub struct Options {
    /// The largest message accepted, in bytes, before and after extensions (default 2^26 − 1).
    pub max_length: u64,
    /// Subprotocols, in order of preference: offered by a client, supported by a server.
    pub protocols: Vec<String>,
    /// Serve the legacy hixie-75/76 drafts (default off).
    pub allow_drafts: bool,
    /// Server: refuse unmasked frames (default on).
    pub require_masking: bool,
    /// Client: mask outgoing frames (default on; off breaks RFC 6455).
    pub masking: bool,
    /// Hixie drafts: the connection is TLS, so the location is `wss://`.
    pub secure: bool,
    /// Receive buffer size: messages up to this size arrive in one piece from the core (default 64 KiB).
    pub receive_buffer: usize,
    /// Transmit ring size: larger messages are written straight to the socket (default 64 KiB).
    pub transmit_buffer: usize,
    /// Fail an opening handshake that has not completed this long after it started (default 10 s: a
    /// slowloris peer holds a connection that long at most; `None` waits for ever, as the original
    /// did; at most 2^32 − 1 ms).
    pub handshake_timeout: Option<Duration>,
    /// How long the closing may take: the wait for the peer's close frame (then 1006) and a client's
    /// wait for the server to close the transport (RFC 6455 §7.1.1, behaviour S4, S8; default 5 s).
    pub close_timeout: Duration,
    /// Keepalive (RFC 6455 §5.5.2): after this long without hearing from the peer a ping is sent, and a
    /// peer still silent `pong_timeout` later is closed (1006). Default 30 s, so that a dead or hostile
    /// peer (one that stops reading, say) never holds a connection for good; `None` turns it off.
    /// `ping_interval + pong_timeout` is also the window in which a peer must take 4 KiB of what a
    /// send waits to write (or all of it), else the send fails and the connection ends; `None` turns
    /// that pace off too.
    pub ping_interval: Option<Duration>,
    /// How long a peer may stay silent after a keepalive ping fell due (default 20 s).
    pub pong_timeout: Duration,
    /// Server: refuse a request without a `Host` header (RFC 6455 §4.2.1, behaviour H3; default on,
    /// off restores the originals' leniency).
    pub require_host: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_length: DEFAULT_MAX_LENGTH,
            protocols: Vec::new(),
            allow_drafts: false,
            require_masking: true,
            masking: true,
            secure: false,
            receive_buffer: 64 * 1024,
            transmit_buffer: 64 * 1024,
            handshake_timeout: Some(Duration::from_secs(10)),
            close_timeout: Duration::from_secs(5),
            ping_interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(20),
            require_host: true,
        }
    }
}

impl Options {
    /// Default options.
    pub fn new() -> Self {
        Options::default()
    }

    /// Sets `max_length`.
    pub fn max_length(mut self, bytes: u64) -> Self {
        self.max_length = bytes;
        self
    }

    /// Sets the subprotocols.
    pub fn protocols<I: IntoIterator<Item = S>, S: Into<String>>(mut self, protocols: I) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `allow_drafts`.
    pub fn allow_drafts(mut self, on: bool) -> Self {
        self.allow_drafts = on;
        self
    }

    /// Sets `require_masking`.
    pub fn require_masking(mut self, on: bool) -> Self {
        self.require_masking = on;
        self
    }

    /// Sets `masking`.
    pub fn masking(mut self, on: bool) -> Self {
        self.masking = on;
        self
    }

    /// Sets `secure`.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// Sets `handshake_timeout`.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets `close_timeout`.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets `ping_interval` (keepalive).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets `pong_timeout`.
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Sets `require_host`.
    pub fn require_host(mut self, on: bool) -> Self {
        self.require_host = on;
        self
    }

    pub(crate) fn config(&self) -> Config {
        let millis =
            |d: Duration| CoreDuration::from_millis(d.as_millis().min(u128::from(u32::MAX)) as u64);
        Config::default()
            .with_handshake_timeout(self.handshake_timeout.map(millis))
            .with_close_timeout(millis(self.close_timeout))
            .with_ping_interval(self.ping_interval.map(millis))
            .with_pong_timeout(millis(self.pong_timeout))
            .max_length(self.max_length)
            .require_masking(self.require_masking)
            .masking(self.masking)
            .allow_drafts(self.allow_drafts)
            .require_host(self.require_host)
            .head_limit(self.receive_buffer.min(8 * 1024) as u32)
    }
}
