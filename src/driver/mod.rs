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

mod recv;
mod send;

use crate::buffer::{RxBuf, TxRing};
use crate::config::Config;
use crate::error::{Error, ProtocolError};
use crate::event::{DataKind, Event};
use crate::mask_source::MaskSource;
use crate::time::Instant;
use crate::utf8::Utf8Validator;
use crate::wire::{CloseCode, ClosePayload, OpCode, Rsv};

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

/// What went wrong, and which of its consequences are still to be carried out (S6).
#[derive(Clone, Copy, Debug)]
struct Failure {
    error: ProtocolError,
    close_frame_unsent: bool,
    close_event_unreported: bool,
}

/// A WebSocket connection's protocol state, in either role.
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
    recv: Recv,
    failure: Option<Failure>,
}

impl Driver {
    /// A server-side driver for a connection already upgraded (by the application's HTTP stack).
    pub fn server(config: Config) -> Self {
        Driver::new(Role::Server, config)
    }

    /// A client-side driver for a connection already upgraded.
    pub fn client(config: Config) -> Self {
        Driver::new(Role::Client, config)
    }

    fn new(role: Role, config: Config) -> Self {
        Driver {
            role,
            state: State::Open,
            config,
            allowed_rsv: Rsv::NONE,
            close_sent: false,
            sending: None,
            recv: Recv::default(),
            failure: None,
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

    /// The error the connection failed with, if it did.
    pub fn failure(&self) -> Option<ProtocolError> {
        self.failure.map(|f| f.error)
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
        let _ = now;
        check_capacity(rx.capacity(), MIN_RX_CAPACITY)?;
        check_capacity(tx.capacity(), MIN_TX_CAPACITY)?;
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
                        None => Err(self.fail(ProtocolError::InvalidUtf8, tx, rng)),
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
            recv::Delivery::LocalClose { error } => {
                // The connection is dead and its input discarded: the receive buffer's storage holds
                // the reason text for the event.
                rx.consume(rx.len());
                let space = rx.free_space();
                let len = recv::write_reason(error, space);
                let reason = core::str::from_utf8(&space[..len]).unwrap_or("");
                Ok(Event::Close {
                    code: error.close_code(),
                    reason,
                })
            }
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
