//! Firmware for a Cortex-M3 (the mps2-an385 board, as QEMU models it): a WebSocket echo server on
//! port 80, over smoltcp's TCP/IPv4 on the board's LAN9118 Ethernet controller, with
//! `websocket-driver`'s core doing the protocol.
//!
//! No heap and no allocator: every buffer is a static, sized here. Time is SysTick's millisecond count.
//! The program serves one WebSocket conversation, then exits QEMU through semihosting: status 0 when it
//! ended cleanly (closing handshake done, TCP closed), non-zero otherwise (see [`exit`]), and non-zero
//! when the watchdog deadline passes first.
//!
//! Modules: [`lan9118`] (the Ethernet driver, as smoltcp's `phy::Device`), [`echo`] (the WebSocket
//! server on a TCP socket), [`clock`] (SysTick), [`exit`] (semihosting exit codes), [`stack`] (peak
//! stack measurement).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod clock;
mod echo;
mod exit;
mod lan9118;
mod stack;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use panic_semihosting as _;
use smoltcp::iface::{self, Interface, PollResult, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};

use echo::{EchoServer, Progress};
use lan9118::{Frames, Lan9118, Regs};

/// Where the mps2-an385 maps its LAN9118 (Arm's AN385 application note, memory map).
const LAN9118_BASE: usize = 0x4020_0000;

/// Our address on QEMU's user-mode network ("slirp"): the guest is 10.0.2.15/24 behind 10.0.2.2.
const ADDRESS: IpCidr = IpCidr::new(IpAddress::v4(10, 0, 2, 15), 24);
/// The gateway: QEMU's user-mode network.
const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// The port the WebSocket server listens on (QEMU forwards a host port to it).
const PORT: u16 = 80;

/// smoltcp's TCP receive and send buffers (the receive one is the advertised window).
const TCP_BUFFER: usize = 4096;
/// The WebSocket receive buffer: messages larger than this arrive, and are echoed, in chunks.
const WS_RX: usize = 2048;
/// The WebSocket transmit ring: a full receive buffer's echo plus what is still in flight.
const WS_TX: usize = 4096;

/// The whole run must end within this many milliseconds of boot.
const WATCHDOG_MS: u64 = 30_000;
/// After the conversation, keep the network running this long so the last ACKs leave.
const LINGER_MS: u64 = 100;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these `static mut`s into `&'static mut` references, handed out once: the
    // statics live in `.bss` and no `unsafe` is needed to use them.
    static mut FRAMES: Frames = Frames::new();
    static mut TCP_RX: [u8; TCP_BUFFER] = [0; TCP_BUFFER];
    static mut TCP_TX: [u8; TCP_BUFFER] = [0; TCP_BUFFER];
    static mut WS_RX_BUF: [u8; WS_RX] = [0; WS_RX];
    static mut WS_TX_BUF: [u8; WS_TX] = [0; WS_TX];
    static mut SOCKETS: [SocketStorage<'static>; 1] = [SocketStorage::EMPTY];

    stack::paint();
    let core = cortex_m::Peripherals::take().expect("first and only take");
    clock::start(core.SYST);
    hprintln!("websocket-driver embedded example: mps2-an385, LAN9118, smoltcp");

    // SAFETY: LAN9118_BASE is the board's LAN9118, and this is the only `Regs` made for it.
    let regs = unsafe { Regs::new(LAN9118_BASE) };
    let mut nic = match Lan9118::init(regs, FRAMES) {
        Ok(nic) => nic,
        Err(e) => {
            hprintln!("LAN9118: {}", e);
            exit::exit(exit::NO_NIC);
        }
    };
    let mac = EthernetAddress(nic.mac());
    hprintln!("LAN9118 up, MAC {}", mac);

    let mut config = iface::Config::new(mac.into());
    // Seeds TCP initial sequence numbers; a real device would take it from a hardware RNG.
    config.random_seed = 0x5eed_0fee;
    let mut iface = Interface::new(config, &mut nic, net_now());
    iface.update_ip_addrs(|addrs| addrs.push(ADDRESS).expect("room for one address"));
    iface
        .routes_mut()
        .add_default_ipv4_route(GATEWAY)
        .expect("room for one route");
    hprintln!("IPv4 {} via {}", ADDRESS, GATEWAY);

    let mut sockets = SocketSet::new(&mut SOCKETS[..]);
    let socket = tcp::Socket::new(
        tcp::SocketBuffer::new(&mut TCP_RX[..]),
        tcp::SocketBuffer::new(&mut TCP_TX[..]),
    );
    let handle = sockets.add(socket);
    let mut server = EchoServer::new(PORT, &mut WS_RX_BUF[..], &mut WS_TX_BUF[..]);

    let mut finished_at = None;
    loop {
        let now = clock::now_millis();
        if now > WATCHDOG_MS {
            hprintln!("watchdog: no clean end after {} ms", WATCHDOG_MS);
            exit::exit(exit::WATCHDOG);
        }
        let polled = iface.poll(net_now(), &mut nic, &mut sockets);
        let socket = sockets.get_mut::<tcp::Socket>(handle);
        match server.step(socket, websocket_driver::Instant::from_millis(now)) {
            Progress::Busy => {}
            Progress::Idle if polled == PollResult::None => {
                // Nothing to do until a frame arrives or a timer runs out: sleep until the next
                // SysTick (the NIC is polled, its interrupt is off), at most a millisecond.
                cortex_m::asm::wfi();
            }
            Progress::Idle => {}
            Progress::Finished => match finished_at {
                None => finished_at = Some(now),
                Some(at) if now >= at + LINGER_MS => report_and_exit(&server),
                Some(_) => cortex_m::asm::wfi(),
            },
        }
    }
}

/// smoltcp's time: the same SysTick milliseconds.
fn net_now() -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis(clock::now_millis() as i64)
}

/// Prints how the conversation went and exits QEMU with the matching status.
fn report_and_exit(server: &EchoServer) -> ! {
    hprintln!("peak stack use: {} bytes", stack::peak());
    match server.outcome() {
        Ok(summary) => {
            hprintln!(
                "PASS: {} text and {} binary messages echoed, {} ping(s) answered, closed with {}",
                summary.texts,
                summary.binaries,
                summary.pings,
                summary.close_code.unwrap_or(0)
            );
            exit::exit(exit::SUCCESS)
        }
        Err(failure) => {
            hprintln!("FAIL: {}", failure);
            let code = match failure {
                echo::Failure::Transport(_) => exit::TRANSPORT_ERROR,
                _ => exit::PROTOCOL_ERROR,
            };
            exit::exit(code)
        }
    }
}
