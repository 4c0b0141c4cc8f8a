//! The send side: whole frames into the transmit ring, or nothing (RFC 6455 §5.2–§5.5, §5.3 masking).
//!
//! Every send writes one complete frame or reports why not ([`SendError`]); it never writes half a
//! frame and never sends what RFC 6455 forbids (F17). Client frames are masked with a fresh key per
//! frame while they are copied into the ring, in one pass (F16).

use super::state::{Link, Timer};
use super::{Driver, Role};
use crate::buffer::{Storage, TxError, TxRing};
use crate::error::SendError;
use crate::event::DataKind;
use crate::mask_source::MaskSource;
use crate::wire::close::emit_close;
use crate::wire::{CloseCode, EncodedHeader, FrameHeader, OpCode, Rsv, mask};

impl From<TxError> for SendError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Full { needed } => SendError::Full { needed },
            TxError::TooLarge { size, capacity } => SendError::TooLarge { size, capacity },
            #[allow(unreachable_patterns)]
            _ => SendError::Full { needed: 0 },
        }
    }
}

impl Driver {
    /// Sends a text message in one frame (RFC 6455 §5.6; F15).
    pub fn text<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        text: &str,
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        #[cfg(feature = "drafts")]
        if self.version.is_draft() {
            self.check_open()?;
            return self.send_draft_text(tx, text);
        }
        self.send_message(tx, rng, DataKind::Text, text.as_bytes())
    }

    /// Sends a binary message in one frame (RFC 6455 §5.6; F15).
    pub fn binary<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        data: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        self.send_message(tx, rng, DataKind::Binary, data)
    }

    /// Sends a ping with up to 125 bytes of payload (RFC 6455 §5.5.2; F17).
    pub fn ping<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        self.send_control(tx, rng, OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong with up to 125 bytes of payload (RFC 6455 §5.5.3; F17).
    pub fn pong<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        self.send_control(tx, rng, OpCode::Pong, payload)
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2; S4): sends a close frame with `code` (none for an
    /// empty payload) and `reason` (at most 123 bytes), and moves to [`State::Closing`](super::State).
    /// The close event comes when the peer's close frame arrives, or with 1006 when it has not arrived
    /// by the closing deadline ([`Config::with_close_timeout`](crate::Config::with_close_timeout),
    /// counted from the `now` of the next `poll` or `handle_timeout`; until then
    /// [`poll_timeout`](super::Driver::poll_timeout) returns the latest `now`, so that a caller waiting
    /// on it tells the driver the time at once). Codes that must not be sent are refused (F17).
    pub fn close<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        code: Option<CloseCode>,
        reason: &str,
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        let mut payload = [0u8; 125];
        let len = emit_close(code, reason, &mut payload)?;
        let announced = match self.link {
            Link::Connecting { .. } => {
                // S3: closed at once, nothing sent; the close event (1000, "") comes at the next poll.
                self.end(super::Cause::ClosedLocally);
                return Ok(());
            }
            Link::Open { announced, .. } => announced,
            _ => return Err(SendError::Closed),
        };
        #[cfg(feature = "drafts")]
        if self.version.is_draft() {
            return self.close_draft(tx);
        }
        self.try_write_control(tx, rng, OpCode::Close, written(&payload, len))?;
        self.link = Link::Closing {
            announced,
            // Counted from the next `now` the driver is told, not the latest: that may be long past
            // when the application closes (a client that sent for a while without polling).
            deadline: Timer::Unset,
        };
        Ok(())
    }

    /// Fails the connection from the application's side — an extension's error (X4), say: sends a close
    /// frame with `code` and `reason` unless one was sent, and closes (RFC 6455 §7.1.7). No events follow:
    /// the caller reports its own error. Draft connections just close.
    pub fn abort<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        code: CloseCode,
        reason: &str,
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        match self.link {
            Link::Closed { .. } | Link::Ended { .. } => return Err(SendError::Closed),
            Link::Open { .. } if !self.on_draft() => {
                let mut payload = [0u8; 125];
                let len = emit_close(Some(code), reason, &mut payload)?;
                self.try_write_control(tx, rng, OpCode::Close, written(&payload, len))?;
            }
            _ => {}
        }
        self.close_now();
        Ok(())
    }

    /// Sends one frame of a message sent in fragments (RFC 6455 §5.4): the first call opens a message
    /// of `kind`, later calls continue it, and `fin` ends it. `rsv` is for extensions that own RSV bits
    /// (allowed on the first frame only). Control frames may be sent between fragments; other data
    /// messages may not ([`SendError::MessageInProgress`]). Text fragments need not end on char
    /// boundaries, but the whole message must be UTF-8.
    pub fn send_fragment<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        kind: DataKind,
        rsv: Rsv,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        self.check_open()?;
        self.check_hybi()?;
        let opcode = match self.sending {
            None => data_opcode(kind),
            Some(open) if open == kind && rsv.is_empty() => OpCode::Continuation,
            Some(_) => return Err(SendError::MessageInProgress),
        };
        self.write_frame(
            tx,
            rng,
            FrameHeader {
                fin,
                rsv,
                ..FrameHeader::new(opcode, payload.len() as u64)
            },
            payload,
        )?;
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Zero-copy send of a whole message: returns the frame header for the application to write, followed
    /// by `payload`, straight to the transport (a vectored write).
    ///
    /// Only on an open connection: before open ([`SendError::NotOpen`]) a frame written straight to the
    /// transport would overtake the handshake (RFC 6455 §4.1: nothing is sent before the server's 101
    /// was checked).
    ///
    /// Contract: the transmit ring must be empty ([`SendError::RingNotEmpty`] otherwise); it is then
    /// paused, so frames the driver queues meanwhile (an automatic pong) wait, until the application has
    /// written header and payload and calls [`TxRing::resume`]. A client masks `payload` in place with a
    /// fresh key (F16); a server leaves it as it is. `rsv` is for an extension's bits (a compressed
    /// message), as in [`send_fragment`](Self::send_fragment).
    pub fn send_zero_copy<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        kind: DataKind,
        rsv: Rsv,
        payload: &mut [u8],
    ) -> Result<EncodedHeader, SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        match self.link {
            Link::Open { .. } => {}
            Link::Connecting { .. } => return Err(SendError::NotOpen),
            _ => return Err(SendError::Closed),
        }
        self.check_hybi()?;
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        tx.pause().map_err(|_| SendError::RingNotEmpty)?;
        let mut header = FrameHeader {
            rsv,
            ..FrameHeader::new(data_opcode(kind), payload.len() as u64)
        };
        if let Some(key) = self.mask_key(rng) {
            mask::apply(payload, key, 0);
            header.mask = Some(key);
        }
        Ok(header.to_bytes())
    }

    /// The wire size of a control frame of `payload_len` bytes from us.
    pub(super) fn frame_len(&self, payload_len: usize) -> usize {
        let masked = self.role == Role::Client && self.config.masking;
        FrameHeader {
            mask: masked.then_some([0; 4]),
            ..FrameHeader::new(OpCode::Ping, payload_len as u64)
        }
        .encoded_len()
            + payload_len
    }

    /// An automatic reply whose room was checked beforehand.
    pub(super) fn write_control<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        opcode: OpCode,
        payload: &[u8],
    ) where
        T: Storage,
        R: MaskSource + ?Sized,
    {
        let written = self.try_write_control(tx, rng, opcode, payload);
        debug_assert!(written.is_ok(), "room for the reply was checked");
    }

    pub(super) fn try_write_control<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong);
        }
        self.write_frame(
            tx,
            rng,
            FrameHeader::new(opcode, payload.len() as u64),
            payload,
        )
    }

    fn send_message<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        kind: DataKind,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        let open = matches!(self.link, Link::Open { .. });
        if !open || self.sending.is_some() || self.on_draft() {
            // The uncommon cases, in the order their errors take precedence.
            self.check_open()?;
            if kind == DataKind::Binary {
                self.check_hybi()?;
            }
            if self.sending.is_some() {
                return Err(SendError::MessageInProgress);
            }
        }
        self.write_frame(
            tx,
            rng,
            FrameHeader::new(data_opcode(kind), payload.len() as u64),
            payload,
        )
    }

    fn send_control<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        self.check_open()?;
        self.check_hybi()?;
        self.try_write_control(tx, rng, opcode, payload)
    }

    /// S4, S7: nothing is sent once our close frame is out or the connection is closed.
    /// L3: only text exists on the drafts.
    fn check_hybi(&self) -> Result<(), SendError> {
        if self.on_draft() {
            Err(SendError::UnsupportedByDraft)
        } else {
            Ok(())
        }
    }

    fn check_open(&self) -> Result<(), SendError> {
        match self.link {
            Link::Open { .. } => Ok(()),
            // S2: queued behind the handshake when the ring holds them back.
            Link::Connecting { .. } if self.can_queue() => Ok(()),
            Link::Connecting { .. } => Err(SendError::NotOpen),
            _ => Err(SendError::Closed),
        }
    }

    fn mask_key<R: MaskSource + ?Sized>(&self, rng: &mut R) -> Option<[u8; 4]> {
        (self.role == Role::Client && self.config.masking).then(|| rng.mask_key())
    }

    /// Writes header and payload as one frame, masking a client's payload while copying it (F16).
    fn write_frame<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        mut header: FrameHeader,
        payload: &[u8],
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        header.mask = self.mask_key(rng);
        tx.put_frame(&header, payload)?;
        Ok(())
    }
}

fn data_opcode(kind: DataKind) -> OpCode {
    match kind {
        DataKind::Text => OpCode::Text,
        DataKind::Binary => OpCode::Binary,
    }
}

/// The close payload `emit_close` wrote into `buf`: its first `len` bytes (taken with `get`, so that no
/// bounds panic is built in; `len` is at most 125).
fn written(buf: &[u8; 125], len: usize) -> &[u8] {
    buf.get(..len).unwrap_or_default()
}
