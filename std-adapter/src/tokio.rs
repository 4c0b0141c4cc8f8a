//! Async I/O over tokio (feature `tokio`): a [`WebSocketStream`] is a `Stream` of incoming messages and
//! a `Sink` of outgoing ones over any `AsyncRead + AsyncWrite` (a `TcpStream`, or a TLS stream for
//! `wss:`); [`accept`] and [`connect`] run the handshake.
//!
//! Pings are answered and closes echoed by the core; this file only moves bytes between the stream and
//! the driver and never decides anything about the protocol.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use futures_core::Stream;
use futures_sink::Sink;

use crate::{CloseEvent, Driver, Message, Options, ReadyState};

/// Output above this many bytes makes `poll_ready` wait for the stream to take it (backpressure).
const HIGH_WATER: usize = 256 * 1024;

enum Item {
    Message(Message),
    Close(CloseEvent),
    Error(String),
}

type Inbox = Arc<Mutex<VecDeque<Item>>>;

/// A WebSocket over an async byte stream.
pub struct WebSocketStream<S> {
    driver: Driver<Vec<u8>>,
    io: S,
    inbox: Inbox,
    read_buf: Vec<u8>,
    out: Vec<u8>,
    written: usize,
    done: bool,
    close: Option<CloseEvent>,
    opened: Arc<AtomicBool>,
}

/// Messages, errors and the close go to the inbox, and the driver pauses until they were taken: what
/// the application sends in answer goes out before the next frame is read.
fn wire(driver: &mut Driver<Vec<u8>>) -> Inbox {
    fn push(inbox: &Inbox, ws: &mut crate::Handle<Vec<u8>>, item: Item) {
        inbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(item);
        ws.pause();
    }
    let inbox = Inbox::default();
    let i = inbox.clone();
    driver.on_message(move |ws, m| push(&i, ws, Item::Message(m)));
    let i = inbox.clone();
    driver.on_close(move |ws, c| push(&i, ws, Item::Close(c)));
    let i = inbox.clone();
    driver.on_error(move |ws, e| push(&i, ws, Item::Error(e.message)));
    inbox
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    fn new(mut driver: Driver<Vec<u8>>, io: S) -> Self {
        let inbox = wire(&mut driver);
        let opened = Arc::new(AtomicBool::new(false));
        let flag = opened.clone();
        driver.on_open(move |_, ()| flag.store(true, Ordering::Relaxed));
        WebSocketStream {
            driver,
            io,
            inbox,
            read_buf: vec![0; 64 * 1024],
            out: Vec::new(),
            written: 0,
            done: false,
            close: None,
            opened,
        }
    }

    /// Moves what the driver wrote into the output buffer.
    fn collect(&mut self) {
        let produced = self.driver.socket_mut();
        if !produced.is_empty() {
            if self.written == self.out.len() {
                self.out.clear();
                self.written = 0;
            }
            self.out.append(produced);
        }
    }

    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.collect();
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.out.clear();
        self.written = 0;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    async fn handshake(mut self) -> io::Result<Self> {
        loop {
            self.collect();
            self.io.write_all(&self.out[self.written..]).await?;
            self.out.clear();
            self.written = 0;
            if self.driver.is_paused() {
                self.driver.resume();
                continue;
            }
            // Open, even if the peer's first frames closed it again: those events wait in the inbox.
            if self.opened.load(Ordering::Relaxed) {
                return Ok(self);
            }
            match self.driver.state() {
                ReadyState::Connecting => {}
                _ => {
                    // The first error's message, else the close event's reason.
                    let reason = self.inbox.lock().ok().and_then(|inbox| {
                        let error = inbox.iter().find_map(|i| match i {
                            Item::Error(e) => Some(e.clone()),
                            _ => None,
                        });
                        error.or_else(|| {
                            inbox.iter().find_map(|i| match i {
                                Item::Close(c) if !c.reason.is_empty() => Some(c.reason.clone()),
                                _ => None,
                            })
                        })
                    });
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        reason.unwrap_or_else(|| "handshake failed".into()),
                    ));
                }
            }
            // With a handshake timeout (`Options::handshake_timeout`) the read waits at most until the
            // deadline, which then fails the handshake.
            let n = match self.driver.poll_timeout() {
                Some(wait) => {
                    match ::tokio::time::timeout(wait, self.io.read(&mut self.read_buf)).await {
                        Ok(read) => read?,
                        Err(_elapsed) => {
                            self.driver.handle_timeout();
                            continue;
                        }
                    }
                }
                None => self.io.read(&mut self.read_buf).await?,
            };
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let WebSocketStream {
                driver, read_buf, ..
            } = &mut self;
            driver.parse(&read_buf[..n]);
        }
    }

    /// The driver, for its getters (`protocol`, `version`, `status`, `headers`).
    pub fn driver(&self) -> &Driver<Vec<u8>> {
        &self.driver
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
    setup: impl FnOnce(&mut Driver<Vec<u8>>),
) -> io::Result<WebSocketStream<S>> {
    let mut driver = Driver::server(Vec::new(), options);
    setup(&mut driver);
    WebSocketStream::new(driver, io).handshake().await
}

/// Client: opens the WebSocket at `url` over `io` (a TCP stream to its host, or a TLS stream for `wss:`).
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    url: &str,
    options: Options,
    setup: impl FnOnce(&mut Driver<Vec<u8>>),
) -> io::Result<WebSocketStream<S>> {
    let mut driver = Driver::client(Vec::new(), url, options).map_err(io::Error::other)?;
    setup(&mut driver);
    let mut stream = WebSocketStream::new(driver, io);
    stream.driver.start();
    stream.handshake().await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = io::Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let item = this
                .inbox
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            match item {
                Some(Item::Message(message)) => return Poll::Ready(Some(Ok(message))),
                Some(Item::Close(event)) => {
                    this.close = Some(event);
                    this.done = true;
                }
                Some(Item::Error(_)) => {}
                None if this.driver.is_paused() => {
                    this.driver.resume();
                    continue;
                }
                None => {}
            }
            // Automatic replies (pongs, the close echo) go out as reading goes on.
            if let Poll::Ready(Err(e)) = this.poll_write_out(cx) {
                return Poll::Ready(Some(Err(e)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let mut buf = ReadBuf::new(&mut this.read_buf);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut buf))?;
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
            let WebSocketStream {
                driver, read_buf, ..
            } = this;
            driver.parse(&read_buf[..n]);
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.collect();
        if this.out.len() - this.written > HIGH_WATER {
            ready!(this.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> io::Result<()> {
        let this = self.get_mut();
        if this.driver.message(message) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection is closed",
            ))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_write_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.driver.state() == ReadyState::Open {
            this.driver.close(Some(1000), "");
        }
        this.poll_write_out(cx)
    }
}
