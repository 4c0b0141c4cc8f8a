//! Ending the program under QEMU with an exit status, through semihosting.
//!
//! The plain semihosting exit (`SYS_EXIT`, what `debug::exit` uses) can only say success or failure;
//! `SYS_EXIT_EXTENDED` carries any code, so the host script can tell a stuck shutdown from a bug.
//! Status 1 is a panic (panic-semihosting's `exit` feature uses the plain exit).

/// Shut down on request, every connection over, no error of the firmware's own.
pub const SUCCESS: u32 = 0;
/// Shut down, but the firmware hit an error of its own on the way (an echo or an answer that could
/// not be queued): a bug. What clients did wrong (protocol errors, timeouts) is counted, not this.
pub const INTERNAL_ERROR: u32 = 2;
/// Connections were still open long after the shutdown request.
pub const SHUTDOWN_STUCK: u32 = 3;
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
