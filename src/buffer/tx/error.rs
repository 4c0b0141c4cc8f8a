//! Why a [`TxRing`](super::TxRing) refused a write or a pause: small `Copy` errors with their texts.

use core::fmt;

/// Why a write into a [`TxRing`](super::TxRing) failed. Nothing was written in either case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TxError {
    /// The frame needs `needed` bytes of free space; drain the ring and try again. Nothing was
    /// written.
    Full {
        /// Free space the write needs, in bytes.
        needed: usize,
    },
    /// The frame (`size` bytes) can never fit in this ring (`capacity`). Nothing was written.
    TooLarge {
        /// Size of the write, in bytes.
        size: usize,
        /// Capacity of the ring, in bytes.
        capacity: usize,
    },
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TxError::Full { needed } => write!(
                f,
                "transmit ring full: the write needs {needed} bytes of free space"
            ),
            TxError::TooLarge { size, capacity } => write!(
                f,
                "a write of {size} bytes can never fit in a transmit ring of {capacity} bytes"
            ),
        }
    }
}

impl core::error::Error for TxError {}

/// [`TxRing::pause`](super::TxRing::pause) was refused because the ring still holds bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotEmpty;

impl fmt::Display for NotEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the transmit ring must be empty before pausing it")
    }
}

impl core::error::Error for NotEmpty {}
