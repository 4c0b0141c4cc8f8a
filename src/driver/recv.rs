//! The receive side: what the bytes in the receive buffer mean (RFC 6455 §5.2–§5.6, §7).
//!
//! `step` does one unit of work and says what `poll` should do next. Payloads are unmasked in place and,
//! when something sits between a message's fragments (a header, a control frame), moved once to follow
//! the bytes already kept. Readable bytes are never shifted otherwise. Peer bytes never panic here.

use core::ops::Range;

use super::state::{Keepalive, Link, Ping};
use super::{Cause, Conn, Frame, Message, Role};
use crate::buffer::Storage;
use crate::error::{Error, ProtocolError};
use crate::event::DataKind;
use crate::mask_source::MaskSource;
use crate::wire::header::{Rules, check};
use crate::wire::{ClosePayload, FrameHeader, MaskRule, OpCode, Rsv, Status, mask};

/// What `poll` does after a step.
pub(super) enum Step {
    /// Progress was made; step again.
    Again,
    /// Nothing more until more bytes arrive.
    Idle,
    /// An automatic reply needs this many free bytes in the transmit ring.
    TxFull(usize),
    /// Hand out an event.
    Deliver(Delivery),
}

/// An event decided by `step`, described by positions so the buffer is borrowed only once, in `deliver`.
pub(super) enum Delivery {
    /// `range` of the readable region is a message or a chunk of one; consume `consume` bytes.
    Data {
        kind: DataKind,
        rsv: Rsv,
        range: Range<usize>,
        consume: usize,
        fin: bool,
    },
    /// A control frame's (unmasked) payload at `range`; consume `consume` bytes.
    Control {
        opcode: OpCode,
        range: Range<usize>,
        consume: usize,
    },
    /// The close event after a failure or a close before open.
    LocalClose { cause: Cause },
    /// A request head `[0, len)`; consume `consume` bytes (the head itself, when it is not an upgrade).
    Connect { len: usize, consume: usize },
    /// `[0, len)` is request body (H6).
    Body { len: usize },
    /// The opening handshake completed.
    Open,
    /// Client: the response head `[0, len)`, kept for `check_response`.
    Response { len: usize },
    /// The proxy accepted the tunnel; its response head is `[0, len)` (consumed).
    ProxyConnected { len: usize },
    /// A draft text frame: the text at `range`; consume `consume` bytes (L1).
    #[cfg(feature = "drafts")]
    DraftText { range: Range<usize>, consume: usize },
    /// The hixie-76 closing frame arrived (L3).
    #[cfg(feature = "drafts")]
    DraftClose,
}

impl<S: Storage, T: Storage, R: MaskSource + ?Sized> Conn<'_, S, T, R> {
    /// One unit of receive work.
    pub(super) fn step(&mut self) -> Result<Step, Error> {
        match self.d.link {
            Link::Open {
                announced: true, ..
            }
            | Link::Closing {
                announced: true, ..
            } => {}
            Link::Open { .. } | Link::Closing { .. } => return Ok(self.announce_open()),
            Link::Connecting { .. } => return self.step_handshake(),
            Link::Ended { .. } => return self.step_ended(),
            Link::Closed { .. } => {
                // S5, S6, L3: after the close, input is ignored.
                self.rx.consume(self.rx.len());
                return Ok(Step::Idle);
            }
        }
        #[cfg(feature = "drafts")]
        if self.d.version.is_draft() {
            return self.step_draft();
        }
        if self.d.recv.held == 0 && self.d.recv.cursor > 0 {
            self.rx.consume(self.d.recv.cursor);
            self.d.recv.cursor = 0;
        }
        let frame = match self.d.recv.frame {
            Some(frame) => frame,
            None => match self.read_header()? {
                Some(frame) => frame,
                None => return self.idle(),
            },
        };
        if frame.opcode.is_control() {
            return self.control_frame(frame);
        }
        self.data_frame(frame)
    }

    /// The open event, once, before any frame (H10).
    fn announce_open(&mut self) -> Step {
        if let Link::Open { announced, .. } | Link::Closing { announced, .. } = &mut self.d.link {
            *announced = true;
        }
        Step::Deliver(Delivery::Open)
    }

    /// The peer sent something: the keepalive starts over.
    #[inline]
    fn heard(&mut self) {
        self.d.heard_now();
    }

    /// Parses and checks the header at the cursor (F1–F9); `None` when it is incomplete.
    fn read_header(&mut self) -> Result<Option<Frame>, Error> {
        let d = &mut *self.d;
        let recv = &mut d.recv;
        let Status::Complete((header, header_len)) =
            FrameHeader::parse(self.rx.readable().get(recv.cursor..).unwrap_or_default())
        else {
            return Ok(None);
        };
        let masking = match (d.role, d.config.require_masking) {
            (Role::Client, _) => MaskRule::Forbidden,
            (Role::Server, true) => MaskRule::Required,
            (Role::Server, false) => MaskRule::Optional,
        };
        let rules = Rules {
            allowed_rsv: d.allowed_rsv,
            masking,
            max_length: d.config.max_length,
            open_message: recv.message.map(|m| m.len),
        };
        let opcode = match check(&header, &rules) {
            Ok(opcode) => opcode,
            Err(e) => return Err(self.fail(Cause::Protocol(e))),
        };
        let frame = Frame {
            opcode,
            fin: header.fin,
            mask: header.mask,
            len: header.payload_len,
            done: 0,
        };
        match opcode {
            OpCode::Text | OpCode::Binary => {
                let kind = if opcode == OpCode::Text {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                recv.message = Some(Message {
                    kind,
                    rsv: header.rsv,
                    len: header.payload_len,
                });
            }
            OpCode::Continuation => {
                if let Some(message) = &mut recv.message {
                    message.len += header.payload_len;
                }
            }
            _ => {}
        }
        // The header is done with at once, a control frame's too (its payload may need the room of a
        // long length encoding): consumed when nothing is kept before it, otherwise left behind the
        // cursor for the payload to be moved over.
        if recv.held == 0 {
            self.rx.consume(recv.cursor + header_len);
            recv.cursor = 0;
        } else {
            recv.cursor += header_len;
        }
        recv.frame = Some(frame);
        self.heard();
        Ok(Some(frame))
    }

    /// Fails the connection (S6).
    fn fail(&mut self, cause: Cause) -> Error {
        self.d.fail(cause, self.tx, self.rng)
    }

    /// A control frame: handled whole, once all of its payload is in the buffer (F11, F13, F12, S5).
    fn control_frame(&mut self, frame: Frame) -> Result<Step, Error> {
        let start = self.d.recv.cursor;
        let end = start + frame.len as usize; // ≤ 125, checked with the header
        if self.rx.len() < end {
            return self.idle();
        }
        // F13 (RFC 6455 §5.5.2): a ping is answered until the peer's close has arrived, also after our
        // close frame is out; a close is echoed only when ours is not out yet (S5).
        let open = matches!(self.d.link, Link::Open { .. });
        let replies = match frame.opcode {
            OpCode::Ping => true,
            OpCode::Close => open,
            _ => false,
        };
        // Room for the reply first, so that nothing is consumed when it cannot be queued; a ping's pong
        // may take the place of an unsent one at the ring's end (§5.5.3, `coalesce_pongs`).
        let mut reclaim = 0;
        if frame.opcode == OpCode::Ping && self.d.coalesce {
            reclaim = self
                .tx
                .unwritable(self.d.pong_end, usize::from(self.d.pong_len));
        }
        if replies {
            let needed = self.d.frame_len(frame.len as usize);
            if self.tx.free() + reclaim < needed {
                return Ok(Step::TxFull(needed - reclaim));
            }
        }
        let payload = self
            .rx
            .readable_mut()
            .get_mut(start..end)
            .unwrap_or_default();
        if let Some(key) = frame.mask {
            mask::apply(payload, key, 0);
        }
        match frame.opcode {
            OpCode::Ping => {
                self.tx.unwrite(reclaim);
                let before = self.tx.written();
                self.d
                    .write_control(self.tx, self.rng, OpCode::Pong, payload);
                self.d.pong_end = self.tx.written();
                self.d.pong_len = (self.d.pong_end - before) as u8; // ≤ 131
            }
            OpCode::Close => {
                if let Err(e) = ClosePayload::parse(payload) {
                    return Err(self.fail(Cause::Protocol(e)));
                }
                if replies {
                    // S5: echo the peer's code (and reason); an empty close gets an empty close.
                    self.d
                        .write_control(self.tx, self.rng, OpCode::Close, payload);
                }
                self.d.closed_by_peer();
            }
            _ => {}
        }
        let recv = &mut self.d.recv;
        recv.frame = None;
        let consume = if recv.held == 0 {
            recv.cursor = 0;
            end
        } else {
            recv.cursor = end;
            0
        };
        Ok(Step::Deliver(Delivery::Control {
            opcode: frame.opcode,
            range: start..end,
            consume,
        }))
    }

    /// A data frame: unmask what has arrived, move it into place, deliver at the frame's or the
    /// buffer's end (F5, F6, F9, F10, F14).
    fn data_frame(&mut self, mut frame: Frame) -> Result<Step, Error> {
        let rx = &mut *self.rx;
        let recv = &mut self.d.recv;
        let available = (rx.len() - recv.cursor)
            .min(usize::try_from(frame.len - frame.done).unwrap_or(usize::MAX));
        if available > 0 {
            let bytes = rx.readable_mut();
            let piece = recv.cursor..recv.cursor + available;
            if let Some(key) = frame.mask {
                mask::apply(
                    bytes.get_mut(piece.clone()).unwrap_or_default(),
                    key,
                    (frame.done % 4) as usize,
                );
            }
            if recv.cursor != recv.held {
                move_back(bytes, piece, recv.held);
            }
            recv.held += available;
            recv.cursor += available;
            frame.done += available as u64;
        }
        if recv.cursor == rx.len() && recv.cursor > recv.held {
            // Everything after the kept bytes is handled: drop it rather than move over it later.
            rx.truncate(recv.held);
            recv.cursor = recv.held;
        }
        if available > 0 {
            self.heard();
        }
        let recv = &mut self.d.recv;
        if frame.done == frame.len {
            recv.frame = None;
            if frame.fin {
                return self.deliver_data(true);
            }
            if !self.d.config.reassemble {
                return self.deliver_data(false);
            }
            return Ok(Step::Again);
        }
        recv.frame = Some(frame);
        if self.rx.len() == self.rx.capacity() && recv.held == self.rx.len() {
            // The buffer is full of this message: hand it out as a chunk.
            return self.deliver_data(false);
        }
        self.idle()
    }

    /// Decides the delivery of `[0, held)`: the whole message when `fin`, else a chunk that ends on a
    /// char boundary for text.
    fn deliver_data(&mut self, fin: bool) -> Result<Step, Error> {
        let Some(message) = self.d.recv.message else {
            return Ok(Step::Again);
        };
        if fin {
            // `deliver` validates a whole text message in one pass.
            let recv = &mut self.d.recv;
            let delivery = Delivery::Data {
                kind: message.kind,
                rsv: message.rsv,
                range: 0..recv.held,
                consume: recv.cursor,
                fin,
            };
            recv.message = None;
            recv.held = 0;
            recv.cursor = 0;
            recv.validated = 0;
            recv.utf8.reset();
            return Ok(Step::Deliver(delivery));
        }
        // A chunk: text keeps back the bytes of a split code point for the next chunk.
        self.validate()?;
        let recv = &mut self.d.recv;
        let tail = if is_checked_text(&message) {
            recv.utf8.pending()
        } else {
            0
        };
        let len = recv.held - tail;
        if len == 0 {
            return Ok(Step::Again);
        }
        recv.held = tail;
        recv.cursor -= len;
        recv.validated = tail;
        Ok(Step::Deliver(Delivery::Data {
            kind: message.kind,
            rsv: message.rsv,
            range: 0..len,
            consume: len,
            fin: false,
        }))
    }

    /// Feeds the kept, not yet validated text to the incremental validator: invalid UTF-8 fails the
    /// connection as soon as it arrives, even inside a partial frame (F10).
    fn validate(&mut self) -> Result<(), Error> {
        let recv = &mut self.d.recv;
        let Some(message) = recv.message else {
            return Ok(());
        };
        if !is_checked_text(&message) || recv.validated == recv.held {
            return Ok(());
        }
        if recv
            .utf8
            .feed(
                self.rx
                    .readable()
                    .get(recv.validated..recv.held)
                    .unwrap_or_default(),
            )
            .is_err()
        {
            return Err(self.fail(Cause::Protocol(ProtocolError::InvalidUtf8)));
        }
        recv.validated = recv.held;
        Ok(())
    }

    /// Nothing more can be done with the bytes at hand.
    fn idle(&mut self) -> Result<Step, Error> {
        let rx = &mut *self.rx;
        let recv = &mut self.d.recv;
        if rx.len() == rx.capacity() {
            if recv.cursor > recv.held {
                // Close the gap of handled bytes so the next frame has room.
                let (held, cursor, len) = (recv.held, recv.cursor, rx.len());
                move_back(rx.readable_mut(), cursor..len, held);
                rx.truncate(len - (cursor - held));
                recv.cursor = held;
                return Ok(Step::Again);
            }
            if recv.held > 0 {
                // The message no longer fits: fall back to chunks. A full buffer always leaves room for
                // a chunk (MIN_RX_CAPACITY); if it did not, stepping again would spin, so report idle.
                return match self.deliver_data(false)? {
                    Step::Again => {
                        debug_assert!(false, "a full receive buffer with nothing to hand out");
                        Ok(Step::Idle)
                    }
                    step => Ok(step),
                };
            }
        }
        self.validate()?;
        Ok(Step::Idle)
    }

    /// Queues a keepalive ping that fell due (RFC 6455 §5.5.2), when it fits; it waits otherwise.
    #[inline]
    pub(super) fn send_owed_ping(&mut self) {
        if let Link::Open {
            keepalive:
                Keepalive {
                    ping: Ping::Owed(since),
                    ..
                },
            ..
        } = self.d.link
            && self
                .d
                .try_write_control(self.tx, self.rng, OpCode::Ping, &[])
                .is_ok()
            && let Link::Open { keepalive, .. } = &mut self.d.link
        {
            keepalive.ping = Ping::Sent(since);
        }
    }
}

/// Text messages are checked as UTF-8 in the core; a message with extension RSV bits is not (F10).
fn is_checked_text(message: &Message) -> bool {
    message.kind == DataKind::Text && message.rsv.is_empty()
}

/// Moves `bytes[from]` back to start at `to` (`to <= from.start`), as one `copy_within` over the span
/// the move covers, so that no bounds panic is built in: the driver's cursors always lie within the
/// readable bytes, and if they did not nothing would move.
fn move_back(bytes: &mut [u8], from: Range<usize>, to: usize) {
    if let Some(span) = bytes.get_mut(to..from.end) {
        let start = from.start.saturating_sub(to).min(span.len());
        span.copy_within(start.., 0);
    }
}
