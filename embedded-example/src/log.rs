//! The firmware's log: one `log!` macro, two back ends.
//!
//! Without the `defmt` feature (the default) every line is formatted on the target and written as text
//! through semihosting (`hprintln!`): QEMU prints it on its standard output, and `run.sh` reads it.
//! With `--features defmt` the same lines go through [`defmt`] (formatting happens on the host; the
//! firmware writes compact binary frames through `defmt-semihosting`), to be decoded with
//! `defmt-print -e <firmware ELF>`.
//!
//! The format strings use only `{}`, and every argument implements both `Display` and
//! `defmt::Format`, so each call site compiles with either back end.

/// Writes one line to the log.
#[cfg(not(feature = "defmt"))]
macro_rules! log {
    ($($arg:tt)*) => {
        cortex_m_semihosting::hprintln!($($arg)*)
    };
}

/// Writes one line to the log.
#[cfg(feature = "defmt")]
macro_rules! log {
    ($($arg:tt)*) => {
        defmt::println!($($arg)*)
    };
}

pub(crate) use log;

// defmt's global logger: frames go to the host through semihosting.
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

// Each defmt line carries the milliseconds since boot.
#[cfg(feature = "defmt")]
defmt::timestamp!("{=u64:ms}", crate::clock::now_millis());
