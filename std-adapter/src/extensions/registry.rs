//! The per-connection extension registry and negotiated pipeline (RFC 6455 §9.1).
//!
//! This module holds [`Extensions`]: registration, the client's offer and activation, the server's
//! response, and running whole messages through the active sessions. It must never interpret extension
//! parameters itself (each extension does), never reorder sessions other than RFC 6455 §9.1 says (client:
//! the server's order; server: registration order), and never let a message through with RSV bits that no
//! active session consumed.

use std::fmt;

use super::header::{Offer, Params, parse_header, serialize};
use super::{ClientSession, CloseCode, Extension, ExtensionError, Message, Rsv, Session};

/// A negotiated session with the name and RSV bits of its extension.
struct Active {
    name: String,
    rsv: Rsv,
    session: Box<dyn Session>,
}

/// The extensions registered for one connection and, once negotiated, its pipeline of active sessions
/// (RFC 6455 §9.1), as `Extensions` in the Ruby/Node `websocket-extensions` library.
#[derive(Default)]
pub struct Extensions {
    registered: Vec<Box<dyn Extension>>,
    /// Client sessions that made offers, by index into `registered`.
    pending: Vec<(usize, Box<dyn ClientSession>)>,
    /// The pipeline: client in the server's response order, server in registration order.
    active: Vec<Active>,
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field(
                "registered",
                &self.registered.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .field("active", &self.active().collect::<Vec<_>>())
            .finish()
    }
}

impl Extensions {
    /// An empty registry (RFC 6455 §9).
    pub fn new() -> Self {
        Extensions::default()
    }

    /// Registers an extension (RFC 6455 §9). Fails with [`ExtensionError::DuplicateExtension`] if one with
    /// the same name is registered. Two extensions may claim the same RSV bit (RFC 6455 §5.2): only one is
    /// ever activated.
    pub fn add(&mut self, ext: Box<dyn Extension>) -> Result<(), ExtensionError> {
        if self.registered.iter().any(|e| e.name() == ext.name()) {
            return Err(ExtensionError::DuplicateExtension(ext.name().to_owned()));
        }
        self.registered.push(ext);
        Ok(())
    }

    /// Whether no extension is registered (RFC 6455 §9).
    pub fn is_empty(&self) -> bool {
        self.registered.is_empty()
    }

    /// Whether a session was negotiated: then every message goes through the pipeline (X1), whatever
    /// RSV bits it carries.
    pub fn has_sessions(&self) -> bool {
        !self.active.is_empty()
    }

    /// The names of the active sessions, in pipeline order (RFC 6455 §9.1).
    pub fn active(&self) -> impl Iterator<Item = &str> {
        self.active.iter().map(|a| a.name.as_str())
    }

    /// Client: the `Sec-WebSocket-Extensions` value to send, each registered extension's offers in
    /// registration order, or `None` if nothing is offered (RFC 6455 §4.1, §9.1). Starts a new negotiation:
    /// earlier sessions are closed.
    ///
    /// An offer that cannot be written into the header (an extension or parameter name that is not a token,
    /// a value with CR, LF or NUL; BEHAVIOUR H1) fails with [`ExtensionError::InvalidHeader`], and no
    /// session is kept.
    pub fn generate_offer(&mut self) -> Result<Option<String>, ExtensionError> {
        self.close();
        let mut offers = Vec::new();
        for (index, ext) in self.registered.iter().enumerate() {
            let mut session = ext.client_session();
            let params = session.offer();
            if params.is_empty() {
                continue;
            }
            offers.extend(params.into_iter().map(|params| Offer {
                name: ext.name().to_owned(),
                params,
            }));
            self.pending.push((index, session));
        }
        if offers.is_empty() {
            return Ok(None);
        }
        serialize(&offers).map(Some).inspect_err(|_| self.close())
    }

    /// Client: activates the sessions the server's `Sec-WebSocket-Extensions` response names, in the
    /// server's order (RFC 6455 §9.1). An extension that was not offered, named twice, claiming RSV bits
    /// already taken, or rejecting its parameters fails the handshake (RFC 6455 §4.1); then no session is
    /// active. Call it once, after [`Extensions::generate_offer`].
    pub fn activate(&mut self, response_header: &str) -> Result<(), ExtensionError> {
        let result = self.activate_inner(response_header);
        for (_, session) in &mut self.pending {
            session.close();
        }
        self.pending.clear();
        if result.is_err() {
            self.close();
        }
        result
    }

    fn activate_inner(&mut self, response_header: &str) -> Result<(), ExtensionError> {
        for Offer { name, params } in parse_header(response_header)? {
            if self.active.iter().any(|a| a.name == name) {
                return Err(ExtensionError::DuplicateExtension(name));
            }
            let Some(slot) = self
                .pending
                .iter()
                .position(|(i, _)| self.registered[*i].name() == name)
            else {
                return Err(ExtensionError::UnknownExtension(name));
            };
            let (index, mut session) = self.pending.swap_remove(slot);
            let rsv = self.registered[index].rsv();
            if !rsv.intersection(self.allowed_rsv()).is_empty() {
                return Err(ExtensionError::RsvConflict(name));
            }
            if !session.activate(&params) {
                return Err(ExtensionError::RejectedParams(name));
            }
            self.active.push(Active { name, rsv, session });
        }
        Ok(())
    }

    /// Server: the `Sec-WebSocket-Extensions` value answering the client's `offer_header`, or `None` if no
    /// extension is accepted (RFC 6455 §4.2.2, §9.1). Extensions answer in registration order, each from
    /// its own offers in the client's order; one whose RSV bits an accepted extension took is skipped. A
    /// malformed header is an `Err`: refuse the request with `400 Invalid Sec-WebSocket-Extensions header`.
    /// So is a response an extension made that cannot be written into the header (BEHAVIOUR H1, see
    /// [`serialize`]); then no session is active.
    pub fn generate_response(
        &mut self,
        offer_header: &str,
    ) -> Result<Option<String>, ExtensionError> {
        self.close();
        let offers = parse_header(offer_header)?;
        let mut response = Vec::new();
        for ext in &self.registered {
            let name = ext.name();
            let mine: Vec<&Params> = offers
                .iter()
                .filter(|o| o.name == name)
                .map(|o| &o.params)
                .collect();
            let rsv = ext.rsv();
            if mine.is_empty() || !rsv.intersection(self.allowed_rsv()).is_empty() {
                continue;
            }
            if let Some(mut session) = ext.server_session(&mine) {
                response.push(Offer {
                    name: name.to_owned(),
                    params: session.response(),
                });
                self.active.push(Active {
                    name: name.to_owned(),
                    rsv,
                    session,
                });
            }
        }
        if response.is_empty() {
            return Ok(None);
        }
        serialize(&response).map(Some).inspect_err(|_| self.close())
    }

    /// The RSV bits owned by active sessions (RFC 6455 §5.2): frames may carry only these.
    pub fn allowed_rsv(&self) -> Rsv {
        self.active
            .iter()
            .fold(Rsv::NONE, |bits, a| bits.union(a.rsv))
    }

    /// Runs a received message through the active sessions in reverse order (RFC 6455 §9.1). `msg.rsv`
    /// holds the bits of its first frame. Bits no active session owns fail with 1002 (RFC 6455 §5.2); bits
    /// left set by their session fail with 1010; a result over `max_length` bytes fails with 1009. After
    /// an error the connection must be failed with the error's code: sessions may be mid-stream.
    pub fn process_incoming(
        &mut self,
        mut msg: Message,
        max_length: u64,
    ) -> Result<Message, ExtensionError> {
        if !msg.rsv.difference(self.allowed_rsv()).is_empty() {
            return Err(ExtensionError::processing(
                CloseCode::PROTOCOL_ERROR,
                "RSV bits set without a negotiated extension",
            ));
        }
        for active in self.active.iter_mut().rev() {
            msg = active.session.process_incoming(msg, max_length)?;
        }
        if !msg.rsv.is_empty() {
            return Err(ExtensionError::processing(
                CloseCode::MANDATORY_EXTENSION,
                "RSV bits left unprocessed",
            ));
        }
        if msg.data.len() as u64 > max_length {
            return Err(ExtensionError::processing(
                CloseCode::TOO_BIG,
                "message too big",
            ));
        }
        Ok(msg)
    }

    /// Runs a message to send through the active sessions in order (RFC 6455 §9.1); the result's `rsv`
    /// goes on its first frame.
    pub fn process_outgoing(&mut self, mut msg: Message) -> Result<Message, ExtensionError> {
        for active in &mut self.active {
            msg = active.session.process_outgoing(msg)?;
        }
        Ok(msg)
    }

    /// Closes every session, active or offered, and forgets them (RFC 6455 §7); the registrations stay.
    pub fn close(&mut self) {
        for active in &mut self.active {
            active.session.close();
        }
        for (_, session) in &mut self.pending {
            session.close();
        }
        self.active.clear();
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests;
