//! The original library's driver, in Rust: a socket to write to, bytes in through `parse`, callbacks out.
//!
//! Every protocol decision is the core's: this file owns the buffers on the heap, assembles whole
//! messages, runs the extension pipeline, queues sends made before open, and calls the handlers. It must
//! never write a byte the core did not produce (except a large frame's payload, after the core's header).

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant as StdInstant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use websocket_driver::mask_source::RandCore;
use websocket_driver::{
    Accept, ClientRequest, CloseCode, DataKind, Driver as Core, Error as CoreError, Event,
    HandshakeCallError, Instant, Rsv, RxBuf, SendError, TxRing, Url,
};

use crate::extensions::{
    Extension, ExtensionError, Extensions, Message as ExtMessage, MessageKind,
};
use crate::handlers::Handlers;
use crate::{CloseEvent, ErrorEvent, Message, Options, ReadyState};

/// Something that happened, with owned data, between the core's event and the handlers.
pub(crate) enum Action {
    Connect {
        websocket: bool,
    },
    Open,
    /// Client: the response head arrived; the core waits for the offered subprotocols.
    Response,
    ProxyConnect,
    Message(Message),
    /// A message assembled from chunks, still to be checked or transformed by extensions.
    Assembled {
        kind: DataKind,
        rsv: Rsv,
        data: Vec<u8>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseEvent),
    Error(String),
}

/// A message being received in chunks.
struct Incoming {
    kind: DataKind,
    rsv: Rsv,
    data: Vec<u8>,
}

/// What runs when the pong for a ping arrives (S9).
pub type PingCallback = Box<dyn FnOnce() + Send>;

/// A send made before the connection opened (S2).
enum Queued {
    Message(Message),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
}

/// The part of a driver callbacks may use: everything but the handlers. Callbacks receive it as
/// `&mut Handle<W>` and can send, close, or start with it.
pub struct Handle<W: Write> {
    pub(crate) core: Core,
    pub(crate) rx: RxBuf<Vec<u8>>,
    pub(crate) tx: TxRing<Vec<u8>>,
    pub(crate) socket: W,
    rng: RandCore<StdRng>,
    pub(crate) options: Options,
    pub(crate) extensions: Extensions,
    request_headers: Vec<(String, String)>,
    url: Option<String>,
    pub(crate) proxy: Option<crate::proxy::ProxyState>,
    queue: VecDeque<Queued>,
    started: bool,
    incoming: Option<Incoming>,
    pings: Vec<(Vec<u8>, PingCallback)>,
    status: Option<u16>,
    response_headers: Vec<(String, String)>,
    pub(crate) actions: VecDeque<Action>,
    paused: bool,
    backlog: Vec<u8>,
    request: Option<(String, String, bool)>,
    epoch: StdInstant,
    write_failed: bool,
}

/// A WebSocket driver over any socket with `write` (the original's `websocket.server`,
/// `websocket.client`, `websocket.http`).
///
/// ```
/// use websocket_driver_std::{Driver, Message, Options};
///
/// let mut client = Driver::client(Vec::new(), "ws://example.com/chat", Options::new()).unwrap();
/// client.on_message(|ws, message| {
///     ws.text(&format!("echo: {}", message.as_text().unwrap_or_default()));
/// });
/// assert!(client.start());
/// assert!(client.socket().starts_with(b"GET /chat HTTP/1.1\r\n"));
/// ```
pub struct Driver<W: Write> {
    pub(crate) handle: Handle<W>,
    pub(crate) handlers: Handlers<W>,
}

impl<W: Write> Driver<W> {
    /// A server reading the HTTP request from the byte stream (the original's `websocket.server`). The
    /// `connect` event fires when the request head has arrived; call [`start`](Handle::start) then, or let
    /// it start on its own when no `connect` handler is set.
    ///
    /// ```
    /// use websocket_driver_std::{Driver, Options};
    ///
    /// let mut ws = Driver::server(Vec::new(), Options::new().protocols(["chat"]));
    /// ws.on_connect(|ws, ()| {
    ///     assert!(matches!(ws.request_line(), Some((_, _, true))));
    ///     ws.start();
    /// });
    /// ws.on_message(|ws, message| {
    ///     ws.message(message); // echo
    /// });
    /// ws.parse(b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    /// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
    /// ws.parse(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']); // a masked "hi"
    /// assert_eq!(ws.protocol(), Some("chat"));
    /// assert!(ws.socket().ends_with(b"\x81\x02hi"));
    /// ```
    pub fn server(socket: W, options: Options) -> Self {
        let core = Core::server(options.config());
        Driver::new(core, socket, options, None)
    }

    /// A client for `url` (`ws:` or `wss:`; the original's `websocket.client`). Call
    /// [`start`](Self::start) to send the request.
    pub fn client(socket: W, url: &str, options: Options) -> Result<Self, ErrorEvent> {
        Url::parse_ws(url).map_err(|e| ErrorEvent {
            message: format!("Invalid WebSocket URL: {e}"),
        })?;
        let core = Core::client(options.config());
        Ok(Driver::new(core, socket, options, Some(url.to_owned())))
    }

    /// A server for a request an HTTP server already parsed (the original's `websocket.http` and
    /// `websocket.rack`): method, target, headers, and any bytes read past the head (`body`).
    ///
    /// ```
    /// use websocket_driver_std::{Driver, Options, ReadyState};
    ///
    /// let headers: [(&str, &[u8]); 5] = [
    ///     ("Host", b"example.com"),
    ///     ("Upgrade", b"websocket"),
    ///     ("Connection", b"Upgrade"),
    ///     ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ///     ("Sec-WebSocket-Version", b"13"),
    /// ];
    /// assert!(websocket_driver_std::is_websocket("GET", headers));
    /// let ws = Driver::for_request(Vec::new(), "GET", "/", headers, b"", Options::new());
    /// assert_eq!(ws.state(), ReadyState::Open);
    /// assert!(ws.socket().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// ```
    pub fn for_request<'h, I>(
        socket: W,
        method: &str,
        target: &str,
        headers: I,
        body: &[u8],
        options: Options,
    ) -> Self
    where
        I: IntoIterator<Item = (&'h str, &'h [u8])>,
    {
        let mut driver = Driver::server(socket, options);
        let headers: Vec<websocket_driver::Header<'h>> = headers
            .into_iter()
            .map(|(name, value)| websocket_driver::Header { name, value })
            .collect();
        let request = websocket_driver::Request::new(method, target, 1, &headers);
        driver.handle.pending_request(&request);
        driver.handle.buffer(body);
        driver
    }

    fn new(core: Core, socket: W, options: Options, url: Option<String>) -> Self {
        let handle = Handle {
            core,
            rx: RxBuf::new(vec![0; options.receive_buffer.max(8 * 1024)]),
            tx: TxRing::new(vec![
                0;
                options
                    .transmit_buffer
                    .max(websocket_driver::MIN_TX_CAPACITY)
            ]),
            socket,
            rng: RandCore(StdRng::from_os_rng()),
            options,
            extensions: Extensions::new(),
            request_headers: Vec::new(),
            url,
            proxy: None,
            queue: VecDeque::new(),
            started: false,
            incoming: None,
            pings: Vec::new(),
            status: None,
            response_headers: Vec::new(),
            actions: VecDeque::new(),
            paused: false,
            backlog: Vec::new(),
            request: None,
            epoch: StdInstant::now(),
            write_failed: false,
        };
        Driver {
            handle,
            handlers: Handlers::default(),
        }
    }

    /// Registers an extension (X1), before `start`.
    pub fn add_extension(&mut self, extension: Box<dyn Extension>) -> bool {
        !self.handle.started && self.handle.extensions.add(extension).is_ok()
    }

    /// Adds a header to the handshake (H1), before `start`. Refuses a name that is not a token and a
    /// value with CR, LF or NUL.
    pub fn set_header(&mut self, name: &str, value: &str) -> bool {
        self.handle.set_header(name, value)
    }

    /// Starts the handshake: a client sends its request; a server answers the request. Returns false
    /// when it cannot (already started, closed, refused).
    pub fn start(&mut self) -> bool {
        let started = self.handle.start();
        self.dispatch();
        started
    }

    /// Feeds bytes read from the socket: events fire from here.
    ///
    /// Events are handled one at a time, each handler running before the next frame is read, so what a
    /// handler sends goes out before anything the following frames cause (a failure's close frame, say).
    pub fn parse(&mut self, mut bytes: &[u8]) {
        loop {
            if self.handle.paused {
                self.handle.backlog.extend_from_slice(bytes);
                return;
            }
            let n = self.handle.rx.write(bytes);
            bytes = &bytes[n..];
            self.dispatch();
            if bytes.is_empty() || (n == 0 && !self.handle.paused && self.handle.rx.is_full()) {
                break;
            }
        }
    }

    /// How long until [`handle_timeout`](Self::handle_timeout) has work, if anything is timed: the
    /// handshake deadline ([`Options::handshake_timeout`]) or a client's wait for the server to close
    /// the transport after the closing handshake (S8, [`Options::close_timeout`]). Zero when due. An
    /// I/O loop reads with at most this timeout.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let deadline = self.handle.core.poll_timeout()?;
        let left = deadline.saturating_since(self.handle.now());
        Some(Duration::from_millis(left.millis()))
    }

    /// Time has passed: a handshake past its deadline fails (its events follow, as for any failed
    /// handshake), and a client that waited long enough for the server to close may close the transport
    /// itself ([`should_close`](Handle::should_close) turns true).
    pub fn handle_timeout(&mut self) {
        let now = self.handle.now();
        self.handle.core.handle_timeout(now);
        self.dispatch();
    }

    /// Continues after a handler called [`Handle::pause`]: handles what is buffered, and input that
    /// arrived meanwhile.
    pub fn resume(&mut self) {
        self.handle.paused = false;
        loop {
            self.dispatch();
            if self.handle.paused || self.handle.backlog.is_empty() {
                return;
            }
            let n = self.handle.rx.write(&self.handle.backlog);
            self.handle.backlog.drain(..n);
            if n == 0 && self.handle.rx.is_full() {
                return;
            }
        }
    }

    /// Runs the handlers for what happened, one event at a time, until the input is used up or a
    /// handler pauses.
    pub(crate) fn dispatch(&mut self) {
        loop {
            if self.handle.paused {
                return;
            }
            if let Some(action) = self.handle.actions.pop_front() {
                self.handlers.run(&mut self.handle, action);
                continue;
            }
            self.handle.pump();
            if self.handle.actions.is_empty() {
                return;
            }
        }
    }

    /// Starts the closing handshake (code 1000 by default); before open, closes at once and fires the
    /// close event (S3). The same as [`Handle::close`], with the events it causes run at once.
    ///
    /// ```
    /// use websocket_driver_std::{Driver, Options, ReadyState};
    ///
    /// let mut ws = Driver::server(Vec::new(), Options::new());
    /// ws.on_close(|_, event| assert_eq!((event.code, event.reason.as_str()), (1000, "")));
    /// assert!(ws.close(None, ""));
    /// assert_eq!(ws.state(), ReadyState::Closed);
    /// assert!(ws.socket().is_empty()); // nothing was sent before open
    /// ```
    pub fn close(&mut self, code: Option<u16>, reason: &str) -> bool {
        let closed = self.handle.close(code, reason);
        self.dispatch();
        closed
    }

    /// The socket, for example to read from it.
    pub fn socket(&self) -> &W {
        &self.handle.socket
    }

    /// The socket, mutably.
    pub fn socket_mut(&mut self) -> &mut W {
        &mut self.handle.socket
    }

    /// The handle callbacks get: send through it from outside callbacks too.
    pub fn handle(&mut self) -> &mut Handle<W> {
        &mut self.handle
    }
}

impl<W: Write> std::ops::Deref for Driver<W> {
    type Target = Handle<W>;
    fn deref(&self) -> &Handle<W> {
        &self.handle
    }
}

impl<W: Write> std::ops::DerefMut for Driver<W> {
    fn deref_mut(&mut self) -> &mut Handle<W> {
        &mut self.handle
    }
}

impl<W: Write> Handle<W> {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    fn set_header(&mut self, name: &str, value: &str) -> bool {
        if self.started || !websocket_driver::handshake::is_valid_header(name, value) {
            return false;
        }
        self.request_headers
            .push((name.to_owned(), value.to_owned()));
        true
    }

    /// Pre-parsed mode: answer now (the request is not in the buffer).
    fn pending_request(&mut self, request: &websocket_driver::Request<'_>) {
        self.started = true;
        let offer = request
            .header("sec-websocket-extensions")
            .map(|v| String::from_utf8_lossy(v).into_owned());
        self.answer(offer, |core, _, tx, accept| {
            core.accept_request(tx, request, accept)
        });
    }

    /// Negotiates the extensions the client offered, then lets the core answer with our subprotocols
    /// and headers: through `respond`, the core's `accept` (raw mode) or `accept_request` (pre-parsed).
    fn answer(
        &mut self,
        offer: Option<String>,
        respond: impl FnOnce(
            &mut Core,
            &mut RxBuf<Vec<u8>>,
            &mut TxRing<Vec<u8>>,
            &Accept<'_>,
        ) -> Result<Option<usize>, HandshakeCallError>,
    ) -> bool {
        let Some(answer) = self.negotiate(offer.as_deref()) else {
            return false;
        };
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        let headers: Vec<(&str, &str)> = self
            .request_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let accept = Accept {
            protocols: &protocols,
            headers: &headers,
            extensions: answer.as_deref(),
            secure: self.options.secure,
        };
        let result = respond(&mut self.core, &mut self.rx, &mut self.tx, &accept);
        let accepted = result.is_ok();
        self.after_accept(result);
        self.flush();
        accepted
    }

    fn buffer(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.rx.write(rest);
            rest = &rest[n..];
            self.pump();
            if n == 0 {
                break;
            }
        }
    }

    /// The server's extension answer, or a refusal (H3) when the offer cannot be parsed.
    fn negotiate(&mut self, offer: Option<&str>) -> Option<Option<String>> {
        let Some(offer) = offer else {
            return Some(None);
        };
        match self.extensions.generate_response(offer) {
            Ok(answer) => Some(answer),
            Err(_) => {
                let reason = format!("Invalid Sec-WebSocket-Extensions header: {offer}");
                let _ = self.core.refuse(&mut self.rx, &mut self.tx, 400, &reason);
                self.actions.push_back(Action::Error(reason.clone()));
                self.actions
                    .push_back(Action::Close(CloseEvent { code: 1002, reason }));
                self.flush();
                None
            }
        }
    }

    fn after_accept(&mut self, result: Result<Option<usize>, HandshakeCallError>) {
        match result {
            Ok(_) => self
                .core
                .set_allowed_rsv(Rsv::from_bits(self.extensions.allowed_rsv())),
            Err(HandshakeCallError::Handshake(e)) => {
                self.actions.push_back(Action::Error(format!(
                    "Error during WebSocket handshake: {e}"
                )));
            }
            Err(e) => self.actions.push_back(Action::Error(e.to_string())),
        }
    }

    /// Starts the handshake (see [`Driver::start`]).
    pub fn start(&mut self) -> bool {
        if self.core.role() == websocket_driver::Role::Server {
            let Some(request) = self.core.request(&self.rx) else {
                return false;
            };
            self.started = true;
            let offer = request
                .header("sec-websocket-extensions")
                .map(|v| String::from_utf8_lossy(v).into_owned());
            return self.answer(offer, |core, rx, tx, accept| core.accept(rx, tx, accept));
        }
        if self.started {
            return false;
        }
        self.started = true;
        let Some(url) = self.url.clone() else {
            return false;
        };
        let Ok(url) = Url::parse_ws(&url) else {
            return false;
        };
        let offer = match self.extensions.generate_offer() {
            Ok(offer) => offer,
            Err(e) => {
                // H1: an offer that cannot be written into the head is not sent.
                self.actions.push_back(Action::Error(e.to_string()));
                return false;
            }
        };
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        let headers: Vec<(&str, &str)> = self
            .request_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = ClientRequest {
            url: &url,
            protocols: &protocols,
            headers: &headers,
            extensions: offer.as_deref(),
        };
        let result = self.core.start(&mut self.tx, &mut self.rng, &request);
        self.flush();
        match result {
            Ok(()) => true,
            Err(e) => {
                self.actions.push_back(Action::Error(e.to_string()));
                false
            }
        }
    }

    /// Reads events from the core until it needs more input.
    pub(crate) fn pump(&mut self) {
        loop {
            let now = self.now();
            let event = self
                .core
                .poll(&mut self.rx, &mut self.tx, &mut self.rng, now);
            let action = match event {
                Ok(None) => break,
                Ok(Some(Event::TxFull { .. })) => {
                    self.flush();
                    if self.write_failed {
                        break;
                    }
                    continue;
                }
                Ok(Some(event)) => match owned(
                    event,
                    &mut self.request,
                    &mut self.incoming,
                    &mut self.status,
                    &mut self.response_headers,
                ) {
                    Some(action) => action,
                    None => continue,
                },
                Err(CoreError::Handshake(e)) => {
                    if let Some(response) = self.core.response(&self.rx) {
                        self.status = Some(response.status());
                        self.response_headers = pairs(response.headers());
                    }
                    Action::Error(format!("Error during WebSocket handshake: {e}"))
                }
                Err(e) => Action::Error(e.to_string()),
            };
            let action = match action {
                Action::Assembled { kind, rsv, data } if !rsv.is_empty() => {
                    self.extended_message(kind, rsv, data)
                }
                Action::Assembled {
                    kind: DataKind::Text,
                    data,
                    ..
                } => {
                    // The core checked every chunk; the whole is valid UTF-8 too.
                    Some(Action::Message(Message::Text(
                        String::from_utf8(data).unwrap_or_default(),
                    )))
                }
                Action::Assembled { data, .. } => Some(Action::Message(Message::Binary(data))),
                Action::Open => self.opened(),
                Action::Response => self.check_response(),
                other => Some(other),
            };
            self.actions.extend(action);
            if !self.actions.is_empty() {
                // One event at a time: its handler runs before the next frame is read.
                break;
            }
        }
        self.flush();
    }

    /// Client: the core checks the server's subprotocol against the list we offered (H9); the open
    /// event or the failure's close event follows.
    fn check_response(&mut self) -> Option<Action> {
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        match self
            .core
            .check_response(&mut self.rx, &mut self.tx, &protocols)
        {
            Ok(_) => None,
            Err(e) => Some(Action::Error(format!(
                "Error during WebSocket handshake: {e}"
            ))),
        }
    }

    /// A message carrying extension bits, assembled: through the extensions (X1, X4, X5).
    pub(crate) fn extended_message(
        &mut self,
        kind: DataKind,
        rsv: Rsv,
        data: Vec<u8>,
    ) -> Option<Action> {
        let kind = if kind == DataKind::Text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        let message = ExtMessage {
            kind,
            rsv: rsv.bits(),
            data,
        };
        match self
            .extensions
            .process_incoming(message, self.options.max_length)
        {
            Ok(ExtMessage {
                kind: MessageKind::Text,
                data,
                ..
            }) => match String::from_utf8(data) {
                Ok(text) => Some(Action::Message(Message::Text(text))),
                Err(_) => self.fail(
                    CloseCode::INVALID_DATA,
                    "Could not decode a text frame as UTF-8",
                ),
            },
            Ok(ExtMessage { data, .. }) => Some(Action::Message(Message::Binary(data))),
            Err(e) => {
                let (code, reason) = close_of(&e);
                self.fail(CloseCode(code), &reason)
            }
        }
    }

    /// Fails the connection from here (an extension's error): close frame, error, close.
    fn fail(&mut self, code: CloseCode, reason: &str) -> Option<Action> {
        let mut reason_cut = reason;
        while reason_cut.len() > 123 {
            let mut end = 123;
            while !reason_cut.is_char_boundary(end) {
                end -= 1;
            }
            reason_cut = &reason_cut[..end];
        }
        if self
            .core
            .abort(&mut self.tx, &mut self.rng, code, reason_cut)
            .is_err()
        {
            self.flush();
            let _ = self
                .core
                .abort(&mut self.tx, &mut self.rng, code, reason_cut);
        }
        self.extensions.close();
        self.actions.push_back(Action::Error(reason.to_owned()));
        Some(Action::Close(CloseEvent {
            code: code.0,
            reason: reason.to_owned(),
        }))
    }

    /// Open: a client activates the extensions the server chose (X2), then queued sends go out.
    fn opened(&mut self) -> Option<Action> {
        if self.core.role() == websocket_driver::Role::Client {
            let answer = self
                .response_headers
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
                .map(|(_, value)| value.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if !answer.is_empty()
                && let Err(e) = self.extensions.activate(&answer)
            {
                return self.fail(
                    CloseCode::MANDATORY_EXTENSION,
                    &format!("Error during WebSocket handshake: {e}"),
                );
            }
            self.core
                .set_allowed_rsv(Rsv::from_bits(self.extensions.allowed_rsv()));
        }
        self.actions.push_back(Action::Open);
        while let Some(queued) = self.queue.pop_front() {
            match queued {
                Queued::Message(Message::Text(text)) => {
                    self.send(DataKind::Text, text.into_bytes())
                }
                Queued::Message(Message::Binary(data)) => self.send(DataKind::Binary, data),
                Queued::Ping(payload) => self.control(|core, tx, rng| core.ping(tx, rng, &payload)),
                Queued::Pong(payload) => self.control(|core, tx, rng| core.pong(tx, rng, &payload)),
                Queued::Close(code, reason) => self.close(code, &reason),
            };
        }
        None
    }

    /// Writes what the transmit ring holds to the socket.
    pub(crate) fn flush(&mut self) {
        while !self.write_failed && self.tx.ready() > 0 {
            match self.socket.write(self.tx.peek()) {
                Ok(0) | Err(_) => self.write_failed = true,
                Ok(n) => self.tx.consume(n),
            }
        }
        let _ = self.socket.flush();
    }

    fn is_open(&self) -> bool {
        self.core.state() == websocket_driver::State::Open
    }

    fn may_queue(&self) -> bool {
        self.core.state() == websocket_driver::State::Connecting
    }

    /// Sends a text message; false when the connection is closed (queued before open, S2).
    pub fn text(&mut self, text: &str) -> bool {
        self.message(Message::Text(text.to_owned()))
    }

    /// Sends a binary message; false when the connection is closed (queued before open, S2).
    pub fn binary(&mut self, data: &[u8]) -> bool {
        self.message(Message::Binary(data.to_vec()))
    }

    /// Sends a message (owned: no copy before the extensions and the socket).
    pub fn message(&mut self, message: Message) -> bool {
        if self.may_queue() {
            self.queue.push_back(Queued::Message(message));
            return true;
        }
        if !self.is_open() {
            return false;
        }
        match message {
            Message::Text(text) => self.send(DataKind::Text, text.into_bytes()),
            Message::Binary(data) => self.send(DataKind::Binary, data),
        }
    }

    /// Through the extensions, then one frame: into the ring when it fits, else the core's header and the
    /// payload straight to the socket.
    fn send(&mut self, kind: DataKind, data: Vec<u8>) -> bool {
        let (rsv, mut data) = if self.extensions.is_empty() {
            (Rsv::NONE, data)
        } else {
            let ext_kind = if kind == DataKind::Text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            match self.extensions.process_outgoing(ExtMessage {
                kind: ext_kind,
                rsv: 0,
                data,
            }) {
                Ok(message) => (Rsv::from_bits(message.rsv), message.data),
                Err(e) => {
                    let (code, reason) = close_of(&e);
                    let action = self.fail(CloseCode(code), &reason);
                    self.actions.extend(action);
                    return false;
                }
            }
        };
        if self.core.version().is_draft() {
            let text = String::from_utf8_lossy(&data).into_owned();
            return self.control(|core, tx, rng| core.text(tx, rng, &text));
        }
        loop {
            match self
                .core
                .send_fragment(&mut self.tx, &mut self.rng, kind, rsv, &data, true)
            {
                Ok(()) => break,
                Err(SendError::Full { .. }) if self.tx.ready() > 0 => self.flush(),
                Err(SendError::Full { .. } | SendError::TooLarge { .. }) => {
                    self.flush();
                    match self.core.send_zero_copy(
                        &mut self.tx,
                        &mut self.rng,
                        kind,
                        rsv,
                        &mut data,
                    ) {
                        Ok(header) => {
                            let ok = self
                                .socket
                                .write_all(header.as_bytes())
                                .and_then(|()| self.socket.write_all(&data));
                            self.write_failed |= ok.is_err();
                            self.tx.resume();
                            break;
                        }
                        Err(_) => return false,
                    }
                }
                Err(_) => return false,
            }
            if self.write_failed {
                return false;
            }
        }
        self.flush();
        !self.write_failed
    }

    fn control(
        &mut self,
        mut f: impl FnMut(
            &mut Core,
            &mut TxRing<Vec<u8>>,
            &mut RandCore<StdRng>,
        ) -> Result<(), SendError>,
    ) -> bool {
        loop {
            match f(&mut self.core, &mut self.tx, &mut self.rng) {
                Ok(()) => {
                    self.flush();
                    return !self.write_failed;
                }
                Err(SendError::Full { .. }) if !self.write_failed && self.tx.ready() > 0 => {
                    self.flush()
                }
                Err(_) => return false,
            }
        }
    }

    /// Sends a ping (payload up to 125 bytes); `callback` runs once when a pong with the same payload
    /// arrives (S9).
    ///
    /// ```
    /// # use websocket_driver_std::{Driver, Options};
    /// # let mut ws = Driver::client(Vec::new(), "ws://example.com/", Options::new()).unwrap();
    /// ws.on_open(|ws, ()| {
    ///     ws.ping(b"are you there?", Some(Box::new(|| println!("pong!"))));
    /// });
    /// ```
    pub fn ping(&mut self, payload: &[u8], callback: Option<PingCallback>) -> bool {
        let sent = if self.may_queue() {
            self.queue.push_back(Queued::Ping(payload.to_vec()));
            payload.len() <= 125
        } else {
            self.control(|core, tx, rng| core.ping(tx, rng, payload))
        };
        if let (true, Some(callback)) = (sent, callback) {
            self.pings.push((payload.to_vec(), callback));
        }
        sent
    }

    /// Sends an unsolicited pong.
    pub fn pong(&mut self, payload: &[u8]) -> bool {
        if self.may_queue() {
            self.queue.push_back(Queued::Pong(payload.to_vec()));
            return payload.len() <= 125;
        }
        self.control(|core, tx, rng| core.pong(tx, rng, payload))
    }

    /// Starts the closing handshake (code 1000 by default); before open, closes at once (S3).
    pub fn close(&mut self, code: Option<u16>, reason: &str) -> bool {
        if self.may_queue() && self.started && self.core.role() == websocket_driver::Role::Client {
            self.queue.push_back(Queued::Close(code, reason.to_owned()));
            return true;
        }
        let code = Some(CloseCode(code.unwrap_or(1000)));
        let result = self.control(|core, tx, rng| core.close(tx, rng, code, reason));
        self.pump();
        result
    }

    /// The protocol version (`hybi-13`, `hixie-76`, …).
    pub fn version(&self) -> &'static str {
        self.core.version().as_str()
    }

    /// The negotiated subprotocol.
    pub fn protocol(&self) -> Option<&str> {
        self.core
            .protocol()
            .and_then(|i| self.options.protocols.get(i))
            .map(String::as_str)
    }

    /// The state, as the original's `readyState`.
    pub fn state(&self) -> ReadyState {
        match self.core.state() {
            websocket_driver::State::Connecting => ReadyState::Connecting,
            websocket_driver::State::Open => ReadyState::Open,
            websocket_driver::State::Closing => ReadyState::Closing,
            _ => ReadyState::Closed,
        }
    }

    /// Client: the response status, after the response arrived (also after a failed handshake).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Client: the response headers, in order (also after a failed handshake).
    pub fn headers(&self) -> &[(String, String)] {
        &self.response_headers
    }

    /// Whether the transport should be closed now (S8).
    pub fn should_close(&self) -> bool {
        self.core.should_close_transport() || self.write_failed
    }

    /// Server: the request's method and target, and whether it is a WebSocket upgrade, once it arrived.
    pub fn request_line(&self) -> Option<(String, String, bool)> {
        self.request.clone()
    }

    /// Stops handling input after the current handler, until [`Driver::resume`]: for a pull-style
    /// reader (the blocking and tokio helpers) that hands events out one at a time.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Whether a handler paused the driver.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub(crate) fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Whether writing to the socket failed.
    pub fn write_failed(&self) -> bool {
        self.write_failed
    }

    pub(crate) fn take_ping_callbacks(&mut self, payload: &[u8]) -> Vec<PingCallback> {
        let mut run = Vec::new();
        let mut i = 0;
        while i < self.pings.len() {
            if self.pings[i].0 == payload {
                run.push(self.pings.remove(i).1);
            } else {
                i += 1;
            }
        }
        run
    }
}

/// The close code and reason an extension's error fails the connection with (X4: 1010 unless the
/// extension says otherwise, as permessage-deflate does with 1009 and 1007).
fn close_of(e: &ExtensionError) -> (u16, String) {
    match e {
        ExtensionError::Processing { code, reason } => (*code, reason.clone()),
        other => (1010, other.to_string()),
    }
}

fn pairs(headers: websocket_driver::handshake::Headers<'_>) -> Vec<(String, String)> {
    headers
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Turns a core event into an owned action, assembling chunks into whole messages (one copy).
fn owned(
    event: Event<'_>,
    last_request: &mut Option<(String, String, bool)>,
    incoming: &mut Option<Incoming>,
    status: &mut Option<u16>,
    response_headers: &mut Vec<(String, String)>,
) -> Option<Action> {
    let (kind, rsv, data, fin) = match event {
        Event::Connect(request) => {
            *last_request = Some((
                request.method().to_owned(),
                request.target().to_owned(),
                request.is_websocket(),
            ));
            return Some(Action::Connect {
                websocket: request.is_websocket(),
            });
        }
        Event::Body(_) => return None,
        Event::Open => return Some(Action::Open),
        Event::Response(response) => {
            *status = Some(response.status());
            *response_headers = pairs(response.headers());
            return Some(Action::Response);
        }
        Event::ProxyConnected(response) => {
            *status = Some(response.status());
            *response_headers = pairs(response.headers());
            return Some(Action::ProxyConnect);
        }
        Event::Ping(payload) => return Some(Action::Ping(payload.to_vec())),
        Event::Pong(payload) => return Some(Action::Pong(payload.to_vec())),
        Event::Close { code, reason } => {
            return Some(Action::Close(CloseEvent {
                code: code.0,
                reason: reason.to_owned(),
            }));
        }
        // A whole message in one view: one copy, and text needs no second UTF-8 check.
        Event::Text { data, fin: true } if incoming.is_none() => {
            return Some(Action::Message(Message::Text(data.to_owned())));
        }
        Event::Binary { data, fin: true } if incoming.is_none() => {
            return Some(Action::Message(Message::Binary(data.to_vec())));
        }
        Event::Text { data, fin } => (DataKind::Text, Rsv::NONE, data.as_bytes(), fin),
        Event::Binary { data, fin } => (DataKind::Binary, Rsv::NONE, data, fin),
        Event::Extension {
            kind,
            rsv,
            data,
            fin,
        } => (kind, rsv, data, fin),
        _ => return None,
    };
    let mut partial = incoming.take().unwrap_or(Incoming {
        kind,
        rsv,
        data: Vec::new(),
    });
    partial.data.extend_from_slice(data);
    if !fin {
        *incoming = Some(partial);
        return None;
    }
    Some(Action::Assembled {
        kind: partial.kind,
        rsv: partial.rsv,
        data: partial.data,
    })
}
