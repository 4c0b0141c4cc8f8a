//! Async I/O over tokio (feature `tokio`, on by default): a [`WebSocketStream`] over any
//! `AsyncRead + AsyncWrite` (a `TcpStream`, or a TLS stream for `wss:`) is a `Stream` of
//! [`Item`]s — messages, pings, pongs and the close — and a `Sink` of them; [`accept`] and [`connect`]
//! run the handshake, [`WebSocketStream::split`] gives a reader and a writer for two tasks.
//!
//! A thin face over the connection [`Engine`]: reads go straight into the engine's receive buffer (which is
//! released whenever the socket has nothing to read, so an idle connection holds no buffer), reading stops
//! while the output is over the high-water mark, and the engine's timers (handshake, keepalive, closing
//! deadline) run on tokio's clock. Pings are answered and closes echoed by the core, also while only the
//! reader is polled; nothing here decides anything about the protocol.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use websocket_driver_std::tokio::{Item, accept};
//! use websocket_driver_std::{Options, PermessageDeflate};
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (socket, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let options = Options::new(); // a 10 s handshake timeout and 30 s keepalive by default
//!         let mut ws = accept(socket, options, |engine| {
//!             engine.add_extension(Box::new(PermessageDeflate::new()));
//!         })
//!         .await?;
//!         while let Some(item) = ws.next().await {
//!             if let Item::Message(message) = item? {
//!                 ws.send(message).await?; // echo
//!             }
//!         }
//!         Ok::<_, websocket_driver_std::tokio::Error>(())
//!     });
//! }
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant as StdInstant};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Sleep;
use futures_core::Stream;
use futures_sink::Sink;
use websocket_driver::{Instant, State};

use crate::engine::{self, Decision, Engine, Event, RequestHead};
use crate::{CloseEvent, Message, Options};
use output::WriteWaiters;
pub use split::{WebSocketReader, WebSocketWriter};

mod handshake;
mod output;
mod split;

/// What the stream yields and the sink takes: a message, a ping, a pong or the close (RFC 6455 §5.5,
/// §5.6). The callback API's [`Message`] stays text or binary; control frames travel in this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A whole text or binary message.
    Message(Message),
    /// A ping (received: its pong was already sent; sent: up to 125 bytes).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The close (received: the last item; sent: starts the closing handshake with this code and reason).
    Close(CloseEvent),
}

impl From<Message> for Item {
    fn from(message: Message) -> Self {
        Item::Message(message)
    }
}

/// Why the stream or the sink failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    Io(io::Error),
    /// The WebSocket failed (protocol, handshake, extension) or a send was refused; the close follows
    /// as the stream's last item.
    WebSocket(engine::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => fmt::Display::fmt(e, f),
            Error::WebSocket(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::WebSocket(e) => Some(e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<engine::Error> for Error {
    fn from(e: engine::Error) -> Self {
        Error::WebSocket(e)
    }
}

/// The application's decision on a request, in `accept_with`.
type Decide<'a> = Box<dyn FnOnce(&RequestHead) -> Decision + Send + 'a>;

/// The connection's state, shared by the reader and the writer after a split.
struct Inner<S> {
    engine: Engine,
    io: S,
    epoch: StdInstant,
    timer: Option<Pin<Box<Sleep>>>,
    /// The close event arrived (or the transport ended): nothing more is read.
    done: bool,
    /// The close item, returned once the output (the close echo) is written.
    close_item: Option<CloseEvent>,
    close: Option<CloseEvent>,
    /// The write half was shut down.
    shut: bool,
    /// Tasks waiting for the transport to take our output (the reader and the writer may both wait).
    write_waiters: Arc<WriteWaiters>,
    /// The waker the transport gets for writing: it wakes every task in `write_waiters`.
    write_waker: Waker,
    /// A read error met after bytes were read in the same call: reported by the next read, once
    /// those bytes are handled.
    read_error: Option<io::Error>,
    /// Bytes were written and not yet flushed (a flush that returned `Pending` is tried again).
    unflushed: bool,
    /// The task reading the stream: woken when the writer half changes what its timers wait for
    /// (a close it sent arms the closing deadline).
    reader: Option<Waker>,
    /// Once the connection has ended: how long its last output may wait for a peer that does not
    /// read (the close timeout), allocated only then.
    linger: Option<Pin<Box<Sleep>>>,
    /// The output was given up (the connection ended and the peer reads nothing): nothing more is
    /// written.
    abandoned: bool,
    /// Something unsent was dropped when the output was given up: the application's flushes fail.
    dropped: bool,
    /// The connection failed: the error, returned once the close frame it queued is written (an
    /// application that stops at the error still sends it, RFC 6455 §7.1.7).
    failure: Option<engine::Error>,
    /// A send waiting on the peer: when the window for its next `pace::MIN_PROGRESS` bytes ends,
    /// and what the peer took so far in it (allocated only while a send waits).
    stall: Option<(Pin<Box<Sleep>>, usize)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Wakes the task reading the stream (see `reader`).
    fn wake_reader(&self) {
        if let Some(reader) = &self.reader {
            reader.wake_by_ref();
        }
    }

    /// Ready when the engine's next deadline has passed (then handled); pending until it.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.engine.poll_timeout() else {
            self.timer = None;
            return Poll::Pending;
        };
        let wait = Duration::from_millis(deadline.saturating_since(self.now()).millis());
        // Due by the engine's clock: handled now. (Waiting on a sleep reset to "now" again at every
        // wake could chase the timer wheel's next tick for good.)
        if !wait.is_zero() {
            let when = ::tokio::time::Instant::now() + wait;
            let timer = match &mut self.timer {
                Some(timer) if timer.deadline() <= when && !timer.is_elapsed() => timer,
                Some(timer) => {
                    timer.as_mut().reset(when);
                    timer
                }
                None => self
                    .timer
                    .insert(Box::pin(::tokio::time::sleep_until(when))),
            };
            ready!(timer.as_mut().poll(cx));
        }
        self.timer = None;
        let now = self.now();
        self.engine.handle_timeout(now);
        Poll::Ready(())
    }

    /// Reads into the engine: once, or on to the end of a frame under way while the transport has
    /// its bytes at hand (then its text is checked once). `Ready(false)` at the end of the stream.
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        if let Some(e) = self.read_error.take() {
            return Poll::Ready(Err(e));
        }
        let mut read = false;
        loop {
            if read && !self.engine.frame_under_way() {
                return Poll::Ready(Ok(true));
            }
            let space = self.engine.read_buf();
            if space.is_empty() && read {
                return Poll::Ready(Ok(true));
            }
            let mut buf = ReadBuf::new(space);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                // What was read is handled first; the error or the end comes with the next read.
                Poll::Pending if read => return Poll::Ready(Ok(true)),
                Poll::Ready(Err(e)) if read => {
                    self.read_error = Some(e);
                    return Poll::Ready(Ok(true));
                }
                Poll::Pending => {
                    // Nothing to read: an idle connection holds no buffer.
                    self.engine.idle();
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        return Poll::Ready(Ok(read));
                    }
                    self.engine.commit(n);
                    read = true;
                }
            }
        }
    }

    fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Item, Error>>> {
        if !self
            .reader
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            self.reader = Some(cx.waker().clone());
        }
        loop {
            if !self.done && self.failure.is_none() {
                let now = self.now();
                if let Some(event) = self.engine.next_event(now) {
                    match event {
                        Event::Message(message) => {
                            return Poll::Ready(Some(Ok(Item::Message(message))));
                        }
                        Event::Ping(payload) => return Poll::Ready(Some(Ok(Item::Ping(payload)))),
                        Event::Pong(payload) => return Poll::Ready(Some(Ok(Item::Pong(payload)))),
                        Event::Close(event) => {
                            self.done = true;
                            self.close = Some(event.clone());
                            self.close_item = Some(event);
                        }
                        Event::Error(e) => self.failure = Some(e),
                        _ => {}
                    }
                    continue;
                }
            }
            // Automatic replies (pongs, the close echo) go out as reading goes on; while the output is
            // over the high-water mark, nothing more is read.
            match self.poll_write_out(cx) {
                Poll::Ready(Err(e)) => {
                    let error = self.failure.take().map_or(Error::Io(e), Error::WebSocket);
                    return Poll::Ready(Some(Err(error)));
                }
                // A failure's close frame waits for the peer until the closing deadline at most.
                Poll::Pending if self.failure.is_some() => ready!(self.poll_timer(cx)),
                Poll::Pending if self.done || !self.engine.wants_read() => {
                    ready!(self.poll_stalled(cx));
                    continue;
                }
                _ => {}
            }
            if let Some(e) = self.failure.take() {
                return Poll::Ready(Some(Err(Error::WebSocket(e))));
            }
            if self.done {
                // The stream never ends before the close echo is written.
                if let Some(event) = self.close_item.take() {
                    return Poll::Ready(Some(Ok(Item::Close(event))));
                }
                return self
                    .poll_finish(cx)
                    .map(|r| r.err().map(|e| Err(Error::Io(e))));
            }
            if self.poll_timer(cx).is_ready() {
                continue;
            }
            match ready!(self.poll_read_in(cx)) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    if self.close.is_none() {
                        // The transport ended without a closing handshake (RFC 6455 §7.1.5).
                        let event = CloseEvent {
                            code: 1006,
                            reason: String::new(),
                        };
                        self.close = Some(event.clone());
                        self.close_item = Some(event);
                    }
                    self.shut = true;
                }
                Err(e) => return Poll::Ready(Some(Err(Error::Io(e)))),
            }
        }
    }

    /// After the close: a server shuts down the write half at once (it closes first, RFC 6455
    /// §7.1.1); a client waits for the server to close, until the close timeout (S8), then shuts down.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.shut && !self.engine.should_close() && !self.abandoned {
            if self.poll_timer(cx).is_ready() {
                continue;
            }
            match ready!(self.poll_read_in(cx)) {
                Ok(true) => {
                    let now = self.now();
                    while self.engine.next_event(now).is_some() {}
                }
                Ok(false) | Err(_) => break,
            }
        }
        if !self.shut {
            // A shutdown that cannot finish (a TLS close_notify to a peer that reads nothing) waits
            // the close timeout at most, and not at all once the output was given up.
            if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() && !self.abandoned {
                ready!(self.poll_linger(cx));
            }
            self.shut = true;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.engine.buffered_amount() > self.engine.options().transmit_buffer {
            ready!(self.poll_flush_sends(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(&mut self, item: Item) -> Result<(), Error> {
        if self.abandoned {
            // The connection ended without its peer: nothing more is written.
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection ended without its peer (a write failed, or it took too little)",
            )));
        }
        let sent = match item {
            Item::Message(message) => self.engine.send(message),
            Item::Ping(payload) => self.engine.ping(&payload),
            Item::Pong(payload) => self.engine.pong(&payload),
            Item::Close(event) => self.close(event.code, &event.reason),
        };
        sent.map_err(Error::WebSocket)
    }

    /// Starts the closing handshake; a split reader is woken to run the closing deadline.
    fn close(&mut self, code: u16, reason: &str) -> Result<(), engine::Error> {
        self.engine.close(Some(code), reason)?;
        self.wake_reader();
        Ok(())
    }
}

/// A WebSocket over an async byte stream: a `Stream` of [`Item`]s and a `Sink` of [`Item`]s or
/// [`Message`]s. Errors are surfaced as `Err` (the close follows as the last item); the stream ends
/// after the close item, once the close echo is written and the transport shut down.
pub struct WebSocketStream<S> {
    inner: Inner<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    fn new(engine: Engine, io: S) -> Self {
        let write_waiters = Arc::new(WriteWaiters::default());
        WebSocketStream {
            inner: Inner {
                engine,
                io,
                epoch: StdInstant::now(),
                timer: None,
                done: false,
                close_item: None,
                close: None,
                shut: false,
                write_waker: Waker::from(write_waiters.clone()),
                write_waiters,
                read_error: None,
                unflushed: false,
                reader: None,
                linger: None,
                abandoned: false,
                dropped: false,
                failure: None,
                stall: None,
            },
        }
    }
    /// A stream over a connection whose upgrade is already done, with an open engine — one that
    /// [`Engine::accept_upgrade`] accepted, say (for an HTTP stack that writes the 101 itself).
    pub fn from_engine(io: S, engine: Engine) -> Self {
        WebSocketStream::new(engine, io)
    }

    /// The engine, for its getters (`protocol`, `version`, `status`, `headers`, `extensions`).
    pub fn driver(&self) -> &Engine {
        &self.inner.engine
    }

    /// How the connection closed, once it has.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.inner.close.as_ref()
    }

    /// Graceful close (RFC 6455 §7.1.2): sends a close frame with `code` and `reason`, waits for the
    /// peer's close up to the close timeout (else the close event reports 1006), then shuts down the write
    /// half. Messages that arrive meanwhile are dropped: to keep them, send [`Item::Close`] through the
    /// sink and read the stream to its end instead. Returns the close event.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<CloseEvent, Error> {
        if self.inner.engine.state() == State::Open {
            self.inner.close(code, reason)?;
        }
        std::future::poll_fn(|cx| {
            loop {
                match ready!(self.inner.poll_next_item(cx)) {
                    Some(Ok(_)) | Some(Err(Error::WebSocket(_))) => {}
                    Some(Err(e)) => return Poll::Ready(Err(e)),
                    None => return Poll::Ready(Ok(())),
                }
            }
        })
        .await?;
        Ok(self.inner.close.clone().unwrap_or(CloseEvent {
            code: 1006,
            reason: String::new(),
        }))
    }
}

/// Server: reads the request on `io`, accepts it (after `setup` added extensions or headers) and returns
/// the open WebSocket.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<WebSocketStream<S>> {
    let mut engine = Engine::server(options);
    setup(&mut engine);
    // Boxed: the handshake's state lives on the heap only while it runs, so the caller's task keeps
    // just the open stream afterwards (an idle connection's task stays small).
    Box::pin(WebSocketStream::new(engine, io).handshake(None)).await
}

/// Server: as [`accept`], with `decide` looking at the whole request first — method, target, every
/// header (`Origin`, `Cookie`, `Authorization`), the offered subprotocols and extensions — and answering
/// with a [`Decision`]: accept (with a subprotocol and headers) or refuse (status, headers, body; then an
/// `Err` of kind `PermissionDenied`). RFC 6455 §10.2: check `Origin` against cross-site use.
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Decision + Send,
) -> io::Result<WebSocketStream<S>> {
    let mut engine = Engine::server(options);
    setup(&mut engine);
    Box::pin(WebSocketStream::new(engine, io).handshake(Some(Box::new(decide)))).await
}

/// Client: opens the WebSocket at `url` over `io` (a TCP stream to its host, or a TLS stream for `wss:`).
/// `setup` may add extensions and headers, and route through an HTTP proxy with
/// [`Engine::connect_proxy`] (H11: `io` then goes to the proxy).
///
/// # Errors
///
/// A failed handshake's error carries a [`HandshakeFailure`](crate::HandshakeFailure): the reason, and
/// the response's status and headers. Its kind is `TimedOut` when the handshake timeout ran out, else
/// `ConnectionRefused`.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    url: &str,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<WebSocketStream<S>> {
    let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
    setup(&mut engine);
    if engine.proxy().is_none() {
        engine.start().map_err(io::Error::other)?;
    }
    // Boxed: the handshake's state lives on the heap only while it runs, so the caller's task keeps
    // just the open stream afterwards (an idle connection's task stays small).
    Box::pin(WebSocketStream::new(engine, io).handshake(None)).await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_item(cx)
    }
}

/// Sends items; `poll_ready` waits while more than the transmit buffer's worth of output is queued.
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Item> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), Error> {
        self.get_mut().inner.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_flush_sends(cx).map_err(Error::Io)
    }

    /// Sends a close (1000) if none was sent and flushes; read the stream to its end for the peer's
    /// answer, or use [`WebSocketStream::close`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let inner = &mut self.get_mut().inner;
        if inner.engine.state() == State::Open {
            inner.close(1000, "")?;
        }
        inner.poll_flush_sends(cx).map_err(Error::Io)
    }
}

/// Sends messages (the same as `Item::Message`).
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().inner.start_send(Item::Message(message))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_flush_sends(cx).map_err(Error::Io)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        <Self as Sink<Item>>::poll_close(self, cx)
    }
}
