//! The driver during the opening handshake (RFC 6455 §4; BEHAVIOUR V1–V4, H1–H14, S1–S3): reading heads
//! from the receive buffer, the application's accept / refuse / start calls, and the open event.
//!
//! Heads stay in the receive buffer while they are reported (H5: the bytes after them are never lost);
//! answers go into the transmit ring whole or not at all; frames queued before open wait behind the
//! ring's release mark (S2).

use super::recv::{Delivery, Step};
use super::state::{Link, Phase, Timer};
use super::{Cause, Conn, Driver, Role};
use crate::buffer::{RxBuf, Storage, TxRing};
use crate::error::{Error, SendError};
use crate::event::Event;
use crate::handshake::client::check_connect;
use crate::handshake::extensions::is_valid_extension_list;
use crate::handshake::head::{find_end, parse_request, parse_response};
use crate::handshake::server::{
    Accept, Refusal, check_request, choose_protocol, write_refusal, write_response,
};
use crate::handshake::{CustomHeaders, HandshakeError, Request, Version};
use crate::mask_source::MaskSource;
use crate::text::Cut;

/// Why `accept`, `start` or `connect_proxy` did not go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeCallError {
    /// The request was refused (the refusal is queued) or cannot be made; the connection is closed
    /// and the close event follows at the next `poll`.
    Handshake(HandshakeError),
    /// The answer does not fit the transmit ring yet, or the call is not possible in this state.
    /// Nothing changed: drain the ring and call again.
    Send(SendError),
}

impl From<SendError> for HandshakeCallError {
    fn from(e: SendError) -> Self {
        HandshakeCallError::Send(e)
    }
}

/// Only logs show this text (the `display` feature).
#[cfg(feature = "display")]
impl core::fmt::Display for HandshakeCallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HandshakeCallError::Handshake(e) => core::fmt::Display::fmt(e, f),
            HandshakeCallError::Send(e) => core::fmt::Display::fmt(e, f),
        }
    }
}

impl<S: Storage, T: Storage, R: MaskSource + ?Sized> Conn<'_, S, T, R> {
    /// One unit of handshake work.
    pub(super) fn step_handshake(&mut self) -> Result<Step, Error> {
        let Link::Connecting { phase, .. } = self.d.link else {
            return Ok(Step::Idle);
        };
        let max_headers = self.d.config.header_limit();
        match phase {
            Phase::RequestReported { .. } | Phase::ClientIdle | Phase::ResponseReported { .. } => {
                Ok(Step::Idle)
            }
            Phase::ReadRequest { scanned } => {
                let len = match self.read_head(scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.refuse_with(e)),
                };
                match parse_request(
                    self.rx.readable().get(..len).unwrap_or_default(),
                    max_headers,
                ) {
                    Err(e) => Err(self.refuse_with(e)),
                    // H6: a request that is not an upgrade is reported and its body follows.
                    Ok(req) if !req.is_websocket() => {
                        self.d.set_phase(Phase::Body);
                        Ok(Step::Deliver(Delivery::Connect { len, consume: len }))
                    }
                    Ok(_) => {
                        self.d.set_phase(Phase::RequestReported { len });
                        Ok(Step::Deliver(Delivery::Connect { len, consume: 0 }))
                    }
                }
            }
            Phase::Body if self.rx.is_empty() => Ok(Step::Idle),
            Phase::Body => Ok(Step::Deliver(Delivery::Body { len: self.rx.len() })),
            #[cfg(feature = "drafts")]
            Phase::Key3 { slot, key1, key2 } => {
                // H14: the 16-byte answer goes out once all 8 body bytes are here, in any split.
                let Some(key3) = self.rx.readable().get(..8) else {
                    return Ok(Step::Idle);
                };
                let key3: [u8; 8] = key3.try_into().unwrap_or_default();
                self.tx
                    .fill(slot, &crate::handshake::draft76::digest(key1, key2, &key3));
                self.rx.consume(8);
                self.d.open(self.tx);
                Ok(Step::Again)
            }
            Phase::ReadResponse { scanned, offer } => {
                let len = match self.read_head(scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.d.fail(Cause::Handshake(e), self.tx, self.rng)),
                };
                // H9, the checks that need nothing from the application; H10: frames after the head
                // wait in the buffer.
                let checked = parse_response(
                    self.rx.readable().get(..len).unwrap_or_default(),
                    max_headers,
                )
                .and_then(|response| offer.check_head(&response));
                match checked {
                    Ok(()) => {
                        self.d.set_phase(Phase::ResponseReported { len, offer });
                        Ok(Step::Deliver(Delivery::Response { len }))
                    }
                    Err(e) => Err(self.d.fail_response(e, len, self.tx, self.rng)),
                }
            }
            Phase::ReadProxyResponse { scanned } => {
                let len = match self.read_head(scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.d.fail(Cause::Handshake(e), self.tx, self.rng)),
                };
                match parse_response(
                    self.rx.readable().get(..len).unwrap_or_default(),
                    max_headers,
                )
                .and_then(|r| check_connect(&r))
                {
                    Ok(()) => {
                        self.d.set_phase(Phase::ClientIdle);
                        Ok(Step::Deliver(Delivery::ProxyConnected { len }))
                    }
                    Err(e) => Err(self.d.fail_response(e, len, self.tx, self.rng)),
                }
            }
        }
    }

    /// Looks for the end of the head being read; remembers how far it looked (H7: linear in the head's
    /// size however it arrives) and refuses a head over the limit. The limit is the configured one,
    /// clamped to the receive buffer: a head that cannot fit is too large, never a buffer error.
    fn read_head(&mut self, scanned: usize) -> Result<Option<usize>, HandshakeError> {
        let limit = self.d.config.get_head_limit().min(self.rx.capacity());
        match find_end(self.rx.readable(), scanned) {
            Ok(len) if len <= limit => Ok(Some(len)),
            Ok(_) => Err(HandshakeError::HeadTooLarge),
            Err(scanned) if scanned >= limit => Err(HandshakeError::HeadTooLarge),
            Err(scanned) => {
                if let Link::Connecting {
                    phase:
                        Phase::ReadRequest { scanned: s }
                        | Phase::ReadResponse { scanned: s, .. }
                        | Phase::ReadProxyResponse { scanned: s },
                    ..
                } = &mut self.d.link
                {
                    *s = scanned;
                }
                Ok(None)
            }
        }
    }

    /// A server refuses a request it could not read or accept: queues the refusal (if it fits) and ends.
    fn refuse_with(&mut self, e: HandshakeError) -> Error {
        let mut reason = [0u8; 128];
        let text = error_text(e, &mut reason);
        let mut out = self.tx.transaction();
        let refusal = Refusal {
            status: e.status(),
            body: text,
            ..Refusal::default()
        };
        if write_refusal(&mut out, &refusal).is_ok() {
            out.commit();
        }
        self.d.end(Cause::Handshake(e));
        Error::Handshake(e)
    }
}

impl Driver {
    /// The handshake phase, while connecting.
    pub(super) fn phase(&self) -> Option<Phase> {
        match self.link {
            Link::Connecting { phase, .. } => Some(phase),
            _ => None,
        }
    }

    /// Moves to another handshake phase, keeping the deadline.
    pub(super) fn set_phase(&mut self, next: Phase) {
        if let Link::Connecting { phase, .. } = &mut self.link {
            *phase = next;
        }
    }

    /// A response that failed its checks stays readable through [`Driver::response`] until the next
    /// poll (H9: status and headers are available after a failure).
    fn fail_response<T, R>(
        &mut self,
        e: HandshakeError,
        len: usize,
        tx: &mut TxRing<T>,
        rng: &mut R,
    ) -> Error
    where
        T: Storage,
        R: MaskSource + ?Sized,
    {
        let error = self.fail(Cause::Handshake(e), tx, rng);
        if let Link::Ended { head, .. } = &mut self.link {
            *head = Some(len);
        }
        error
    }

    /// The handshake is done: frames flow, and frames queued before open go out (S2). The open event
    /// is reported at the next poll.
    pub(super) fn open<T: Storage>(&mut self, tx: &mut TxRing<T>) {
        tx.release();
        self.link = Driver::opened(self.now, false);
    }

    /// The peer's close arrived (S5): closed. A client then waits for the server to close the transport
    /// (S8) — until the closing deadline when we closed first, so that one `close_timeout` bounds the
    /// whole closing.
    pub(super) fn closed_by_peer(&mut self) {
        let transport = match (self.role, self.link) {
            (Role::Server, _) => Timer::Off,
            (Role::Client, Link::Closing { deadline, .. }) => deadline,
            (Role::Client, _) => Timer::after(self.now, self.config.close_timeout()),
        };
        self.link = Link::Closed { transport };
    }

    /// Turns a handshake delivery into its event.
    pub(super) fn deliver_handshake<'a, S: Storage>(
        &mut self,
        rx: &'a mut RxBuf<S>,
        delivery: Delivery,
    ) -> Event<'a> {
        let max_headers = self.config.header_limit();
        match delivery {
            Delivery::Connect { len, consume } => {
                let head = &*rx.consume_view(consume, 0..len);
                match parse_request(head, max_headers) {
                    Ok(request) => Event::Connect(request),
                    Err(_) => Event::Body(&[]),
                }
            }
            Delivery::Body { len } => Event::Body(rx.consume_view(len, 0..len)),
            Delivery::Response { len } => {
                let head = &*rx.consume_view(0, 0..len);
                match parse_response(head, max_headers) {
                    Ok(response) => Event::Response(response),
                    Err(_) => Event::Open,
                }
            }
            Delivery::ProxyConnected { len } => {
                let head = &*rx.consume_view(len, 0..len);
                match parse_response(head, max_headers) {
                    Ok(response) => Event::ProxyConnected(response),
                    Err(_) => Event::Open,
                }
            }
            _ => Event::Open,
        }
    }

    /// The request head reported by [`Event::Connect`], while it waits for `accept` or `refuse`.
    pub fn request<'r, S: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        rx: &'r RxBuf<S>,
    ) -> Option<Request<'r>> {
        match self.phase()? {
            Phase::RequestReported { len } => parse_request(
                rx.readable().get(..len).unwrap_or_default(),
                self.config.header_limit(),
            )
            .ok(),
            _ => None,
        }
    }

    /// Accepts the request reported by [`Event::Connect`] (raw mode, H6a): checks it (V1–V3, H3), and
    /// queues the answer (H1, H4, H12, H13). Returns the chosen subprotocol as an index into
    /// `accept.protocols`. A request that cannot be accepted is refused (400, or 426 for a version we do
    /// not speak; the refusal is queued) and the connection closes. The bytes after the head stay in the
    /// receive buffer as the first frames (H5).
    pub fn accept<S, T>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
        accept: &Accept<'_>,
    ) -> Result<Option<usize>, HandshakeCallError>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let Some(Phase::RequestReported { len }) = self.phase() else {
            return Err(HandshakeCallError::Send(SendError::NoPendingRequest));
        };
        let head = rx.readable().get(..len).unwrap_or_default();
        let request = parse_request(head, self.config.header_limit())
            .map_err(HandshakeCallError::Handshake)?;
        let result = self.answer(tx, &request, accept);
        // The head is done with unless nothing happened (then the call may be repeated).
        if !matches!(result, Err(HandshakeCallError::Send(_))) {
            rx.consume(len);
        }
        result
    }

    /// Accepts a request the application's HTTP server already parsed (pre-parsed mode, H6b): like
    /// [`accept`](Self::accept); bytes read past the head belong in the receive buffer (H5).
    ///
    /// # Plugging into an HTTP stack
    /// With a stack that hands over the socket and lets you write the answer (here the `http` crate's
    /// types stand for what hyper or axum give you):
    /// ```
    /// use websocket_driver::{Accept, Config, Driver, Header, Request, RxBuf, TxRing};
    ///
    /// let req = http::Request::get("/chat")
    ///     .header("Upgrade", "websocket")
    ///     .header("Connection", "Upgrade")
    ///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("Sec-WebSocket-Version", "13")
    ///     .header("Sec-WebSocket-Protocol", "chat")
    ///     .header("Host", "example.com")
    ///     .body(())
    ///     .unwrap();
    /// let headers: Vec<Header> =
    ///     req.headers().iter().map(|(n, v)| Header { name: n.as_str(), value: v.as_bytes() }).collect();
    /// let request = Request::new(req.method().as_str(), req.uri().path(), 1, &headers);
    ///
    /// let mut ws = Driver::server(Config::default());
    /// let mut rx = RxBuf::new(vec![0u8; 8192]);
    /// let mut tx = TxRing::new(vec![0u8; 8192]);
    /// rx.write(b""); // whatever the HTTP server read past the head
    /// let protocol = ws.accept_request(&mut tx, &request, &Accept { protocols: &["chat"], ..Accept::default() });
    /// assert_eq!(protocol, Ok(Some(0)));
    /// assert!(tx.peek().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// ```
    /// With a stack that writes the 101 itself (hyper's `upgrade::on`), check the request and compute the
    /// answer's headers with [`check_request`](crate::handshake::server::check_request),
    /// [`AcceptKey::for_key`](crate::handshake::accept::AcceptKey::for_key) and
    /// [`choose_protocol`](crate::handshake::server::choose_protocol), then run
    /// [`Driver::server_upgraded`] on the upgraded connection.
    pub fn accept_request<T>(
        &mut self,
        tx: &mut TxRing<T>,
        request: &Request<'_>,
        accept: &Accept<'_>,
    ) -> Result<Option<usize>, HandshakeCallError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        match self.phase() {
            Some(Phase::ReadRequest { scanned: 0 }) => self.answer(tx, request, accept),
            _ => Err(HandshakeCallError::Send(SendError::NoPendingRequest)),
        }
    }

    /// Checks a request and queues the answer: the 101, or a refusal.
    fn answer<T: Storage>(
        &mut self,
        tx: &mut TxRing<T>,
        request: &Request<'_>,
        accept: &Accept<'_>,
    ) -> Result<Option<usize>, HandshakeCallError> {
        CustomHeaders(accept.headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        if accept
            .extensions
            .is_some_and(|e| !is_valid_extension_list(e))
        {
            return Err(SendError::InvalidHeader.into());
        }
        let version = match check_request(request, &self.config) {
            Ok(version) => version,
            Err(e) => {
                let mut reason = [0u8; 128];
                let text = error_text(e, &mut reason);
                let mut out = tx.transaction();
                let refusal = Refusal {
                    status: e.status(),
                    body: text,
                    ..Refusal::default()
                };
                write_refusal(&mut out, &refusal).map_err(SendError::from)?;
                out.commit();
                self.end(Cause::Handshake(e));
                return Err(HandshakeCallError::Handshake(e));
            }
        };
        #[cfg(feature = "drafts")]
        let draft_keys = match version {
            Version::Hixie76 => Some(
                crate::handshake::server::draft_keys(request)
                    .map_err(HandshakeCallError::Handshake)?,
            ),
            _ => None,
        };
        let protocol = choose_protocol(request, accept.protocols);
        let digest_room = if version == Version::Hixie76 { 16 } else { 0 };
        let (free, capacity) = (tx.free(), tx.capacity());
        let mut out = tx.transaction();
        write_response(&mut out, request, version, accept, protocol).map_err(SendError::from)?;
        let needed = out.len() + digest_room;
        if needed > capacity {
            return Err(SendError::TooLarge {
                size: needed,
                capacity,
            }
            .into());
        }
        if needed > free {
            return Err(SendError::Full { needed }.into());
        }
        out.commit();
        self.version = version;
        self.protocol = protocol.map(|p| p as u8);
        #[cfg(feature = "drafts")]
        if version.is_draft() {
            self.draft = crate::draft::framing::Decoder::new(
                version == Version::Hixie76,
                self.config.max_length,
            );
        }
        match version {
            #[cfg(feature = "drafts")]
            Version::Hixie76 => {
                let (key1, key2) = draft_keys.unwrap_or_default();
                let slot = tx.reserve(16).map_err(SendError::from)?;
                self.set_phase(Phase::Key3 { slot, key1, key2 });
            }
            _ => self.link = Driver::opened(self.now, false),
        }
        Ok(protocol)
    }

    /// Refuses the reported request with `status` and a one-line `reason` as a text/plain body, or,
    /// for a request that was not an upgrade, answers it; the connection is closed afterwards. Only
    /// while a request waits for an answer ([`SendError::NoPendingRequest`] otherwise: an open stream
    /// never gets HTTP written into it).
    pub fn refuse<S, T>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
        status: u16,
        reason: &str,
    ) -> Result<(), SendError>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let refusal = Refusal {
            status,
            body: reason.as_bytes(),
            ..Refusal::default()
        };
        self.refuse_with(rx, tx, &refusal)
    }

    /// Refuses the reported request (or answers a request that was not an upgrade) with a status,
    /// headers and a body of the application's (H3); as [`refuse`](Self::refuse). Headers are checked as
    /// custom headers are (H1: [`SendError::InvalidHeader`]).
    pub fn refuse_with<S, T>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
        refusal: &Refusal<'_>,
    ) -> Result<(), SendError>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        let head = match self.phase() {
            Some(Phase::RequestReported { len }) => len,
            Some(Phase::Body) => 0,
            _ => return Err(SendError::NoPendingRequest),
        };
        CustomHeaders(refusal.headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        let mut out = tx.transaction();
        write_refusal(&mut out, refusal)?;
        out.commit();
        rx.consume(head);
        self.close_now();
        Ok(())
    }

    /// Whether frames may be queued now: open, or connecting with the ring holding them back (a client
    /// after `start`, a hixie-76 server waiting for the request body).
    pub(super) fn can_queue(&self) -> bool {
        match self.phase() {
            Some(Phase::ReadResponse { .. } | Phase::ResponseReported { .. }) => true,
            #[cfg(feature = "drafts")]
            Some(Phase::Key3 { .. }) => true,
            _ => false,
        }
    }
}

/// The error's text, for a refusal body (BEHAVIOUR H3).
fn error_text(e: HandshakeError, buf: &mut [u8; 128]) -> &[u8] {
    let mut text = Cut::new(buf);
    e.write_text(&mut text);
    text.into_bytes()
}
