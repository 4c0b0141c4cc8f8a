//! The connection's one state (RFC 6455 §4, §7; BEHAVIOUR S1): where the opening handshake stands, whether
//! the connection is open, closing or closed, and the deadline or owed output that each of those carries.
//!
//! Every variant holds exactly what its state needs, so invalid combinations — a handshake deadline on an
//! open connection, a close frame owed while open, a transport wait on a server — cannot be written down.
//! Nothing here touches a buffer; the driver's step functions decide the transitions.

use super::ending::Cause;
use crate::config::Config;
use crate::handshake::client::Offer;
use crate::time::Instant;

/// A deadline that may wait for the first `poll` to learn what time it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Timer {
    /// No deadline.
    Off,
    /// A deadline armed when the driver is next told the time (`poll`, `handle_timeout`), counted
    /// from that `now`: the state was entered by an application call, which knows no time.
    Unset,
    /// The deadline.
    At(Instant),
}

impl Timer {
    /// `timeout` after `now`, or [`Timer::Unset`] when no poll has told the time yet.
    pub(super) fn after(now: Option<Instant>, timeout: crate::time::Duration) -> Timer {
        match now {
            Some(now) => Timer::At(now + timeout),
            None => Timer::Unset,
        }
    }

    /// When the timer wants the driver called: its deadline; for an unset one `now`, the latest time
    /// the driver was told (none before the first), so that the caller tells it the time at once.
    pub(super) fn at(self, now: Option<Instant>) -> Option<Instant> {
        match self {
            Timer::At(t) => Some(t),
            Timer::Unset => now,
            Timer::Off => None,
        }
    }
}

/// Where the opening handshake stands (RFC 6455 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Server, raw mode: the request head is being read; `scanned` bytes had no blank line.
    ReadRequest { scanned: usize },
    /// Server: the request head `[0, len)` was reported and waits for `accept` or `refuse`.
    RequestReported { len: usize },
    /// Server: the request was not an upgrade; what follows its head is its body (H6).
    Body,
    /// Server, hixie-76: the answer's head is queued and room for the digest reserved; the 8-byte
    /// request body is awaited (H14).
    #[cfg(feature = "drafts")]
    Key3 {
        slot: crate::buffer::Slot,
        key1: u32,
        key2: u32,
    },
    /// Client: not started.
    ClientIdle,
    /// Client: a proxy CONNECT is queued; the proxy's response head is being read.
    ReadProxyResponse { scanned: usize },
    /// Client: the request is queued; the response head is being read.
    ReadResponse { scanned: usize, offer: Offer },
    /// Client: the response head `[0, len)` passed the checks that need nothing from the application and
    /// waits for [`Driver::check_response`](super::Driver::check_response) with the offered subprotocols.
    ResponseReported { len: usize, offer: Offer },
}

/// Keepalive (RFC 6455 §5.5.2: a ping "may serve ... as a keepalive"): when the peer was last heard
/// from and whether a keepalive ping is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Keepalive {
    /// When the peer was last heard from; `None` until the first `poll` tells the time.
    pub(super) heard: Option<Instant>,
    pub(super) ping: Ping,
}

/// The keepalive ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ping {
    /// The peer spoke within the interval.
    Quiet,
    /// The peer has been silent since the ping fell due at this instant; the ping is not written yet
    /// (the transmit ring was full).
    Owed(Instant),
    /// The ping that fell due at this instant is queued; the peer has been silent since.
    Sent(Instant),
}

impl Keepalive {
    pub(super) fn new(now: Option<Instant>) -> Self {
        Keepalive {
            heard: now,
            ping: Ping::Quiet,
        }
    }

    /// The next instant a keepalive timer fires: the ping, or the end of the wait for an answer.
    #[inline]
    pub(super) fn deadline(&self, config: &Config) -> Option<Instant> {
        let interval = config.ping_interval()?;
        match self.ping {
            Ping::Quiet => Some(self.heard? + interval),
            Ping::Owed(since) | Ping::Sent(since) => Some(since + config.pong_timeout()),
        }
    }

    /// The peer sent something: it is alive.
    #[inline]
    pub(super) fn heard(&mut self, now: Option<Instant>) {
        self.heard = now;
        self.ping = Ping::Quiet;
    }
}

/// The connection's state, with what each state needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Link {
    /// The opening handshake (S1 connecting), and its deadline.
    Connecting { phase: Phase, deadline: Timer },
    /// Frames flow. `announced` once the open event was returned.
    Open {
        announced: bool,
        keepalive: Keepalive,
    },
    /// Our close frame is out (S4): the peer's is awaited until `deadline`; its pings are still
    /// answered (F13).
    Closing { announced: bool, deadline: Timer },
    /// The closing handshake completed (S5), or the connection was closed without an event due
    /// (`refuse`, `abort`). A client waits for the server to close the transport until `transport`
    /// (S8); `Off` once it may close it itself, and always on a server.
    Closed { transport: Timer },
    /// The connection ended early (S3, S6, H9, timeouts): the close frame and the close event still
    /// owed. `head` is a failed response head kept readable until the next poll (H9).
    Ended {
        cause: Cause,
        frame_owed: bool,
        event_owed: bool,
        head: Option<usize>,
    },
}

impl Link {
    /// The public state (S1).
    pub(super) fn state(&self) -> super::State {
        use super::State;
        match self {
            Link::Connecting { .. } => State::Connecting,
            Link::Open { .. } => State::Open,
            Link::Closing { .. } => State::Closing,
            Link::Closed { .. } | Link::Ended { .. } => State::Closed,
        }
    }

    /// The next instant at which a timer of this state fires (`now`, the latest time the driver was
    /// told, for a timer not armed yet).
    #[inline]
    pub(super) fn deadline(&self, config: &Config, now: Option<Instant>) -> Option<Instant> {
        // Open first, on its own: every poll of an open connection asks (a test and a branch, not a
        // jump through a table).
        if let Link::Open { keepalive, .. } = self {
            return keepalive.deadline(config);
        }
        match self {
            Link::Connecting { deadline, .. } | Link::Closing { deadline, .. } => deadline.at(now),
            Link::Open { keepalive, .. } => keepalive.deadline(config),
            Link::Closed { transport } => transport.at(now),
            Link::Ended { .. } => None,
        }
    }

    /// Arms the timers entered without knowing the time (before the first poll, or by an application
    /// call), now that `now` is known.
    pub(super) fn arm(&mut self, now: Instant, config: &Config) {
        match self {
            Link::Connecting { deadline, .. } if *deadline == Timer::Unset => {
                *deadline = match config.handshake_timeout() {
                    Some(t) => Timer::At(now + t),
                    None => Timer::Off,
                }
            }
            Link::Closing { deadline, .. } if *deadline == Timer::Unset => {
                *deadline = Timer::At(now + config.close_timeout());
            }
            Link::Closed { transport } if *transport == Timer::Unset => {
                *transport = Timer::At(now + config.close_timeout());
            }
            Link::Open { keepalive, .. } if keepalive.heard.is_none() => {
                keepalive.heard = Some(now)
            }
            _ => {}
        }
    }
}
