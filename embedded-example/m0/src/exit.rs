//! Ending the program under QEMU with an exit status, through semihosting `SYS_EXIT_EXTENDED` (the
//! plain `SYS_EXIT` can only say success or failure). Status 1 is a panic (panic-semihosting's `exit`
//! feature uses the plain exit).

/// The whole conversation ran and every check passed.
pub const SUCCESS: u32 = 0;
/// A check of the conversation failed (wrong bytes, a missing event, a core error).
pub const CHECK_FAILED: u32 = 2;
/// The conversation stopped moving, or ran past its time limit.
pub const STALLED: u32 = 3;
/// The hardware RNG's bytes look wrong (all zero, constant, repeated keys).
pub const BAD_RNG: u32 = 4;

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
