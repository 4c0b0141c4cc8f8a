//! The driver during the opening handshake (RFC 6455 §4; BEHAVIOUR V1–V4, H1–H14, S1–S3): reading heads
//! from the receive buffer, the application's accept / refuse / start calls, and the open event.
//!
//! Heads stay in the receive buffer while they are reported (H5: the bytes after them are never lost);
//! answers go into the transmit ring whole or not at all; frames queued before open wait behind the
//! ring's release mark (S2).

use super::recv::{Delivery, Step};
use super::{Cause, Driver, MIN_RX_CAPACITY, Phase, Role, State};
use crate::buffer::{RxBuf, TxRing};
use crate::error::{Error, SendError};
use crate::event::Event;
use crate::handshake::client::{ClientRequest, Offer, check_connect, write_connect, write_request};
use crate::handshake::head::{find_end, parse_request, parse_response};
use crate::handshake::server::{
    Accept, check_request, choose_protocol, write_refusal, write_response,
};
use crate::handshake::url::Url;
use crate::handshake::{CustomHeaders, HandshakeError, Request, Response, Version, accept};
use crate::mask_source::MaskSource;
use crate::time::Instant;

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

impl core::fmt::Display for HandshakeCallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HandshakeCallError::Handshake(e) => core::fmt::Display::fmt(e, f),
            HandshakeCallError::Send(e) => core::fmt::Display::fmt(e, f),
        }
    }
}

impl Driver {
    /// The smallest receive buffer for the current phase: a head must fit while one is read.
    #[inline]
    pub(super) fn min_rx_capacity(&self) -> usize {
        match self.phase {
            Phase::ReadRequest { .. }
            | Phase::ReadResponse { .. }
            | Phase::ReadProxyResponse { .. } => {
                MIN_RX_CAPACITY.max(self.config.head_limit as usize)
            }
            _ => MIN_RX_CAPACITY,
        }
    }

    /// Notes the time; arms the handshake deadline at the first poll.
    #[inline]
    pub(super) fn start_clocks(&mut self, now: Instant) {
        self.now = now;
        if self.clock_armed {
            return;
        }
        self.clock_armed = true;
        if let (State::Connecting, None, Some(timeout)) =
            (self.state, self.deadline, self.config.handshake_timeout())
        {
            self.deadline = Some(now + timeout);
        }
    }

    /// S8: a client whose closing handshake completed waits for the server to close the transport.
    pub(super) fn arm_close_wait(&mut self) {
        if self.role == Role::Client {
            self.deadline = Some(self.now + self.config.close_timeout());
        } else {
            self.deadline = None;
        }
    }

    /// One unit of handshake work.
    pub(super) fn step_handshake<S, T, R>(
        &mut self,
        rx: &mut RxBuf<S>,
        tx: &mut TxRing<T>,
        rng: &mut R,
    ) -> Result<Step, Error>
    where
        S: AsRef<[u8]> + AsMut<[u8]>,
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        match self.phase {
            Phase::Frames
            | Phase::RequestReported { .. }
            | Phase::ClientIdle
            | Phase::FailedResponse { .. } => Ok(Step::Idle),
            Phase::ReadRequest { scanned } => {
                let len = match self.read_head(rx, scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.refuse_with(e, tx, rng)),
                };
                match parse_request(&rx.readable()[..len], self.config.header_limit()) {
                    Err(e) => Err(self.refuse_with(e, tx, rng)),
                    // H6: a request that is not an upgrade is reported and its body follows.
                    Ok(req) if !req.is_websocket() => {
                        self.phase = Phase::Body;
                        Ok(Step::Deliver(Delivery::Connect { len, consume: len }))
                    }
                    Ok(_) => {
                        self.phase = Phase::RequestReported { len };
                        Ok(Step::Deliver(Delivery::Connect { len, consume: 0 }))
                    }
                }
            }
            Phase::Body if rx.is_empty() => Ok(Step::Idle),
            Phase::Body => Ok(Step::Deliver(Delivery::Body { len: rx.len() })),
            #[cfg(feature = "drafts")]
            Phase::Key3 { slot, key1, key2 } => {
                // H14: the 16-byte answer goes out once all 8 body bytes are here, in any split.
                let Some(key3) = rx.readable().get(..8) else {
                    return Ok(Step::Idle);
                };
                let key3: [u8; 8] = key3.try_into().unwrap_or_default();
                tx.fill(slot, &crate::handshake::draft76::digest(key1, key2, &key3));
                rx.consume(8);
                self.open(tx);
                Ok(Step::Deliver(Delivery::Open { response_len: None }))
            }
            Phase::OpenPending => {
                self.phase = Phase::Frames;
                Ok(Step::Deliver(Delivery::Open { response_len: None }))
            }
            Phase::ReadResponse { scanned, offer } => {
                let len = match self.read_head(rx, scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.fail(Cause::Handshake(e), tx, rng)),
                };
                // H9: every check in order; H10: frames after the head wait in the buffer.
                let checked = parse_response(&rx.readable()[..len], self.config.header_limit())
                    .and_then(|response| offer.check(&response));
                match checked {
                    Ok(protocol) => {
                        self.protocol = protocol.map(|p| p as u8);
                        self.open(tx);
                        Ok(Step::Deliver(Delivery::Open {
                            response_len: Some(len),
                        }))
                    }
                    Err(e) => Err(self.fail_response(e, len, tx, rng)),
                }
            }
            Phase::ReadProxyResponse { scanned } => {
                let len = match self.read_head(rx, scanned) {
                    Ok(Some(len)) => len,
                    Ok(None) => return Ok(Step::Idle),
                    Err(e) => return Err(self.fail(Cause::Handshake(e), tx, rng)),
                };
                match parse_response(&rx.readable()[..len], self.config.header_limit())
                    .and_then(|r| check_connect(&r))
                {
                    Ok(()) => {
                        self.phase = Phase::ClientIdle;
                        Ok(Step::Deliver(Delivery::ProxyConnected { len }))
                    }
                    Err(e) => Err(self.fail_response(e, len, tx, rng)),
                }
            }
        }
    }

    /// Looks for the end of the head being read; remembers how far it looked (H7: linear in the head's
    /// size however it arrives) and refuses a head over the limit.
    fn read_head<S: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        rx: &RxBuf<S>,
        scanned: usize,
    ) -> Result<Option<usize>, HandshakeError> {
        let limit = self.config.head_limit as usize;
        match find_end(rx.readable(), scanned) {
            Ok(len) if len <= limit => Ok(Some(len)),
            Ok(_) => Err(HandshakeError::HeadTooLarge),
            Err(scanned) if scanned >= limit => Err(HandshakeError::HeadTooLarge),
            Err(scanned) => {
                match &mut self.phase {
                    Phase::ReadRequest { scanned: s }
                    | Phase::ReadResponse { scanned: s, .. }
                    | Phase::ReadProxyResponse { scanned: s } => *s = scanned,
                    _ => {}
                }
                Ok(None)
            }
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
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        let error = self.fail(Cause::Handshake(e), tx, rng);
        self.phase = Phase::FailedResponse { len };
        error
    }

    /// A server refuses a request it could not read or accept: queues the refusal (if it fits) and ends.
    fn refuse_with<T, R>(&mut self, e: HandshakeError, tx: &mut TxRing<T>, rng: &mut R) -> Error
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        let _ = rng;
        let mut reason = [0u8; 128];
        let text = error_text(e, &mut reason);
        let mut out = tx.transaction();
        if write_refusal(&mut out, e.status(), text) {
            out.commit();
        }
        self.end(Cause::Handshake(e));
        Error::Handshake(e)
    }

    /// No more handshake: whatever phase it was in is over.
    pub(super) fn abandon_handshake(&mut self) {
        self.phase = Phase::Frames;
        self.deadline = None;
    }

    /// The handshake is done: frames flow, and frames queued before open go out (S2).
    fn open<T: AsRef<[u8]> + AsMut<[u8]>>(&mut self, tx: &mut TxRing<T>) {
        tx.release();
        self.state = State::Open;
        self.phase = Phase::Frames;
        self.deadline = None;
    }

    /// Turns a handshake delivery into its event.
    pub(super) fn deliver_handshake<'a, S: AsRef<[u8]> + AsMut<[u8]>>(
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
            Delivery::Open { response_len: None } => Event::Open { response: None },
            Delivery::Open {
                response_len: Some(len),
            } => {
                let head = &*rx.consume_view(len, 0..len);
                Event::Open {
                    response: parse_response(head, max_headers).ok(),
                }
            }
            Delivery::ProxyConnected { len } => {
                let head = &*rx.consume_view(len, 0..len);
                match parse_response(head, max_headers) {
                    Ok(response) => Event::ProxyConnected(response),
                    Err(_) => Event::Open { response: None },
                }
            }
            _ => Event::Open { response: None },
        }
    }

    /// The request head reported by [`Event::Connect`], while it waits for `accept` or `refuse`.
    pub fn request<'r, S: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        rx: &'r RxBuf<S>,
    ) -> Option<Request<'r>> {
        match self.phase {
            Phase::RequestReported { len } => {
                parse_request(&rx.readable()[..len], self.config.header_limit()).ok()
            }
            _ => None,
        }
    }

    /// The response head that failed the client's checks, until the next `poll` (H9: status and
    /// headers stay readable after a failure).
    pub fn response<'r, S: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        rx: &'r RxBuf<S>,
    ) -> Option<Response<'r>> {
        match self.phase {
            Phase::FailedResponse { len } => {
                parse_response(rx.readable().get(..len)?, self.config.header_limit()).ok()
            }
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
        let Phase::RequestReported { len } = self.phase else {
            return Err(HandshakeCallError::Send(SendError::NotOpen));
        };
        let head = &rx.readable()[..len];
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
        match self.phase {
            Phase::ReadRequest { scanned: 0 } => self.answer(tx, request, accept),
            _ => Err(HandshakeCallError::Send(SendError::NotOpen)),
        }
    }

    /// Checks a request and queues the answer: the 101, or a refusal.
    fn answer<T: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        tx: &mut TxRing<T>,
        request: &Request<'_>,
        accept: &Accept<'_>,
    ) -> Result<Option<usize>, HandshakeCallError> {
        CustomHeaders(accept.headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        let version = match check_request(request, self.config.allow_drafts) {
            Ok(version) => version,
            Err(e) => {
                let mut reason = [0u8; 128];
                let text = error_text(e, &mut reason);
                let free = tx.free();
                let mut out = tx.transaction();
                if !write_refusal(&mut out, e.status(), text) {
                    return Err(SendError::Full { needed: free + 1 }.into());
                }
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
        let free = tx.free();
        let mut out = tx.transaction();
        write_response(&mut out, request, version, accept, protocol).map_err(SendError::from)?;
        if out.len() + digest_room > free {
            return Err(SendError::Full {
                needed: out.len() + digest_room,
            }
            .into());
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
                self.phase = Phase::Key3 { slot, key1, key2 };
            }
            _ => {
                self.state = State::Open;
                self.phase = Phase::OpenPending;
                self.deadline = None;
            }
        }
        Ok(protocol)
    }

    /// Refuses the reported request with `status` and a one-line `reason` as a text/plain body, or,
    /// for a request that was not an upgrade, answers it; the connection is closed afterwards.
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
        let free = tx.free();
        let mut out = tx.transaction();
        if !write_refusal(&mut out, status, reason) {
            return Err(SendError::Full { needed: free + 1 });
        }
        out.commit();
        if let Phase::RequestReported { len } = self.phase {
            rx.consume(len);
        }
        self.phase = Phase::Frames;
        self.state = State::Closed;
        self.close_sent = true;
        Ok(())
    }

    /// Client: queues the opening request (H8) with a fresh key from `rng`. Frames sent before the
    /// response arrives wait behind it (S2, H10).
    pub fn start<T, R>(
        &mut self,
        tx: &mut TxRing<T>,
        rng: &mut R,
        request: &ClientRequest<'_>,
    ) -> Result<(), HandshakeCallError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        R: MaskSource + ?Sized,
    {
        if self.phase != Phase::ClientIdle {
            return Err(SendError::NotOpen.into());
        }
        CustomHeaders(request.headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        let nonce = rng.nonce();
        let key = accept::encode_nonce(&nonce);
        let offer = Offer::new(request, nonce).map_err(HandshakeCallError::Handshake)?;
        let mut out = tx.transaction();
        write_request(&mut out, request, &key).map_err(SendError::from)?;
        out.commit();
        tx.hold();
        self.phase = Phase::ReadResponse { scanned: 0, offer };
        Ok(())
    }

    /// Client: queues `CONNECT` for `target` to the HTTP proxy at `proxy` (H11). After
    /// [`Event::ProxyConnected`] (and TLS, for `wss:`), call [`start`](Self::start).
    pub fn connect_proxy<T>(
        &mut self,
        tx: &mut TxRing<T>,
        target: &Url<'_>,
        proxy: &Url<'_>,
        headers: &[(&str, &str)],
    ) -> Result<(), HandshakeCallError>
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
    {
        if self.phase != Phase::ClientIdle {
            return Err(SendError::NotOpen.into());
        }
        CustomHeaders(headers)
            .check()
            .map_err(|_| SendError::InvalidHeader)?;
        let mut out = tx.transaction();
        write_connect(&mut out, target, proxy, headers).map_err(SendError::from)?;
        out.commit();
        self.phase = Phase::ReadProxyResponse { scanned: 0 };
        Ok(())
    }

    /// Whether frames may be queued now: open, or connecting with the ring holding them back (a client
    /// after `start`, a hixie-76 server waiting for the request body).
    pub(super) fn can_queue(&self) -> bool {
        match self.phase {
            Phase::ReadResponse { .. } => true,
            #[cfg(feature = "drafts")]
            Phase::Key3 { .. } => true,
            _ => false,
        }
    }
}

/// The error's text, for a refusal body.
fn error_text(e: HandshakeError, buf: &mut [u8; 128]) -> &str {
    use core::fmt::Write as _;
    struct W<'b>(&'b mut [u8], usize);
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.0.len() - self.1);
            self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
            self.1 += n;
            Ok(())
        }
    }
    let mut w = W(buf, 0);
    let _ = write!(w, "{e}");
    let len = w.1;
    core::str::from_utf8(&buf[..len]).unwrap_or("Bad Request")
}
