//! The driver's two byte buffers, both over storage the caller owns: [`RxBuf`] for received
//! bytes and [`TxRing`] for bytes to send.
//!
//! Nothing here may allocate, block, touch I/O, or parse the protocol: the buffers only keep
//! bytes, and the driver and the I/O layer each use their own side of them. Only the I/O side is
//! public (`free_space`/`commit`/`write`, `peek`/`peek_vectored`/`consume`, `pause`/`resume`, sizes):
//! the driver's side is crate-private, as rustls keeps its own, so an application cannot consume
//! bytes between polls and desynchronise the driver.
//!
//! # Storage
//!
//! Both take anything that is `AsRef<[u8]> + AsMut<[u8]>`: an array, a `&mut [u8]`, a
//! `Vec<u8>`. Its length is the capacity; it never grows.
//!
//! # Receive buffer
//!
//! [`RxBuf`] is linear: the readable bytes are one contiguous slice, so the driver parses a
//! frame in place, unmasks it in place (`RxBuf::readable_mut`) and hands out a borrowed view
//! of its payload (`RxBuf::consume_view`). The I/O side reads into
//! [`RxBuf::free_space`] and commits the count. Buffered bytes are never shifted per frame:
//! they move to the front of the storage only when the write position has reached its end and
//! consumed bytes sit before them.
//!
//! # Transmit ring
//!
//! [`TxRing`] wraps around; the I/O side sends [`TxRing::peek`] (or both parts from
//! [`TxRing::peek_vectored`]) and consumes what was sent. Its contracts:
//!
//! - **All or nothing.** A frame of known size is written through `TxRing::frame` and
//!   becomes visible only at `FrameWriter::commit`; a write of unknown length goes through a
//!   `Transaction`, discarded when dropped or when a piece does not fit. A failed write
//!   ([`TxError::Full`]: drain and retry; [`TxError::TooLarge`]: never fits) changes nothing.
//! - **Release mark.** After `TxRing::hold`, bytes written are buffered but held back:
//!   `peek` stops at the mark until `TxRing::release`.
//! - **Reserved slot.** `TxRing::reserve` sets aside zeroed bytes for a value known later
//!   (hixie-76's digest), holding them and everything after them; `TxRing::fill` writes the
//!   value, and `release` lets it all go.
//! - **Pause.** For a zero-copy send the application writes to the socket itself:
//!   [`TxRing::pause`] is allowed only on an empty ring, and until [`TxRing::resume`] the I/O
//!   side is shown nothing, so frames the driver writes meanwhile wait their turn.

mod rx;
mod tx;

pub use rx::RxBuf;
#[cfg_attr(not(feature = "drafts"), allow(unused_imports))]
pub(crate) use tx::Slot;
pub(crate) use tx::Transaction;
pub use tx::{NotEmpty, TxError, TxRing};

/// The buffers against `VecDeque` models (the driver's side of the API is crate-private, so the
/// model test lives here).
#[cfg(test)]
mod model_tests;

/// The buffers' fuzz check; private feature `__fuzz`, not public API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod fuzz;

/// What both buffers are built over: any byte storage the caller owns.
pub(crate) trait Storage: AsRef<[u8]> + AsMut<[u8]> {}

impl<S: AsRef<[u8]> + AsMut<[u8]> + ?Sized> Storage for S {}
