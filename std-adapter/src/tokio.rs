//! Async I/O over tokio (feature `tokio`): a [`WebSocketStream`] is a `Stream` of incoming messages and
//! a `Sink` of outgoing ones over any `AsyncRead + AsyncWrite` (a `TcpStream`, or a TLS stream for
//! `wss:`); [`accept`] and [`connect`] run the handshake.
//!
//! A thin face over the connection [`Engine`]: reads go straight into the engine's receive buffer (which
//! is released whenever the socket has nothing to read), reading stops while the output is over the
//! high-water mark, and the engine's timers (handshake, keepalive, closing deadline) run on tokio's
//! clock. Pings are answered and closes echoed by the core; nothing here decides protocol.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant as StdInstant};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use ::tokio::time::Sleep;
use futures_core::Stream;
use futures_sink::Sink;
use websocket_driver::{Instant, State};

use crate::engine::{Engine, Event};
use crate::{CloseEvent, Message, Options};

/// A WebSocket over an async byte stream.
pub struct WebSocketStream<S> {
    engine: Engine,
    io: S,
    epoch: StdInstant,
    timer: Option<Pin<Box<Sleep>>>,
    done: bool,
    close: Option<CloseEvent>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    fn new(engine: Engine, io: S) -> Self {
        WebSocketStream {
            engine,
            io,
            epoch: StdInstant::now(),
            timer: None,
            done: false,
            close: None,
        }
    }

    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Writes the engine's output; `Ready` once it is all written and flushed.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut wrote = false;
        loop {
            let out = self.engine.output();
            if out.is_empty() {
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.engine.consume_output(n);
            wrote = true;
        }
        if wrote {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Ready when the engine's next deadline has passed (then handled); pending until it, registered
    /// with tokio's timer.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.engine.poll_timeout() else {
            self.timer = None;
            return Poll::Pending;
        };
        let now = self.now();
        let wait = Duration::from_millis(deadline.saturating_since(now).millis());
        let when = ::tokio::time::Instant::now() + wait;
        match &mut self.timer {
            Some(timer) if timer.deadline() == when => {}
            Some(timer) => timer.as_mut().reset(when),
            None => self.timer = Some(Box::pin(::tokio::time::sleep_until(when))),
        }
        if let Some(timer) = &mut self.timer {
            ready!(timer.as_mut().poll(cx));
        }
        self.timer = None;
        self.engine.handle_timeout(self.now());
        Poll::Ready(())
    }

    async fn write_all_out(&mut self) -> io::Result<()> {
        loop {
            let out = self.engine.output();
            if out.is_empty() {
                return self.io.flush().await;
            }
            let n = self.io.write(out).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.engine.consume_output(n);
        }
    }

    async fn handshake(mut self) -> io::Result<Self> {
        let mut failure = None;
        loop {
            let now = self.now();
            if let Some(event) = self.engine.next_event(now) {
                match event {
                    Event::Open => {
                        self.write_all_out().await?;
                        return Ok(self);
                    }
                    Event::Connect(head) if head.websocket => {
                        let _ = self.engine.accept();
                    }
                    Event::Connect(_) => {
                        let _ = self.engine.refuse(400, "Not a WebSocket request");
                        self.write_all_out().await?;
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "not a WebSocket request",
                        ));
                    }
                    Event::Error(e) => failure = failure.or(Some(e.to_string())),
                    Event::Close(close) => {
                        self.write_all_out().await?;
                        let reason = failure.unwrap_or(if close.reason.is_empty() {
                            "handshake failed".into()
                        } else {
                            close.reason
                        });
                        return Err(io::Error::new(io::ErrorKind::ConnectionRefused, reason));
                    }
                    _ => {}
                }
                continue;
            }
            self.write_all_out().await?;
            // With a handshake timeout (`Options::handshake_timeout`) the read waits at most until the
            // deadline, which then fails the handshake.
            let wait = self
                .engine
                .poll_timeout()
                .map(|d| Duration::from_millis(d.saturating_since(self.now()).millis()));
            let WebSocketStream { engine, io, .. } = &mut self;
            let read = io.read(engine.read_buf());
            let n = match wait {
                Some(wait) => match ::tokio::time::timeout(wait, read).await {
                    Ok(read) => read?,
                    Err(_elapsed) => {
                        let now = self.now();
                        self.engine.handle_timeout(now);
                        continue;
                    }
                },
                None => read.await?,
            };
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.engine.commit(n);
        }
    }

    /// The engine, for its getters (`protocol`, `version`, `status`, `headers`).
    pub fn driver(&self) -> &Engine {
        &self.engine
    }

    /// How the connection closed, once it has.
    pub fn close_event(&self) -> Option<&CloseEvent> {
        self.close.as_ref()
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
    WebSocketStream::new(engine, io).handshake().await
}

/// Client: opens the WebSocket at `url` over `io` (a TCP stream to its host, or a TLS stream for `wss:`).
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    url: &str,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<WebSocketStream<S>> {
    let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
    setup(&mut engine);
    engine.start().map_err(io::Error::other)?;
    WebSocketStream::new(engine, io).handshake().await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = io::Result<Message>;

    /// The next message. Errors are surfaced as `Err` (the close follows); the stream ends after the
    /// close, once the close echo is written.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if !this.done {
                let now = this.now();
                if let Some(event) = this.engine.next_event(now) {
                    match event {
                        Event::Message(message) => return Poll::Ready(Some(Ok(message))),
                        Event::Close(event) => {
                            this.close = Some(event);
                            this.done = true;
                        }
                        Event::Error(e) => {
                            return Poll::Ready(Some(Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                e,
                            ))));
                        }
                        _ => {}
                    }
                    continue;
                }
            }
            // Automatic replies (pongs, the close echo) go out as reading goes on; while the output is
            // over the high-water mark, nothing more is read.
            match this.poll_write_out(cx) {
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Pending if this.done || !this.engine.wants_read() => return Poll::Pending,
                _ => {}
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.poll_timer(cx).is_ready() {
                continue;
            }
            let WebSocketStream { engine, io, .. } = this;
            let mut buf = ReadBuf::new(engine.read_buf());
            match Pin::new(io).poll_read(cx, &mut buf) {
                Poll::Pending => {
                    // Nothing to read: an idle connection holds no buffer.
                    engine.idle();
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Ok(())) => {}
            }
            let n = buf.filled().len();
            if n == 0 {
                this.done = true;
                if this.close.is_none() {
                    this.close = Some(CloseEvent {
                        code: 1006,
                        reason: String::new(),
                    });
                }
                return Poll::Ready(None);
            }
            this.engine.commit(n);
        }
    }
}

/// Output above this many bytes makes `poll_ready` wait for the stream to take it (backpressure).
const HIGH_WATER: usize = 256 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.engine.buffered_amount() > HIGH_WATER {
            ready!(this.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> io::Result<()> {
        self.get_mut()
            .engine
            .send(message)
            .map_err(|e| io::Error::new(io::ErrorKind::NotConnected, e))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_write_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.engine.state() == State::Open {
            let _ = this.engine.close(Some(1000), "");
        }
        this.poll_write_out(cx)
    }
}
