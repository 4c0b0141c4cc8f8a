//! The original's API (`websocket.server`, `client`, `http`; `on(…)`, `parse`, `text`, `close`…) as a
//! thin face over the connection [`Engine`]: bytes in through [`Driver::parse`], events out to the
//! callbacks, output written to any socket with `write`.
//!
//! The engine decides everything; this file only moves bytes between it and the socket and runs the
//! callbacks, one event at a time.

use std::io::{self, Write};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, Role, State};

use crate::ReadyState;
use crate::engine::{Engine, Event, RequestHead};
use crate::extensions::Extension;
use crate::handlers::Handlers;
use crate::message::{ErrorEvent, Message};
use crate::options::Options;

/// At most this many ping callbacks wait for their pong (see [`Handle::ping`]).
pub const MAX_PING_CALLBACKS: usize = 64;

/// What runs when the pong for a ping arrives (S9).
pub type PingCallback = Box<dyn FnOnce() + Send>;

/// The part of a driver callbacks may use: everything but the handlers. Callbacks receive it as
/// `&mut Handle<W>` and can send, close, or start with it.
pub struct Handle<W: Write> {
    pub(crate) engine: Engine,
    socket: W,
    pings: Vec<(Vec<u8>, PingCallback)>,
    request: Option<RequestHead>,
    pub(crate) proxy: Option<(String, Vec<(String, String)>)>,
    paused: bool,
    epoch: StdInstant,
    write_failed: bool,
}

/// A WebSocket driver over any socket with `write` (the original's `websocket.server`,
/// `websocket.client`, `websocket.http`).
///
/// Output is written to the socket as it is made. A socket that answers `WouldBlock` keeps the rest
/// queued in the driver ([`Handle::buffered_amount`]); call [`Driver::flush`] when it is writable again.
/// While more than the transmit buffer's worth is queued, [`parse`](Self::parse) takes no more input:
/// a peer that does not read what we send cannot grow our memory.
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
        Driver::new(Engine::server(options), socket)
    }

    /// A client for `url` (`ws:` or `wss:`; the original's `websocket.client`). Call
    /// [`start`](Self::start) to send the request.
    pub fn client(socket: W, url: &str, options: Options) -> Result<Self, ErrorEvent> {
        let engine = Engine::client(url, options).map_err(|e| ErrorEvent {
            message: e.to_string(),
        })?;
        Ok(Driver::new(engine, socket))
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
        let engine = Engine::for_request(options, method, target, headers, body, Vec::new(), &[]);
        let mut driver = Driver::new(engine, socket);
        driver.handle.flush();
        driver
    }

    fn new(engine: Engine, socket: W) -> Self {
        Driver {
            handle: Handle {
                engine,
                socket,
                pings: Vec::new(),
                request: None,
                proxy: None,
                paused: false,
                epoch: StdInstant::now(),
                write_failed: false,
            },
            handlers: Handlers::default(),
        }
    }

    /// Registers an extension (X1), before `start`.
    pub fn add_extension(&mut self, extension: Box<dyn Extension>) -> bool {
        self.handle.engine.add_extension(extension)
    }

    /// Adds a header to the handshake (H1), before `start`. Refuses a name that is not a token and a
    /// value with CR, LF or NUL.
    pub fn set_header(&mut self, name: &str, value: &str) -> bool {
        self.handle.engine.set_header(name, value)
    }

    /// Starts the handshake: a client sends its request; a server answers the request. Returns false
    /// when it cannot (already started, closed, refused).
    pub fn start(&mut self) -> bool {
        let started = self.handle.start();
        self.dispatch();
        started
    }

    /// Feeds bytes read from the socket: events fire from here, one at a time, each handler running
    /// before the next frame is read (so what a handler sends goes out before anything the following
    /// frames cause).
    ///
    /// Returns how many bytes were taken: all of them, unless a handler [paused](Handle::pause) the
    /// driver or more than the transmit buffer's worth of output waits for a socket that would block —
    /// then offer the rest again after [`resume`](Self::resume) or [`flush`](Self::flush).
    pub fn parse(&mut self, mut bytes: &[u8]) -> usize {
        let total = bytes.len();
        loop {
            self.dispatch();
            if bytes.is_empty() || self.handle.paused || !self.handle.engine.wants_read() {
                return total - bytes.len();
            }
            let n = self.handle.engine.receive(bytes);
            bytes = &bytes[n..];
            if n == 0 {
                self.dispatch();
                if self.handle.engine.receive(bytes) == 0 {
                    return total - bytes.len();
                }
            }
        }
    }

    /// Writes queued output to the socket (after a `WouldBlock`), then carries on with events that
    /// waited for room. Returns the bytes still queued.
    pub fn flush(&mut self) -> usize {
        self.handle.flush();
        self.dispatch();
        self.handle.engine.buffered_amount()
    }

    /// How long until [`handle_timeout`](Self::handle_timeout) has work, if anything is timed: the
    /// handshake deadline ([`Options::handshake_timeout`]), the closing deadline, keepalive, or a client's
    /// wait for the server to close the transport (S8, [`Options::close_timeout`]). Zero when due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let deadline = self.handle.engine.poll_timeout()?;
        let left = deadline.saturating_since(self.handle.now());
        Some(Duration::from_millis(left.millis()))
    }

    /// Time has passed: what fell due happens (a failed handshake, a closing deadline…) and its events
    /// fire.
    pub fn handle_timeout(&mut self) {
        let now = self.handle.now();
        self.handle.engine.handle_timeout(now);
        self.dispatch();
    }

    /// Continues after a handler called [`Handle::pause`].
    pub fn resume(&mut self) {
        self.handle.paused = false;
        self.dispatch();
    }

    /// Runs the handlers for what happened, one event at a time, until the input is used up or a
    /// handler pauses.
    pub(crate) fn dispatch(&mut self) {
        loop {
            self.handle.flush();
            if self.handle.paused {
                return;
            }
            let now = self.handle.now();
            let Some(event) = self.handle.engine.next_event(now) else {
                return;
            };
            if let Event::Connect(head) = &event {
                self.handle.request = Some(head.clone());
            }
            self.handlers.run(&mut self.handle, event);
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

    /// Starts the handshake (see [`Driver::start`]).
    pub fn start(&mut self) -> bool {
        let started = match self.engine.role() {
            Role::Server => self.engine.accept().is_ok(),
            Role::Client => match self.proxy.take() {
                Some((url, headers)) => {
                    let headers: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    self.engine.connect_proxy(&url, &headers).is_ok()
                }
                None => self.engine.start().is_ok(),
            },
        };
        self.flush();
        started
    }

    /// Server: refuses the request (its `connect` event fired) with `status` and a one-line `reason`.
    pub fn refuse(&mut self, status: u16, reason: &str) -> bool {
        let refused = self.engine.refuse(status, reason).is_ok();
        self.flush();
        refused
    }

    /// Server, in the `connect` handler: answers the request after looking at it
    /// ([`request`](Self::request): `Origin`, cookies, credentials, offered subprotocols) — accept with a
    /// chosen subprotocol and headers, or refuse with a status, headers and a body.
    pub fn decide(&mut self, decision: crate::engine::Decision) -> bool {
        let done = self.engine.decide(decision).is_ok();
        self.flush();
        done
    }

    /// Writes queued output to the socket. A `WouldBlock` keeps the rest queued
    /// ([`buffered_amount`](Self::buffered_amount)); any other error marks the socket failed.
    pub(crate) fn flush(&mut self) {
        while !self.write_failed && !self.engine.output().is_empty() {
            match self.socket.write(self.engine.output()) {
                Ok(0) => self.write_failed = true,
                Ok(n) => self.engine.consume_output(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.engine.write_pending();
                    break;
                }
                Err(_) => self.write_failed = true,
            }
        }
        let _ = self.socket.flush();
    }

    /// Sends a text message; false when the connection is closed (queued before open, S2).
    pub fn text(&mut self, text: &str) -> bool {
        self.message(Message::Text(text.to_owned()))
    }

    /// Sends a binary message; false when the connection is closed (queued before open, S2).
    pub fn binary(&mut self, data: &[u8]) -> bool {
        self.message(Message::Binary(data.to_vec()))
    }

    /// Sends a message (owned: no copy before the extensions).
    pub fn message(&mut self, message: Message) -> bool {
        let sent = self.engine.send(message).is_ok();
        self.flush();
        sent && !self.write_failed
    }

    /// Sends a ping (payload up to 125 bytes); `callback` runs once when a pong with the same payload
    /// arrives (S9). At most [`MAX_PING_CALLBACKS`] wait: a peer may answer only the latest of several
    /// pings (RFC 6455 §5.5.3), so beyond that the oldest is dropped without running, and all are
    /// dropped at close.
    ///
    /// ```
    /// # use websocket_driver_std::{Driver, Options};
    /// # let mut ws = Driver::client(Vec::new(), "ws://example.com/", Options::new()).unwrap();
    /// ws.on_open(|ws, ()| {
    ///     ws.ping(b"are you there?", Some(Box::new(|| println!("pong!"))));
    /// });
    /// ```
    pub fn ping(&mut self, payload: &[u8], callback: Option<PingCallback>) -> bool {
        let sent = self.engine.ping(payload).is_ok();
        if let (true, Some(callback)) = (sent, callback) {
            // A peer may answer only the latest of several pings (RFC 6455 §5.5.3): callbacks whose
            // pong never comes are dropped beyond the newest `MAX_PING_CALLBACKS`, and at close.
            if self.pings.len() == MAX_PING_CALLBACKS {
                drop(self.pings.remove(0));
            }
            self.pings.push((payload.to_vec(), callback));
        }
        self.flush();
        sent && !self.write_failed
    }

    /// Sends an unsolicited pong.
    pub fn pong(&mut self, payload: &[u8]) -> bool {
        let sent = self.engine.pong(payload).is_ok();
        self.flush();
        sent && !self.write_failed
    }

    /// Starts the closing handshake (code 1000 by default); before open, closes at once (S3).
    pub fn close(&mut self, code: Option<u16>, reason: &str) -> bool {
        let closed = self.engine.close(code, reason).is_ok();
        self.flush();
        closed
    }

    /// The protocol version (`hybi-13`, `hixie-76`, …).
    pub fn version(&self) -> &'static str {
        self.engine.version().as_str()
    }

    /// The negotiated subprotocol.
    pub fn protocol(&self) -> Option<&str> {
        self.engine.protocol()
    }

    /// The state, as the original's `readyState`.
    pub fn state(&self) -> ReadyState {
        ready_state(self.engine.state())
    }

    /// Client: the response status, after the response arrived (also after a failed handshake).
    pub fn status(&self) -> Option<u16> {
        self.engine.status()
    }

    /// Client: the response headers, in order (also after a failed handshake).
    pub fn headers(&self) -> &[(String, String)] {
        self.engine.headers()
    }

    /// Whether the transport should be closed now (S8), or writing to it failed.
    pub fn should_close(&self) -> bool {
        self.engine.should_close() || self.write_failed
    }

    /// Server: the request's method and target, and whether it is a WebSocket upgrade, once it arrived.
    pub fn request_line(&self) -> Option<(String, String, bool)> {
        self.request
            .as_ref()
            .map(|r| (r.method.clone(), r.target.clone(), r.websocket))
    }

    /// Server: the whole request head (every header), once it arrived — the original's `env`.
    pub fn request(&self) -> Option<&RequestHead> {
        self.request.as_ref()
    }

    /// Stops running handlers after the current one, until [`Driver::resume`].
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Whether a handler paused the driver.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Whether writing to the socket failed.
    pub fn write_failed(&self) -> bool {
        self.write_failed
    }

    /// Bytes queued for the socket and not yet written (the original's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.engine.buffered_amount()
    }

    pub(crate) fn drop_ping_callbacks(&mut self) {
        self.pings = Vec::new();
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

/// The core's state as the original's `readyState`.
pub(crate) fn ready_state(state: State) -> ReadyState {
    match state {
        State::Connecting => ReadyState::Connecting,
        State::Open => ReadyState::Open,
        State::Closing => ReadyState::Closing,
        _ => ReadyState::Closed,
    }
}
