//! The connection state machine (RFC 6455 §5–§7): framing, fragmentation, control frames, closing.
//!
//! The driver owns no buffer, no clock and no random generator: every call borrows what it needs. It
//! never blocks, never allocates and never panics on peer bytes. This file holds the type, its
//! getters and `poll`; `recv.rs` decides what the received bytes mean, `send.rs` writes frames.
//!
//! # Call order
//! 1. read from the transport into [`RxBuf::free_space`], then [`RxBuf::commit`];
//! 2. call [`Driver::poll`] until it returns `Ok(None)`, handling each event (sending is allowed while
//!    an event's data is held: it borrows the receive buffer, not the driver);
//! 3. write [`TxRing::peek`] to the transport and [`TxRing::consume`] what was written;
//! 4. repeat. When the state is [`State::Closed`] and the ring is drained, close the transport.

mod client;
#[cfg(feature = "drafts")]
mod draft;
mod ending;
/// Not on bare metal, where flash counts more than the speed it buys: the full path gives the same
/// events.
#[cfg(not(target_os = "none"))]
mod fast;
mod handshake;
mod recv;
mod send;
mod state;

use crate::buffer::{RxBuf, TxRing};
use crate::config::Config;
use crate::error::Timeout;
use crate::error::{Error, ProtocolError};
use crate::event::{DataKind, Event};
use crate::handshake::{HandshakeError, Version};
use crate::mask_source::MaskSource;
use crate::time::Instant;
use crate::utf8::Utf8Validator;
use crate::wire::{CloseCode, ClosePayload, FrameHeader, OpCode, Rsv, Status};
use ending::Cause;
pub use handshake::HandshakeCallError;
use state::{Keepalive, Link, Phase, Ping, Timer};

/// The smallest receive buffer `poll` accepts: a maximal control frame (2 + 4 + 125 bytes) behind the
/// up to 3 bytes of a code point split between text chunks. A frame's header is dropped as soon as it is
/// read, so a control frame with a longer, non-minimal length encoding (up to 14 header bytes) fits too.
pub const MIN_RX_CAPACITY: usize = 134;

/// The smallest transmit ring `poll` accepts: a maximal masked control frame.
pub const MIN_TX_CAPACITY: usize = 131;

/// Which end of the connection we are (RFC 6455 §5.1: clients mask, servers don't).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// The end that accepted the connection.
    Server,
    /// The end that opened the connection.
    Client,
}

/// The connection's state (RFC 6455 §4, §7; S1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum State {
    /// The opening handshake has not completed.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's; received messages are still delivered (S4).
    Closing,
    /// The closing handshake completed or the connection failed: nothing more is sent or received.
    Closed,
}

/// A frame whose header has been read and accepted.
#[derive(Clone, Copy, Debug)]
struct Frame {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    len: u64,
    /// Payload bytes already unmasked and moved into place.
    done: u64,
}

/// A data message being received.
#[derive(Clone, Copy, Debug)]
struct Message {
    kind: DataKind,
    rsv: Rsv,
    /// Payload bytes announced so far by frame headers (for `max_length`, F9).
    len: u64,
}

/// The receive side's bookkeeping. Positions are offsets into the readable region of the receive
/// buffer: `[0, held)` are payload bytes of the current message kept for delivery (or a split code
/// point), `[held, cursor)` are bytes already handled (headers, control frames) that the next payload
/// bytes are moved over, `[cursor, ..)` has not been looked at.
#[derive(Clone, Copy, Debug, Default)]
struct Recv {
    frame: Option<Frame>,
    message: Option<Message>,
    held: usize,
    cursor: usize,
    /// Bytes of `[0, held)` already fed to `utf8`.
    validated: usize,
    utf8: Utf8Validator,
}

/// The driver with the buffers and mask source of one `poll`: the context every step function shares
/// (their methods live in one `impl` block per file, bounded once).
struct Conn<'x, S, T, R: ?Sized> {
    d: &'x mut Driver,
    rx: &'x mut RxBuf<S>,
    tx: &'x mut TxRing<T>,
    rng: &'x mut R,
}

/// A WebSocket connection's protocol state, in either role.
///
/// It is small — its size on 64-bit targets is asserted in a test (at most 256 bytes, 288 with the
/// `drafts` feature) — and holds no buffer: the receive buffer and transmit ring are the caller's.
///
/// Create one with [`Driver::server`] or [`Driver::client`] (or the `_upgraded` constructors for a
/// connection whose opening handshake is done), then feed it bytes through [`poll`](Self::poll) and send
/// with [`text`](Self::text) and the other verbs. See the module docs for the call order.
///
/// # Timers
/// The driver reads no clock: every `poll` passes `now`, and [`poll_timeout`](Self::poll_timeout) says
/// when the next timer fires — the handshake deadline, the keepalive ping and its answer
/// ([`Config::with_ping_interval`]), the closing deadline ([`Config::with_close_timeout`]). `poll` handles
/// the timers that are due at its `now`; [`handle_timeout`](Self::handle_timeout) does the same without
/// reading input, and the next `poll` then queues what fell due (a keepalive ping) and reports what
/// ended (the close event).
#[derive(Clone, Debug)]
pub struct Driver {
    role: Role,
    config: Config,
    allowed_rsv: Rsv,
    /// The kind of the message being sent in fragments, if any.
    sending: Option<DataKind>,
    version: Version,
    /// The chosen subprotocol: an index into the server's list, or into the client's offer.
    protocol: Option<u8>,
    /// The `now` of the latest poll; `None` before the first.
    now: Option<Instant>,
    link: Link,
    recv: Recv,
    /// The last automatic pong written while coalescing ([`coalesce_pongs`](Self::coalesce_pongs)):
    /// where it ends in the transmit ring's output (a logical position) and its length (0: none).
    pong_end: u64,
    pong_len: u8,
    coalesce: bool,
    /// The legacy framing's decoder, on a draft connection.
    #[cfg(feature = "drafts")]
    draft: crate::draft::framing::Decoder,
}

impl Driver {
    /// A server that reads the client's HTTP request from the byte stream (raw mode, H6a): `poll`
    /// reports [`Event::Connect`], then the application calls [`accept`](Self::accept) or
    /// [`refuse`](Self::refuse). With a request its HTTP server already parsed (H6b), call
    /// [`accept_request`](Self::accept_request) instead, without polling first.
    pub fn server(config: Config) -> Self {
        Driver::new(
            Role::Server,
            Link::Connecting {
                phase: Phase::ReadRequest { scanned: 0 },
                deadline: Timer::Unset,
            },
            config,
        )
    }

    /// A client: call [`start`](Self::start) (after [`connect_proxy`](Self::connect_proxy) when going
    /// through a proxy) to send the request.
    pub fn client(config: Config) -> Self {
        Driver::new(
            Role::Client,
            Link::Connecting {
                phase: Phase::ClientIdle,
                deadline: Timer::Unset,
            },
            config,
        )
    }

    /// A server for a connection whose upgrade is already done: open at once.
    pub fn server_upgraded(config: Config) -> Self {
        Driver::new(Role::Server, Driver::opened(None, true), config)
    }

    /// A client for a connection whose upgrade is already done: open at once.
    pub fn client_upgraded(config: Config) -> Self {
        Driver::new(Role::Client, Driver::opened(None, true), config)
    }

    fn new(role: Role, link: Link, config: Config) -> Self {
        Driver {
            role,
            config,
            allowed_rsv: Rsv::NONE,
            sending: None,
            version: Version::Hybi(13),
            protocol: None,
            now: None,
            link,
            recv: Recv::default(),
            pong_end: 0,
            pong_len: 0,
            coalesce: false,
            #[cfg(feature = "drafts")]
            draft: crate::draft::framing::Decoder::new(false, 0),
        }
    }

    /// The open state, its keepalive counted from `now`.
    fn opened(now: Option<Instant>, announced: bool) -> Link {
        Link::Open {
            announced,
            keepalive: Keepalive::new(now),
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection state (S1).
    pub fn state(&self) -> State {
        self.link.state()
    }

    /// The options.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The RSV bits negotiated extensions own.
    pub fn allowed_rsv(&self) -> Rsv {
        self.allowed_rsv
    }

    /// Lets messages carry `rsv` (RFC 6455 §5.8): called by whoever negotiated an extension that owns
    /// those bits. Such messages are delivered as [`Event::Extension`], unchecked.
    pub fn set_allowed_rsv(&mut self, rsv: Rsv) {
        self.allowed_rsv = rsv;
    }

    /// While on, a ping's automatic pong takes the place of the previous automatic pong when that one
    /// is still wholly unsent and nothing was queued after it (RFC 6455 §5.5.3: an endpoint "MAY elect
    /// to send a Pong frame for only the most recently processed Ping frame"), instead of queuing
    /// behind it; a full ring then also makes room this way. Off by default: every ping gets its own
    /// pong.
    ///
    /// For a caller whose peer's replies pile up unsent (a ping flood while the transport is busy with
    /// a large message): turned on past a threshold, the pongs stop growing and the connection can
    /// keep reading. The transmit ring must stay the same one for the connection's life (it is
    /// recognised by its output's position). "Unsent" means not consumed: a caller that copies output
    /// out of the ring and polls before consuming it must leave this off while the copy reaches the
    /// ring's last [`MIN_TX_CAPACITY`] bytes, where such a pong lies.
    pub fn coalesce_pongs(&mut self, on: bool) {
        self.coalesce = on;
    }

    /// Payload bytes of the data frame being received that are not in `rx` yet (RFC 6455 §5.2 announces
    /// a frame's length in its header): that of the frame under way, or, once the connection is open,
    /// of the frame whose header the bytes committed since the latest `poll` begin with; 0 between
    /// frames, for control frames, while the header is incomplete, and once the connection has ended.
    /// Bytes committed since the latest `poll` count as arrived.
    ///
    /// For sizing reads: a caller that reads at most this much while it is large (past a few KiB) ends
    /// its read where the frame ends, so the receive buffer empties after the frame and the next frame
    /// starts at its front instead of being moved there ([`RxBuf::free_space`]'s compaction); one that
    /// grows its buffer learns at once how large the frame is. A caller that reads the rest of a frame
    /// before polling again, when the transport has it at hand, has its text validated once: a text
    /// frame found incomplete by `poll` has its arrived part checked then (invalid UTF-8 fails at once,
    /// F10) and again with the rest, when the whole is handed out as one `&str`.
    #[must_use]
    pub fn frame_remaining<S: AsRef<[u8]> + AsMut<[u8]>>(&self, rx: &RxBuf<S>) -> u64 {
        if !matches!(self.link, Link::Open { .. } | Link::Closing { .. }) {
            // Ended or closed: no frame will be read any more.
            return 0;
        }
        let unread = rx.readable().get(self.recv.cursor..).unwrap_or_default();
        match self.recv.frame {
            Some(frame) if !frame.opcode.is_control() => {
                (frame.len - frame.done).saturating_sub(unread.len() as u64)
            }
            Some(_) => 0,
            None => {
                if !matches!(
                    self.link,
                    Link::Open {
                        announced: true,
                        ..
                    }
                ) || self.on_draft()
                {
                    return 0;
                }
                // Only a frame `poll` will take: a data opcode, within `max_length` (F9).
                let before = self.recv.message.map_or(0, |m| m.len);
                match FrameHeader::parse(unread) {
                    Status::Complete((header, start))
                        if header.opcode <= 2
                            && header.payload_len
                                <= self.config.max_length.saturating_sub(before) =>
                    {
                        header
                            .payload_len
                            .saturating_sub((unread.len() - start) as u64)
                    }
                    _ => 0,
                }
            }
        }
    }

    /// The protocol error the connection failed with, if it did.
    pub fn failure(&self) -> Option<ProtocolError> {
        match self.link {
            Link::Ended {
                cause: Cause::Protocol(e),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// The handshake error the connection failed with, if it did.
    pub fn handshake_failure(&self) -> Option<HandshakeError> {
        match self.link {
            Link::Ended {
                cause: Cause::Handshake(e),
                ..
            } => Some(e),
            _ => None,
        }
    }

    /// The timer that ended the connection, if one did: the closing deadline or keepalive (the close
    /// event then carries 1006, RFC 6455 §7.1.5). A handshake timeout is a
    /// [`handshake_failure`](Self::handshake_failure).
    pub fn timeout(&self) -> Option<Timeout> {
        match self.link {
            Link::Ended {
                cause: Cause::Timeout(t),
                ..
            } => Some(t),
            _ => None,
        }
    }

    /// Whether this connection speaks a legacy draft: never without the `drafts` feature, so those
    /// builds carry none of the draft branches.
    #[inline]
    fn on_draft(&self) -> bool {
        cfg!(feature = "drafts") && self.version.is_draft()
    }

    /// The protocol version: `hybi-13` unless a server accepted another (V1, V3).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The subprotocol chosen in the handshake, as an index into the server's list (server) or into
    /// the offered list (client) (H4).
    pub fn protocol(&self) -> Option<usize> {
        self.protocol.map(usize::from)
    }

    /// The next instant at which a timer fires: the handshake deadline, the keepalive ping or the end
    /// of the wait for its answer, the closing deadline (S4), or the end of a client's wait for the
    /// server to close the transport (S8). `None` when no timer runs; timers entered before the first
    /// `poll` start at its `now`. After `close`, until the driver is next told the time, the latest
    /// `now` it was told: the closing deadline is counted from the next `poll` or `handle_timeout`,
    /// which a caller waiting on this makes at once.
    #[must_use]
    #[inline]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.link.deadline(&self.config, self.now)
    }

    /// Time has passed; `poll` calls this itself with its `now`. What is due at `now` happens: a
    /// handshake past its deadline fails; a keepalive ping falls due (queued by the next `poll`), or a
    /// peer silent past the pong timeout is closed (1006, no close frame: a peer that answers no ping
    /// would not answer a close either); a peer that has not answered our close by the closing deadline
    /// is closed (1006); a client that waited long enough for the server to close may close the
    /// transport itself (S8). The close event comes at the next `poll`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.arm(now, &self.config);
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now < deadline {
            return;
        }
        match &mut self.link {
            Link::Connecting { .. } => self.end(Cause::Handshake(HandshakeError::Timeout)),
            Link::Closing { .. } => self.end(Cause::Timeout(Timeout::Closing)),
            Link::Closed { transport } => *transport = Timer::Off,
            Link::Open { keepalive, .. } => match keepalive.ping {
                Ping::Quiet => keepalive.ping = Ping::Owed(now),
                Ping::Owed(_) | Ping::Sent(_) => self.end(Cause::Timeout(Timeout::Keepalive)),
            },
            Link::Ended { .. } => {}
        }
    }

    /// The peer was heard from: the keepalive starts over.
    #[inline]
    fn heard_now(&mut self) {
        if let Link::Open { keepalive, .. } = &mut self.link {
            keepalive.heard(self.now);
        }
    }

    /// Notes the time: arms the timers entered without it (before the first poll, or by `close`), and
    /// handles those now due.
    #[inline]
    fn start_clocks(&mut self, now: Instant) {
        self.link.arm(now, &self.config);
        self.now = Some(now);
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.handle_timeout(now);
        }
    }

    /// Reads what has arrived in `rx` and returns the next event, or `Ok(None)` when more input is
    /// needed.
    ///
    /// Automatic replies (a pong, the echo of a close) are queued in `tx` before their event is
    /// returned; when one does not fit, `poll` returns [`Event::TxFull`] and keeps the frame's payload
    /// until it does. A protocol violation is returned once as `Err`, with the close frame already
    /// queued (or queued as soon as it fits, before anything else); the next call returns the close
    /// event, and from then on input is discarded and `Ok(None)` returned. `rng` masks the client's
    /// frames; a server's is never used. `now` is the current time: timers due at `now` are handled
    /// first (see [`handle_timeout`](Self::handle_timeout)).
    #[must_use = "events carry the received data"]
    pub fn poll<'a, S, T, R>(
        &mut self,
        rx: &'a mut RxBuf<S>,
        tx: &mut TxRing<T>,
        rng: &mut R,
        now: Instant,
    ) -> Result<Option<Event<'a>>, Error>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        check_capacity(rx.capacity(), MIN_RX_CAPACITY)?;
        check_capacity(tx.capacity(), MIN_TX_CAPACITY)?;
        self.start_clocks(now);
        // The short path (`fast.rs`): one whole data frame, nothing else in progress; the event is
        // built here, without the step machinery.
        #[cfg(not(target_os = "none"))]
        if let Some(frame) = self.whole_frame(rx.readable()) {
            self.heard_now();
            let payload = rx.consume_view(frame.end, frame.start..frame.end);
            if let Some(key) = frame.mask {
                crate::wire::mask::apply(payload, key, 0);
            }
            let data: &'a [u8] = payload;
            return match frame.kind {
                DataKind::Binary => Ok(Some(Event::Binary { data, fin: true })),
                // The only UTF-8 pass over the message (F10). After a failure the rest of the input
                // is discarded, so the frame being consumed already changes nothing.
                DataKind::Text => match simdutf8::basic::from_utf8(data) {
                    Ok(data) => Ok(Some(Event::Text { data, fin: true })),
                    Err(_) => Err(self.fail(Cause::Protocol(ProtocolError::InvalidUtf8), tx, rng)),
                },
            };
        }
        let delivery = {
            let mut conn = Conn {
                d: &mut *self,
                rx: &mut *rx,
                tx: &mut *tx,
                rng: &mut *rng,
            };
            conn.send_owed_ping();
            loop {
                match conn.step()? {
                    recv::Step::Again => {}
                    recv::Step::Idle => return Ok(None),
                    recv::Step::TxFull(needed) => return Ok(Some(Event::TxFull { needed })),
                    recv::Step::Deliver(delivery) => break delivery,
                }
            }
        };
        self.deliver(rx, tx, rng, delivery).map(Some)
    }

    /// Turns a delivery decided by `step` into an event borrowing `rx` (kept apart from `step` so the
    /// borrow is taken once, at the end).
    fn deliver<'a, S, T, R>(
        &mut self,
        rx: &'a mut RxBuf<S>,
        tx: &mut TxRing<T>,
        rng: &mut R,
        delivery: recv::Delivery,
    ) -> Result<Event<'a>, Error>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        match delivery {
            recv::Delivery::Data {
                kind,
                rsv,
                range,
                consume,
                fin,
            } => {
                if rsv.is_empty() && kind == DataKind::Text {
                    // The only UTF-8 pass over a message that arrived within one poll (F10).
                    let text =
                        rx.consume_with(|bytes| match simdutf8::basic::from_utf8(&bytes[range]) {
                            Ok(text) => (consume, Some(text)),
                            Err(_) => (0, None),
                        });
                    return match text {
                        Some(data) => Ok(Event::Text { data, fin }),
                        None => {
                            Err(self.fail(Cause::Protocol(ProtocolError::InvalidUtf8), tx, rng))
                        }
                    };
                }
                let data = &*rx.consume_view(consume, range);
                Ok(if rsv.is_empty() {
                    Event::Binary { data, fin }
                } else {
                    Event::Extension {
                        kind,
                        rsv,
                        data,
                        fin,
                    }
                })
            }
            recv::Delivery::Control {
                opcode,
                range,
                consume,
            } => {
                let payload = &*rx.consume_view(consume, range);
                Ok(match opcode {
                    OpCode::Ping => Event::Ping(payload),
                    OpCode::Pong => Event::Pong(payload),
                    _ => match ClosePayload::parse(payload) {
                        Ok(close) => Event::Close {
                            code: close.reported_code(),
                            reason: close.reason,
                        },
                        // Checked in `step` already; unreachable in practice, and harmless.
                        Err(_) => Event::Close {
                            code: CloseCode::PROTOCOL_ERROR,
                            reason: "",
                        },
                    },
                })
            }
            recv::Delivery::LocalClose { cause } => {
                // The connection is over and its input discarded: the receive buffer's storage holds
                // the reason text for the event.
                rx.consume(rx.len());
                let space: &'a mut [u8] = rx.free_space();
                let len = ending::write_reason(cause, &mut *space);
                let space: &'a [u8] = space;
                let reason =
                    core::str::from_utf8(space.get(..len).unwrap_or_default()).unwrap_or("");
                Ok(Event::Close {
                    code: cause.code(),
                    reason,
                })
            }
            #[cfg(feature = "drafts")]
            recv::Delivery::DraftText { range, consume } => {
                let text =
                    rx.consume_with(|bytes| match simdutf8::basic::from_utf8(&bytes[range]) {
                        Ok(text) => (consume, Some(text)),
                        Err(_) => (0, None),
                    });
                text.map(|data| Event::Text { data, fin: true })
                    .ok_or_else(|| self.fail(Cause::Protocol(ProtocolError::InvalidUtf8), tx, rng))
            }
            #[cfg(feature = "drafts")]
            recv::Delivery::DraftClose => Ok(Event::Close {
                code: CloseCode::NORMAL,
                reason: "",
            }),
            other => Ok(self.deliver_handshake(rx, other)),
        }
    }
}

/// As `Debug` shows it in short: role, state, version and subprotocol, never buffered bytes.
#[cfg(feature = "defmt")]
impl defmt::Format for Driver {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Driver {{ role: {}, state: {}, version: {}, protocol: {}, .. }}",
            self.role,
            self.state(),
            self.version,
            self.protocol
        );
    }
}

fn check_capacity(capacity: usize, minimum: usize) -> Result<(), Error> {
    if capacity < minimum {
        return Err(Error::BufferTooSmall { capacity, minimum });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
