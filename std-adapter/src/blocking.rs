//! Blocking I/O: a WebSocket [`Connection`] over any `Read + Write` stream (a `TcpStream`, or a TLS
//! stream for `wss:`), [`Connection::connect`] to a URL, and [`serve`] a listener with a thread per connection.
//!
//! A connection pulls messages with [`Connection::recv`] and sends with [`Connection::send`]. The driver
//! writes into a buffer that is copied to the stream after every call; nothing here decides protocol.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{CloseEvent, Driver, ErrorEvent, Message, Options, ReadyState};

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

type Inbox = Arc<Mutex<VecDeque<Incoming>>>;

/// A WebSocket connection over a blocking stream.
pub struct Connection<S: Read + Write> {
    driver: Driver<Vec<u8>>,
    stream: S,
    inbox: Inbox,
    opened: Arc<AtomicBool>,
    buf: Vec<u8>,
    eof: bool,
    /// Sets the stream's read timeout, for streams that have one (`TcpStream`): reads then wake for the
    /// driver's deadlines (handshake timeout, S8 close wait).
    timer: Option<ReadTimeout<S>>,
    /// Whether `timer` last set a timeout (cleared again once no deadline is pending).
    timed: bool,
}

type ReadTimeout<S> = fn(&S, Option<Duration>) -> io::Result<()>;

/// What [`accept`] found on a new connection.
pub enum Accepted<S: Read + Write> {
    /// A WebSocket connection, open.
    WebSocket(Box<Connection<S>>),
    /// A plain HTTP request (method, target) and the stream, for the application to answer.
    Http {
        /// The request method.
        method: String,
        /// The request target.
        target: String,
        /// The stream, positioned after the request head.
        stream: S,
    },
}

/// Every event goes to the inbox, and the driver pauses until it was taken: the application answers a
/// message before the next frame is read.
fn wire(driver: &mut Driver<Vec<u8>>, inbox: &Inbox) {
    fn push(inbox: &Inbox, ws: &mut crate::Handle<Vec<u8>>, item: Incoming) {
        inbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(item);
        ws.pause();
    }
    let i = inbox.clone();
    driver.on_message(move |ws, m| push(&i, ws, Incoming::Message(m)));
    let i = inbox.clone();
    driver.on_ping(move |ws, p| push(&i, ws, Incoming::Ping(p)));
    let i = inbox.clone();
    driver.on_pong(move |ws, p| push(&i, ws, Incoming::Pong(p)));
    let i = inbox.clone();
    driver.on_close(move |ws, c| push(&i, ws, Incoming::Close(c)));
    let i = inbox.clone();
    driver.on_error(move |ws, e| push(&i, ws, Incoming::Error(e)));
}

impl<S: Read + Write> Connection<S> {
    fn new(driver: Driver<Vec<u8>>, stream: S) -> Self {
        let opened = Arc::new(AtomicBool::new(false));
        let mut connection = Connection {
            driver,
            stream,
            inbox: Inbox::default(),
            opened: opened.clone(),
            buf: vec![0; 64 * 1024],
            eof: false,
            timer: None,
            timed: false,
        };
        wire(&mut connection.driver, &connection.inbox);
        connection
            .driver
            .on_open(move |_, ()| opened.store(true, Ordering::Relaxed));
        connection
    }

    /// Opens a client connection over `stream` to `url`: sends the request and waits for the answer.
    /// `setup` may add extensions and headers first.
    pub fn client(
        stream: S,
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Driver<Vec<u8>>),
    ) -> io::Result<Self> {
        Connection::client_timed(stream, url, options, setup, None)
    }

    fn client_timed(
        stream: S,
        url: &str,
        options: Options,
        setup: impl FnOnce(&mut Driver<Vec<u8>>),
        timer: Option<ReadTimeout<S>>,
    ) -> io::Result<Self> {
        let driver = Driver::client(Vec::new(), url, options).map_err(io::Error::other)?;
        let mut connection = Connection::new(driver, stream);
        connection.timer = timer;
        setup(&mut connection.driver);
        connection.driver.start();
        connection.write_out()?;
        connection.wait_open()
    }

    fn wait_open(mut self) -> io::Result<Self> {
        while self.driver.state() == ReadyState::Connecting {
            if self.driver.is_paused() {
                self.driver.resume();
                self.write_out()?;
                continue;
            }
            if !self.read_some()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed during the handshake",
                ));
            }
        }
        // Open, even if the peer's first frames closed it again: those events wait in the inbox.
        if !self.opened.load(Ordering::Relaxed) {
            let reason = self.errors().unwrap_or_else(|| "handshake failed".into());
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, reason));
        }
        Ok(self)
    }

    /// Why the connection failed: the first error event's message, else the close event's reason.
    fn errors(&self) -> Option<String> {
        let inbox = self.inbox.lock().ok()?;
        let error = inbox.iter().find_map(|i| match i {
            Incoming::Error(e) => Some(e.message.clone()),
            _ => None,
        });
        error.or_else(|| {
            inbox.iter().find_map(|i| match i {
                Incoming::Close(c) if !c.reason.is_empty() => Some(c.reason.clone()),
                _ => None,
            })
        })
    }

    /// Reads from the stream once and feeds the driver; false at end of stream.
    ///
    /// With a deadline pending (handshake timeout, a client's close wait, S8) the read waits at most
    /// until it, through the stream's read timeout where this connection can set one; a read that
    /// timed out then hands the time to the driver instead of failing.
    fn read_some(&mut self) -> io::Result<bool> {
        let wait = self.driver.poll_timeout();
        if wait == Some(Duration::ZERO) {
            self.driver.handle_timeout();
            self.write_out()?;
            return Ok(true);
        }
        if let Some(set) = self.timer
            && (wait.is_some() || self.timed)
        {
            set(&self.stream, wait)?;
            self.timed = wait.is_some();
        }
        let n = match self.stream.read(&mut self.buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && wait.is_some() =>
            {
                self.driver.handle_timeout();
                self.write_out()?;
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        let Connection { driver, buf, .. } = self;
        driver.parse(&buf[..n]);
        self.write_out()?;
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

    /// Copies what the driver wrote to the stream.
    fn write_out(&mut self) -> io::Result<()> {
        let out = std::mem::take(self.driver.socket_mut());
        if !out.is_empty() {
            self.stream.write_all(&out)?;
            self.stream.flush()?;
        }
        let mut out = out;
        out.clear();
        *self.driver.socket_mut() = out;
        Ok(())
    }

    /// The next thing that happened, blocking until something does; `None` once the connection is closed
    /// and everything was returned, or the stream ended. A read timeout set on the stream surfaces as
    /// an `Err` of kind `WouldBlock` or `TimedOut`, and `recv` may be called again.
    pub fn recv(&mut self) -> io::Result<Option<Incoming>> {
        loop {
            if let Some(item) = self
                .inbox
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
            {
                return Ok(Some(item));
            }
            if self.driver.is_paused() {
                self.driver.resume();
                self.write_out()?;
                continue;
            }
            if self.eof || self.driver.should_close() && self.driver.state() == ReadyState::Closed {
                return Ok(None);
            }
            if !self.read_some()? {
                if self.driver.state() != ReadyState::Closed {
                    return Ok(Some(Incoming::Close(CloseEvent {
                        code: 1006,
                        reason: String::new(),
                    })));
                }
                return Ok(None);
            }
        }
    }

    /// Sends a message.
    pub fn send(&mut self, message: impl Into<Message>) -> io::Result<()> {
        let sent = self.driver.message(message.into());
        self.write_out()?;
        if sent {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection is closed",
            ))
        }
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        let sent = self.driver.ping(payload, None);
        self.write_out()?;
        if sent {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::NotConnected, "cannot ping"))
        }
    }

    /// Starts the closing handshake; keep calling [`recv`](Self::recv) until it returns the close.
    pub fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        self.driver.close(Some(code), reason);
        self.write_out()
    }

    /// The driver, for its getters (`protocol`, `version`, `state`, `status`, `headers`).
    pub fn driver(&self) -> &Driver<Vec<u8>> {
        &self.driver
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
        setup: impl FnOnce(&mut Driver<Vec<u8>>),
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

/// Reads the request on a new server connection: a WebSocket upgrade is accepted (after `setup`) and
/// returned open; any other request is returned for the application to answer.
pub fn accept<S: Read + Write>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Driver<Vec<u8>>),
) -> io::Result<Accepted<S>> {
    accept_timed(stream, options, setup, None)
}

fn accept_timed<S: Read + Write>(
    stream: S,
    options: Options,
    setup: impl FnOnce(&mut Driver<Vec<u8>>),
    timer: Option<ReadTimeout<S>>,
) -> io::Result<Accepted<S>> {
    let driver = Driver::server(Vec::new(), options);
    let mut connection = Connection::new(driver, stream);
    connection.timer = timer;
    setup(&mut connection.driver);
    let plain: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let seen = plain.clone();
    connection
        .driver
        .on_connect(move |ws, ()| match ws.request_line() {
            Some((method, target, true)) => {
                let _ = (method, target);
                ws.start();
            }
            Some((method, target, false)) => {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some((method, target))
            }
            None => {}
        });
    while connection.driver.state() == ReadyState::Connecting {
        if let Some((method, target)) = plain.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Ok(Accepted::Http {
                method,
                target,
                stream: connection.into_untimed_stream(),
            });
        }
        if !connection.read_some()? {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the handshake",
            ));
        }
    }
    if let Some((method, target)) = plain.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Ok(Accepted::Http {
            method,
            target,
            stream: connection.into_untimed_stream(),
        });
    }
    if connection.driver.state() != ReadyState::Open {
        let reason = connection
            .errors()
            .unwrap_or_else(|| "handshake refused".into());
        return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
    }
    Ok(Accepted::WebSocket(Box::new(connection)))
}

/// Serves `listener` with a thread per connection: each WebSocket connection goes to `handler`; plain
/// HTTP requests to `http` (which writes its own answer). Returns only on a listener error.
pub fn serve<H, P>(
    listener: TcpListener,
    options: Options,
    setup: fn(&mut Driver<Vec<u8>>),
    handler: H,
    http: P,
) -> io::Result<()>
where
    H: Fn(Connection<TcpStream>) + Send + Sync + 'static,
    P: Fn(&str, &str, TcpStream) + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    let http = Arc::new(http);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e)
                if e.kind() == io::ErrorKind::ConnectionAborted
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let (handler, http, options) = (handler.clone(), http.clone(), options.clone());
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            match accept_timed(stream, options, setup, Some(TcpStream::set_read_timeout)) {
                Ok(Accepted::WebSocket(connection)) => handler(*connection),
                Ok(Accepted::Http {
                    method,
                    target,
                    stream,
                }) => http(&method, &target, stream),
                Err(_) => {}
            }
        });
    }
    Ok(())
}
