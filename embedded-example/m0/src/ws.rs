//! The two ends on `websocket-driver`'s core: a client and a server, each a `Driver` with its own
//! receive buffer and transmit ring, driven in the core's call order (bytes in, `poll` until nothing
//! more, answer, bytes out). The link between them is `main`'s.
//!
//! The server is the usual echo: it accepts the upgrade with a subprotocol and sends every chunk back
//! as a fragment as soon as it arrives, so a message larger than its receive buffer comes back in
//! pieces. The client offers two subprotocols, checks the server's choice with `check_response`,
//! masks every frame with a key from the hardware RNG, and compares what comes back with what it
//! sent ([`Expect`]).

use cortex_m_semihosting::hprintln;
use websocket_driver::{
    Accept, ClientRequest, CloseCode, Config, DataKind, Driver, Duration, Event, Instant, Rsv,
    RxBuf, SendError, State, TxRing, Url,
};

use crate::nrf51::Rng;
use crate::pattern::{Expect, Kind, ServerLog};
use crate::{CLOSE_REASON, Fail, SERVER_PING};

/// What the firmware runs on, for its log.
pub const NAME: &str = "websocket-driver core";

/// The client's URL: the `Host` header and the request target come from it.
const URL: &str = "ws://microbit.local/echo";
/// The subprotocols the client offers, in order of preference.
const OFFER: &[&str] = &["v2.echo.example", "echo.example"];
/// The subprotocols the server speaks: it picks the client's first one that is here.
const SPOKEN: &[&str] = &["echo.example"];
/// The client's offer index and the server's list index of the subprotocol both must agree on.
pub const PROTOCOL: (usize, usize) = (1, 0);

/// The largest frame header a server writes (2 bytes, 8 of extended length, no mask).
const MAX_HEADER: usize = 10;

fn config() -> Config {
    Config::default()
        .with_handshake_timeout(Some(Duration::from_secs(2)))
        .with_close_timeout(Duration::from_secs(2))
}

fn kind(kind: Kind) -> DataKind {
    match kind {
        Kind::Text => DataKind::Text,
        Kind::Binary => DataKind::Binary,
    }
}

/// Logs a core error with its text and returns `what` as the failure.
#[cfg(feature = "display")]
fn core_error(what: Fail, e: impl core::fmt::Display) -> Fail {
    hprintln!("error: {}: {}", what, e);
    what
}

/// Logs which call failed (the core's texts that only logs show are not built in without the
/// `display` feature) and returns `what` as the failure.
#[cfg(not(feature = "display"))]
fn core_error<E>(what: Fail, _: E) -> Fail {
    hprintln!("error: {}", what);
    what
}

// The goal for the core's per-connection state on 32-bit targets, checked at build time for
// every target this crate is built for (thumbv6m and thumbv7m).
const _: () = assert!(
    core::mem::size_of::<Driver>() <= 256,
    "a Driver must fit in 256 bytes on 32-bit targets"
);

/// The size of the core's per-connection state, for the log and the footprint table.
pub fn driver_size() -> Option<usize> {
    Some(core::mem::size_of::<Driver>())
}

pub struct Client {
    ws: Driver,
    rx: RxBuf<&'static mut [u8]>,
    tx: TxRing<&'static mut [u8]>,
    /// The subprotocol `check_response` returned: an index into [`OFFER`].
    pub protocol: Option<usize>,
    /// The response's status.
    pub status: u16,
    opened: bool,
}

impl Client {
    pub fn new(rx: &'static mut [u8], tx: &'static mut [u8]) -> Self {
        Client {
            ws: Driver::client(config()),
            rx: RxBuf::new(rx),
            tx: TxRing::new(tx),
            protocol: None,
            status: 0,
            opened: false,
        }
    }

    /// Queues the opening request, with a nonce from the RNG.
    pub fn start(&mut self, rng: &mut Rng) -> Result<(), Fail> {
        let url = Url::parse_ws(URL).map_err(|e| core_error("URL", e))?;
        let request = ClientRequest {
            url: &url,
            protocols: OFFER,
            headers: &[("Origin", "http://microbit.local")],
            extensions: None,
        };
        self.ws
            .start(&mut self.tx, rng, &request)
            .map_err(|e| core_error("client start", e))
    }

    pub fn is_open(&self) -> bool {
        self.opened && self.ws.state() == State::Open
    }

    pub fn is_closed(&self) -> bool {
        self.ws.state() == State::Closed
    }

    /// Sends one frame of a message: the whole message when it is both the first and the last
    /// (`text`/`binary`), else a fragment. `Ok(false)`: no room in the ring yet.
    pub fn send(
        &mut self,
        rng: &mut Rng,
        k: Kind,
        data: &[u8],
        first: bool,
        fin: bool,
    ) -> Result<bool, Fail> {
        let sent = match (first && fin, k) {
            (true, Kind::Text) => match core::str::from_utf8(data) {
                Ok(text) => self.ws.text(&mut self.tx, rng, text),
                Err(_) => return Err("generated text is not UTF-8"),
            },
            (true, Kind::Binary) => self.ws.binary(&mut self.tx, rng, data),
            (false, _) => self
                .ws
                .send_fragment(&mut self.tx, rng, kind(k), Rsv::NONE, data, fin),
        };
        queued(sent, "client send")
    }

    pub fn ping(&mut self, rng: &mut Rng, payload: &[u8]) -> Result<bool, Fail> {
        queued(self.ws.ping(&mut self.tx, rng, payload), "client ping")
    }

    /// Starts the closing handshake: 1000 with [`CLOSE_REASON`].
    pub fn close(&mut self, rng: &mut Rng) -> Result<bool, Fail> {
        let sent = self
            .ws
            .close(&mut self.tx, rng, Some(CloseCode::NORMAL), CLOSE_REASON);
        queued(sent, "client close")
    }

    /// The frame just queued, as it will go on the wire: masked with `key`, the latest key the RNG
    /// gave, and unmasking to `payload`. Call with the ring holding exactly one small frame.
    pub fn check_wire(&self, key: [u8; 4], payload: &[u8]) -> Result<(), Fail> {
        let frame = self.tx.peek();
        let n = payload.len();
        if frame.len() != 6 + n || frame[1] != 0x80 | n as u8 || frame[2..6] != key {
            return Err("the frame on the wire does not carry the RNG's masking key");
        }
        let unmasked = frame[6..]
            .iter()
            .enumerate()
            .all(|(i, &b)| b ^ key[i % 4] == payload[i]);
        if !unmasked || frame[6..] == *payload {
            return Err("the frame on the wire is not masked with the RNG's key");
        }
        Ok(())
    }

    /// Polls until the driver needs more input, handling each event.
    pub fn step(&mut self, rng: &mut Rng, now: u64, expect: &mut Expect) -> Result<bool, Fail> {
        let mut moved = false;
        loop {
            let event = self
                .ws
                .poll(&mut self.rx, &mut self.tx, rng, Instant::from_millis(now))
                .map_err(|e| core_error("client poll", e))?;
            let Some(event) = event else {
                return Ok(moved);
            };
            moved = true;
            match event {
                Event::Response(response) => {
                    self.status = response.status();
                    self.protocol = self
                        .ws
                        .check_response(&mut self.rx, &mut self.tx, OFFER)
                        .map_err(|e| core_error("check_response", e))?;
                }
                Event::Open => self.opened = true,
                Event::Text { data, fin } => expect.data(Kind::Text, data.as_bytes(), fin),
                Event::Binary { data, fin } => expect.data(Kind::Binary, data, fin),
                Event::Ping(payload) if payload == SERVER_PING => expect.pings += 1,
                Event::Pong(payload) => expect.pong(payload),
                Event::Close { code, reason } => expect.close(code.0, reason),
                // The ring must drain before the automatic reply fits.
                Event::TxFull { .. } => return Ok(moved),
                _ => return Err("the client got an unexpected event"),
            }
        }
    }

    pub fn outgoing(&self) -> &[u8] {
        self.tx.peek()
    }

    pub fn sent(&mut self, n: usize) {
        self.tx.consume(n);
    }

    pub fn space(&mut self) -> &mut [u8] {
        self.rx.free_space()
    }

    pub fn received(&mut self, n: usize) {
        self.rx.commit(n);
    }
}

/// A send's result: queued, not yet (the ring is full), or an error.
fn queued(sent: Result<(), SendError>, what: Fail) -> Result<bool, Fail> {
    match sent {
        Ok(()) => Ok(true),
        Err(SendError::Full { .. }) => Ok(false),
        Err(e) => Err(core_error(what, e)),
    }
}

pub struct Server {
    ws: Driver,
    rx: RxBuf<&'static mut [u8]>,
    tx: TxRing<&'static mut [u8]>,
}

impl Server {
    pub fn new(rx: &'static mut [u8], tx: &'static mut [u8]) -> Self {
        Server {
            ws: Driver::server(config()),
            rx: RxBuf::new(rx),
            tx: TxRing::new(tx),
        }
    }

    pub fn ping(&mut self, rng: &mut Rng, payload: &[u8]) -> Result<bool, Fail> {
        queued(self.ws.ping(&mut self.tx, rng, payload), "server ping")
    }

    /// The closing handshake is over and the server may close the transport (it closes first).
    pub fn is_done(&self) -> bool {
        self.ws.state() == State::Closed && self.ws.should_close_transport()
    }

    /// Polls until the driver needs more input, echoing every chunk. Polls only while the ring has
    /// room for the echo of a full receive buffer, so an echo is never refused for room.
    pub fn step(&mut self, rng: &mut Rng, now: u64, log: &mut ServerLog) -> Result<bool, Fail> {
        let mut moved = false;
        while self.tx.free() >= self.rx.capacity() + MAX_HEADER {
            let event = self
                .ws
                .poll(&mut self.rx, &mut self.tx, rng, Instant::from_millis(now))
                .map_err(|e| core_error("server poll", e))?;
            let Some(event) = event else {
                return Ok(moved);
            };
            moved = true;
            let (k, data, fin) = match event {
                Event::Connect(request) => {
                    log.target_ok = request.target() == "/echo" && request.is_websocket();
                    let accept = Accept {
                        protocols: SPOKEN,
                        ..Accept::default()
                    };
                    log.protocol = self
                        .ws
                        .accept(&mut self.rx, &mut self.tx, &accept)
                        .map_err(|e| core_error("accept", e))?;
                    continue;
                }
                Event::Open => {
                    log.opened = true;
                    continue;
                }
                Event::Text { data, fin } => (Kind::Text, data.as_bytes(), fin),
                Event::Binary { data, fin } => (Kind::Binary, data, fin),
                Event::Ping(_) => {
                    log.pings += 1;
                    continue;
                }
                Event::Pong(payload) => {
                    if payload == SERVER_PING {
                        log.pongs += 1;
                    }
                    continue;
                }
                Event::Close { code, reason } => {
                    log.close = Some(code.0);
                    if reason != CLOSE_REASON {
                        log.error
                            .get_or_insert("the client's close reason was changed");
                    }
                    continue;
                }
                Event::TxFull { .. } => return Ok(moved),
                _ => return Err("the server got an unexpected event"),
            };
            self.ws
                .send_fragment(&mut self.tx, rng, kind(k), Rsv::NONE, data, fin)
                .map_err(|e| core_error("server echo", e))?;
            log.chunks += 1;
            log.bytes += data.len() as u64;
            if fin {
                log.messages += 1;
            }
        }
        Ok(moved)
    }

    pub fn outgoing(&self) -> &[u8] {
        self.tx.peek()
    }

    pub fn sent(&mut self, n: usize) {
        self.tx.consume(n);
    }

    pub fn space(&mut self) -> &mut [u8] {
        self.rx.free_space()
    }

    pub fn received(&mut self, n: usize) {
        self.rx.commit(n);
    }
}
