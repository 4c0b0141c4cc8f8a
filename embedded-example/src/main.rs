//! Firmware for a Cortex-M3 (the mps2-an385 board, as QEMU models it): a WebSocket echo server on
//! port 80, over smoltcp's TCP/IPv4 on the board's LAN9118 Ethernet controller, with
//! `websocket-driver`'s core doing the protocol.
//!
//! No heap and no allocator: every buffer is a static, sized here. A static pool of [`SLOTS`]
//! connection slots (a TCP socket, a core `Driver` and its two buffers each) serves clients until a
//! plain `GET /shutdown` arrives; one more socket, listening behind the slots, answers 503 while all
//! of them are taken. Time is SysTick's millisecond count. At shutdown the open connections are
//! closed with 1001, and the program exits QEMU through semihosting: status 0 when everything ended
//! (see [`exit`]).
//!
//! Modules: [`lan9118`] (the Ethernet driver, as smoltcp's `phy::Device`), [`conn`] (one slot: the
//! WebSocket server on a TCP socket), [`clock`] (SysTick), [`exit`] (semihosting exit codes),
//! [`stack`] (peak stack measurement), [`log`] (semihosting text or defmt).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod clock;
mod conn;
mod exit;
mod lan9118;
mod log;
mod stack;

use cortex_m_rt::entry;
use panic_semihosting as _;
use smoltcp::iface::{self, Interface, PollResult, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use websocket_driver::{Config, Driver, Duration, Instant};

use conn::{Conn, Role, Stats};
use lan9118::{Frames, Lan9118, Regs};
use log::log;

/// Where the mps2-an385 maps its LAN9118 (Arm's AN385 application note, memory map).
const LAN9118_BASE: usize = 0x4020_0000;

/// Our address on QEMU's user-mode network ("slirp"): the guest is 10.0.2.15/24 behind 10.0.2.2.
const ADDRESS: IpCidr = IpCidr::new(IpAddress::v4(10, 0, 2, 15), 24);
/// The gateway: QEMU's user-mode network.
const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// The port the WebSocket server listens on (QEMU forwards a host port to it).
const PORT: u16 = 80;

/// Connection slots: this many WebSocket connections at once.
const SLOTS: usize = 4;
/// smoltcp's TCP receive buffer per slot: the window advertised to the client.
const TCP_RX: usize = 2048;
/// smoltcp's TCP send buffer per slot: what may be in flight unacknowledged.
const TCP_TX: usize = 2048;
/// The WebSocket receive buffer: messages larger than this arrive, and are echoed, in chunks. Also
/// the largest request head accepted (the core clamps its head limit to it).
const WS_RX: usize = 2048;
/// The WebSocket transmit ring: a full receive buffer's echo plus what is still in flight.
const WS_TX: usize = 4096;

/// The refusing socket's buffers: a request head in, a 503 out.
const REFUSE_TCP_RX: usize = 1024;
const REFUSE_TCP_TX: usize = 512;
const REFUSE_WS_RX: usize = 1024;
const REFUSE_WS_TX: usize = 512;

/// A client must complete the opening handshake this long after its TCP connection.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Keepalive: a peer silent this long gets a ping...
const PING_INTERVAL: Duration = Duration::from_secs(5);
/// ...and is closed (1006) if it stays silent this long after.
const PONG_TIMEOUT: Duration = Duration::from_secs(3);
/// Our close frame (shutdown) must be answered within this, or the connection is closed (1006).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// After the shutdown request, every connection must be over within this many milliseconds (the
/// closing deadline, then TCP's closing with its grace period, fit well inside).
const SHUTDOWN_LIMIT_MS: u64 = 10_000;
/// After the last connection, keep the network running this long so the last ACKs leave.
const LINGER_MS: u64 = 100;

/// One slot's buffers, in one static array (zeroed: `.bss`).
struct SlotBuffers {
    tcp_rx: [u8; TCP_RX],
    tcp_tx: [u8; TCP_TX],
    ws_rx: [u8; WS_RX],
    ws_tx: [u8; WS_TX],
}

impl SlotBuffers {
    const fn new() -> Self {
        SlotBuffers {
            tcp_rx: [0; TCP_RX],
            tcp_tx: [0; TCP_TX],
            ws_rx: [0; WS_RX],
            ws_tx: [0; WS_TX],
        }
    }
}

/// The refusing socket's buffers.
struct RefuseBuffers {
    tcp_rx: [u8; REFUSE_TCP_RX],
    tcp_tx: [u8; REFUSE_TCP_TX],
    ws_rx: [u8; REFUSE_WS_RX],
    ws_tx: [u8; REFUSE_WS_TX],
}

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these `static mut`s into `&'static mut` references, handed out once: the
    // statics live in `.bss` and no `unsafe` is needed to use them.
    static mut FRAMES: Frames = Frames::new();
    static mut BUFFERS: [SlotBuffers; SLOTS] = [const { SlotBuffers::new() }; SLOTS];
    static mut REFUSE: RefuseBuffers = RefuseBuffers {
        tcp_rx: [0; REFUSE_TCP_RX],
        tcp_tx: [0; REFUSE_TCP_TX],
        ws_rx: [0; REFUSE_WS_RX],
        ws_tx: [0; REFUSE_WS_TX],
    };
    static mut SOCKETS: [SocketStorage<'static>; SLOTS + 1] = [SocketStorage::EMPTY; SLOTS + 1];
    static mut CONNS: [Option<(Conn, SocketHandle)>; SLOTS + 1] = [const { None }; SLOTS + 1];

    stack::paint();
    let core = cortex_m::Peripherals::take().expect("first and only take");
    clock::start(core.SYST);
    log!("websocket-driver embedded example: mps2-an385, LAN9118, smoltcp");

    // SAFETY: LAN9118_BASE is the board's LAN9118, and this is the only `Regs` made for it.
    let regs = unsafe { Regs::new(LAN9118_BASE) };
    let mut nic = match Lan9118::init(regs, FRAMES) {
        Ok(nic) => nic,
        Err(e) => {
            log!("LAN9118: {}", e);
            exit::exit(exit::NO_NIC);
        }
    };
    let mac = EthernetAddress(nic.mac());
    log!("LAN9118 up, MAC {}", mac);

    let mut config = iface::Config::new(mac.into());
    // Seeds TCP initial sequence numbers; a real device would take it from a hardware RNG.
    config.random_seed = 0x5eed_0fee;
    let mut iface = Interface::new(config, &mut nic, net_now());
    iface.update_ip_addrs(|addrs| addrs.push(ADDRESS).expect("room for one address"));
    iface
        .routes_mut()
        .add_default_ipv4_route(GATEWAY)
        .expect("room for one route");
    log!("IPv4 {} via {}", ADDRESS, GATEWAY);

    let ws_config = Config::default()
        .with_handshake_timeout(Some(HANDSHAKE_TIMEOUT))
        .with_ping_interval(Some(PING_INTERVAL))
        .with_pong_timeout(PONG_TIMEOUT)
        .with_close_timeout(CLOSE_TIMEOUT);
    // The slots first, the refusing socket last: smoltcp gives a SYN to the first listening socket
    // in the set, so the refusing one only gets a client while no slot listens.
    let mut sockets = SocketSet::new(&mut SOCKETS[..]);
    for (i, (b, entry)) in BUFFERS.iter_mut().zip(CONNS.iter_mut()).enumerate() {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut b.tcp_rx[..]),
            tcp::SocketBuffer::new(&mut b.tcp_tx[..]),
        );
        let conn = Conn::new(
            i as u8,
            Role::Echo,
            PORT,
            ws_config,
            &mut b.ws_rx[..],
            &mut b.ws_tx[..],
        );
        *entry = Some((conn, sockets.add(socket)));
    }
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(&mut REFUSE.tcp_rx[..]),
        tcp::SocketBuffer::new(&mut REFUSE.tcp_tx[..]),
    );
    let conn = Conn::new(
        SLOTS as u8,
        Role::Refuse,
        PORT,
        ws_config,
        &mut REFUSE.ws_rx[..],
        &mut REFUSE.ws_tx[..],
    );
    CONNS[SLOTS] = Some((conn, sockets.add(socket)));
    let conns = &mut CONNS[..];

    report_sizes();
    log!(
        "listening on port {}: {} slots, a 5th client gets 503; GET {} stops",
        PORT,
        SLOTS,
        conn::SHUTDOWN_PATH
    );

    let mut stats = Stats::default();
    let mut shutdown_at: Option<u64> = None;
    let mut stopped_at: Option<u64> = None;
    loop {
        let now = clock::now_millis();
        let polled = iface.poll(net_now(), &mut nic, &mut sockets);
        let mut busy = false;
        for (conn, handle) in conns.iter_mut().flatten() {
            let socket = sockets.get_mut::<tcp::Socket>(*handle);
            busy |= conn.step(socket, Instant::from_millis(now), &mut stats);
        }
        if stats.shutdown && shutdown_at.is_none() {
            log!("shutdown requested: closing every connection with 1001");
            shutdown_at = Some(now);
            for (conn, _) in conns.iter_mut().flatten() {
                conn.stop();
            }
        }
        if let Some(at) = shutdown_at {
            let all_stopped = conns.iter().flatten().all(|(conn, _)| conn.is_stopped());
            match stopped_at {
                None if all_stopped => stopped_at = Some(now),
                Some(t) if now >= t + LINGER_MS => report_and_exit(&stats, exit::SUCCESS),
                _ if now >= at + SHUTDOWN_LIMIT_MS => {
                    log!(
                        "shutdown: connections still open after {} ms",
                        SHUTDOWN_LIMIT_MS
                    );
                    report_and_exit(&stats, exit::SHUTDOWN_STUCK)
                }
                _ => {}
            }
        }
        if !busy && polled == PollResult::None {
            // Nothing to do until a frame arrives or a timer runs out: sleep until the next
            // SysTick (the NIC is polled, its interrupt is off), at most a millisecond.
            cortex_m::asm::wfi();
        }
    }
}

/// smoltcp's time: the same SysTick milliseconds.
fn net_now() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis(clock::now_millis() as i64)
}

/// Logs what each slot takes in RAM: its buffers, its TCP socket and its driver, all static.
fn report_sizes() {
    let buffers = core::mem::size_of::<SlotBuffers>();
    let socket = core::mem::size_of::<SocketStorage<'static>>();
    let slot = core::mem::size_of::<Option<(Conn, SocketHandle)>>();
    log!(
        "RAM per slot: {} bytes = buffers {} (TCP {} + {}, WebSocket {} + {}) + TCP socket {} + slot {} (core Driver {})",
        buffers + socket + slot,
        buffers,
        TCP_RX,
        TCP_TX,
        WS_RX,
        WS_TX,
        socket,
        slot,
        core::mem::size_of::<Driver>()
    );
}

/// Prints the run's counters and the peak stack, and exits QEMU with `code` (or with
/// [`exit::INTERNAL_ERROR`] if the firmware hit an error of its own on the way).
fn report_and_exit(stats: &Stats, code: u32) -> ! {
    log!(
        "served {} TCP connections: {} WebSocket, {} refused busy (503), {} other HTTP answers",
        stats.connections,
        stats.upgrades,
        stats.busy,
        stats.http
    );
    log!(
        "endings: {} closing handshakes, {} protocol errors, {} timeouts, {} TCP ends without closing handshake",
        stats.closed,
        stats.protocol_errors,
        stats.timeouts,
        stats.dropped
    );
    log!(
        "echoed {} messages ({} bytes), answered {} pings; {} internal errors",
        stats.messages,
        stats.bytes,
        stats.pings,
        stats.internal
    );
    log!("peak stack use: {} bytes", stack::peak());
    let code = if code == exit::SUCCESS && stats.internal > 0 {
        exit::INTERNAL_ERROR
    } else {
        code
    };
    log!("exit {}", code);
    exit::exit(code)
}
