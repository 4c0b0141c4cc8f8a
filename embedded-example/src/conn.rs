//! One connection slot: a smoltcp TCP socket, and the `websocket-driver` core with its two static
//! buffers serving whatever connection that socket holds, one after another.
//!
//! This is the I/O layer the core leaves to its user (the call order of `Driver`'s docs): bytes from
//! the socket into the receive buffer, events out of the driver, frames from the transmit ring into
//! the socket. Text and binary are echoed chunk by chunk as fragments, straight from the receive
//! buffer, so a message larger than the buffer comes back fragmented; pings are answered by the core
//! itself, and so is the client's close. The core's timers (handshake deadline, keepalive, closing
//! deadline) run on the `now` each [`Conn::step`] passes to `poll`.
//!
//! A slot listens, serves one TCP connection, closes it and listens again, until [`Conn::stop`]. Its
//! [`Role`] says what it does with an upgrade request: the pool's slots accept and echo; one extra
//! socket, listening behind them, refuses with 503 when every slot is taken. [`Conn::step`] never
//! blocks: it moves what can move now and says whether anything did.

use smoltcp::socket::tcp;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{
    Accept, CloseCode, Config, DataKind, Driver, Error, Event, HandshakeCallError, HandshakeError,
    Instant, ProtocolError, Refusal, Rsv, RxBuf, SendError, State, Timeout, TxRing,
};

use crate::log::log;

/// The largest frame header a server writes (RFC 6455 §5.2: 2 bytes, 8 of extended length, no
/// mask), rounded up to the protocol's maximum of 14.
const MAX_HEADER: usize = 14;

/// A plain HTTP `GET` of this path (not an upgrade) stops the server: the host's way to end a run.
pub const SHUTDOWN_PATH: &str = "/shutdown";

/// After our FIN, the peer has this long to finish TCP's closing before the socket is reset.
const TCP_CLOSE_GRACE_MS: u64 = 2_000;

/// What a slot does with a WebSocket upgrade request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accept it and echo every message: the pool's slots.
    Echo,
    /// Refuse it with 503 and `Retry-After`: the extra socket that only gets connections while every
    /// echo slot is taken.
    Refuse,
}

/// Counters of the whole run, kept by the slots together.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// TCP connections served.
    pub connections: u32,
    /// Upgrades accepted.
    pub upgrades: u32,
    /// Upgrades refused with 503 because every slot was taken.
    pub busy: u32,
    /// Other requests answered over HTTP: not an upgrade, a bad handshake, the shutdown request.
    pub http: u32,
    /// Closing handshakes completed.
    pub closed: u32,
    /// Connections failed for a protocol violation (close frame 1002, 1007 or 1009 sent).
    pub protocol_errors: u32,
    /// Connections ended by a timer: the handshake deadline, keepalive, the closing deadline.
    pub timeouts: u32,
    /// TCP connections that ended (FIN or reset) before the closing handshake.
    pub dropped: u32,
    /// Our own errors: an echo or an answer that could not be queued. Zero unless there is a bug.
    pub internal: u32,
    /// Messages echoed.
    pub messages: u32,
    /// Payload bytes echoed.
    pub bytes: u64,
    /// Pings answered.
    pub pings: u32,
    /// The shutdown request arrived.
    pub shutdown: bool,
}

/// How one connection ended (the first reason seen wins).
#[derive(Clone, Copy, Debug)]
enum End {
    /// The closing handshake completed; the peer's close code.
    Closed(u16),
    /// Answered over HTTP with this status, WebSocket not opened.
    Answered(u16),
    /// An upgrade refused with 503: every slot was taken.
    Busy,
    /// The peer broke the protocol.
    Protocol(ProtocolError),
    /// The opening handshake failed (timed out, or a request the core refused).
    Handshake(HandshakeError),
    /// Keepalive or the closing deadline.
    Timeout(Timeout),
    /// TCP ended first.
    Dropped,
    /// Our bug: an echo or answer could not be queued.
    Internal(SendError),
}

/// Where the slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not listening yet (or again): the next step listens.
    Idle,
    /// Listening for a client.
    Listening,
    /// A TCP connection: opening handshake, messages, closing handshake.
    Open,
    /// Our FIN is queued (since the instant held): waiting for TCP to finish.
    ClosingTcp(Instant),
    /// Stopped for good (shutdown).
    Stopped,
}

/// Why [`Conn::serve`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// The driver needs bytes the socket does not have yet (or the connection is closed).
    Input,
    /// The transmit ring must drain first.
    Output,
}

/// What one connection amounted to, for its log line and the run's counters.
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    messages: u32,
    bytes: u64,
    pings: u32,
    /// The message being echoed: bytes and chunks so far.
    chunk_bytes: u64,
    chunks: u32,
    end: Option<End>,
}

/// One slot: its socket is the caller's (looked up in smoltcp's `SocketSet` by handle each step).
pub struct Conn {
    id: u8,
    role: Role,
    port: u16,
    config: Config,
    phase: Phase,
    /// Shutdown: finish (closing with 1001) and do not listen again.
    stopping: bool,
    /// Our close frame (1001) is queued, or nothing needs one.
    going_away: bool,
    ws: Driver,
    rx: RxBuf<&'static mut [u8]>,
    tx: TxRing<&'static mut [u8]>,
    /// A server never masks (RFC 6455 §5.1), so its mask source is never used: a fixed-seed test
    /// generator is enough. A client would need a real entropy source here.
    rng: SplitMix,
    record: Record,
}

impl Conn {
    /// Slot `id` for `port`, with the WebSocket receive buffer `rx` and transmit ring `tx`. The ring
    /// should hold a full receive buffer's echo (`rx.len() + 14` bytes) and more, or echoes wait for
    /// it to drain before every chunk.
    pub fn new(
        id: u8,
        role: Role,
        port: u16,
        config: Config,
        rx: &'static mut [u8],
        tx: &'static mut [u8],
    ) -> Self {
        Conn {
            id,
            role,
            port,
            config,
            phase: Phase::Idle,
            stopping: false,
            going_away: false,
            ws: Driver::server(config),
            rx: RxBuf::new(rx),
            tx: TxRing::new(tx),
            rng: SplitMix::new(0),
            record: Record::default(),
        }
    }

    /// Finish: a listening slot stops listening, an open connection is closed with 1001 ("going
    /// away", RFC 6455 §7.4.1) and the closing deadline applies, a handshake in progress is dropped.
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    /// Whether the slot has stopped (after [`stop`](Self::stop)) and its connection is over.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Moves what can move between `socket` and the driver at time `now`; true if anything did.
    pub fn step(&mut self, socket: &mut tcp::Socket<'_>, now: Instant, stats: &mut Stats) -> bool {
        match self.phase {
            Phase::Idle => self.listen(socket),
            Phase::Listening => self.accept_tcp(socket, stats),
            Phase::Open => self.converse(socket, now, stats),
            Phase::ClosingTcp(since) => self.finish_tcp(socket, now, since, stats),
            Phase::Stopped => false,
        }
    }

    fn listen(&mut self, socket: &mut tcp::Socket<'_>) -> bool {
        if self.stopping {
            self.phase = Phase::Stopped;
            return true;
        }
        // `listen` fails only on an open socket or port 0. A slot gets here with its socket closed,
        // or in TIME-WAIT (which `listen` ends: see `finish_tcp`).
        socket.listen(self.port).expect("listen on a closed socket");
        // An echo server answers each message at once: no Nagle delay for small frames (a pong, the
        // last fragment), and no delayed ACKs, so the peer's window opens as soon as we read.
        socket.set_nagle_enabled(false);
        socket.set_ack_delay(None);
        self.phase = Phase::Listening;
        true
    }

    fn accept_tcp(&mut self, socket: &mut tcp::Socket<'_>, stats: &mut Stats) -> bool {
        match socket.state() {
            tcp::State::Listen | tcp::State::SynReceived if self.stopping => {
                socket.abort();
                self.phase = Phase::Stopped;
                true
            }
            tcp::State::Listen | tcp::State::SynReceived => false,
            // Reset during the TCP handshake: listen again.
            tcp::State::Closed => {
                self.phase = Phase::Idle;
                true
            }
            _ => {
                stats.connections += 1;
                if let Some(remote) = socket.remote_endpoint() {
                    log!("slot {}: TCP connection from {}", self.id, remote);
                }
                self.ws = Driver::server(self.config);
                reset(&mut self.rx, &mut self.tx);
                self.record = Record::default();
                self.going_away = false;
                self.phase = Phase::Open;
                true
            }
        }
    }

    fn converse(&mut self, socket: &mut tcp::Socket<'_>, now: Instant, stats: &mut Stats) -> bool {
        if self.stopping && !self.going_away {
            self.go_away();
        }
        let mut busy = self.flush(socket);
        let (moved, wait) = self.serve(socket, now, stats);
        busy |= moved;
        busy |= self.flush(socket);
        if self.ws.should_close_transport() && self.tx.is_empty() {
            // Everything we queued is in the socket's send buffer; the FIN goes out after it.
            // RFC 6455 §7.1.1: "The underlying TCP connection, in most normal cases, SHOULD be
            // closed first by the server".
            socket.close();
            self.phase = Phase::ClosingTcp(now);
            return true;
        }
        if !socket.is_open() {
            // Reset by the peer.
            self.record.end.get_or_insert(End::Dropped);
            self.end(stats);
            return true;
        }
        if wait == Wait::Input && !socket.may_recv() {
            // The peer sent FIN and everything before it has been read, without a closing handshake
            // (a handshake the client gave up on, a port probe, a client that vanished).
            self.record.end.get_or_insert(End::Dropped);
            socket.close();
            self.phase = Phase::ClosingTcp(now);
            return true;
        }
        busy
    }

    /// Shutdown: the closing handshake with 1001, or the end of a handshake in progress.
    fn go_away(&mut self) {
        let sent = match self.ws.state() {
            State::Open => self.ws.close(
                &mut self.tx,
                &mut self.rng,
                Some(CloseCode::GOING_AWAY),
                "server shutting down",
            ),
            // Before open, `close` ends the connection at once and sends nothing (S3).
            State::Connecting => self.ws.close(&mut self.tx, &mut self.rng, None, ""),
            _ => Ok(()),
        };
        // Full: try again at the next step, once the ring has drained.
        self.going_away = !matches!(sent, Err(SendError::Full { .. }));
    }

    fn finish_tcp(
        &mut self,
        socket: &mut tcp::Socket<'_>,
        now: Instant,
        since: Instant,
        stats: &mut Stats,
    ) -> bool {
        // Whatever still arrives is read and dropped: a full window would hold back the peer's FIN.
        let discarded = socket.recv(|bytes| (bytes.len(), bytes.len())).unwrap_or(0);
        match socket.state() {
            // TIME-WAIT: our FIN was acknowledged and the peer's arrived (the final ACK left in the
            // same `Interface::poll`: delayed ACKs are off). CLOSED: the same the other way round
            // (LAST-ACK done), or a reset. Either way the slot is free; `listen` ends TIME-WAIT.
            tcp::State::TimeWait | tcp::State::Closed => {
                self.end(stats);
                true
            }
            _ if now.millis() >= since.millis() + TCP_CLOSE_GRACE_MS => {
                log!(
                    "slot {}: TCP closing stuck in {} for {} ms: reset",
                    self.id,
                    socket.state(),
                    TCP_CLOSE_GRACE_MS
                );
                socket.abort();
                self.end(stats);
                true
            }
            _ => discarded > 0,
        }
    }

    /// The connection is over: logs it, counts it, and frees the slot.
    fn end(&mut self, stats: &mut Stats) {
        let r = self.record;
        stats.messages += r.messages;
        stats.bytes += r.bytes;
        stats.pings += r.pings;
        let id = self.id;
        let (m, b, p) = (r.messages, r.bytes, r.pings);
        match r.end.unwrap_or(End::Dropped) {
            End::Closed(code) => {
                stats.closed += 1;
                log!(
                    "slot {}: closed with {}; {} messages, {} bytes, {} pings",
                    id,
                    code,
                    m,
                    b,
                    p
                );
            }
            End::Answered(status) => {
                stats.http += 1;
                log!("slot {}: answered {} over HTTP", id, status);
            }
            End::Busy => {
                stats.busy += 1;
                log!("slot {}: every slot taken: refused with 503", id);
            }
            End::Protocol(e) => {
                stats.protocol_errors += 1;
                log!("slot {}: failed: {}; {} messages", id, e, m);
            }
            End::Handshake(e) => {
                if e == HandshakeError::Timeout {
                    stats.timeouts += 1;
                } else {
                    stats.http += 1;
                }
                log!("slot {}: handshake failed: {}", id, e);
            }
            End::Timeout(t) => {
                stats.timeouts += 1;
                log!("slot {}: closed with 1006: {}; {} messages", id, t, m);
            }
            End::Dropped => {
                stats.dropped += 1;
                log!(
                    "slot {}: TCP ended before the closing handshake; {} messages",
                    id,
                    m
                );
            }
            End::Internal(e) => {
                stats.internal += 1;
                log!("slot {}: internal error: {}", id, e);
            }
        }
        // Idle: the next step listens again (after the next `Interface::poll`, which sends the reset
        // of an `abort`); `listen` also ends TIME-WAIT at once.
        self.phase = if self.stopping {
            Phase::Stopped
        } else {
            Phase::Idle
        };
    }

    /// Writes what the transmit ring holds into the socket's send buffer.
    fn flush(&mut self, socket: &mut tcp::Socket<'_>) -> bool {
        let mut moved = false;
        while self.tx.ready() > 0 {
            match socket.send_slice(self.tx.peek()) {
                Ok(n) if n > 0 => {
                    self.tx.consume(n);
                    moved = true;
                }
                _ => break,
            }
        }
        moved
    }

    /// Reads from the socket and handles events until the driver needs input the socket does not
    /// have yet, or the ring needs draining first. Returns whether anything moved, and which.
    fn serve(
        &mut self,
        socket: &mut tcp::Socket<'_>,
        now: Instant,
        stats: &mut Stats,
    ) -> (bool, Wait) {
        let mut busy = false;
        loop {
            // Room for the largest echo (a full receive buffer's chunk and its header) before
            // polling on: an event's data is echoed while the event is held. The refusing socket
            // never echoes: its refusal is checked for room when it is queued.
            let room = match self.role {
                Role::Echo => self.rx.capacity() + MAX_HEADER,
                Role::Refuse => 0,
            };
            if self.tx.free() < room {
                return (busy, Wait::Output);
            }
            let event = match self.ws.poll(&mut self.rx, &mut self.tx, &mut self.rng, now) {
                Ok(Some(event)) => event,
                Ok(None) => {
                    if self.ws.state() == State::Closed {
                        return (busy, Wait::Input);
                    }
                    // The driver needs more bytes: take what the socket has received.
                    match socket.recv_slice(self.rx.free_space()) {
                        Ok(n) if n > 0 => {
                            self.rx.commit(n);
                            busy = true;
                            continue;
                        }
                        _ => return (busy, Wait::Input),
                    }
                }
                Err(e) => {
                    // The close frame for the error is queued; the next poll reports the close.
                    busy = true;
                    let end = match e {
                        Error::Protocol(p) => End::Protocol(p),
                        Error::Handshake(h) => End::Answered(h.status()),
                        _ => End::Internal(SendError::Closed),
                    };
                    self.record.end.get_or_insert(end);
                    continue;
                }
            };
            busy = true;
            match event {
                Event::Connect(request) => {
                    let upgrade = request.is_websocket();
                    let shutdown =
                        !upgrade && request.method() == "GET" && request.target() == SHUTDOWN_PATH;
                    log!(
                        "slot {}: {} {}{}",
                        self.id,
                        request.method(),
                        request.target(),
                        if upgrade { " (upgrade)" } else { "" }
                    );
                    if shutdown {
                        stats.shutdown = true;
                    }
                    if self.answer(upgrade, shutdown) {
                        stats.upgrades += 1;
                    }
                }
                Event::Text { data, fin } => {
                    let sent = self.ws.send_fragment(
                        &mut self.tx,
                        &mut self.rng,
                        DataKind::Text,
                        Rsv::NONE,
                        data.as_bytes(),
                        fin,
                    );
                    let len = data.len();
                    self.echoed(DataKind::Text, len, fin, sent);
                }
                Event::Binary { data, fin } => {
                    let sent = self.ws.send_fragment(
                        &mut self.tx,
                        &mut self.rng,
                        DataKind::Binary,
                        Rsv::NONE,
                        data,
                        fin,
                    );
                    let len = data.len();
                    self.echoed(DataKind::Binary, len, fin, sent);
                }
                // RFC 6455 §5.5.2: the core queued the pong, with this payload, before returning.
                Event::Ping(_) => self.record.pings += 1,
                Event::Close { code, .. } => {
                    // RFC 6455 §5.5.1: the core queued the echo of the peer's close frame, if one
                    // arrived. Otherwise the connection ended here: a timer, or a failure.
                    let end = if let Some(t) = self.ws.timeout() {
                        End::Timeout(t)
                    } else if let Some(e) = self.ws.handshake_failure() {
                        End::Handshake(e)
                    } else {
                        End::Closed(code.0)
                    };
                    self.record.end.get_or_insert(end);
                }
                // Backpressure for an automatic reply: drain the ring, then poll again.
                Event::TxFull { .. } => return (busy, Wait::Output),
                // Open, Pong, and what a server without extensions never sees.
                _ => {}
            }
        }
    }

    /// Answers the request reported by `Event::Connect`: accepts an upgrade on an echo slot, refuses
    /// it with 503 on the refusing one (or while stopping), answers anything else over HTTP. True if
    /// the upgrade was accepted.
    fn answer(&mut self, upgrade: bool, shutdown: bool) -> bool {
        let (status, headers, body): (u16, &[(&str, &str)], &[u8]) = if shutdown {
            // 503 is what a request gets from a server going down; the body says it was this one.
            (503, &[], b"shutting down\n")
        } else if !upgrade {
            (
                400,
                &[],
                b"WebSocket only (GET /shutdown stops the server)\n",
            )
        } else if self.role == Role::Refuse || self.stopping {
            (
                503,
                &[("Retry-After", "1")],
                b"every connection slot is taken\n",
            )
        } else {
            match self
                .ws
                .accept(&mut self.rx, &mut self.tx, &Accept::default())
            {
                Ok(_) => return true,
                // Refused by the core (400, or 426 for another version): the refusal is queued.
                Err(HandshakeCallError::Handshake(e)) => {
                    self.record.end.get_or_insert(End::Answered(e.status()));
                }
                Err(HandshakeCallError::Send(e)) => {
                    self.record.end.get_or_insert(End::Internal(e));
                }
                Err(_) => {
                    self.record
                        .end
                        .get_or_insert(End::Internal(SendError::NotOpen));
                }
            }
            return false;
        };
        let refusal = Refusal {
            status,
            headers,
            body,
        };
        let busy = upgrade && !shutdown;
        let end = match self.ws.refuse_with(&mut self.rx, &mut self.tx, &refusal) {
            Ok(()) if busy => End::Busy,
            Ok(()) => End::Answered(status),
            Err(e) => End::Internal(e),
        };
        self.record.end.get_or_insert(end);
        false
    }

    /// Notes an echoed chunk; logs a message that came in more than one chunk when it is complete.
    fn echoed(&mut self, kind: DataKind, len: usize, fin: bool, sent: Result<(), SendError>) {
        match sent {
            Ok(()) => {}
            // After our close (shutdown), the peer's messages still arrive (S4) but are not echoed.
            Err(SendError::Closed) if self.going_away => return,
            Err(e) => {
                log!("slot {}: echo failed: {}", self.id, e);
                self.record.end.get_or_insert(End::Internal(e));
                return;
            }
        }
        let r = &mut self.record;
        r.chunk_bytes += len as u64;
        r.chunks += 1;
        if !fin {
            return;
        }
        r.messages += 1;
        r.bytes += r.chunk_bytes;
        if r.chunks > 1 {
            log!(
                "slot {}: {} message of {} bytes echoed in {} fragments",
                self.id,
                if kind == DataKind::Text {
                    "text"
                } else {
                    "binary"
                },
                r.chunk_bytes,
                r.chunks
            );
        }
        r.chunk_bytes = 0;
        r.chunks = 0;
    }
}

/// Empties both buffers for the next connection.
fn reset(rx: &mut RxBuf<&'static mut [u8]>, tx: &mut TxRing<&'static mut [u8]>) {
    let storage = core::mem::replace(rx, RxBuf::new(Default::default())).into_inner();
    *rx = RxBuf::new(storage);
    let storage = core::mem::replace(tx, TxRing::new(Default::default())).into_inner();
    *tx = TxRing::new(storage);
}
