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
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant as StdInstant};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use ::tokio::time::Sleep;
use futures_core::Stream;
use futures_sink::Sink;
use websocket_driver::{Instant, Role, State};

use crate::engine::{self, Decision, Engine, Event, RequestHead};
use crate::handshake_failure::{self, Failing};
use crate::pace;
use crate::{CloseEvent, Message, Options};

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

/// The tasks waiting for the transport to take our output. The transport keeps one waker per
/// direction, and after a split both the reader (automatic replies) and the writer write: it is given
/// one waker that wakes them all, so that neither waits on a wake that went to the other.
#[derive(Default)]
struct WriteWaiters(Mutex<Vec<Waker>>);

impl WriteWaiters {
    fn list(&self) -> MutexGuard<'_, Vec<Waker>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self, waker: &Waker) {
        let mut list = self.list();
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }

    /// After a write by the task `me`: the other tasks are woken when something was written, and `me`
    /// leaves the list when its call finished. One lock; the wakes happen after it is released.
    fn settle(&self, me: &Waker, wrote: bool, finished: bool) {
        if !wrote && !finished {
            return;
        }
        let others: Vec<Waker> = {
            let mut list = self.list();
            let others = if wrote {
                list.extract_if(.., |w| !w.will_wake(me)).collect()
            } else {
                Vec::new()
            };
            if finished {
                list.retain(|w| !w.will_wake(me));
            }
            others
        };
        for waker in others {
            waker.wake();
        }
    }

    fn wake_all(&self) {
        let waiting = std::mem::take(&mut *self.list());
        for waker in waiting {
            waker.wake();
        }
    }
}

impl std::task::Wake for WriteWaiters {
    fn wake(self: Arc<Self>) {
        self.wake_all();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_all();
    }
}

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

    /// Writes the engine's output; `Ready` once it is all written and flushed.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.abandoned {
            self.engine.discard_output();
            return Poll::Ready(Ok(()));
        }
        if self.engine.output().is_empty() && !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        // Listed before the transport is polled, so that a wake between its `Pending` and here is not
        // lost; taken off again when this call finishes.
        self.write_waiters.wait(cx.waker());
        let waker = self.write_waker.clone();
        let before = self.engine.buffered_amount();
        let result = self.poll_write_all(&mut Context::from_waker(&waker));
        // What was written may be another task's (a split writer's message): it looks again.
        let wrote = self.engine.buffered_amount() < before;
        self.write_waiters
            .settle(cx.waker(), wrote, result.is_ready());
        if let Poll::Ready(Err(e)) = &result
            && !matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            )
        {
            // The transport is gone: the error is returned once, then the stream ends (1006).
            self.end_without_transport("");
        }
        result
    }

    /// The connection ended without its peer (a write failed for good, or the peer takes too little of
    /// what we write): the output is given up, and the stream's last item is the close, 1006 with
    /// `reason` (RFC 6455 §7.1.5), unless a close event came already.
    fn end_without_transport(&mut self, reason: &str) {
        self.abandon_output();
        if !self.done {
            let event = CloseEvent {
                code: 1006,
                reason: reason.into(),
            };
            self.done = true;
            self.close = Some(event.clone());
            self.close_item = Some(event);
            self.wake_reader();
        }
    }

    /// [`poll_write_out`](Self::poll_write_out) for the application's sends and flushes. Output that
    /// was given up unsent (the connection ended while the peer read nothing) is `NotConnected`, not a
    /// success; a peer that takes too little of it while a send waits ends the connection
    /// (`crate::pace`: keepalive cannot, as nothing reads its pong meanwhile on an unsplit stream).
    fn poll_flush_sends(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let before = self.engine.buffered_amount();
        let written = self.poll_write_out(cx);
        if written.is_pending() {
            let taken = before.saturating_sub(self.engine.buffered_amount());
            return self.poll_pace(cx, taken);
        }
        self.stall = None;
        ready!(written)?;
        if self.dropped {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection ended before its output was written (the peer did not read it)",
            )));
        }
        Poll::Ready(Ok(()))
    }

    /// A send waits on the peer, which took `taken` bytes in this call: pending while it keeps the
    /// pace; when a window passes with less than `pace::MIN_PROGRESS` taken, the connection ends
    /// (its close event: 1006) and the send fails with `TimedOut`.
    fn poll_pace(&mut self, cx: &mut Context<'_>, taken: usize) -> Poll<io::Result<()>> {
        let Some(window) = pace::window(self.engine.options()) else {
            return Poll::Pending;
        };
        let (sleep, so_far) = self
            .stall
            .get_or_insert_with(|| (Box::pin(::tokio::time::sleep(window)), 0));
        *so_far += taken;
        if *so_far >= pace::MIN_PROGRESS {
            *so_far = 0;
            sleep.as_mut().reset(::tokio::time::Instant::now() + window);
        }
        ready!(sleep.as_mut().poll(cx));
        self.stall = None;
        self.end_without_transport(pace::SLOW);
        Poll::Ready(Err(pace::too_slow()))
    }

    /// [`poll_write_out`](Self::poll_write_out) with the transport's context.
    fn poll_write_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let out = self.engine.output();
            if out.is_empty() {
                break;
            }
            match Pin::new(&mut self.io).poll_write(cx, out) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.engine.consume_output(n);
                    self.unflushed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// The peer does not take our output. The timers still run — keepalive ends a peer that stays
    /// silent, the closing deadline a close it never answers — and once the connection has ended its
    /// last output waits at most the close timeout (no wait after a timeout: the peer is gone), then
    /// is dropped so that the stream can end. Ready when something changed.
    fn poll_stalled(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.done {
            return self.poll_timer(cx);
        }
        if !self.engine.timed_out() {
            ready!(self.poll_linger(cx));
        }
        self.abandon_output();
        Poll::Ready(())
    }

    /// Ready once the connection's last output has waited the close timeout (counted from the first
    /// call).
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let wait = self.engine.options().close_timeout;
        self.linger
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep(wait)))
            .as_mut()
            .poll(cx)
    }

    /// Gives up on the output of a connection that has ended: what is queued is dropped, a pending
    /// transport flush is not waited for, nothing more is written, and a split writer waiting to
    /// write is woken to see it.
    fn abandon_output(&mut self) {
        self.dropped |= !self.engine.output().is_empty() || self.unflushed;
        self.engine.discard_output();
        self.unflushed = false;
        self.abandoned = true;
        self.write_waiters.wake_all();
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

    /// A server's closing after a refusal (RFC 9112 §9.6): the write half is shut down, then what the
    /// client still sends is read and dropped for a while — so that closing with unread input does
    /// not reset the connection, which can lose the refusal on the client's side before it reads it.
    async fn linger(&mut self) {
        let _ = self.inner.io.shutdown().await;
        let until = ::tokio::time::Instant::now() + handshake_failure::LINGER;
        let mut left = handshake_failure::LINGER_BYTES;
        let mut scratch = [0u8; 2048];
        while left > 0 {
            match ::tokio::time::timeout_at(until, self.inner.io.read(&mut scratch)).await {
                Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => break,
            }
        }
    }

    async fn write_all_out(&mut self) -> io::Result<()> {
        loop {
            let out = self.inner.engine.output();
            if out.is_empty() {
                return self.inner.io.flush().await;
            }
            let n = self.inner.io.write(out).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.inner.engine.consume_output(n);
        }
    }

    async fn handshake(mut self, mut decide: Option<Decide<'_>>) -> io::Result<Self> {
        let mut failing = Failing::default();
        loop {
            let now = self.inner.now();
            if let Some(event) = self.inner.engine.next_event(now) {
                match event {
                    Event::Open => {
                        self.write_all_out().await?;
                        return Ok(self);
                    }
                    Event::ProxyConnected => {
                        // The tunnel is open (H11): the WebSocket handshake goes through it.
                        self.inner.engine.start().map_err(io::Error::other)?;
                    }
                    Event::Connect(head) if head.websocket => {
                        match decide.take().map(|decide| decide(&head)) {
                            Some(decision) => {
                                let refused = matches!(decision, Decision::Refuse { .. });
                                let _ = self.inner.engine.decide(decision);
                                if refused {
                                    self.write_all_out().await?;
                                    self.linger().await;
                                    return Err(io::Error::new(
                                        io::ErrorKind::PermissionDenied,
                                        "the request was refused",
                                    ));
                                }
                            }
                            None => {
                                let _ = self.inner.engine.accept();
                            }
                        }
                    }
                    Event::Connect(_) => {
                        let _ = self.inner.engine.refuse(400, "Not a WebSocket request");
                        self.write_all_out().await?;
                        self.linger().await;
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "not a WebSocket request",
                        ));
                    }
                    Event::Error(e) => failing.error(&e),
                    Event::Close(close) => {
                        self.write_all_out().await?;
                        // A refusal lingers; a head that timed out gets nothing, and no more time.
                        let engine = &self.inner.engine;
                        if engine.role() == Role::Server && !engine.handshake_timed_out() {
                            self.linger().await;
                        }
                        return Err(failing.into_error(&self.inner.engine, close));
                    }
                    _ => {}
                }
                continue;
            }
            self.write_all_out().await?;
            // With a handshake timeout (`Options::handshake_timeout`) the read waits at most until the
            // deadline, which then fails the handshake.
            let now = self.inner.now();
            let wait = self
                .inner
                .engine
                .poll_timeout()
                .map(|d| Duration::from_millis(d.saturating_since(now).millis()));
            let Inner { engine, io, .. } = &mut self.inner;
            let read = io.read(engine.read_buf());
            let n = match wait {
                Some(wait) => match ::tokio::time::timeout(wait, read).await {
                    Ok(read) => read?,
                    Err(_elapsed) => {
                        let now = self.inner.now();
                        self.inner.engine.handle_timeout(now);
                        continue;
                    }
                },
                None => read.await?,
            };
            if n == 0 {
                return Err(handshake_failure::ended_early());
            }
            self.inner.engine.commit(n);
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

    /// A reader and a writer for two tasks (RFC 6455 is full duplex). Automatic pongs and the close echo
    /// go out while only the reader is polled; the two share the connection behind a lock that is never
    /// held across an await (every poll takes it and gives it back).
    pub fn split(self) -> (WebSocketReader<S>, WebSocketWriter<S>) {
        let shared = Arc::new(Mutex::new(self.inner));
        (
            WebSocketReader {
                shared: shared.clone(),
            },
            WebSocketWriter { shared },
        )
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

/// The reading half of a split [`WebSocketStream`]: a `Stream` of [`Item`]s. It also writes the automatic
/// replies (pongs, the close echo) and runs the timers, so keep polling it.
pub struct WebSocketReader<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

/// The writing half of a split [`WebSocketStream`]: a `Sink` of [`Item`]s.
pub struct WebSocketWriter<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

fn lock<S>(shared: &Mutex<Inner<S>>) -> MutexGuard<'_, Inner<S>> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<S> {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_next_item(cx)
    }
}

impl<S> WebSocketReader<S> {
    /// How the connection closed, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).close.clone()
    }

    /// Our role.
    pub fn role(&self) -> Role {
        lock(&self.shared).engine.role()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Item> for WebSocketWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), Error> {
        lock(&self.shared).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush_sends(cx).map_err(Error::Io)
    }

    /// Sends a close (1000) if none was sent and flushes; the reader sees the peer's answer.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut inner = lock(&self.shared);
        if inner.engine.state() == State::Open {
            inner.close(1000, "")?;
        }
        inner.poll_flush_sends(cx).map_err(Error::Io)
    }
}
