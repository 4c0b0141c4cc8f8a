//! The receive side of the engine: the core's borrowed events turned into owned ones — whole messages
//! assembled from chunks (one copy) and run through the extensions (RFC 6455 §5.4, §9; X1, X4, F10), the
//! client's response checked with the offered subprotocols and extensions (H9, X2), and the open.
//!
//! Nothing here decides what the bytes mean: the core does; this file only copies and assembles.

use std::fmt;

use websocket_driver::{
    CloseCode, DataKind, Error as CoreError, Event as CoreEvent, HandshakeError, Instant, Rsv,
};

use super::{Engine, Error, Event};
use crate::extensions::Message as ExtMessage;
use crate::message::{CloseEvent, Message};

/// A message being received in chunks.
pub(super) struct Incoming {
    kind: DataKind,
    rsv: Rsv,
    data: Vec<u8>,
}

/// A request head, owned: what a server sees before it accepts (H6).
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: String,
    /// The request target.
    pub target: String,
    /// Every header, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Whether it is a WebSocket upgrade (V4).
    pub websocket: bool,
}

impl RequestHead {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first header named `name` as text, if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The `Origin` header (RFC 6454; RFC 6455 §10.2: check it to refuse cross-site requests).
    pub fn origin(&self) -> Option<&str> {
        self.header_str("origin")
    }

    /// The subprotocols the client offered, in its order (RFC 6455 §4.2.1, every
    /// `Sec-WebSocket-Protocol` header, comma-separated).
    pub fn protocols(&self) -> Vec<&str> {
        self.all("sec-websocket-protocol")
    }

    /// The extension offers, as listed (RFC 6455 §9.1; every `Sec-WebSocket-Extensions` header).
    pub fn extensions(&self) -> Vec<&str> {
        self.all("sec-websocket-extensions")
    }

    /// The value of each `name` cookie the client sent (RFC 6265 §5.4).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.all("cookie").into_iter().find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then(|| v.trim())
        })
    }

    /// Every element of every `name` header, comma- or (for `Cookie`) semicolon-separated, trimmed.
    fn all(&self, name: &str) -> Vec<&str> {
        let separator = if name.eq_ignore_ascii_case("cookie") {
            ';'
        } else {
            ','
        };
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(separator))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Credentials are never printed: `Cookie`, `Authorization` and `Proxy-Authorization` values show as
/// `<redacted>`.
impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'h>(&'h [(String, Vec<u8>)]);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                for (name, value) in self.0 {
                    let secret = ["cookie", "authorization", "proxy-authorization"]
                        .iter()
                        .any(|s| name.eq_ignore_ascii_case(s));
                    if secret {
                        list.entry(&(name, "<redacted>"));
                    } else {
                        list.entry(&(name, String::from_utf8_lossy(value)));
                    }
                }
                list.finish()
            }
        }
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &Headers(&self.headers))
            .field("websocket", &self.websocket)
            .finish()
    }
}

/// A core event, owned.
enum Got {
    Connect(RequestHead),
    Body(Vec<u8>),
    Response(u16, Vec<(String, String)>),
    ProxyConnected(u16, Vec<(String, String)>),
    Open,
    Message(DataKind, Rsv, Vec<u8>),
    Text(String),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    TxFull(usize),
    /// A chunk went into the message being assembled.
    Nothing,
}

pub(super) fn pairs(headers: websocket_driver::handshake::Headers<'_>) -> Vec<(String, String)> {
    headers
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Copies what `event` borrows; data chunks go into `incoming`, and a whole message out.
fn own(event: CoreEvent<'_>, incoming: &mut Option<Incoming>) -> Got {
    let (kind, rsv, data, fin) = match event {
        CoreEvent::Connect(request) => {
            return Got::Connect(RequestHead {
                method: request.method().to_owned(),
                target: request.target().to_owned(),
                headers: request
                    .headers()
                    .map(|h| (h.name.to_owned(), h.value.to_vec()))
                    .collect(),
                websocket: request.is_websocket(),
            });
        }
        CoreEvent::Body(body) => return Got::Body(body.to_vec()),
        CoreEvent::Response(r) => return Got::Response(r.status(), pairs(r.headers())),
        CoreEvent::ProxyConnected(r) => return Got::ProxyConnected(r.status(), pairs(r.headers())),
        CoreEvent::Open => return Got::Open,
        CoreEvent::Ping(p) => return Got::Ping(p.to_vec()),
        CoreEvent::Pong(p) => return Got::Pong(p.to_vec()),
        CoreEvent::Close { code, reason } => return Got::Close(code.0, reason.to_owned()),
        CoreEvent::TxFull { needed } => return Got::TxFull(needed),
        // A whole message in one view: one copy, and text needs no second UTF-8 check.
        CoreEvent::Text { data, fin: true } if incoming.is_none() => {
            return Got::Text(data.to_owned());
        }
        CoreEvent::Binary { data, fin: true } if incoming.is_none() => {
            return Got::Message(DataKind::Binary, Rsv::NONE, data.to_vec());
        }
        CoreEvent::Text { data, fin } => (DataKind::Text, Rsv::NONE, data.as_bytes(), fin),
        CoreEvent::Binary { data, fin } => (DataKind::Binary, Rsv::NONE, data, fin),
        CoreEvent::Extension {
            kind,
            rsv,
            data,
            fin,
        } => (kind, rsv, data, fin),
        _ => return Got::Nothing,
    };
    let message = incoming.get_or_insert_with(|| Incoming {
        kind,
        rsv,
        data: Vec::new(),
    });
    message.data.extend_from_slice(data);
    if !fin {
        return Got::Nothing;
    }
    match incoming.take() {
        Some(Incoming { kind, rsv, data }) => Got::Message(kind, rsv, data),
        None => Got::Nothing,
    }
}

impl Engine {
    /// The next event, or `None` when more input (or writing the output, when
    /// [`wants_read`](Self::wants_read) is false) is needed. `now` drives the timers.
    pub fn next_event(&mut self, now: Instant) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.closed_reported {
                return None;
            }
            if self.replies_over_high_water()
                && self.core.state() != websocket_driver::State::Closed
            {
                // Backpressure: the peer does not read the replies it caused; stop reading it. A
                // connection that ended meanwhile (a timer) still gives its close event.
                return None;
            }
            self.buffers_for_poll();
            self.core.coalesce_pongs(self.pongs_pile_up());
            let empty_pong = self.pong_len(0);
            // What `poll` queues is the peer's doing: pongs, the close echo.
            let before = self.replies.sent() + self.tx.len() as u64;
            let polled = self
                .core
                .poll(&mut self.rx, &mut self.tx, &mut self.masks, now);
            let after = self.replies.sent() + self.tx.len() as u64;
            // A pong that replaced an unsent one ends short of where it would have: the difference
            // is what was taken back.
            let taken_back = match &polled {
                Ok(Some(CoreEvent::Ping(payload))) => {
                    (before + empty_pong + payload.len() as u64).saturating_sub(after)
                }
                _ => 0,
            };
            self.replies.taken_back(before, taken_back);
            self.replies.queued(before - taken_back, after);
            let got = match polled {
                Ok(None) => {
                    self.shrink_rx();
                    return None;
                }
                Ok(Some(event)) => own(event, &mut self.incoming),
                Err(CoreError::Handshake(e)) => {
                    if let Some(response) = self.core.response(&self.rx) {
                        self.status = Some(response.status());
                        self.response_headers = pairs(response.headers());
                    }
                    if let (HandshakeError::ProxyRefused(status), Some(client)) = (e, &self.client)
                    {
                        return Some(Event::Error(Error::ProxyRefused {
                            status,
                            url: client.url.clone(),
                        }));
                    }
                    return Some(Event::Error(Error::Handshake(e)));
                }
                Err(CoreError::Protocol(e)) => return Some(Event::Error(Error::Protocol(e))),
                Err(e) => return Some(Event::Error(Error::Refused(e.to_string()))),
            };
            if let Some(event) = self.handle(got) {
                return Some(event);
            }
        }
    }

    /// What an owned core event means for the application.
    fn handle(&mut self, got: Got) -> Option<Event> {
        match got {
            Got::Nothing => None,
            Got::TxFull(needed) => {
                self.grow_tx(needed);
                None
            }
            Got::Connect(head) => Some(Event::Connect(head)),
            Got::Body(body) => Some(Event::Body(body)),
            Got::ProxyConnected(status, headers) => {
                self.status = Some(status);
                self.response_headers = headers;
                Some(Event::ProxyConnected)
            }
            Got::Response(status, headers) => {
                self.status = Some(status);
                self.response_headers = headers;
                self.check_response()
            }
            Got::Open => {
                self.flush_queue();
                Some(Event::Open)
            }
            Got::Text(text) if self.extensions.has_sessions() => {
                Some(self.message(DataKind::Text, Rsv::NONE, text.into_bytes()))
            }
            Got::Text(text) => Some(Event::Message(Message::Text(text))),
            Got::Message(kind, rsv, data) => {
                let event = self.message(kind, rsv, data);
                self.shrink_rx();
                Some(event)
            }
            Got::Ping(payload) => Some(Event::Ping(payload)),
            Got::Pong(payload) => Some(Event::Pong(payload)),
            Got::Close(code, reason) => {
                self.closed_reported = true;
                self.extensions.close();
                self.incoming = None;
                Some(Event::Close(CloseEvent { code, reason }))
            }
        }
    }

    /// Client: the extensions the server chose are activated in its order (X2), then the core checks the
    /// subprotocol against the offered list (H9); the open event (or the failure's close) follows. A
    /// failed activation fails the handshake like every H9 check: close 1002, no close frame (the
    /// connection was never open).
    fn check_response(&mut self) -> Option<Event> {
        if let Err(e) = self.activate_extensions() {
            return Some(self.fail(
                CloseCode::PROTOCOL_ERROR,
                format!("Error during WebSocket handshake: {e}"),
            ));
        }
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        match self
            .core
            .check_response(&mut self.rx, &mut self.tx, &protocols)
        {
            Ok(_) => None,
            Err(websocket_driver::HandshakeCallError::Handshake(e)) => {
                Some(Event::Error(Error::Handshake(e)))
            }
            Err(e) => Some(Event::Error(Error::Refused(e.to_string()))),
        }
    }

    /// Client: activates the extensions the response's `Sec-WebSocket-Extensions` headers name, in the
    /// server's order (X2), and lets the core accept their RSV bits.
    pub(super) fn activate_extensions(&mut self) -> Result<(), crate::extensions::ExtensionError> {
        let answer = self
            .response_headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if !answer.is_empty() {
            self.extensions.activate(&answer)?;
            self.core.set_allowed_rsv(self.extensions.allowed_rsv());
        }
        Ok(())
    }

    /// A whole message: through the negotiated extensions, every one (X1: a session that claims no RSV
    /// bit transforms messages too; X4, X5); compressed text is checked as UTF-8 once inflated (F10).
    fn message(&mut self, kind: DataKind, rsv: Rsv, data: Vec<u8>) -> Event {
        if rsv.is_empty() && !self.extensions.has_sessions() {
            return Event::Message(match kind {
                // The core checked every chunk, each ending on a char boundary: the whole is UTF-8.
                DataKind::Text => match String::from_utf8(data) {
                    Ok(text) => Message::Text(text),
                    Err(_) => {
                        return self.fail(
                            CloseCode::INVALID_DATA,
                            "Could not decode a text frame as UTF-8".into(),
                        );
                    }
                },
                _ => Message::Binary(data),
            });
        }
        let message = ExtMessage { kind, rsv, data };
        match self
            .extensions
            .process_incoming(message, self.options.max_length)
        {
            Ok(ExtMessage {
                kind: DataKind::Text,
                data,
                ..
            }) => match String::from_utf8(data) {
                Ok(text) => Event::Message(Message::Text(text)),
                Err(_) => self.fail(
                    CloseCode::INVALID_DATA,
                    "Could not decode a text frame as UTF-8".into(),
                ),
            },
            Ok(ExtMessage { data, .. }) => Event::Message(Message::Binary(data)),
            Err(e) => {
                let (code, reason) = super::outgoing::close_of(&e);
                self.fail(code, reason)
            }
        }
    }
}
