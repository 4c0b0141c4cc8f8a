//! The two nRF51 peripherals the firmware uses, polled (nRF51 Series Reference Manual v3.0, chapters
//! 21 "RNG" and 18 "TIMER"; QEMU's `nrf51_rng` and `nrf51_timer` models behave as described there):
//!
//! - [`Rng`]: the hardware random number generator, the source of the client's masking keys and
//!   handshake nonce. `TASKS_START` runs it; each new byte sets `EVENTS_VALRDY` and is read from
//!   `VALUE`; writing 0 to `EVENTS_VALRDY` clears the event. QEMU draws each byte from the host's
//!   entropy (one every 167 µs of virtual time with the bias correction off).
//! - [`Clock`]: TIMER0 as a free-running 32-bit microsecond counter (16 MHz / 2^4), read by
//!   capturing it into `CC[0]`, extended to 64 bits in software: `now` for the core's timers.

use core::ptr::{read_volatile, write_volatile};

/// A task register is triggered by writing 1 (nRF51 RM §10.1.2).
const TRIGGER: u32 = 1;

fn write(addr: usize, value: u32) {
    // SAFETY: only called with the addresses of nRF51 peripheral registers below (word aligned,
    // memory-mapped I/O that QEMU's microbit machine models); no Rust object lives there.
    unsafe { write_volatile(addr as *mut u32, value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { read_volatile(addr as *const u32) }
}

/// RNG registers (base 0x4000_D000).
mod rng {
    pub const BASE: usize = 0x4000_D000;
    pub const TASKS_START: usize = BASE;
    pub const EVENTS_VALRDY: usize = BASE + 0x100;
    /// Bit 0: bias correction (digital error correction); off is four times faster.
    pub const CONFIG: usize = BASE + 0x504;
    pub const VALUE: usize = BASE + 0x508;
}

/// TIMER0 registers (base 0x4000_8000).
mod timer {
    pub const BASE: usize = 0x4000_8000;
    pub const TASKS_START: usize = BASE;
    pub const TASKS_CLEAR: usize = BASE + 0x00C;
    pub const TASKS_CAPTURE0: usize = BASE + 0x040;
    pub const MODE: usize = BASE + 0x504;
    pub const BITMODE: usize = BASE + 0x508;
    pub const PRESCALER: usize = BASE + 0x510;
    pub const CC0: usize = BASE + 0x540;
}

/// What the RNG gave, for the firmware's check that its bytes look random (not all zero, not
/// constant, no masking key twice in a row).
#[derive(Clone, Copy, Debug, Default)]
pub struct RngStats {
    /// Bytes read from the RNG.
    pub bytes: u32,
    /// Which byte values were seen (a 256-bit set).
    pub seen: [u32; 8],
    /// Masking keys handed to the core.
    pub keys: u32,
    /// Keys of four zero bytes.
    pub zero_keys: u32,
    /// Keys equal to the key before them.
    pub repeated_keys: u32,
    /// The latest key.
    pub last_key: [u8; 4],
}

impl RngStats {
    /// How many different byte values were seen.
    pub fn distinct(&self) -> u32 {
        self.seen.iter().map(|w| w.count_ones()).sum()
    }
}

/// The nRF51 hardware RNG, polled.
pub struct Rng {
    pub stats: RngStats,
}

impl Rng {
    /// Starts the generator, bias correction off.
    pub fn start() -> Self {
        write(rng::CONFIG, 0);
        write(rng::EVENTS_VALRDY, 0);
        write(rng::TASKS_START, TRIGGER);
        Rng {
            stats: RngStats::default(),
        }
    }

    /// Fills `dest` with fresh bytes, each one a new `VALRDY` event: a value is read once, then the
    /// event cleared, so no byte is handed out twice.
    pub fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest {
            while read(rng::EVENTS_VALRDY) == 0 {}
            *byte = read(rng::VALUE) as u8;
            write(rng::EVENTS_VALRDY, 0);
            self.stats.bytes += 1;
            self.stats.seen[usize::from(*byte >> 5)] |= 1 << (*byte & 31);
        }
    }

    /// A masking key, counted in the statistics.
    #[cfg_attr(feature = "stub", allow(dead_code))] // only the core masks
    pub fn key(&mut self) -> [u8; 4] {
        let mut key = [0u8; 4];
        self.fill(&mut key);
        let s = &mut self.stats;
        if s.keys > 0 && key == s.last_key {
            s.repeated_keys += 1;
        }
        if key == [0; 4] {
            s.zero_keys += 1;
        }
        s.keys += 1;
        s.last_key = key;
        key
    }
}

/// The core's source of masking keys and nonces: the hardware RNG.
#[cfg(not(feature = "stub"))]
impl websocket_driver::MaskSource for Rng {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.fill(dest);
    }

    fn mask_key(&mut self) -> [u8; 4] {
        self.key()
    }
}

/// TIMER0 as a microsecond clock.
pub struct Clock {
    /// The counter's value at the latest read.
    last: u32,
    /// Microseconds counted before the counter's latest wrap-around, and since.
    high: u64,
}

impl Clock {
    /// Starts TIMER0 from zero: timer mode, 32 bits, 1 MHz.
    pub fn start() -> Self {
        write(timer::MODE, 0);
        write(timer::BITMODE, 3);
        write(timer::PRESCALER, 4);
        write(timer::TASKS_CLEAR, TRIGGER);
        write(timer::TASKS_START, TRIGGER);
        Clock { last: 0, high: 0 }
    }

    /// Microseconds since [`start`](Self::start).
    pub fn micros(&mut self) -> u64 {
        write(timer::TASKS_CAPTURE0, TRIGGER);
        let now = read(timer::CC0);
        if now < self.last {
            self.high += 1 << 32;
        }
        self.last = now;
        self.high + u64::from(now)
    }

    /// Milliseconds since [`start`](Self::start).
    pub fn millis(&mut self) -> u64 {
        self.micros() / 1000
    }
}
