//! Test harness: a driver with its buffers that records owned events, and a client/server `Pair`
//! back to back over their transmit rings (fixed RNG, virtual time).
#![allow(dead_code)]

use websocket_driver::mask_source::SplitMix;
use websocket_driver::{Config, DataKind, Driver, Event, Instant, ProtocolError, RxBuf, TxRing};

/// An event with owned data, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Text(String, bool),
    Binary(Vec<u8>, bool),
    Ext(DataKind, u8, Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    Error(ProtocolError),
    HandshakeError(websocket_driver::HandshakeError),
    /// A request head: method, target.
    Connect(String, String),
    Body(Vec<u8>),
    /// Open, with the response status on a client (from the `Response` event before it).
    Open(Option<u16>),
    ProxyConnected(u16),
}

impl Ev {
    pub fn text(s: &str) -> Ev {
        Ev::Text(s.into(), true)
    }
    pub fn binary(b: &[u8]) -> Ev {
        Ev::Binary(b.into(), true)
    }
}

fn own(event: Event<'_>) -> Option<Ev> {
    Some(match event {
        Event::Text { data, fin } => Ev::Text(data.into(), fin),
        Event::Binary { data, fin } => Ev::Binary(data.into(), fin),
        Event::Extension {
            kind,
            rsv,
            data,
            fin,
        } => Ev::Ext(kind, rsv.bits(), data.into(), fin),
        Event::Ping(p) => Ev::Ping(p.into()),
        Event::Pong(p) => Ev::Pong(p.into()),
        Event::Close { code, reason } => Ev::Close(code.0, reason.into()),
        Event::TxFull { .. } => return None,
        Event::Connect(req) => Ev::Connect(req.method().into(), req.target().into()),
        Event::Body(b) => Ev::Body(b.into()),
        Event::Open => Ev::Open(None),
        Event::ProxyConnected(r) => Ev::ProxyConnected(r.status()),
        _ => panic!("unexpected event {event:?}"),
    })
}

/// One end of a connection: driver, buffers, RNG, what it sent and what it saw.
pub struct Conn {
    pub driver: Driver,
    pub rx: RxBuf<Vec<u8>>,
    pub tx: TxRing<Vec<u8>>,
    pub rng: SplitMix,
    pub now: Instant,
    /// Bytes drained from the transmit ring, in order.
    pub out: Vec<u8>,
    pub events: Vec<Ev>,
    /// Echo data messages back (a server under test).
    pub echo: bool,
    /// Accept every upgrade request with these subprotocols (a raw-mode server under test).
    pub auto_accept: Option<&'static [&'static str]>,
    /// A client's offered subprotocols, passed to `check_response` when the response arrives.
    pub offered: Vec<String>,
    /// The status of the response being checked, reported with the open event.
    pub response_status: Option<u16>,
}

impl Conn {
    pub fn new(driver: Driver, rx_cap: usize, tx_cap: usize) -> Conn {
        Conn {
            driver,
            rx: RxBuf::new(vec![0; rx_cap]),
            tx: TxRing::new(vec![0; tx_cap]),
            rng: SplitMix::new(0x5eed),
            now: Instant::ZERO,
            out: Vec::new(),
            events: Vec::new(),
            echo: false,
            auto_accept: None,
            offered: Vec::new(),
            response_status: None,
        }
    }

    pub fn server(config: Config) -> Conn {
        Conn::new(Driver::server_upgraded(config), 4096, 4096)
    }

    pub fn client(config: Config) -> Conn {
        Conn::new(Driver::client_upgraded(config), 4096, 4096)
    }

    /// Drains the transmit ring into `out`.
    pub fn drain(&mut self) {
        loop {
            let ready = self.tx.peek();
            if ready.is_empty() {
                break;
            }
            let n = ready.len();
            self.out.extend_from_slice(ready);
            self.tx.consume(n);
        }
    }

    /// Polls until idle, recording events (and echoing when `echo`), draining when the ring is full.
    pub fn pump(&mut self) {
        for _ in 0..1_000_000 {
            match self
                .driver
                .poll(&mut self.rx, &mut self.tx, &mut self.rng, self.now)
            {
                Ok(None) => return self.drain(),
                Ok(Some(Event::TxFull { .. })) => self.drain(),
                Ok(Some(event)) => {
                    if self.echo {
                        match event {
                            Event::Text { data, fin: true } => {
                                let _ = self.driver.text(&mut self.tx, &mut self.rng, data);
                            }
                            Event::Binary { data, fin: true } => {
                                let _ = self.driver.binary(&mut self.tx, &mut self.rng, data);
                            }
                            _ => {}
                        }
                    }
                    let upgrade = matches!(&event, Event::Connect(r) if r.is_websocket());
                    if let Event::Response(response) = event {
                        self.response_status = Some(response.status());
                        let offered: Vec<&str> = self.offered.iter().map(String::as_str).collect();
                        if let Err(websocket_driver::HandshakeCallError::Handshake(e)) = self
                            .driver
                            .check_response(&mut self.rx, &mut self.tx, &offered)
                        {
                            self.events.push(Ev::HandshakeError(e));
                        }
                        continue;
                    }
                    let event = match own(event) {
                        Some(Ev::Open(None)) => Some(Ev::Open(self.response_status.take())),
                        other => other,
                    };
                    self.events.extend(event);
                    if let (true, Some(protocols)) = (upgrade, self.auto_accept) {
                        let accept = websocket_driver::Accept {
                            protocols,
                            ..Default::default()
                        };
                        let _ = self.driver.accept(&mut self.rx, &mut self.tx, &accept);
                    }
                }
                Err(websocket_driver::Error::Protocol(e)) => self.events.push(Ev::Error(e)),
                Err(websocket_driver::Error::Handshake(e)) => {
                    self.events.push(Ev::HandshakeError(e))
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        panic!("poll never went idle");
    }

    /// Feeds `bytes` in one piece (as much as fits at a time).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.feed_split(bytes, &[]);
    }

    /// Feeds `bytes` cut at the given positions (sorted, within bounds), polling after each write.
    pub fn feed_split(&mut self, bytes: &[u8], cuts: &[usize]) {
        let mut pieces = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let cut = cut.clamp(from, bytes.len());
            pieces.push(&bytes[from..cut]);
            from = cut;
        }
        for piece in pieces {
            let mut rest = piece;
            let mut stuck = 0;
            loop {
                let n = self.rx.write(rest);
                rest = &rest[n..];
                self.pump();
                if rest.is_empty() {
                    break;
                }
                stuck = if n == 0 { stuck + 1 } else { 0 };
                assert!(stuck < 3, "receive buffer full and poll makes no progress");
            }
        }
    }

    pub fn take_events(&mut self) -> Vec<Ev> {
        std::mem::take(&mut self.events)
    }

    pub fn take_out(&mut self) -> Vec<u8> {
        self.drain();
        std::mem::take(&mut self.out)
    }
}

/// Drains `tx` completely into a vector.
pub fn drained<S: AsRef<[u8]> + AsMut<[u8]>>(tx: &mut TxRing<S>) -> Vec<u8> {
    let mut out = Vec::new();
    while tx.ready() > 0 {
        let n = tx.peek().len();
        out.extend_from_slice(tx.peek());
        tx.consume(n);
    }
    out
}

/// A client and a server back to back.
pub struct Pair {
    pub client: Conn,
    pub server: Conn,
}

impl Pair {
    pub fn new(client: Config, server: Config) -> Pair {
        Pair {
            client: Conn::new(Driver::client_upgraded(client), 4096, 1 << 17),
            server: Conn::new(Driver::server_upgraded(server), 4096, 1 << 17),
        }
    }

    /// Moves bytes both ways until neither side has anything to send.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            self.client.drain();
            self.server.drain();
            let to_server = std::mem::take(&mut self.client.out);
            let to_client = std::mem::take(&mut self.server.out);
            if to_server.is_empty() && to_client.is_empty() {
                return;
            }
            self.server.feed(&to_server);
            self.client.feed(&to_client);
        }
        panic!("pair never settled");
    }
}

/// Masks an unmasked frame (as a client would send it) with `key`: sets the MASK bit, inserts the key.
pub fn masked(frame: &[u8], key: [u8; 4]) -> Vec<u8> {
    let len7 = frame[1] & 0x7f;
    let header_len = match len7 {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    let mut out = frame[..header_len].to_vec();
    out[1] |= 0x80;
    out.extend_from_slice(&key);
    out.extend(
        frame[header_len..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4]),
    );
    out
}

/// Builds an unmasked frame.
pub fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// A server that accepts unmasked frames (BEHAVIOUR's vectors are unmasked).
pub fn lenient() -> Config {
    Config::default().require_masking(false)
}
