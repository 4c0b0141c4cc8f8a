//! Blocking I/O: a WebSocket [`Connection`] over a `Read + Write` stream with [`Timeouts`] (a
//! `TcpStream`, or a TLS stream for `wss:` in [`WithSocket`]), [`Connection::connect`] to a URL, and
//! [`serve`] a listener with a thread per connection.
//!
//! A thin face over the connection [`Engine`]: reads go straight into the engine's receive buffer,
//! its output is written out before the next read (so a peer that does not read blocks our writes,
//! never our memory, and a peer that takes less than 4 KiB of it in `ping_interval + pong_timeout`
//! fails the write), and its timers bound every read. Nothing here decides anything about the protocol.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, State};

use crate::engine::{Decision, Engine, Event, RequestHead};
use crate::handshake_failure::{self, Failing};
use crate::pace::{self, Pace};

mod serve;
mod split;
mod timeouts;

use crate::{CloseEvent, ErrorEvent, Message, Options};
pub use serve::{ServeOptions, serve, serve_with};
pub use split::{Reader, Writer};
pub use timeouts::{Timeouts, WithSocket};

/// What [`Connection::recv`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole message.
    Message(Message),
    /// A ping (already answered).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The connection closed; nothing follows.
    Close(CloseEvent),
    /// Something failed; a close follows.
    Error(ErrorEvent),
}

/// A WebSocket connection over a blocking stream.
pub struct Connection<S: Read + Write> {
    engine: Engine,
    stream: S,
    eof: bool,
    closed: bool,
    epoch: StdInstant,
    /// The stream's read timeout, for a stream that has one: reads then wake for the engine's deadlines
    /// (handshake timeout, closing deadline, keepalive, S8 close wait).
    clock: Option<ReadClock>,
    /// Whether the write timeout is this connection's (taken off when the stream is handed back).
    write_timeout_set: bool,
    /// An error writing the output, met while an event was at hand: returned after that event.
    write_error: Option<io::Error>,
    /// A write failed for good: output is dropped from then on, sends fail with `NotConnected`, and
    /// what had arrived is still returned, then the close (1006).
    broken: bool,
}

/// The read timeouts of a stream that has them.
#[derive(Clone, Copy, Debug)]
struct ReadClock {
    /// The application's, set before the stream was handed over: it still applies, as an error.
    user: Option<Duration>,
    /// What the stream has now.
    set: Option<Duration>,
}

/// What [`accept`] found on a new connection.
pub enum Accepted<S: Read + Write> {
    /// A WebSocket connection, open.
    WebSocket(Box<Connection<S>>),
    /// A plain HTTP request, for the application to answer: its head, the body bytes that arrived with
    /// it (H6: never lost, never parsed as frames), and the stream, positioned after them.
    Http {
        /// The request head.
        request: RequestHead,
        /// Body bytes read with the head (the rest, if any, is still in the stream).
        body: Vec<u8>,
        /// The stream.
        stream: S,
    },
}

/// What the application sees of an engine event (the handshake's events are not for it).
fn incoming(event: Event) -> Option<Incoming> {
    Some(match event {
        Event::Message(m) => Incoming::Message(m),
        Event::Ping(p) => Incoming::Ping(p),
        Event::Pong(p) => Incoming::Pong(p),
        Event::Close(c) => Incoming::Close(c),
        Event::Error(e) => Incoming::Error(ErrorEvent {
            message: e.to_string(),
        }),
        _ => return None,
    })
}

/// A refused send as an I/O error: the caller's mistake (a payload, code or reason that may not be
/// sent) is `InvalidInput`; a connection that is not open is `NotConnected`.
fn send_error(e: crate::engine::Error) -> io::Error {
    let kind = match e {
        crate::engine::Error::Send(
            websocket_driver::SendError::Closed | websocket_driver::SendError::NotOpen,
        )
        | crate::engine::Error::Closed => io::ErrorKind::NotConnected,
        crate::engine::Error::Send(_) => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// Writes everything `engine` has queued to `out`, blocking, then flushes; `window` is the write
/// timeout the connection set, which paces the peer ([`pace`]).
fn write_output(
    engine: &mut Engine,
    out: &mut impl Write,
    window: Option<Duration>,
) -> io::Result<()> {
    let mut wrote = false;
    let mut pace = Pace::new(window);
    loop {
        let bytes = engine.output();
        if bytes.is_empty() {
            break;
        }
        match out.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                engine.consume_output(n);
                pace.took(n, engine.output().len())?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                engine.write_pending();
                return Err(e);
            }
        }
        wrote = true;
    }
    if wrote {
        out.flush()?;
    }
    Ok(())
}

impl<S: Read + Write + Timeouts> Connection<S> {
    fn new(engine: Engine, stream: S) -> Self {
        let clock = stream
            .read_timeout()
            .ok()
            .map(|user| ReadClock { user, set: user });
        // A peer that takes (next to) nothing we write for as long as keepalive waits is gone
        // (unless the application bounds writes itself): `crate::pace`.
        let mut write_timeout_set = false;
        if let (Ok(None), Some(window)) = (stream.write_timeout(), pace::window(engine.options())) {
            write_timeout_set = stream.set_write_timeout(Some(window)).is_ok();
        }
        Connection {
            write_timeout_set,
            write_error: None,
            broken: false,
            engine,
            stream,
            eof: false,
            closed: false,
            epoch: StdInstant::now(),
            clock,
        }
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Opens a client connection over `stream` to `url`: sends the request and waits for the answer.
    /// `setup` may add extensions and headers first, and route through an HTTP proxy with
    /// [`Engine::connect_proxy`] (H11; `stream` then goes to the proxy).
    ///
    /// # Errors
    ///
    /// A failed handshake's error carries a [`HandshakeFailure`](crate::HandshakeFailure): the reason,
    /// and the response's status and headers. Its kind is `TimedOut` when the handshake timeout ran
    /// out, else `ConnectionRefused`.
    pub fn client(
        stream: S,
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Engine),
    ) -> io::Result<Self> {
        let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
        setup(&mut engine);
        Self::open(engine, stream)
    }

    /// Runs a client's opening handshake (through its proxy first, if it has one).
    fn open(mut engine: Engine, stream: S) -> io::Result<Self> {
        let started = if engine.proxy().is_some() {
            Ok(())
        } else {
            engine.start()
        };
        let mut connection = Connection::new(engine, stream);
        started.map_err(io::Error::other)?;
        connection.write_out()?;
        let mut failing = Failing::default();
        loop {
            match connection.next()? {
                Some(Event::Open) => return Ok(connection),
                Some(Event::ProxyConnected) => {
                    // The tunnel is open (H11): the WebSocket handshake goes through it.
                    connection.engine.start().map_err(io::Error::other)?;
                    connection.write_out()?;
                }
                Some(Event::Error(e)) => failing.error(&e),
                Some(Event::Close(close)) => {
                    return Err(failing.into_error(&connection.engine, close));
                }
                Some(_) => {}
                None => return Err(handshake_failure::ended_early()),
            }
        }
    }

    /// The engine's next event, reading (and writing) as needed; `None` at the end of the stream.
    fn next(&mut self) -> io::Result<Option<Event>> {
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        loop {
            let now = self.now();
            let event = self.engine.next_event(now);
            if let Err(e) = self.write_out() {
                if event.is_none() {
                    return Err(e);
                }
                // The event taken is not lost: it comes first, the error with the next call.
                self.write_error = Some(e);
            }
            if event.is_some() {
                return Ok(event);
            }
            if self.eof || !self.read_some()? {
                return Ok(None);
            }
        }
    }

    /// Reads from the stream once into the engine; false at end of stream.
    ///
    /// With a deadline pending the read waits at most until it, through the stream's read timeout where
    /// it has one (or the application's, when that is shorter); a read that timed out for a deadline
    /// hands the time to the engine instead of failing, one that timed out for the application's
    /// timeout is its error.
    fn read_some(&mut self) -> io::Result<bool> {
        let now = self.now();
        let wait = self
            .engine
            .poll_timeout()
            .map(|deadline| Duration::from_millis(deadline.saturating_since(now).millis()));
        if wait == Some(Duration::ZERO) {
            self.engine.handle_timeout(now);
            return Ok(true);
        }
        // Whether a timeout of this read is a deadline's (else it is the application's).
        let mut for_deadline = wait.is_some();
        if let Some(clock) = &mut self.clock {
            let want = match (wait, clock.user) {
                (Some(wait), Some(user)) if user < wait => {
                    for_deadline = false;
                    Some(user)
                }
                (wait, user) => wait.or(user),
            };
            if want != clock.set {
                self.stream.set_read_timeout(want)?;
                clock.set = want;
            }
        }
        let n = match self.stream.read(self.engine.read_buf()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && for_deadline =>
            {
                self.engine.handle_timeout(self.now());
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.engine.commit(n);
        Ok(true)
    }

    /// The stream, with the application's timeouts back in place of this connection's.
    fn into_untimed_stream(self) -> S {
        if let Some(clock) = self.clock
            && clock.set != clock.user
        {
            let _ = self.stream.set_read_timeout(clock.user);
        }
        if self.write_timeout_set {
            let _ = self.stream.set_write_timeout(None);
        }
        self.stream
    }

    /// Writes everything the engine has queued to the stream. A write that fails for good ends the
    /// transport: the error is returned once, and the stream then ends (RFC 6455 §7.1.5: 1006).
    fn write_out(&mut self) -> io::Result<()> {
        if self.broken {
            self.engine.discard_output();
            return Ok(());
        }
        let window = self.write_window();
        let written = write_output(&mut self.engine, &mut self.stream, window);
        if let Err(e) = &written
            && pace::is_fatal(e, self.write_timeout_set)
        {
            self.broken = true;
            self.eof = true;
            self.engine.discard_output();
        }
        written
    }

    /// The write timeout this connection set, which paces the peer; `None` when the application
    /// bounds writes itself.
    fn write_window(&self) -> Option<Duration> {
        self.write_timeout_set
            .then(|| pace::window(self.engine.options()))
            .flatten()
    }

    /// The next thing that happened, blocking until something does; `None` once the connection is closed
    /// and everything was returned, or the stream ended. A read timeout set on the stream before it was
    /// handed over surfaces as an `Err` of kind `WouldBlock` or `TimedOut`, and `recv` may be called
    /// again; the connection's own deadlines never do.
    pub fn recv(&mut self) -> io::Result<Option<Incoming>> {
        loop {
            if self.closed {
                // S8: a client waits for the server to close the transport, until the close timeout.
                while !self.eof && !self.engine.should_close() {
                    self.read_some()?;
                }
                return Ok(None);
            }
            let Some(event) = self.next()? else {
                if self.engine.state() != State::Closed {
                    // The stream ended without a closing handshake (RFC 6455 §7.1.5).
                    self.closed = true;
                    return Ok(Some(Incoming::Close(CloseEvent {
                        code: 1006,
                        reason: String::new(),
                    })));
                }
                return Ok(None);
            };
            let Some(item) = incoming(event) else {
                continue;
            };
            self.closed = matches!(item, Incoming::Close(_));
            return Ok(Some(item));
        }
    }

    /// Sends a message, blocking until it is written.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the peer takes less than 4 KiB of it in `ping_interval + pong_timeout` (the
    /// connection then ends: `recv` returns the close, 1006); `NotConnected` once a write failed for
    /// good or the connection is closed; `InvalidInput` for a message that may not be sent.
    pub fn send(&mut self, message: impl Into<Message>) -> io::Result<()> {
        self.usable()?;
        let sent = self.engine.send(message.into());
        self.write_out()?;
        sent.map_err(send_error)
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        self.usable()?;
        let sent = self.engine.ping(payload);
        self.write_out()?;
        sent.map_err(send_error)
    }

    /// Starts the closing handshake; keep calling [`recv`](Self::recv) until it returns the close.
    ///
    /// # Errors
    ///
    /// A code that may not be sent (F17: 1005, 1006, 1015, …) or a reason over 123 bytes is
    /// `InvalidInput`, and nothing is sent; a connection already closing or closed is `NotConnected`.
    pub fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        self.usable()?;
        let closed = self.engine.close(Some(code), reason);
        self.write_out()?;
        closed.map_err(send_error)
    }

    /// A server's closing after a refusal (RFC 9112 §9.6): the write half is shut down, then what the
    /// client still sends is read and dropped for a while, so that closing with unread input does not
    /// reset the connection and lose the refusal on the client's side. Only on a stream that can shut
    /// down its write half and time its reads ([`Timeouts`]).
    fn linger(&mut self) {
        if self.stream.shutdown_write().is_err() {
            return;
        }
        let until = StdInstant::now() + handshake_failure::LINGER;
        let mut left = handshake_failure::LINGER_BYTES;
        let mut scratch = [0u8; 2048];
        while left > 0 {
            let wait = until.saturating_duration_since(StdInstant::now());
            if wait.is_zero() || self.stream.set_read_timeout(Some(wait)).is_err() {
                break;
            }
            match self.stream.read(&mut scratch) {
                Ok(n) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
    }

    /// `NotConnected` once a write failed for good: nothing more can be sent.
    fn usable(&self) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "an earlier write failed: the connection is gone",
            ));
        }
        Ok(())
    }

    /// The engine, for its getters (`protocol`, `version`, `state`, `status`, `headers`).
    pub fn driver(&self) -> &Engine {
        &self.engine
    }

    /// Bounds each [`recv`](Self::recv) to `timeout` (`None`: none): when it passes with nothing
    /// received, `recv` returns an `Err` of kind `WouldBlock` or `TimedOut` and may be called again.
    /// The connection's own deadlines still run. (Set the stream's read timeout through this, not
    /// through [`stream`](Self::stream): the connection sets that for its deadlines.)
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if let Some(clock) = &mut self.clock {
            clock.user = timeout;
            if clock.set != timeout {
                self.stream.set_read_timeout(timeout)?;
                clock.set = timeout;
            }
            Ok(())
        } else {
            self.stream.set_read_timeout(timeout)
        }
    }

    /// The stream. Its read timeout is the connection's while it runs: set yours with
    /// [`set_read_timeout`](Self::set_read_timeout), or on the stream before handing it over.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl Connection<TcpStream> {
    /// Connects to a `ws:` URL over TCP (for `wss:`, make a TLS stream and use [`Connection::client`]).
    /// When `setup` routes through an `http:` proxy ([`Engine::connect_proxy`]), the TCP connection
    /// goes to the proxy.
    pub fn connect(
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Engine),
    ) -> io::Result<Self> {
        let parsed = websocket_driver::Url::parse_ws(url)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        if parsed.is_secure() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "wss: needs a TLS stream: use Connection::client",
            ));
        }
        let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
        setup(&mut engine);
        let proxy = match engine.proxy() {
            Some(proxy) => Some(
                websocket_driver::Url::parse(proxy)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
            ),
            None => None,
        };
        let to = proxy.as_ref().unwrap_or(&parsed);
        if to.is_secure() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "an https: proxy needs a TLS stream: use Connection::client",
            ));
        }
        let host = to.host().trim_start_matches('[').trim_end_matches(']');
        let stream = TcpStream::connect(
            (host, to.port())
                .to_socket_addrs()?
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
        stream.set_nodelay(true)?;
        Connection::open(engine, stream)
    }
}

/// Reads the request on a new server connection: a WebSocket upgrade is accepted (after `setup`) with
/// the options' subprotocols and returned open; any other request is returned for the application to
/// answer. The stream's timeouts ([`Timeouts`]) bound the handshake and run the connection's timers.
pub fn accept<S: Read + Write + Timeouts>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<Accepted<S>> {
    accept_timed(stream, options, setup, |_| None)
}

/// As [`accept`], with `decide` looking at the whole request first — method, target, every header
/// (`Origin`, `Cookie`, `Authorization`), the offered subprotocols and extensions — and answering with a
/// [`Decision`]: accept (with a subprotocol and headers) or refuse (status, headers, body). A refused
/// request is an `Err` of kind `PermissionDenied` once the refusal is written.
pub fn accept_with<S: Read + Write + Timeouts>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Decision,
) -> io::Result<Accepted<S>> {
    accept_timed(stream, options, setup, |head| Some(decide(head)))
}

fn accept_timed<S: Read + Write + Timeouts>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Option<Decision>,
) -> io::Result<Accepted<S>> {
    let mut engine = Engine::server(options);
    setup(&mut engine);
    let mut connection = Connection::new(engine, stream);
    let mut decide = Some(decide);
    let mut failing = Failing::default();
    loop {
        match connection.next()? {
            Some(Event::Connect(head)) if head.websocket => {
                let decision = decide.take().and_then(|decide| decide(&head));
                let refused = matches!(decision, Some(Decision::Refuse { .. }));
                let _ = match decision {
                    Some(decision) => connection.engine.decide(decision),
                    None => connection.engine.accept(),
                };
                connection.write_out()?;
                if refused {
                    connection.linger();
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "the request was refused",
                    ));
                }
            }
            Some(Event::Connect(request)) => {
                // H6: what arrived after the head is its body; hand it over with the stream.
                let mut body = Vec::new();
                let now = connection.now();
                while let Some(Event::Body(bytes)) = connection.engine.next_event(now) {
                    body.extend_from_slice(&bytes);
                }
                return Ok(Accepted::Http {
                    request,
                    body,
                    stream: connection.into_untimed_stream(),
                });
            }
            Some(Event::Open) => return Ok(Accepted::WebSocket(Box::new(connection))),
            Some(Event::Error(e)) => failing.error(&e),
            Some(Event::Close(close)) => {
                // A refusal lingers; a head that timed out gets nothing, and no more time.
                if !connection.engine.handshake_timed_out() {
                    connection.linger();
                }
                return Err(failing.into_error(&connection.engine, close));
            }
            Some(_) => {}
            None => return Err(handshake_failure::ended_early()),
        }
    }
}
