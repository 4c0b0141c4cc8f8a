//! The send side of the engine: messages through the extensions, then one frame each into the transmit
//! ring, grown to fit (RFC 6455 §5.6, §9); control frames and the close (§5.5, §7); sends made before open
//! queued until it (S2); an extension's failure failing the connection (X4).
//!
//! The frames themselves are the core's: nothing here writes a byte of its own.

use websocket_driver::{CloseCode, DataKind, Driver as Core, Rsv, SendError, State, TxRing};

use super::{Engine, Error, Event, Masks, Queued};
use crate::extensions::{ExtensionError, Message as ExtMessage};
use crate::message::{CloseEvent, Message};

/// The close code and reason an extension's error fails the connection with (X4: 1010 unless the
/// extension says otherwise, as permessage-deflate does with 1009 and 1007).
pub(super) fn close_of(e: &ExtensionError) -> (CloseCode, String) {
    match e {
        ExtensionError::Processing { code, reason } => (*code, reason.clone()),
        other => (CloseCode::MANDATORY_EXTENSION, other.to_string()),
    }
}

/// `reason` cut to the 123 bytes a close frame carries, on a char boundary (RFC 6455 §5.5.1).
fn cut(reason: &str) -> &str {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

impl Engine {
    /// Sends a message (owned: no copy before the extensions and the ring). Before open it is queued
    /// (S2); once closing or closed it is refused (S4, S7).
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        match self.core.state() {
            State::Connecting => {
                self.queue.push_back(Queued::Message(message));
                Ok(())
            }
            State::Open => match message {
                Message::Text(text) => self.send_data(DataKind::Text, text.into_bytes()),
                Message::Binary(data) => self.send_data(DataKind::Binary, data),
            },
            _ => Err(Error::Closed),
        }
    }

    /// Sends a ping with up to 125 bytes of payload (RFC 6455 §5.5.2), queued before open (S2).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > 125 {
            return Err(Error::Send(SendError::ControlTooLong));
        }
        if self.core.state() == State::Connecting {
            self.queue.push_back(Queued::Ping(payload.to_vec()));
            return Ok(());
        }
        self.write(|core, tx, masks| core.ping(tx, masks, payload))
    }

    /// Sends an unsolicited pong (RFC 6455 §5.5.3), queued before open (S2).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > 125 {
            return Err(Error::Send(SendError::ControlTooLong));
        }
        if self.core.state() == State::Connecting {
            self.queue.push_back(Queued::Pong(payload.to_vec()));
            return Ok(());
        }
        self.write(|core, tx, masks| core.pong(tx, masks, payload))
    }

    /// Starts the closing handshake with `code` (1000 by default) and `reason` (S4); the close event
    /// comes with the peer's close, or with 1006 after the close timeout. A client that started its
    /// handshake queues it until open; before that, the connection closes at once (S3).
    pub fn close(&mut self, code: Option<u16>, reason: &str) -> Result<(), Error> {
        let code = CloseCode(code.unwrap_or(1000));
        if self.core.state() == State::Connecting
            && self.started
            && self.core.role() == websocket_driver::Role::Client
        {
            // Checked now (F17), as it would be when open: a close that could never be sent is an
            // error here, not lost at open.
            websocket_driver::wire::close::emit_close(Some(code), reason, &mut [0; 125])
                .map_err(Error::Send)?;
            self.queue
                .push_back(Queued::Close(Some(code.0), reason.to_owned()));
            return Ok(());
        }
        self.write(|core, tx, masks| core.close(tx, masks, Some(code), reason))
    }

    /// Fails the connection from here (an extension's error, X4): the close frame, then the error and
    /// the close event.
    pub(super) fn fail(&mut self, code: CloseCode, reason: String) -> Event {
        let _ = self.write(|core, tx, masks| core.abort(tx, masks, code, cut(&reason)));
        let code = code.0;
        self.extensions.close();
        self.incoming = None;
        self.queue.clear();
        self.closed_reported = true;
        self.pending.push_back(Event::Close(CloseEvent {
            code,
            reason: reason.clone(),
        }));
        Event::Error(Error::Extension { code, reason })
    }

    /// At open: the sends made before it go out, in order (S2).
    pub(super) fn flush_queue(&mut self) {
        while let Some(queued) = self.queue.pop_front() {
            let sent = match queued {
                Queued::Message(message) => self.send(message),
                Queued::Ping(payload) => self.ping(&payload),
                Queued::Pong(payload) => self.pong(&payload),
                Queued::Close(code, reason) => self.close(code, &reason),
            };
            if sent.is_err() && self.closed_reported {
                return;
            }
        }
    }

    /// Through the extensions, then one frame.
    fn send_data(&mut self, kind: DataKind, data: Vec<u8>) -> Result<(), Error> {
        let (rsv, data) = if self.extensions.is_empty() {
            (Rsv::NONE, data)
        } else {
            match self.extensions.process_outgoing(ExtMessage {
                kind,
                rsv: Rsv::NONE,
                data,
            }) {
                Ok(message) => (message.rsv, message.data),
                Err(e) => {
                    let (code, reason) = close_of(&e);
                    let event = self.fail(code, reason);
                    self.pending.push_front(event.clone());
                    return Err(match event {
                        Event::Error(e) => e,
                        _ => Error::Closed,
                    });
                }
            }
        };
        if self.core.version().is_draft() {
            let text = String::from_utf8_lossy(&data).into_owned();
            return self.write(|core, tx, masks| core.text(tx, masks, &text));
        }
        self.write(|core, tx, masks| core.send_fragment(tx, masks, kind, rsv, &data, true))
    }

    /// Runs a send of the core, growing the ring when the frame does not fit.
    fn write(
        &mut self,
        mut send: impl FnMut(&mut Core, &mut TxRing<Vec<u8>>, &mut Masks) -> Result<(), SendError>,
    ) -> Result<(), Error> {
        for _ in 0..3 {
            match send(&mut self.core, &mut self.tx, &mut self.masks) {
                Ok(()) => return Ok(()),
                Err(SendError::Full { needed }) => self.grow_tx(needed),
                Err(SendError::TooLarge { size, .. }) => self.grow_tx(size),
                Err(SendError::Closed | SendError::NotOpen) => return Err(Error::Closed),
                Err(e) => return Err(Error::Send(e)),
            }
        }
        Err(Error::Closed)
    }
}
