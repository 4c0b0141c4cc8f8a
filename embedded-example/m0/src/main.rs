//! Firmware for a Cortex-M0 with 16 KiB of RAM (the BBC micro:bit's nRF51822, as QEMU's `microbit`
//! machine models it): a `websocket-driver` client and a `websocket-driver` server in one program,
//! talking over an in-memory link, no heap.
//!
//! The conversation: the opening handshake (the client offers two subprotocols, the server picks
//! one, the client checks the choice), text and binary messages from 0 bytes to 64 KiB through
//! 512-byte receive buffers and 1 KiB transmit rings (the server echoes each chunk as a fragment as
//! it arrives; the client compares the echo byte by byte with the message, regenerated from its
//! seed), pings both ways (one in the middle of a fragmented message), and the closing handshake.
//! The client's masking keys and nonce come from the nRF51's hardware RNG; `now` from its TIMER0.
//! Exit status (semihosting): 0 when every check passed; 1 a panic, 2 a failed check, 3 a stall or
//! the time limit, 4 RNG bytes that do not look random.
//!
//! With `--features stub` the same program runs with the WebSocket logic replaced by a byte copy
//! (`stub.rs`): the footprint baseline. Modules: [`ws`] or [`stub`] (the two ends), [`link`] (the
//! byte queues between them), [`pattern`] (messages and the client's checks), [`nrf51`] (RNG and
//! timer), [`exit`], [`stack`].
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// The size builds leave one end of each module unused.
#![cfg_attr(
    any(feature = "client-only", feature = "server-only"),
    allow(dead_code)
)]

mod exit;
mod link;
mod nrf51;
mod pattern;
#[path = "../../src/stack.rs"]
mod stack;
#[cfg(any(feature = "stub", feature = "client-only", feature = "server-only"))]
mod stub;
#[cfg(not(feature = "stub"))]
mod ws;

use core::mem::MaybeUninit;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use panic_semihosting as _;

use link::Pipe;
use nrf51::{Clock, Rng};
use pattern::{Expect, Gen, Kind, ServerLog};
#[cfg(feature = "stub")]
use stub as end;
#[cfg(not(feature = "stub"))]
use ws as end;

/// The two ends. `client-only` / `server-only` (size builds, not run: a core end does not talk to a
/// byte copy) put the stub in for the other end, for the client's and the server's own shares.
mod ends {
    #[cfg(any(feature = "stub", feature = "server-only"))]
    pub use crate::stub::Client;
    #[cfg(any(feature = "stub", feature = "client-only"))]
    pub use crate::stub::Server;
    #[cfg(not(any(feature = "stub", feature = "server-only")))]
    pub use crate::ws::Client;
    #[cfg(not(any(feature = "stub", feature = "client-only")))]
    pub use crate::ws::Server;
}

/// The client's receive buffer: the server's echo arrives in chunks of at most this.
const CLIENT_RX: usize = 512;
/// The client's transmit ring: one fragment (plus its 8-byte header) and a ping behind it.
const CLIENT_TX: usize = 1024;
/// The server's receive buffer: the client's 700-byte fragments arrive in two chunks each. Also the
/// largest request head (the core clamps its head limit to it).
const SERVER_RX: usize = 512;
/// The server's transmit ring: the echo of a full receive buffer, and more.
const SERVER_TX: usize = 1024;
/// Each direction of the link holds this much: a transport with a small window.
const PIPE: usize = 256;
/// The client sends messages longer than this as fragments of this size.
const FRAGMENT: usize = 700;

/// Why the conversation failed: a check, described.
pub type Fail = &'static str;

/// The client's close reason, which the server echoes.
pub const CLOSE_REASON: &str = "done";
/// The server's ping payload.
pub const SERVER_PING: &[u8] = b"server ping";
/// The client's ping payload: the 125-byte maximum, every byte from 0x00 to 0x7c, then 0xff.
static CLIENT_PING: [u8; 125] = ping_payload();

const fn ping_payload() -> [u8; 125] {
    let mut p = [0u8; 125];
    let mut i = 0;
    while i < 124 {
        p[i] = i as u8;
        i += 1;
    }
    p[124] = 0xff;
    p
}

/// The messages the client sends, in order: kind, length, and whether to ping in the middle.
const MESSAGES: &[(Kind, usize, bool)] = &[
    (Kind::Text, 0, false),
    (Kind::Text, 126, false),
    (Kind::Text, FRAGMENT, false),
    (Kind::Text, 6000, false),
    (Kind::Text, 65536, false),
    (Kind::Binary, 0, false),
    (Kind::Binary, 1, false),
    (Kind::Binary, 125, false),
    (Kind::Binary, 126, false),
    (Kind::Binary, 127, false),
    (Kind::Binary, 5000, false),
    (Kind::Binary, 65535, false),
    (Kind::Binary, 65536, true),
];

/// The seed of the first message, whose frame is checked on the wire.
const FIRST_SEED: u32 = 0x5EED;

/// The whole run must end within this (it takes well under a second).
const TIME_LIMIT_MS: u64 = 20_000;
/// Rounds of the I/O loop in a row where nothing moves before the run is declared stalled.
const STALL_ROUNDS: u32 = 3;

/// A failed run: the exit status and what went wrong.
struct Failure {
    code: u32,
    what: &'static str,
}

impl From<Fail> for Failure {
    fn from(what: Fail) -> Self {
        Failure {
            code: exit::CHECK_FAILED,
            what,
        }
    }
}

fn check(ok: bool, what: Fail) -> Result<(), Failure> {
    if ok { Ok(()) } else { Err(what.into()) }
}

/// Everything the conversation moves: the two ends, the link, the RNG and the clock, and the
/// records the checks read.
struct World {
    client: &'static mut ends::Client,
    server: &'static mut ends::Server,
    /// Client to server, and back.
    up: Pipe,
    down: Pipe,
    rng: Rng,
    clock: Clock,
    expect: Expect,
    log: ServerLog,
}

impl World {
    /// Moves bytes along both directions of the link: out of each end's ring into its queue, out of
    /// each queue into the other end's receive buffer.
    fn pump(&mut self) -> bool {
        let mut moved = 0;
        let n = self.up.push(self.client.outgoing());
        self.client.sent(n);
        moved += n;
        let n = self.up.pop(self.server.space());
        self.server.received(n);
        moved += n;
        let n = self.down.push(self.server.outgoing());
        self.server.sent(n);
        moved += n;
        let n = self.down.pop(self.client.space());
        self.client.received(n);
        moved += n;
        moved > 0
    }

    /// One round of the I/O loop: link, server, client, link. Whether anything moved.
    fn round(&mut self) -> Result<bool, Failure> {
        let now = self.clock.millis();
        if now > TIME_LIMIT_MS {
            return Err(Failure {
                code: exit::STALLED,
                what: "the time limit passed",
            });
        }
        let mut moved = self.pump();
        moved |= self.server.step(&mut self.rng, now, &mut self.log)?;
        moved |= self.client.step(&mut self.rng, now, &mut self.expect)?;
        moved |= self.pump();
        if let Some(what) = self.expect.error.or(self.log.error) {
            return Err(what.into());
        }
        Ok(moved)
    }

    /// Runs rounds until `done`; fails when nothing moves for a few rounds.
    fn run_until(&mut self, what: Fail, done: impl Fn(&World) -> bool) -> Result<(), Failure> {
        let mut still = 0;
        while !done(self) {
            still = if self.round()? { 0 } else { still + 1 };
            if still > STALL_ROUNDS {
                return Err(Failure {
                    code: exit::STALLED,
                    what,
                });
            }
        }
        Ok(())
    }

    /// Sends a message of `kind` and `len` generated from `seed`, in fragments when it is longer
    /// than [`FRAGMENT`], and runs until its echo has come back whole and equal; with `ping`, a ping
    /// goes out between its third and fourth fragments. Returns the frames sent.
    fn message(&mut self, kind: Kind, len: usize, seed: u32, ping: bool) -> Result<u32, Failure> {
        self.expect.message(kind, len, seed);
        let mut message = Gen::new(kind, len, seed);
        let mut fragment = [0u8; FRAGMENT];
        let mut filled = None;
        let mut frames = 0;
        let mut all_sent = false;
        let mut ping_owed = ping;
        let mut still = 0;
        loop {
            let mut moved = false;
            if !all_sent {
                let n = *filled.get_or_insert_with(|| message.fill(&mut fragment));
                let fin = message.left() == 0;
                let first = frames == 0;
                if self
                    .client
                    .send(&mut self.rng, kind, &fragment[..n], first, fin)?
                {
                    filled = None;
                    frames += 1;
                    all_sent = fin;
                    moved = true;
                }
            }
            if ping_owed && frames == 3 && self.client.ping(&mut self.rng, &CLIENT_PING)? {
                self.expect.pong = Some(&CLIENT_PING);
                ping_owed = false;
            }
            if all_sent && self.expect.done && !ping_owed && self.expect.pong.is_none() {
                return Ok(frames);
            }
            moved |= self.round()?;
            still = if moved { 0 } else { still + 1 };
            if still > STALL_ROUNDS {
                return Err(Failure {
                    code: exit::STALLED,
                    what: "a message's echo stalled",
                });
            }
        }
    }
}

/// Every buffer of the firmware, in one static (zeroed: `.bss`).
struct Buffers {
    client_rx: [u8; CLIENT_RX],
    client_tx: [u8; CLIENT_TX],
    server_rx: [u8; SERVER_RX],
    server_tx: [u8; SERVER_TX],
    up: [u8; PIPE],
    down: [u8; PIPE],
}

#[entry]
fn main() -> ! {
    // The buffers, the link's queues and the two ends are statics (cortex-m-rt hands them out as
    // `&'static mut`): their RAM shows in `.bss`, not on the stack.
    static mut BUFFERS: Buffers = Buffers {
        client_rx: [0; CLIENT_RX],
        client_tx: [0; CLIENT_TX],
        server_rx: [0; SERVER_RX],
        server_tx: [0; SERVER_TX],
        up: [0; PIPE],
        down: [0; PIPE],
    };
    static mut CLIENT: MaybeUninit<ends::Client> = MaybeUninit::uninit();
    static mut SERVER: MaybeUninit<ends::Server> = MaybeUninit::uninit();

    stack::paint();
    let Buffers {
        client_rx,
        client_tx,
        server_rx,
        server_tx,
        up,
        down,
    } = BUFFERS;
    let mut world = World {
        client: CLIENT.write(ends::Client::new(client_rx, client_tx)),
        server: SERVER.write(ends::Server::new(server_rx, server_tx)),
        up: Pipe::new(up),
        down: Pipe::new(down),
        rng: Rng::start(),
        clock: Clock::start(),
        expect: Expect::new(),
        log: ServerLog::default(),
    };
    hprintln!(
        "m0: client and server on {}, Cortex-M0 (nRF51, 16 KiB RAM), in-memory link",
        end::NAME
    );
    if let Some(size) = end::driver_size() {
        hprintln!("size_of::<Driver>() = {} bytes", size);
    }
    hprintln!(
        "RAM: client {} B + server {} B (rx {}+{}, tx {}+{}), link 2 x {} B; static RAM {} B, stack room {} B",
        core::mem::size_of::<ends::Client>(),
        core::mem::size_of::<ends::Server>(),
        CLIENT_RX,
        SERVER_RX,
        CLIENT_TX,
        SERVER_TX,
        PIPE,
        16 * 1024 - stack::room(),
        stack::room()
    );
    let code = match converse(&mut world) {
        Ok(()) => {
            hprintln!("PASS: every check passed");
            exit::SUCCESS
        }
        Err(f) => {
            hprintln!("FAIL: {}", f.what);
            f.code
        }
    };
    hprintln!(
        "peak stack: {} bytes; {} ms; exit {}",
        stack::peak(),
        world.clock.millis(),
        code
    );
    exit::exit(code)
}

fn converse(w: &mut World) -> Result<(), Failure> {
    // The opening handshake.
    w.client.start(&mut w.rng)?;
    w.run_until("the handshake stalled", |w| {
        w.client.is_open() && w.log.opened
    })?;
    check(w.log.target_ok, "the server did not get GET /echo")?;
    check(
        (w.client.protocol, w.log.protocol) == (Some(end::PROTOCOL.0), Some(end::PROTOCOL.1)),
        "client and server disagree on the subprotocol",
    )?;
    hprintln!(
        "handshake: {} bytes up, {} down; status {}; subprotocol: the client's offer #{}, the server's #{}; {} ms",
        w.up.total,
        w.down.total,
        w.client.status,
        end::PROTOCOL.0,
        end::PROTOCOL.1,
        w.clock.millis()
    );

    // A first small message, checked on the wire: masked with the key the RNG just gave.
    let mut first = [0u8; 16];
    let n = Gen::new(Kind::Text, first.len(), FIRST_SEED).fill(&mut first);
    w.expect.message(Kind::Text, n, FIRST_SEED);
    check(
        w.client
            .send(&mut w.rng, Kind::Text, &first[..n], true, true)?,
        "no room for the first message",
    )?;
    w.client.check_wire(w.rng.stats.last_key, &first[..n])?;
    w.run_until("the first message stalled", |w| w.expect.done)?;
    hprintln!(
        "text {} B: on the wire masked with the key the RNG just gave; echoed",
        n
    );

    // Text and binary, 0 B to 64 KiB.
    for (i, &(kind, len, ping)) in MESSAGES.iter().enumerate() {
        let started = w.clock.millis();
        let chunks_before = w.log.chunks;
        let frames = w.message(kind, len, 0x9E37_79B9 ^ i as u32, ping)?;
        if len > CLIENT_RX {
            check(w.expect.chunks > 1, "a long echo arrived in one chunk")?;
        }
        hprintln!(
            "{} {} B: sent in {} frame(s), echoed in {} chunk(s), received in {}{}; {} ms",
            kind.name(),
            len,
            frames,
            w.log.chunks - chunks_before,
            w.expect.chunks,
            if ping {
                "; a ping and its pong in between"
            } else {
                ""
            },
            w.clock.millis() - started
        );
    }

    // Pings: the client's (125 bytes), then the server's.
    check(
        w.client.ping(&mut w.rng, &CLIENT_PING)?,
        "no room for a ping",
    )?;
    w.expect.pong = Some(&CLIENT_PING);
    w.run_until("the client's ping got no pong", |w| w.expect.pong.is_none())?;
    check(
        w.server.ping(&mut w.rng, SERVER_PING)?,
        "no room for the server's ping",
    )?;
    w.run_until("the server's ping got no pong", |w| w.log.pongs == 1)?;
    #[cfg(not(feature = "stub"))]
    check(
        w.expect.pings == 1 && w.log.pings == 2,
        "a ping went missing",
    )?;
    hprintln!(
        "ping/pong: client 125 B (twice, once mid-message) and server {} B, payloads echoed; the client answered {} ping(s)",
        SERVER_PING.len(),
        w.expect.pings
    );

    // The closing handshake: the client closes, the server echoes, then closes the transport.
    check(w.client.close(&mut w.rng)?, "no room for the close")?;
    w.run_until("the closing handshake stalled", |w| {
        w.client.is_closed() && w.server.is_done() && w.expect.close.is_some()
    })?;
    let (code, reason, len) = w.expect.close.unwrap_or_default();
    check(
        code == 1000 && &reason[..len] == CLOSE_REASON.as_bytes(),
        "the close came back with another code or reason",
    )?;
    #[cfg(not(feature = "stub"))]
    check(
        w.log.close == Some(1000),
        "the server did not get the close",
    )?;
    check(
        w.up.is_empty() && w.down.is_empty(),
        "bytes left on the link",
    )?;
    hprintln!(
        "close: 1000 \"{}\" both ways; {} bytes up, {} down in all",
        CLOSE_REASON,
        w.up.total,
        w.down.total
    );
    let l = w.log;
    hprintln!(
        "server: {} messages echoed in {} chunks ({} bytes), {} pings in, {} pongs to its own, close {}",
        l.messages,
        l.chunks,
        l.bytes,
        l.pings,
        l.pongs,
        l.close.unwrap_or(0)
    );

    // The RNG's bytes: fresh keys, not all zero, not constant.
    let s = w.rng.stats;
    hprintln!(
        "RNG: {} bytes read, {} distinct values; {} masking keys, {} zero, {} equal to the one before",
        s.bytes,
        s.distinct(),
        s.keys,
        s.zero_keys,
        s.repeated_keys
    );
    let looks_random = s.bytes >= 16 && s.distinct() >= (s.bytes / 2).min(200);
    #[cfg(not(feature = "stub"))]
    let looks_random = looks_random && s.keys > 100 && s.zero_keys == 0 && s.repeated_keys == 0;
    if !looks_random {
        return Err(Failure {
            code: exit::BAD_RNG,
            what: "the hardware RNG's bytes do not look random",
        });
    }
    Ok(())
}
