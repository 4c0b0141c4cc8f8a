//! The driver on a legacy-draft connection (hixie-75/76, BEHAVIOUR L1–L3): text frames in, text frames
//! out, the hixie-76 closing frame, and nothing else.
//!
//! The draft decoder finds frame boundaries in the receive buffer; text is handed out in place, like
//! RFC 6455 text. Its length bound is `max_length` (GHSA-xv26-6w52-cph6: never an unbounded prefix).

use super::recv::{Delivery, Step};
use super::{Cause, Driver, State};
use crate::buffer::{RxBuf, TxRing};
use crate::draft::framing::{CLOSE_FRAME, DraftError, Frame};
use crate::error::{Error, ProtocolError, SendError};
use crate::handshake::Version;

impl Driver {
    /// One unit of receive work on a draft connection.
    pub(super) fn step_draft<S, T>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
    ) -> Result<Step, Error>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let frame = match self.draft.decode(rx.readable()) {
            Ok(Some(frame)) => frame,
            // A frame is handed out whole: one that cannot fit the buffer is too big for it (L2).
            Ok(None) if rx.is_full() => {
                self.end(Cause::Protocol(ProtocolError::MessageTooBig));
                return Err(Error::Protocol(ProtocolError::MessageTooBig));
            }
            Ok(None) => return Ok(Step::Idle),
            Err(e) => {
                let error = match e {
                    DraftError::TooLong => ProtocolError::MessageTooBig,
                    _ => ProtocolError::InvalidUtf8,
                };
                self.end(Cause::Protocol(error));
                return Err(Error::Protocol(error));
            }
        };
        match frame {
            Frame::Text { text, consumed } => Ok(Step::Deliver(Delivery::DraftText {
                range: text,
                consume: consumed,
            })),
            Frame::Close { consumed } => {
                // L3: the hixie-76 closing frame; answered unless we closed first.
                rx.consume(consumed);
                if !self.close_sent {
                    if tx.free() < CLOSE_FRAME.len() {
                        return Ok(Step::TxFull(CLOSE_FRAME.len()));
                    }
                    self.write_raw(tx, &CLOSE_FRAME);
                    self.close_sent = true;
                }
                self.state = State::Closed;
                Ok(Step::Deliver(Delivery::DraftClose))
            }
            Frame::Skip { consumed } => {
                rx.consume(consumed);
                Ok(Step::Again)
            }
        }
    }

    /// L1: text goes out as `00` text `ff`.
    pub(super) fn send_draft_text<T>(
        &mut self,
        tx: &mut TxRing<T>,
        text: &str,
    ) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let mut writer = tx.frame(text.len() + 2)?;
        writer.put(&[0x00]);
        writer.put(text.as_bytes());
        writer.put(&[0xff]);
        writer.commit();
        Ok(())
    }

    /// L3: closing a draft connection: hixie-76 sends its closing frame; hixie-75 has none. Closed at once.
    pub(super) fn close_draft<T>(&mut self, tx: &mut TxRing<T>) -> Result<(), SendError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        if self.version == Version::Hixie76 {
            let mut writer = tx.frame(CLOSE_FRAME.len())?;
            writer.put(&CLOSE_FRAME);
            writer.commit();
        }
        self.close_sent = true;
        self.state = State::Closed;
        self.end(Cause::ClosedLocally);
        Ok(())
    }

    fn write_raw<T: AsRef<[u8]> + AsMut<[u8]>>(&mut self, tx: &mut TxRing<T>, bytes: &[u8]) {
        if let Ok(mut writer) = tx.frame(bytes.len()) {
            writer.put(bytes);
            writer.commit();
        }
    }
}
