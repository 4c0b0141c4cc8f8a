//! A blocking connection split into a [`Reader`] and a [`Writer`] for two threads (RFC 6455 is full duplex).
//!
//! The reader blocks in `read` without holding anything. The engine is shared behind a lock taken only to
//! hand bytes in, take events and queue sends — never across a blocking write — and the socket's write
//! side behind a second one: whoever holds it writes the engine's output. A writer holds it from queuing
//! a message until it is written, so its blocking write never stops the reader (two ends sending large
//! messages at once would wait on each other); the reader writes automatic pongs and the close echo
//! itself when the write side is free, and leaves them to the writer's loop when it is not.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant as StdInstant};

use websocket_driver::{Instant, State};

use super::{Connection, Incoming};
use crate::engine::Engine;
use crate::pace::{self, Pace};
use crate::{CloseEvent, Message};

/// The engine, shared by both halves.
struct Shared {
    engine: Engine,
    epoch: StdInstant,
    /// A write failed for good, or the engine timed out: the socket is shut down, output dropped.
    broken: bool,
}

impl Shared {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Ends the transport: output is dropped and the socket shut down, which wakes a read or write
    /// blocked on it in the other half (the reader then sees the end of the stream: 1006).
    fn end(&mut self, stream: &TcpStream) {
        self.broken = true;
        self.engine.discard_output();
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// The socket's write side (a clone of the reader's), and the chunk being written.
struct Out {
    stream: TcpStream,
    chunk: Vec<u8>,
    /// The write timeout the connection set, which paces the peer (`crate::pace`).
    window: Option<Duration>,
    /// Whether that timeout is the connection's (else a timed-out write is the application's error).
    ours: bool,
}

/// At most this much output is copied out of the engine for one write.
const CHUNK: usize = 64 * 1024;

/// Writes the engine's output through `out`, which the caller holds. The engine's lock is taken only
/// to copy a chunk and to count it written. `out` is released under the engine's lock once nothing is
/// left, so a reply queued meanwhile is either written here or finds the write side free. A connection
/// that ended without its peer (a write failed for good, or a timeout) drops its output: `NotConnected`.
fn drain(shared: &Mutex<Shared>, mut out: MutexGuard<'_, Out>) -> io::Result<()> {
    let mut pace = Pace::new(out.window);
    loop {
        let mut engine = lock(shared);
        if engine.broken || engine.engine.timed_out() {
            engine.engine.discard_output();
            return Err(gone());
        }
        // Lent: the reader may take a pong back at the output's end, but not one in this copy.
        let bytes = engine.engine.lend_output(CHUNK);
        if bytes.is_empty() {
            drop(out);
            return Ok(());
        }
        let Out { stream, chunk, .. } = &mut *out;
        chunk.clear();
        chunk.extend_from_slice(bytes);
        drop(engine);
        // What went out is counted even when a later write fails (a write timeout, say): nothing is
        // sent twice.
        let mut sent = 0;
        let written = loop {
            match chunk.get(sent..).filter(|rest| !rest.is_empty()) {
                None => break Ok(()),
                Some(rest) => match stream.write(rest) {
                    Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                    Ok(k) => {
                        sent += k;
                        if let Err(e) = pace.took(k, rest.len() - k) {
                            break Err(e);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                },
            }
        };
        let mut engine = lock(shared);
        if engine.broken {
            // The other half ended the transport meanwhile, and dropped the output this came from.
            return Err(gone());
        }
        engine.engine.consume_output(sent);
        if let Err(e) = written {
            if pace::is_fatal(&e, out.ours) {
                engine.end(&out.stream);
                // A write the reader's timeout cut short says so rather than as a broken pipe.
                if engine.engine.timed_out() {
                    return Err(gone());
                }
            }
            return Err(e);
        }
    }
}

/// The error of a send on a connection that ended without its peer.
fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection is gone (a write failed, or the peer timed out)",
    )
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
    /// The application's read timeout, set on the stream before it was handed over.
    user_timeout: Option<Duration>,
    /// What the socket's read timeout is now.
    timeout: Option<Duration>,
    /// An error writing the replies, met while an event was at hand: returned after that event.
    write_error: Option<io::Error>,
}

/// A reader waiting for input wakes at least this often without a deadline of its own, so that a
/// closing handshake the writer starts has its deadline run within this (RFC 6455 §7.1.1).
const CLOSE_CHECK: Duration = Duration::from_secs(1);

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
            window: self.write_window(),
            ours: self.write_timeout_set,
        }));
        let shared = Arc::new(Mutex::new(Shared {
            engine: self.engine,
            epoch: self.epoch,
            broken: self.broken,
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
                user_timeout: self.clock.and_then(|c| c.user),
                timeout: self.clock.and_then(|c| c.set),
                write_error: None,
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
            if let Some(e) = self.write_error.take() {
                return Err(e);
            }
            if self.closed {
                return Ok(None);
            }
            let mut shared = lock(&self.shared);
            let unread_before = self.unread.len();
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
            if shared.engine.timed_out() && !shared.broken {
                // A writer blocked on a peer that does not read wakes now, and fails.
                shared.end(&self.stream);
            }
            let pending = shared.engine.buffered_amount() > 0;
            // The engine takes no more input until its replies are out (the peer does not read them).
            let stalled = !self.unread.is_empty() && !shared.engine.wants_read();
            // The replies go out now unless a writer holds the write side: its loop takes them. When
            // the input is stalled on them, wait for the writer instead.
            let out = if !pending {
                None
            } else if stalled {
                drop(shared);
                let out = lock(&self.out);
                shared = lock(&self.shared);
                Some(out)
            } else {
                match self.out.try_lock() {
                    Ok(out) => Some(out),
                    Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
                    Err(TryLockError::WouldBlock) => None,
                }
            };
            if let Some(out) = out {
                drop(shared);
                let drained = drain(&self.shared, out);
                shared = lock(&self.shared);
                if let Err(e) = drained {
                    if event.is_none() {
                        return Err(e);
                    }
                    // The event taken is not lost: it comes first, the error next.
                    self.write_error = Some(e);
                }
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
                // Input is at hand (the engine took what fitted, or its replies just went out): go
                // round again before reading more — pausing briefly if nothing moved, never spinning.
                if self.unread.len() == unread_before && !(stalled && pending) {
                    drop(shared);
                    std::thread::sleep(Duration::from_millis(1));
                }
                continue;
            }
            let now = shared.now();
            let deadline = shared
                .engine
                .poll_timeout()
                .map(|d| Duration::from_millis(d.saturating_since(now).millis().max(1)));
            drop(shared);
            // The read waits for the next deadline, the application's timeout or `CLOSE_CHECK`,
            // whichever comes first.
            let wait = [deadline, self.user_timeout, Some(CLOSE_CHECK)]
                .into_iter()
                .flatten()
                .min();
            let for_user = self.user_timeout.is_some() && wait == self.user_timeout;
            if wait != self.timeout {
                self.stream.set_read_timeout(wait)?;
                self.timeout = wait;
            }
            match self.stream.read(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.unread.extend_from_slice(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if for_user {
                        return Err(e);
                    }
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

    /// Sends a message, blocking until it is written.
    ///
    /// # Errors
    ///
    /// As [`Connection::send`](super::Connection::send); also `NotConnected` when the reader's
    /// keepalive or closing deadline ended the connection while this waited on the peer.
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
        let epoch = lock(&self.shared).epoch;
        self.write(|engine| {
            engine.close(Some(code), reason)?;
            // The closing deadline counts from now; the reader runs it (within `CLOSE_CHECK`).
            engine.handle_timeout(Instant::from_millis(epoch.elapsed().as_millis() as u64));
            Ok(())
        })
    }
}
