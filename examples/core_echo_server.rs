//! The core alone, no adapter: an echo server on a readiness loop (mio). One 64 KiB receive buffer and one
//! 256 KiB transmit ring serve every connection: a connection borrows them while it is handled
//! (`swap_storage` moves its parked bytes in) and parks only what is left — the bytes of an unfinished
//! frame, output the socket did not take — so an idle connection holds its driver and nothing else.
//! Messages larger than the buffer are echoed chunk by chunk as fragments, straight from the receive
//! buffer (zero copy in, one copy out).
//! `cargo run --release --example core_echo_server -- --port 9002`
use std::collections::HashMap;
use std::io::{self, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{
    Accept, Config, DataKind, Driver, Event, Instant, Rsv, RxBuf, State, TxRing,
};

const RX: usize = 64 * 1024;
const TX: usize = 256 * 1024;

struct Conn {
    socket: TcpStream,
    ws: Driver,
    rx: RxBuf<Vec<u8>>,
    tx: TxRing<Vec<u8>>,
    eof: bool,
}

/// The buffers every connection borrows in turn (one per thread).
struct Shared {
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl Conn {
    /// Lends the shared buffers to this connection, handles it, and parks what is left: false when the
    /// connection is done.
    fn handle(&mut self, shared: &mut Shared, rng: &mut SplitMix) -> bool {
        // The parked bytes move to the front of the shared storage; what comes back is the parked storage.
        let _ = self.rx.swap_storage(std::mem::take(&mut shared.rx));
        let _ = self.tx.swap_storage(std::mem::take(&mut shared.tx));
        let alive = self.ready(rng);
        // Storage of exactly the remaining size always holds it (none at all when empty).
        let parked = vec![0; self.rx.len()];
        shared.rx = self.rx.swap_storage(parked).unwrap_or_default();
        let parked = vec![0; self.tx.len()];
        shared.tx = self.tx.swap_storage(parked).unwrap_or_default();
        alive
    }

    /// Writes what the ring holds; false when the peer is gone.
    fn drain(&mut self) -> bool {
        while self.tx.ready() > 0 {
            match self.socket.write(self.tx.peek()) {
                Ok(0) => return false,
                Ok(n) => self.tx.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads what the socket has at hand: `Ok(false)` when it has nothing (wait for readiness), `Err`
    /// when the socket failed.
    ///
    /// A read ends where a large frame ends: the buffer then empties after it and the next frame
    /// starts at its front rather than being moved there. While a frame is under way (its header read,
    /// polled or not) the reads go on to its end before the next poll, so its text is checked once;
    /// whatever a poll finds incomplete is still checked at once (invalid UTF-8 fails fast, F10).
    fn read_on(&mut self) -> Result<bool, ()> {
        let mut read = false;
        loop {
            let remaining = usize::try_from(self.ws.frame_remaining(&self.rx));
            let space = self.rx.free_space();
            let n = match remaining {
                Ok(r) if r >= 4096 => r.min(space.len()),
                _ => space.len(),
            };
            match self.socket.read(&mut space[..n]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.rx.commit(n);
                    read = true;
                    if self.ws.frame_remaining(&self.rx) == 0 || self.rx.room() == 0 {
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(read),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
    }

    /// Reads, handles events, echoes; false when the connection is done.
    fn ready(&mut self, rng: &mut SplitMix) -> bool {
        loop {
            if !self.drain() {
                return false;
            }
            // Room for the largest echo (a full buffer's chunk plus its header) before reading on.
            if self.tx.free() < RX + 16 {
                return true;
            }
            match self.ws.poll(&mut self.rx, &mut self.tx, rng, Instant::ZERO) {
                Ok(Some(Event::Connect(request))) if request.is_websocket() => {
                    let _ = self
                        .ws
                        .accept(&mut self.rx, &mut self.tx, &Accept::default());
                }
                Ok(Some(Event::Connect(_))) => {
                    let _ = self
                        .ws
                        .refuse(&mut self.rx, &mut self.tx, 400, "WebSocket only");
                }
                Ok(Some(Event::Text { data, fin })) => {
                    let _ = self.ws.send_fragment(
                        &mut self.tx,
                        rng,
                        DataKind::Text,
                        Rsv::NONE,
                        data.as_bytes(),
                        fin,
                    );
                }
                Ok(Some(Event::Binary { data, fin })) => {
                    let _ = self.ws.send_fragment(
                        &mut self.tx,
                        rng,
                        DataKind::Binary,
                        Rsv::NONE,
                        data,
                        fin,
                    );
                }
                Ok(Some(_)) => {}
                Err(_) => {}
                Ok(None) => {
                    if self.ws.state() == State::Closed && self.ws.should_close_transport() {
                        return self.drain() && self.tx.ready() > 0;
                    }
                    if self.eof {
                        return false;
                    }
                    match self.read_on() {
                        Ok(true) => {}
                        Ok(false) => return true,
                        Err(()) => return false,
                    }
                }
            }
        }
    }
}

fn main() -> io::Result<()> {
    let port: u16 = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(9002);
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into())?;
    eprintln!("core echo server on ws://127.0.0.1:{port}");
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)?;
    // Boxed: the map's spare buckets then cost a pointer each, not a whole connection.
    let mut conns: HashMap<Token, Box<Conn>> = HashMap::new();
    let mut next = 1;
    let mut rng = SplitMix::new(7); // a server never masks
    let mut shared = Shared {
        rx: vec![0; RX],
        tx: vec![0; TX],
    };
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            // A signal interrupted the wait: wait again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            if event.token() == Token(0) {
                while let Ok((mut socket, _)) = listener.accept() {
                    let token = Token(next);
                    next += 1;
                    socket.set_nodelay(true)?;
                    poll.registry().register(
                        &mut socket,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    let ws = Driver::server(Config::default());
                    conns.insert(
                        token,
                        Box::new(Conn {
                            socket,
                            ws,
                            rx: RxBuf::new(Vec::new()),
                            tx: TxRing::new(Vec::new()),
                            eof: false,
                        }),
                    );
                }
                continue;
            }
            let done = match conns.get_mut(&event.token()) {
                Some(conn) => !conn.handle(&mut shared, &mut rng),
                None => false,
            };
            if done && let Some(mut conn) = conns.remove(&event.token()) {
                let _ = poll.registry().deregister(&mut conn.socket);
            }
        }
    }
}
