//! Ending the program under QEMU with an exit status, through semihosting.
//!
//! The plain semihosting exit (`SYS_EXIT`, what `debug::exit` uses) can only say success or failure;
//! `SYS_EXIT_EXTENDED` carries any code, so the host script can tell a watchdog from a protocol error.
//! Status 1 is a panic (panic-semihosting's `exit` feature uses the plain exit).

/// The conversation ran to its end: handshake, echoes, closing handshake, TCP closed.
pub const SUCCESS: u32 = 0;
/// The WebSocket peer broke the protocol, or the handshake was refused.
pub const PROTOCOL_ERROR: u32 = 2;
/// The watchdog deadline passed before the conversation ended.
pub const WATCHDOG: u32 = 3;
/// The TCP connection ended without a WebSocket closing handshake.
pub const TRANSPORT_ERROR: u32 = 4;
/// The Ethernet controller could not be brought up.
pub const NO_NIC: u32 = 5;

/// Semihosting operation `SYS_EXIT_EXTENDED`.
const SYS_EXIT_EXTENDED: usize = 0x20;
/// The reason `ADP_Stopped_ApplicationExit`: a normal exit, with the code as its subcode.
const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;

/// Exits QEMU with status `code`. Without a semihosting host (a real board, no debugger) this would
/// fault instead; the firmware is meant for QEMU.
pub fn exit(code: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code];
    // SAFETY: SYS_EXIT_EXTENDED reads the two-word block `[reason, subcode]` its argument points to;
    // `block` lives until the call returns (it does not return under QEMU).
    unsafe {
        cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block);
    }
    loop {
        cortex_m::asm::wfi();
    }
}
