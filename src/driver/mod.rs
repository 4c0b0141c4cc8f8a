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

#[cfg(feature = "drafts")]
mod draft;
mod ending;
mod handshake;
mod recv;
mod send;

use crate::buffer::{RxBuf, TxRing};
use crate::config::Config;
use crate::error::{Error, ProtocolError};
use crate::event::{DataKind, Event};
use crate::handshake::client::Offer;
use crate::handshake::{HandshakeError, Version};
use crate::mask_source::MaskSource;
use crate::time::Instant;
use crate::utf8::Utf8Validator;
use crate::wire::{CloseCode, ClosePayload, OpCode, Rsv};
use ending::{Cause, Ending};
pub use handshake::HandshakeCallError;

/// The smallest receive buffer `poll` accepts: a maximal control frame (2 + 4 + 125 bytes) behind the
/// up to 3 bytes of a code point split between text chunks.
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
    /// Header bytes still in the buffer before the payload (control frames keep theirs until handled).
    header_len: u8,
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

/// Where the opening handshake stands (RFC 6455 §4). `Frames` once it is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Frames flow, or the connection is over.
    Frames,
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
    /// The handshake completed; the open event is reported at the next poll.
    OpenPending,
    /// Client: not started.
    ClientIdle,
    /// Client: the request is queued; the response head is being read.
    ReadResponse { scanned: usize, offer: Offer },
    /// Client: a proxy CONNECT is queued; the proxy's response head is being read.
    ReadProxyResponse { scanned: usize },
    /// Client: a response head `[0, len)` that failed, kept for [`Driver::response`] until the next poll.
    FailedResponse { len: usize },
}

/// A WebSocket connection's protocol state, in either role.
///
/// It is small — 232 bytes on 64-bit targets, 280 with the `drafts` feature (asserted in a test) — and
/// holds no buffer: the receive buffer and transmit ring are the caller's.
///
/// Create one with [`Driver::server`] or [`Driver::client`] for a connection whose opening handshake is
/// done, then feed it bytes through [`poll`](Self::poll) and send with [`text`](Self::text) and the
/// other verbs. See the module docs for the call order.
#[derive(Clone, Debug)]
pub struct Driver {
    role: Role,
    state: State,
    config: Config,
    allowed_rsv: Rsv,
    close_sent: bool,
    /// The kind of the message being sent in fragments, if any.
    sending: Option<DataKind>,
    version: Version,
    /// The chosen subprotocol: an index into the server's list, or into the client's offer.
    protocol: Option<u8>,
    phase: Phase,
    /// The next deadline: the handshake's, or a client's wait for the server to close (S8).
    deadline: Option<Instant>,
    /// The `now` of the current poll.
    now: Instant,
    clock_armed: bool,
    close_wait_over: bool,
    recv: Recv,
    ending: Option<Ending>,
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
            State::Connecting,
            Phase::ReadRequest { scanned: 0 },
            config,
        )
    }

    /// A client: call [`start`](Self::start) (after [`connect_proxy`](Self::connect_proxy) when going
    /// through a proxy) to send the request.
    pub fn client(config: Config) -> Self {
        Driver::new(Role::Client, State::Connecting, Phase::ClientIdle, config)
    }

    /// A server for a connection whose upgrade is already done: open at once.
    pub fn server_upgraded(config: Config) -> Self {
        Driver::new(Role::Server, State::Open, Phase::Frames, config)
    }

    /// A client for a connection whose upgrade is already done: open at once.
    pub fn client_upgraded(config: Config) -> Self {
        Driver::new(Role::Client, State::Open, Phase::Frames, config)
    }

    fn new(role: Role, state: State, phase: Phase, config: Config) -> Self {
        Driver {
            role,
            state,
            config,
            allowed_rsv: Rsv::NONE,
            close_sent: false,
            sending: None,
            version: Version::Hybi(13),
            protocol: None,
            phase,
            deadline: None,
            now: Instant::ZERO,
            clock_armed: false,
            close_wait_over: false,
            recv: Recv::default(),
            ending: None,
            #[cfg(feature = "drafts")]
            draft: crate::draft::framing::Decoder::new(false, 0),
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection state (S1).
    pub fn state(&self) -> State {
        self.state
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

    /// The protocol error the connection failed with, if it did.
    pub fn failure(&self) -> Option<ProtocolError> {
        match self.ending?.cause {
            Cause::Protocol(e) => Some(e),
            _ => None,
        }
    }

    /// The handshake error the connection failed with, if it did.
    pub fn handshake_failure(&self) -> Option<HandshakeError> {
        match self.ending?.cause {
            Cause::Handshake(e) => Some(e),
            _ => None,
        }
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

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work: the handshake
    /// deadline, or a client's wait for the server to close the transport (S8).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time has passed: a handshake that has not completed by its deadline fails; a client that waited
    /// long enough for the server to close may close the transport itself (S8).
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        self.deadline = None;
        if self.state == State::Connecting {
            self.end(Cause::Handshake(HandshakeError::Timeout));
        } else {
            self.close_wait_over = true;
        }
    }

    /// Reads what has arrived in `rx` and returns the next event, or `Ok(None)` when more input is
    /// needed.
    ///
    /// Automatic replies (a pong, the echo of a close) are queued in `tx` before their event is
    /// returned; when one does not fit, `poll` returns [`Event::TxFull`] without consuming the frame.
    /// A protocol violation is returned once as `Err`, with the close frame already queued (or queued as
    /// soon as it fits, before anything else); the next call returns the close event, and from then on
    /// input is discarded and `Ok(None)` returned. `rng` masks the client's replies; a server's is never
    /// used. `now` is the current time.
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
        check_capacity(rx.capacity(), self.min_rx_capacity())?;
        check_capacity(tx.capacity(), MIN_TX_CAPACITY)?;
        self.start_clocks(now);
        loop {
            match self.step(rx, tx, rng)? {
                recv::Step::Again => {}
                recv::Step::Idle => return Ok(None),
                recv::Step::TxFull(needed) => return Ok(Some(Event::TxFull { needed })),
                recv::Step::Deliver(delivery) => {
                    return self.deliver(rx, tx, rng, delivery).map(Some);
                }
            }
        }
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
                len,
                consume,
                fin,
            } => {
                if rsv.is_empty() && kind == DataKind::Text {
                    // The only UTF-8 pass over a message that arrived within one poll (F10).
                    let text =
                        rx.consume_with(|bytes| match simdutf8::basic::from_utf8(&bytes[..len]) {
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
                let data = &*rx.consume_view(consume, 0..len);
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
                let reason = core::str::from_utf8(&space[..len]).unwrap_or("");
                Ok(Event::Close {
                    code: cause.code(),
                    reason,
                })
            }
            recv::Delivery::DraftText { range, consume } => {
                let text =
                    rx.consume_with(|bytes| match simdutf8::basic::from_utf8(&bytes[range]) {
                        Ok(text) => (consume, Some(text)),
                        Err(_) => (0, None),
                    });
                text.map(|data| Event::Text { data, fin: true })
                    .ok_or_else(|| self.fail(Cause::Protocol(ProtocolError::InvalidUtf8), tx, rng))
            }
            recv::Delivery::DraftClose => Ok(Event::Close {
                code: CloseCode::NORMAL,
                reason: "",
            }),
            other => Ok(self.deliver_handshake(rx, other)),
        }
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
