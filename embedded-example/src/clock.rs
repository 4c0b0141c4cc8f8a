//! Milliseconds since boot, counted by the SysTick exception: the only clock the firmware has, fed to
//! smoltcp (timers, retransmission) and to the WebSocket driver (`now`) alike.
//!
//! Holds one counter and its interrupt handler; never blocks.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;

/// The core clock of the mps2-an385 board (and of QEMU's model of it): 25 MHz.
const CORE_HZ: u32 = 25_000_000;

/// Ticks per second: one per millisecond.
const TICK_HZ: u32 = 1_000;

/// Milliseconds since [`start`]; wraps after 49 days, far beyond a run.
static MILLIS: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick: it counts the core clock down from `CORE_HZ / TICK_HZ - 1` and raises its
/// exception at every wrap, once per millisecond.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CORE_HZ / TICK_HZ - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Milliseconds since [`start`].
pub fn now_millis() -> u64 {
    u64::from(MILLIS.load(Ordering::Relaxed))
}

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Relaxed);
}
