//! Blocking I/O: a WebSocket [`Connection`] over any `Read + Write` stream (a `TcpStream`, or a TLS
//! stream for `wss:`), [`Connection::connect`] to a URL, and [`serve`] a listener with a thread per
//! connection.
//!
//! A thin face over the connection [`Engine`]: reads go straight into the engine's receive buffer,
//! its output is written out before the next read (so a peer that does not read blocks our writes,
//! never our memory), and its timers bound every read. Nothing here decides anything about the protocol.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, State};

use crate::engine::{Decision, Engine, Event, RequestHead};

mod serve;
mod split;

use crate::{CloseEvent, ErrorEvent, Message, Options};
pub use serve::{ServeOptions, serve, serve_with};
pub use split::{Reader, Writer};

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
    /// Sets the stream's read timeout, for streams that have one (`TcpStream`): reads then wake for the
    /// engine's deadlines (handshake timeout, closing deadline, keepalive, S8 close wait).
    timer: Option<ReadTimeout<S>>,
    /// Whether `timer` last set a timeout (cleared again once no deadline is pending).
    timed: bool,
}

type ReadTimeout<S> = fn(&S, Option<Duration>) -> io::Result<()>;

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

/// Writes everything `engine` has queued to `out`, blocking, then flushes.
fn write_output(engine: &mut Engine, out: &mut impl Write) -> io::Result<()> {
    let mut wrote = false;
    loop {
        let bytes = engine.output();
        if bytes.is_empty() {
            break;
        }
        match out.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => engine.consume_output(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        wrote = true;
    }
    if wrote {
        out.flush()?;
    }
    Ok(())
}

impl<S: Read + Write> Connection<S> {
    fn new(engine: Engine, stream: S, timer: Option<ReadTimeout<S>>) -> Self {
        Connection {
            engine,
            stream,
            eof: false,
            closed: false,
            epoch: StdInstant::now(),
            timer,
            timed: false,
        }
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Opens a client connection over `stream` to `url`: sends the request and waits for the answer.
    /// `setup` may add extensions and headers first.
    pub fn client(
        stream: S,
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Engine),
    ) -> io::Result<Self> {
        Connection::client_timed(stream, url, options, setup, None)
    }

    fn client_timed(
        stream: S,
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Engine),
        timer: Option<ReadTimeout<S>>,
    ) -> io::Result<Self> {
        let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
        setup(&mut engine);
        let started = engine.start();
        let mut connection = Connection::new(engine, stream, timer);
        if let Err(e) = started {
            return Err(io::Error::other(e));
        }
        connection.write_out()?;
        let mut failure = None;
        loop {
            match connection.next()? {
                Some(Event::Open) => return Ok(connection),
                Some(Event::Error(e)) => failure = failure.or(Some(e.to_string())),
                Some(Event::Close(close)) => {
                    let reason = failure.unwrap_or(if close.reason.is_empty() {
                        "handshake failed".into()
                    } else {
                        close.reason
                    });
                    return Err(io::Error::new(io::ErrorKind::ConnectionRefused, reason));
                }
                Some(_) => {}
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed during the handshake",
                    ));
                }
            }
        }
    }

    /// The engine's next event, reading (and writing) as needed; `None` at the end of the stream.
    fn next(&mut self) -> io::Result<Option<Event>> {
        loop {
            let now = self.now();
            let event = self.engine.next_event(now);
            self.write_out()?;
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
    /// this connection can set one; a read that timed out then hands the time to the engine instead of
    /// failing.
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
        if let Some(set) = self.timer
            && (wait.is_some() || self.timed)
        {
            set(&self.stream, wait)?;
            self.timed = wait.is_some();
        }
        let n = match self.stream.read(self.engine.read_buf()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && wait.is_some() =>
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

    /// The stream, with any read timeout this connection set taken off again.
    fn into_untimed_stream(self) -> S {
        if let Some(set) = self.timer
            && self.timed
        {
            let _ = set(&self.stream, None);
        }
        self.stream
    }

    /// Writes everything the engine has queued to the stream.
    fn write_out(&mut self) -> io::Result<()> {
        write_output(&mut self.engine, &mut self.stream)
    }

    /// The next thing that happened, blocking until something does; `None` once the connection is closed
    /// and everything was returned, or the stream ended. A read timeout set on the stream surfaces as
    /// an `Err` of kind `WouldBlock` or `TimedOut`, and `recv` may be called again.
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

    /// Sends a message.
    pub fn send(&mut self, message: impl Into<Message>) -> io::Result<()> {
        let sent = self.engine.send(message.into());
        self.write_out()?;
        sent.map_err(send_error)
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
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
        let closed = self.engine.close(Some(code), reason);
        self.write_out()?;
        closed.map_err(send_error)
    }

    /// The engine, for its getters (`protocol`, `version`, `state`, `status`, `headers`).
    pub fn driver(&self) -> &Engine {
        &self.engine
    }

    /// The stream, for example to set a read timeout.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl Connection<TcpStream> {
    /// Connects to a `ws:` URL over TCP (for `wss:`, make a TLS stream and use [`Connection::client`]).
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
        let host = parsed.host().trim_start_matches('[').trim_end_matches(']');
        let stream = TcpStream::connect(
            (host, parsed.port())
                .to_socket_addrs()?
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
        stream.set_nodelay(true)?;
        Connection::client_timed(
            stream,
            url,
            options,
            setup,
            Some(TcpStream::set_read_timeout),
        )
    }
}

/// Reads the request on a new server connection: a WebSocket upgrade is accepted (after `setup`) with
/// the options' subprotocols and returned open; any other request is returned for the application to
/// answer.
pub fn accept<S: Read + Write>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<Accepted<S>> {
    accept_timed(stream, options, setup, |_| None, None)
}

/// As [`accept`], with `decide` looking at the whole request first — method, target, every header
/// (`Origin`, `Cookie`, `Authorization`), the offered subprotocols and extensions — and answering with a
/// [`Decision`]: accept (with a subprotocol and headers) or refuse (status, headers, body). A refused
/// request is an `Err` of kind `PermissionDenied` once the refusal is written.
pub fn accept_with<S: Read + Write>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Decision,
) -> io::Result<Accepted<S>> {
    accept_timed(stream, options, setup, |head| Some(decide(head)), None)
}

fn accept_timed<S: Read + Write>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Option<Decision>,
    timer: Option<ReadTimeout<S>>,
) -> io::Result<Accepted<S>> {
    let mut engine = Engine::server(options);
    setup(&mut engine);
    let mut connection = Connection::new(engine, stream, timer);
    let mut decide = Some(decide);
    let mut failure = None;
    let mut refused = false;
    loop {
        match connection.next()? {
            Some(Event::Connect(head)) if head.websocket => {
                let decision = decide.take().and_then(|decide| decide(&head));
                refused = matches!(decision, Some(Decision::Refuse { .. }));
                let _ = match decision {
                    Some(decision) => connection.engine.decide(decision),
                    None => connection.engine.accept(),
                };
                connection.write_out()?;
                if refused {
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
            Some(Event::Error(e)) => failure = failure.or(Some(e.to_string())),
            Some(Event::Close(close)) => {
                let reason = failure.unwrap_or(if close.reason.is_empty() {
                    "handshake refused".into()
                } else {
                    close.reason
                });
                let kind = if refused {
                    io::ErrorKind::PermissionDenied
                } else {
                    io::ErrorKind::InvalidData
                };
                return Err(io::Error::new(kind, reason));
            }
            Some(_) => {}
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed during the handshake",
                ));
            }
        }
    }
}
