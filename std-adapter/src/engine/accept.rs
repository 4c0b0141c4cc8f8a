//! The server's answer (RFC 6455 §4.2.2; BEHAVIOUR H1, H3–H6): the request reported by the core is
//! negotiated ([`negotiate`](crate::negotiation::negotiate)) and accepted or refused; a request an HTTP
//! server already parsed is answered the same way (pre-parsed mode).
//!
//! The core writes the answer; this file only gathers what goes into it.

use websocket_driver::{Accept, HandshakeCallError, Refusal, Request};

use super::{Decision, Engine, Error, Event};
use crate::message::CloseEvent;
use crate::negotiation::negotiate;

impl Engine {
    /// A server for a request an HTTP server already parsed (pre-parsed mode, H6b): answered at once;
    /// `body` holds any bytes read past the head (H5). The events (open, or the refusal's error and
    /// close) follow from [`next_event`](Self::next_event).
    pub fn for_request<'h>(
        options: crate::Options,
        method: &str,
        target: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
        extensions: Vec<Box<dyn crate::Extension>>,
        response_headers: &[(String, String)],
    ) -> Engine {
        let mut engine = Engine::server(options);
        for extension in extensions {
            engine.add_extension(extension);
        }
        engine.custom_headers = response_headers.to_vec();
        let headers: Vec<websocket_driver::Header<'h>> = headers
            .into_iter()
            .map(|(name, value)| websocket_driver::Header { name, value })
            .collect();
        let request = Request::new(method, target, 1, &headers);
        let _ = engine.answer(&request, None, None); // its events follow from `next_event`
        // All of it, however long (H5): the receive buffer takes the whole body now — it is in memory
        // already — and shrinks back after it is read.
        engine.reserve_rx(body.len());
        let taken = engine.receive(body);
        debug_assert_eq!(
            taken,
            body.len(),
            "the receive buffer was made room for the body"
        );
        engine
    }

    /// Server, raw mode: accepts the request reported by [`Event::Connect`] with our subprotocols,
    /// headers and extensions (H1, H4, X2). A request that cannot be accepted is refused (400 or 426)
    /// and its error and close events follow.
    pub fn accept(&mut self) -> Result<(), Error> {
        self.answer_reported(None)
    }

    /// Server, raw mode: answers the request reported by [`Event::Connect`] as the application decided
    /// after looking at it (its `Origin`, cookies, credentials, offered subprotocols): accept with the
    /// subprotocol it chose (if the client offered it, H4) and extra headers, or refuse with a status,
    /// headers and a body.
    pub fn decide(&mut self, decision: Decision) -> Result<(), Error> {
        match decision {
            Decision::Accept { protocol, headers } => {
                self.custom_headers.extend(headers);
                self.answer_reported(Some(protocol))
            }
            Decision::Refuse {
                status,
                headers,
                body,
            } => {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                self.grow_tx(
                    body.len()
                        + 512
                        + headers
                            .iter()
                            .map(|(n, v)| n.len() + v.len() + 4)
                            .sum::<usize>(),
                );
                let refusal = Refusal {
                    status,
                    headers: &headers,
                    body: &body,
                };
                self.core
                    .refuse_with(&mut self.rx, &mut self.tx, &refusal)
                    .map_err(Error::Send)
            }
        }
    }

    /// Refuses the pending request with `status` and a one-line `reason` (H3), or answers a request
    /// that was not an upgrade; the connection closes.
    pub fn refuse(&mut self, status: u16, reason: &str) -> Result<(), Error> {
        self.grow_tx(reason.len() + 256);
        self.core
            .refuse(&mut self.rx, &mut self.tx, status, reason)
            .map_err(Error::Send)
    }

    /// Raw mode: answers the request the core reported (its head, copied out of the receive buffer, which
    /// the core's `accept` consumes), with the application's subprotocol `choice` if it made one.
    fn answer_reported(&mut self, choice: Option<Option<String>>) -> Result<(), Error> {
        let Some(request) = self.core.request(&self.rx) else {
            return Err(Error::Closed);
        };
        let head: Vec<(String, Vec<u8>)> = request
            .headers()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        let (method, target, minor) = (
            request.method().to_owned(),
            request.target().to_owned(),
            request.minor_version(),
        );
        let headers: Vec<websocket_driver::Header<'_>> = head
            .iter()
            .map(|(name, value)| websocket_driver::Header { name, value })
            .collect();
        let request = Request::new(&method, &target, minor, &headers);
        self.answer(&request, Some(()), choice)
    }

    /// Negotiates and lets the core answer: through `accept` (raw mode, `raw` set) or `accept_request`.
    /// `choice` is the application's subprotocol decision, when it made one.
    fn answer(
        &mut self,
        request: &Request<'_>,
        raw: Option<()>,
        choice: Option<Option<String>>,
    ) -> Result<(), Error> {
        self.started = true;
        self.buffers_for_poll();
        let extensions = std::mem::take(&mut self.extensions);
        let supported = match &choice {
            Some(chosen) => chosen.iter().cloned().collect(),
            None => self.options.protocols.clone(),
        };
        let negotiated = match negotiate(
            request.headers().map(|h| (h.name, h.value)),
            &supported,
            extensions,
        ) {
            Ok(negotiated) => negotiated,
            Err(refusal) => {
                let _ = self.refuse(refusal.status, &refusal.reason);
                self.closed_reported = true;
                let error = Error::Refused(refusal.reason.clone());
                self.pending.push_back(Event::Error(error.clone()));
                self.pending.push_back(Event::Close(CloseEvent {
                    code: 1002,
                    reason: refusal.reason,
                }));
                return Err(error);
            }
        };
        self.extensions = negotiated.extensions;
        let size = 512
            + self
                .custom_headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>()
            + negotiated.extensions_header.as_deref().map_or(0, str::len)
            + negotiated.protocol.as_deref().map_or(0, str::len)
            // The drafts' location line holds the request target (H12).
            + request.target().len()
            + request.headers().map(|h| h.value.len()).sum::<usize>();
        self.grow_tx(size);
        let chosen: Vec<&str> = negotiated.protocol.iter().map(String::as_str).collect();
        let headers: Vec<(&str, &str)> = self
            .custom_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let accept = Accept {
            protocols: &chosen,
            headers: &headers,
            extensions: negotiated.extensions_header.as_deref(),
            secure: self.options.secure,
        };
        let result = match raw {
            Some(()) => self.core.accept(&mut self.rx, &mut self.tx, &accept),
            None => self.core.accept_request(&mut self.tx, request, &accept),
        };
        match result {
            Ok(_) => {
                self.protocol = negotiated.protocol;
                self.core.set_allowed_rsv(self.extensions.allowed_rsv());
                Ok(())
            }
            Err(HandshakeCallError::Handshake(e)) => {
                let error = Error::Handshake(e);
                self.pending.push_back(Event::Error(error.clone()));
                Err(error)
            }
            Err(e) => {
                // No answer could be written (it would not fit, say): the connection ends here, with
                // its events, so that no face waits for a handshake that cannot complete.
                let error = Error::Refused(e.to_string());
                self.closed_reported = true;
                self.pending.push_back(Event::Error(error.clone()));
                self.pending.push_back(Event::Close(CloseEvent {
                    code: 1006,
                    reason: e.to_string(),
                }));
                Err(error)
            }
        }
    }
}
