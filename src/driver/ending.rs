//! How a connection ends other than by a completed closing handshake: a protocol violation, a failed
//! opening handshake, a timeout, or `close()` before open (RFC 6455 §7.1.7; BEHAVIOUR S3, S6, H9).
//!
//! The error is reported once, the close frame (when one is due) is queued as soon as it fits before
//! anything else, then the close event is reported, then input is discarded. Nothing here allocates.

use super::state::{Link, Timer};
use super::{Conn, Driver, Role};
use crate::buffer::{Storage, TxRing};
use crate::error::{Error, HANDSHAKE_PREFIX, ProtocolError, Timeout};
use crate::handshake::HandshakeError;
use crate::mask_source::MaskSource;
use crate::text::{Cut, Sink};
use crate::wire::{CloseCode, MAX_REASON_LEN, OpCode};

/// Why the connection ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The peer broke RFC 6455 (S6).
    Protocol(ProtocolError),
    /// The opening handshake failed (H3, H9).
    Handshake(HandshakeError),
    /// The application closed before the connection opened (S3), or closed a draft connection (L3):
    /// code 1000, no reason.
    ClosedLocally,
    /// A timer ended an open or closing connection: 1006, no close frame.
    Timeout(Timeout),
}

impl Cause {
    pub(crate) fn code(self) -> CloseCode {
        match self {
            Cause::Protocol(e) => e.close_code(),
            Cause::Handshake(_) => CloseCode::PROTOCOL_ERROR,
            Cause::ClosedLocally => CloseCode::NORMAL,
            Cause::Timeout(_) => CloseCode::ABNORMAL,
        }
    }

    fn error(self) -> Option<Error> {
        match self {
            Cause::Protocol(e) => Some(Error::Protocol(e)),
            Cause::Handshake(e) => Some(Error::Handshake(e)),
            Cause::ClosedLocally | Cause::Timeout(_) => None,
        }
    }

    /// Writes the text: the close frame's and the close event's reason.
    fn write_text(self, out: &mut impl Sink) {
        match self {
            Cause::Protocol(e) => e.write_text(out),
            Cause::Handshake(e) => {
                out.text(HANDSHAKE_PREFIX);
                e.write_text(out);
            }
            Cause::ClosedLocally => {}
            Cause::Timeout(t) => out.text(t.text()),
        }
    }
}

impl Driver {
    /// Ends the connection for `cause`: queues the close frame if one is due (a protocol violation on a
    /// connection whose close frame is not out yet) and fits, and returns the error to report now.
    pub(super) fn fail<T, R>(&mut self, cause: Cause, tx: &mut TxRing<T>, rng: &mut R) -> Error
    where
        T: Storage,
        R: MaskSource + ?Sized,
    {
        let frame_due =
            matches!(cause, Cause::Protocol(_)) && matches!(self.link, Link::Open { .. });
        self.end(cause);
        if frame_due
            && !self.write_close_for(cause, tx, rng)
            && let Link::Ended { frame_owed, .. } = &mut self.link
        {
            *frame_owed = true;
        }
        cause
            .error()
            .unwrap_or(Error::Handshake(HandshakeError::MalformedHead))
    }

    /// Ends the connection with no close frame due; the close event follows at the next poll.
    /// S3: `close()` before open ends this way with (1000, ""), nothing sent. Out of line: called from
    /// many error paths, each of which would otherwise build the whole state in place (flash).
    #[inline(never)]
    pub(super) fn end(&mut self, cause: Cause) {
        self.link = Link::Ended {
            cause,
            frame_owed: false,
            event_owed: true,
            head: None,
        };
    }

    /// Closed with no event due (`refuse`, `abort`): the transport may be closed at once.
    pub(super) fn close_now(&mut self) {
        self.link = Link::Closed {
            transport: Timer::Off,
        };
    }

    /// Writes the close frame for `cause`: its code and its text as the reason.
    fn write_close_for<T, R>(&mut self, cause: Cause, tx: &mut TxRing<T>, rng: &mut R) -> bool
    where
        T: Storage,
        R: MaskSource + ?Sized,
    {
        let mut payload = [0u8; 125];
        let [hi, lo, reason @ ..] = &mut payload;
        [*hi, *lo] = cause.code().0.to_be_bytes();
        let len = 2 + write_reason(cause, reason);
        self.try_write_control(
            tx,
            rng,
            OpCode::Close,
            payload.get(..len).unwrap_or_default(),
        )
        .is_ok()
    }

    /// S8: whether the I/O layer should close the transport now. A server closes once the connection is
    /// closed (it closes first, RFC 6455 §7.1.1); a client waits for the server to close, until the close
    /// timeout, unless the connection failed or timed out.
    pub fn should_close_transport(&self) -> bool {
        match self.link {
            Link::Ended { .. } => true,
            Link::Closed { transport } => self.role == Role::Server || transport == Timer::Off,
            _ => false,
        }
    }
}

impl<S: Storage, T: Storage, R: MaskSource + ?Sized> Conn<'_, S, T, R> {
    /// After the connection ended: the close frame as soon as it fits, then the close event, then
    /// silence (input discarded).
    pub(super) fn step_ended(&mut self) -> Result<super::recv::Step, Error> {
        use super::recv::{Delivery, Step};
        let Link::Ended {
            cause,
            frame_owed,
            event_owed,
            ..
        } = self.d.link
        else {
            return Ok(Step::Idle);
        };
        self.rx.consume(self.rx.len());
        if frame_owed && !self.d.write_close_for(cause, self.tx, self.rng) {
            return Ok(Step::TxFull(self.d.frame_len(125)));
        }
        self.d.link = Link::Ended {
            cause,
            frame_owed: false,
            event_owed: false,
            head: None,
        };
        if event_owed {
            return Ok(Step::Deliver(Delivery::LocalClose { cause }));
        }
        Ok(Step::Idle)
    }
}

/// Writes `cause`'s text into `out`, cut at 123 bytes on a char boundary; returns its length.
pub(super) fn write_reason(cause: Cause, out: &mut [u8]) -> usize {
    let len = out.len().min(MAX_REASON_LEN);
    let mut cut = Cut::new(out.get_mut(..len).unwrap_or_default());
    cause.write_text(&mut cut);
    cut.len()
}
