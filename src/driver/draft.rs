//! The driver on a legacy-draft connection (hixie-75/76, BEHAVIOUR L1–L3): text frames in, text frames
//! out, the hixie-76 closing frame, and nothing else.
//!
//! The draft decoder finds frame boundaries in the receive buffer; text is handed out in place, like
//! RFC 6455 text. Its length bound is `max_length` (GHSA-xv26-6w52-cph6: never an unbounded prefix).

use super::recv::{Delivery, Step};
use super::{Cause, Conn, Driver};
use crate::buffer::{Storage, TxRing};
use crate::draft::framing::{CLOSE_FRAME, DraftError, Frame};
use crate::error::{Error, ProtocolError, SendError};
use crate::handshake::Version;
use crate::mask_source::MaskSource;

impl<S: Storage, T: Storage, R: MaskSource + ?Sized> Conn<'_, S, T, R> {
    /// One unit of receive work on a draft connection.
    pub(super) fn step_draft(&mut self) -> Result<Step, Error> {
        let frame = match self.d.draft.decode(self.rx.readable()) {
            Ok(Some(frame)) => frame,
            // A frame is handed out whole: one that cannot fit the buffer is too big for it (L2).
            Ok(None) if self.rx.is_full() => {
                self.d.end(Cause::Protocol(ProtocolError::MessageTooBig));
                return Err(Error::Protocol(ProtocolError::MessageTooBig));
            }
            Ok(None) => return Ok(Step::Idle),
            Err(e) => {
                let error = match e {
                    DraftError::TooLong => ProtocolError::MessageTooBig,
                    _ => ProtocolError::InvalidUtf8,
                };
                self.d.end(Cause::Protocol(error));
                return Err(Error::Protocol(error));
            }
        };
        match frame {
            Frame::Text { text, consumed } => Ok(Step::Deliver(Delivery::DraftText {
                range: text,
                consume: consumed,
            })),
            Frame::Close { consumed } => {
                // L3: the hixie-76 closing frame, answered: room for the answer first, so that the
                // frame is not consumed when the answer cannot be queued yet.
                if self.tx.free() < CLOSE_FRAME.len() {
                    return Ok(Step::TxFull(CLOSE_FRAME.len()));
                }
                self.rx.consume(consumed);
                if let Ok(mut writer) = self.tx.frame(CLOSE_FRAME.len()) {
                    writer.put(&CLOSE_FRAME);
                    writer.commit();
                }
                self.d.close_now();
                Ok(Step::Deliver(Delivery::DraftClose))
            }
            Frame::Skip { consumed } => {
                self.rx.consume(consumed);
                Ok(Step::Again)
            }
        }
    }
}

impl Driver {
    /// L1: text goes out as `00` text `ff`.
    pub(super) fn send_draft_text<T: Storage>(
        &mut self,
        tx: &mut TxRing<T>,
        text: &str,
    ) -> Result<(), SendError> {
        let mut writer = tx.frame(text.len() + 2)?;
        writer.put(&[0x00]);
        writer.put(text.as_bytes());
        writer.put(&[0xff]);
        writer.commit();
        Ok(())
    }

    /// L3: closing a draft connection: hixie-76 sends its closing frame; hixie-75 has none. Closed at once.
    pub(super) fn close_draft<T: Storage>(&mut self, tx: &mut TxRing<T>) -> Result<(), SendError> {
        if self.version == Version::Hixie76 {
            let mut writer = tx.frame(CLOSE_FRAME.len())?;
            writer.put(&CLOSE_FRAME);
            writer.commit();
        }
        self.end(Cause::ClosedLocally);
        Ok(())
    }
}
