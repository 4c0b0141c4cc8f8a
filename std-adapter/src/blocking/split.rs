//! A blocking connection split into a [`Reader`] and a [`Writer`] for two threads (RFC 6455 is full duplex).
//!
//! The reader blocks in `read` without holding anything. The engine is shared behind a lock taken only to
//! hand bytes in, take events and queue sends — never across a blocking write — and the socket's write
//! side behind a second one: whoever holds it writes the engine's output. A writer holds it from queuing
//! a message until it is written, so its blocking write never stops the reader (two ends sending large
//! messages at once would wait on each other); the reader writes automatic pongs and the close echo
//! itself when the write side is free, and leaves them to the writer's loop when it is not.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, State};

use super::{Connection, Incoming};
use crate::engine::Engine;
use crate::{CloseEvent, Message};

/// The engine, shared by both halves.
struct Shared {
    engine: Engine,
    epoch: StdInstant,
}

impl Shared {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }
}

/// The socket's write side (a clone of the reader's), and the chunk being written.
struct Out {
    stream: TcpStream,
    chunk: Vec<u8>,
}

/// At most this much output is copied out of the engine for one write.
const CHUNK: usize = 64 * 1024;

/// Writes the engine's output through `out`, which the caller holds. The engine's lock is taken only
/// to copy a chunk and to count it written. `out` is released under the engine's lock once nothing is
/// left, so a reply queued meanwhile is either written here or finds the write side free.
fn drain(shared: &Mutex<Shared>, mut out: MutexGuard<'_, Out>) -> io::Result<()> {
    loop {
        let engine = lock(shared);
        let bytes = engine.engine.output();
        if bytes.is_empty() {
            drop(out);
            return Ok(());
        }
        let n = bytes.len().min(CHUNK);
        let Out { stream, chunk } = &mut *out;
        chunk.clear();
        chunk.extend_from_slice(&bytes[..n]);
        drop(engine);
        stream.write_all(chunk)?;
        lock(shared).engine.consume_output(n);
    }
}

/// The reading half: [`recv`](Self::recv) blocks until something arrives. Keep calling it: it also
/// writes the automatic replies and runs the timers (keepalive, closing deadline).
pub struct Reader {
    shared: Arc<Mutex<Shared>>,
    out: Arc<Mutex<Out>>,
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes read that the engine did not take yet (its replies were over the high-water mark).
    unread: Vec<u8>,
    closed: bool,
    eof: bool,
}

/// The writing half: sends messages, pings and the close from another thread.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Mutex<Shared>>,
    out: Arc<Mutex<Out>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Connection<TcpStream> {
    /// Splits the connection into a reader and a writer for two threads.
    pub fn split(self) -> io::Result<(Reader, Writer)> {
        let out = Arc::new(Mutex::new(Out {
            stream: self.stream.try_clone()?,
            chunk: Vec::new(),
        }));
        let shared = Arc::new(Mutex::new(Shared {
            engine: self.engine,
            epoch: self.epoch,
        }));
        Ok((
            Reader {
                shared: shared.clone(),
                out: out.clone(),
                stream: self.stream,
                buf: vec![0; 16 * 1024],
                unread: Vec::new(),
                closed: self.closed,
                eof: self.eof,
            },
            Writer { shared, out },
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
                // Replies go out now unless a writer holds the write side: its loop takes them.
                let out = if shared.engine.buffered_amount() == 0 {
                    None
                } else {
                    match self.out.try_lock() {
                        Ok(out) => Some(out),
                        Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
                        Err(TryLockError::WouldBlock) => None,
                    }
                };
                if let Some(out) = out {
                    drop(shared);
                    drain(&self.shared, out)?;
                    shared = lock(&self.shared);
                }
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
    /// Queues with `send` while holding the write side, then writes everything out: nothing the
    /// application sends is left for the reader to write.
    fn write(
        &self,
        send: impl FnOnce(&mut Engine) -> Result<(), crate::engine::Error>,
    ) -> io::Result<()> {
        let out = lock(&self.out);
        let sent = send(&mut lock(&self.shared).engine);
        drain(&self.shared, out)?;
        sent.map_err(super::send_error)
    }

    /// Sends a message.
    pub fn send(&self, message: impl Into<Message>) -> io::Result<()> {
        let message = message.into();
        self.write(|engine| engine.send(message))
    }

    /// Sends a ping.
    pub fn ping(&self, payload: &[u8]) -> io::Result<()> {
        self.write(|engine| engine.ping(payload))
    }

    /// Starts the closing handshake; the reader returns the close when the peer answers (or after the
    /// close timeout, with 1006).
    ///
    /// # Errors
    ///
    /// As [`Connection::close`](super::Connection::close): a code that may not be sent or a reason
    /// over 123 bytes (`InvalidInput`), a connection already closing or closed (`NotConnected`).
    pub fn close(&self, code: u16, reason: &str) -> io::Result<()> {
        self.write(|engine| engine.close(Some(code), reason))
    }
}
