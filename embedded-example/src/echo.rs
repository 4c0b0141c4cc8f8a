//! The WebSocket echo server: one conversation on a smoltcp TCP socket, the protocol done by
//! `websocket-driver`'s core over two static buffers.
//!
//! This is the I/O layer the core leaves to its user (the call order of `Driver`'s docs): bytes from
//! the socket into the receive buffer, events out of the driver, frames from the transmit ring into
//! the socket. Text and binary are echoed chunk by chunk as fragments, straight from the receive
//! buffer, so a message larger than the buffer comes back fragmented; pings are answered by the core
//! itself. [`EchoServer::step`] never blocks: it moves what can move now and says whether anything did.

use cortex_m_semihosting::hprintln;
use smoltcp::socket::tcp;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{
    Accept, CloseCode, Config, DataKind, Driver, Event, HandshakeCallError, Instant, Rsv, RxBuf,
    SendError, State, TxRing,
};

/// The largest frame header a server writes (RFC 6455 §5.2: 2 bytes, 8 of extended length, no
/// mask), rounded up to the protocol's maximum of 14.
const MAX_HEADER: usize = 14;

/// What a call to [`EchoServer::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Something moved: call again soon.
    Busy,
    /// Nothing to do until the network brings something.
    Idle,
    /// The conversation is over: see [`EchoServer::outcome`].
    Finished,
}

/// Why a conversation did not end cleanly.
#[derive(Clone, Copy, Debug)]
pub enum Failure {
    /// The client broke the protocol; the driver sent its close frame.
    Protocol(websocket_driver::Error),
    /// The opening handshake was refused.
    Handshake(HandshakeCallError),
    /// The request was not a WebSocket upgrade (refused with 400).
    NotWebSocket,
    /// An echo could not be queued.
    Send(SendError),
    /// The client closed with a code other than 1000 (normal) or 1001 (going away).
    CloseCode(u16),
    /// The TCP connection ended (in this state) without a WebSocket closing handshake.
    Transport(tcp::State),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Protocol(e) => write!(f, "protocol error: {e}"),
            Failure::Handshake(e) => write!(f, "handshake refused: {e}"),
            Failure::NotWebSocket => f.write_str("not a WebSocket upgrade request"),
            Failure::Send(e) => write!(f, "echo not queued: {e}"),
            Failure::CloseCode(code) => write!(f, "closed with code {code}"),
            Failure::Transport(state) => {
                write!(f, "TCP ended ({state}) without a closing handshake")
            }
        }
    }
}

/// What the conversation amounted to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Text messages echoed.
    pub texts: u32,
    /// Binary messages echoed.
    pub binaries: u32,
    /// Pings answered.
    pub pings: u32,
    /// The client's close code.
    pub close_code: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a client (the socket listens once `step` first runs).
    Listening,
    /// A TCP connection: handshake, messages, closing handshake.
    Connected,
    /// The closing handshake is done and our FIN is queued: waiting for TCP to finish.
    ClosingTcp,
    /// Over.
    Done,
}

/// The message being echoed: counted for the log.
#[derive(Clone, Copy, Debug, Default)]
struct Message {
    bytes: usize,
    chunks: u32,
}

/// A WebSocket echo server for one conversation.
pub struct EchoServer {
    port: u16,
    phase: Phase,
    ws: Driver,
    rx: RxBuf<&'static mut [u8]>,
    tx: TxRing<&'static mut [u8]>,
    /// A server never masks (RFC 6455 §5.1), so its mask source is never used: a fixed-seed test
    /// generator is enough. A client would need a real entropy source here.
    rng: SplitMix,
    message: Message,
    summary: Summary,
    failure: Option<Failure>,
}

impl EchoServer {
    /// A server for `port`, with the WebSocket receive buffer `rx` and transmit ring `tx`. The ring
    /// should hold at least a full receive buffer's echo (`rx.len() + 14` bytes) plus what is in
    /// flight, or echoes wait for it to drain.
    pub fn new(port: u16, rx: &'static mut [u8], tx: &'static mut [u8]) -> Self {
        // The request head must fit the receive buffer (H7): limit it to the buffer's size.
        let config = Config::default().head_limit(rx.len() as u32);
        EchoServer {
            port,
            phase: Phase::Listening,
            ws: Driver::server(config),
            rx: RxBuf::new(rx),
            tx: TxRing::new(tx),
            rng: SplitMix::new(0),
            message: Message::default(),
            summary: Summary::default(),
            failure: None,
        }
    }

    /// How the conversation went: `Ok` only for a clean one (handshake, closing handshake with code
    /// 1000 or 1001, TCP closed), once [`step`](Self::step) has said [`Progress::Finished`].
    pub fn outcome(&self) -> Result<Summary, Failure> {
        match (self.failure, self.summary.close_code) {
            (Some(failure), _) => Err(failure),
            (None, Some(_)) if self.phase == Phase::Done => Ok(self.summary),
            (None, _) => Err(Failure::Transport(tcp::State::Closed)),
        }
    }

    /// Moves what can move between `socket` and the driver at time `now`.
    pub fn step(&mut self, socket: &mut tcp::Socket<'_>, now: Instant) -> Progress {
        match self.phase {
            Phase::Listening => self.accept_tcp(socket),
            Phase::Connected => self.converse(socket, now),
            Phase::ClosingTcp => self.finish_tcp(socket),
            Phase::Done => Progress::Finished,
        }
    }

    fn accept_tcp(&mut self, socket: &mut tcp::Socket<'_>) -> Progress {
        if !socket.is_open() {
            // The only way `listen` fails is a socket already open or port 0: neither happens here.
            socket.listen(self.port).expect("listen on a closed socket");
            hprintln!("listening on port {}", self.port);
            return Progress::Busy;
        }
        if socket.state() != tcp::State::Established {
            return Progress::Idle;
        }
        if let Some(remote) = socket.remote_endpoint() {
            hprintln!("TCP connection from {}", remote);
        }
        self.phase = Phase::Connected;
        Progress::Busy
    }

    fn converse(&mut self, socket: &mut tcp::Socket<'_>, now: Instant) -> Progress {
        let mut busy = self.flush(socket);
        busy |= self.serve(socket, now);
        busy |= self.flush(socket);
        if self.ws.should_close_transport() && self.tx.is_empty() {
            // Everything we queued is in the socket's send buffer; the FIN goes out after it.
            // RFC 6455 §7.1.1: "The underlying TCP connection, in most normal cases, SHOULD be
            // closed first by the server".
            hprintln!("WebSocket closed; closing TCP");
            socket.close();
            self.phase = Phase::ClosingTcp;
            return Progress::Busy;
        }
        let peer_done = !socket.may_recv() && self.ws.state() != State::Closed;
        if peer_done || !socket.is_open() {
            // The client sent FIN and the driver has read everything without a closing handshake,
            // or the connection was reset.
            hprintln!(
                "TCP ended in state {} before the closing handshake",
                socket.state()
            );
            self.failure
                .get_or_insert(Failure::Transport(socket.state()));
            socket.abort();
            self.phase = Phase::Done;
            return Progress::Finished;
        }
        if busy { Progress::Busy } else { Progress::Idle }
    }

    fn finish_tcp(&mut self, socket: &mut tcp::Socket<'_>) -> Progress {
        match socket.state() {
            // TIME-WAIT: our FIN was acknowledged and the client's arrived. CLOSED: the same the
            // other way round (LAST-ACK done), or a reset.
            tcp::State::TimeWait | tcp::State::Closed => {
                hprintln!("TCP closed ({})", socket.state());
                self.phase = Phase::Done;
                Progress::Finished
            }
            _ => Progress::Idle,
        }
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
    /// have yet, or the ring needs draining first.
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, now: Instant) -> bool {
        let mut busy = false;
        loop {
            // Room for the largest echo (a full receive buffer's chunk and its header) before
            // polling on: an event's data is echoed while the event is held.
            if self.tx.free() < self.rx.capacity() + MAX_HEADER {
                return busy;
            }
            match self.ws.poll(&mut self.rx, &mut self.tx, &mut self.rng, now) {
                Ok(Some(Event::Connect(request))) => {
                    busy = true;
                    if !request.is_websocket() {
                        let _ = self
                            .ws
                            .refuse(&mut self.rx, &mut self.tx, 400, "WebSocket only");
                        self.fail(Failure::NotWebSocket);
                        continue;
                    }
                    hprintln!(
                        "{} {}: WebSocket upgrade",
                        request.method(),
                        request.target()
                    );
                    if let Err(e) = self
                        .ws
                        .accept(&mut self.rx, &mut self.tx, &Accept::default())
                    {
                        hprintln!("handshake refused: {}", e);
                        self.fail(Failure::Handshake(e));
                    }
                }
                Ok(Some(Event::Text { data, fin })) => {
                    busy = true;
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
                Ok(Some(Event::Binary { data, fin })) => {
                    busy = true;
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
                Ok(Some(Event::Ping(payload))) => {
                    busy = true;
                    // RFC 6455 §5.5.2: the core queued the pong, with this payload, before returning.
                    hprintln!("ping ({} bytes): pong queued", payload.len());
                    self.summary.pings += 1;
                }
                Ok(Some(Event::Close { code, reason })) => {
                    busy = true;
                    // RFC 6455 §5.5.1: the core queued the echo of the close frame.
                    hprintln!("close {} \"{}\": echo queued", code.0, reason);
                    if self.summary.close_code.is_none() && self.failure.is_none() {
                        self.summary.close_code = Some(code.0);
                        if code != CloseCode::NORMAL && code != CloseCode::GOING_AWAY {
                            self.fail(Failure::CloseCode(code.0));
                        }
                    }
                }
                // Backpressure for an automatic reply: drain the ring, then poll again.
                Ok(Some(Event::TxFull { .. })) => return busy,
                Ok(Some(_)) => busy = true,
                Ok(None) => {
                    if self.ws.state() == State::Closed {
                        return busy;
                    }
                    // The driver needs more bytes: take what the socket has received.
                    match socket.recv_slice(self.rx.free_space()) {
                        Ok(n) if n > 0 => {
                            self.rx.commit(n);
                            busy = true;
                        }
                        _ => return busy,
                    }
                }
                Err(e) => {
                    // The close frame for the error is queued; the next poll reports the close.
                    busy = true;
                    hprintln!("protocol error: {}", e);
                    self.fail(Failure::Protocol(e));
                }
            }
        }
    }

    /// Notes an echoed chunk; logs the message when it is complete.
    fn echoed(&mut self, kind: DataKind, len: usize, fin: bool, sent: Result<(), SendError>) {
        if let Err(e) = sent {
            hprintln!("echo failed: {}", e);
            self.fail(Failure::Send(e));
            return;
        }
        self.message.bytes += len;
        self.message.chunks += 1;
        if !fin {
            return;
        }
        let Message { bytes, chunks } = core::mem::take(&mut self.message);
        let name = if kind == DataKind::Text {
            self.summary.texts += 1;
            "text"
        } else {
            self.summary.binaries += 1;
            "binary"
        };
        hprintln!(
            "{} message of {} bytes echoed in {} fragment(s)",
            name,
            bytes,
            chunks
        );
    }

    /// Records the first failure.
    fn fail(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
    }
}
