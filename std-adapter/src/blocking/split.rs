//! A blocking connection split into a [`Reader`] and a [`Writer`] for two threads (RFC 6455 is full duplex).
//!
//! The reader blocks in `read` without holding anything; the engine and the write side of the socket are
//! shared behind a lock taken only to hand bytes in, take events, and write output — so automatic pongs
//! and the close echo go out while only the reader runs, and a message is sent while the reader waits.

use std::io::{self, Read};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, State};

use super::{Connection, Incoming};
use crate::engine::Engine;
use crate::{CloseEvent, Message};

/// What both halves share.
struct Shared {
    engine: Engine,
    /// The socket's write side (a clone of the reader's).
    out: TcpStream,
    epoch: StdInstant,
}

impl Shared {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    fn write_out(&mut self) -> io::Result<()> {
        super::write_output(&mut self.engine, &mut self.out)
    }
}

/// The reading half: [`recv`](Self::recv) blocks until something arrives. Keep calling it: it also
/// writes the automatic replies and runs the timers (keepalive, closing deadline).
pub struct Reader {
    shared: Arc<Mutex<Shared>>,
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes read that the engine did not take yet (its output was over the high-water mark).
    unread: Vec<u8>,
    closed: bool,
    eof: bool,
}

/// The writing half: sends messages, pings and the close from another thread.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Mutex<Shared>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl Connection<TcpStream> {
    /// Splits the connection into a reader and a writer for two threads.
    pub fn split(self) -> io::Result<(Reader, Writer)> {
        let out = self.stream.try_clone()?;
        let shared = Arc::new(Mutex::new(Shared {
            engine: self.engine,
            out,
            epoch: self.epoch,
        }));
        Ok((
            Reader {
                shared: shared.clone(),
                stream: self.stream,
                buf: vec![0; 16 * 1024],
                unread: Vec::new(),
                closed: self.closed,
                eof: self.eof,
            },
            Writer { shared },
        ))
    }
}

impl Reader {
    /// The next thing that happened, blocking until something does; `None` once the close was returned
    /// (or the stream ended).
    pub fn recv(&mut self) -> io::Result<Option<Incoming>> {
        loop {
            if self.closed {
                return Ok(None);
            }
            let wait = {
                let mut shared = lock(&self.shared);
                // Input the engine could not take before, now that output may have drained.
                while !self.unread.is_empty() && shared.engine.wants_read() {
                    let n = shared.engine.receive(&self.unread);
                    if n == 0 {
                        break;
                    }
                    self.unread.drain(..n);
                }
                let now = shared.now();
                let event = shared.engine.next_event(now);
                shared.write_out()?;
                if let Some(event) = event {
                    let Some(item) = super::incoming(event) else {
                        continue;
                    };
                    self.closed = matches!(item, Incoming::Close(_));
                    return Ok(Some(item));
                }
                if self.eof {
                    self.closed = true;
                    return Ok(if shared.engine.state() == State::Closed {
                        None
                    } else {
                        Some(Incoming::Close(CloseEvent {
                            code: 1006,
                            reason: String::new(),
                        }))
                    });
                }
                if !self.unread.is_empty() {
                    // The peer does not read: wait a little for the output to drain.
                    Some(Duration::from_millis(10))
                } else {
                    shared
                        .engine
                        .poll_timeout()
                        .map(|d| Duration::from_millis(d.saturating_since(now).millis().max(1)))
                }
            };
            self.stream.set_read_timeout(wait)?;
            let read = if self.unread.is_empty() {
                self.stream.read(&mut self.buf)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
            match read {
                Ok(0) => self.eof = true,
                Ok(n) => self.unread.extend_from_slice(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    let mut shared = lock(&self.shared);
                    let now = shared.now();
                    shared.engine.handle_timeout(now);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Writer {
    /// Sends a message.
    pub fn send(&self, message: impl Into<Message>) -> io::Result<()> {
        let mut shared = lock(&self.shared);
        let sent = shared.engine.send(message.into());
        shared.write_out()?;
        sent.map_err(|e| io::Error::new(io::ErrorKind::NotConnected, e))
    }

    /// Sends a ping.
    pub fn ping(&self, payload: &[u8]) -> io::Result<()> {
        let mut shared = lock(&self.shared);
        let sent = shared.engine.ping(payload);
        shared.write_out()?;
        sent.map_err(|e| io::Error::new(io::ErrorKind::NotConnected, e))
    }

    /// Starts the closing handshake; the reader returns the close when the peer answers (or after the
    /// close timeout, with 1006).
    pub fn close(&self, code: u16, reason: &str) -> io::Result<()> {
        let mut shared = lock(&self.shared);
        let _ = shared.engine.close(Some(code), reason);
        shared.write_out()
    }
}
