//! The opening handshake of the tokio face: the server's decision and refusals (with a lingering
//! close, RFC 9112 §9.6), the client's proxy tunnel (H11), and a failure's error (`HandshakeFailure`).

use std::io;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use websocket_driver::Role;

use super::{Decide, Inner, WebSocketStream};
use crate::engine::{Decision, Event};
use crate::handshake_failure::{self, Failing};

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// A server's closing after a refusal (RFC 9112 §9.6): the write half is shut down, then what the
    /// client still sends is read and dropped for a while — so that closing with unread input does
    /// not reset the connection, which can lose the refusal on the client's side before it reads it.
    pub(super) async fn linger(&mut self) {
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

    pub(super) async fn write_all_out(&mut self) -> io::Result<()> {
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

    pub(super) async fn handshake(mut self, mut decide: Option<Decide<'_>>) -> io::Result<Self> {
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
}
