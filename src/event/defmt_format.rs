//! `defmt::Format` for the buffers an application logs around [`Driver::poll`](crate::Driver::poll),
//! and a compile-time check that every public type a firmware logs can be given to `defmt::info!`.
//!
//! Only the buffers' sizes and positions are shown, as their `Debug` does: never the bytes they hold.
//! Nothing here may allocate or read the buffers' contents.

use crate::buffer::{RxBuf, TxRing};

/// As `Debug`: the capacity and the readable region's bounds, never the bytes.
impl<S: AsRef<[u8]> + AsMut<[u8]>> defmt::Format for RxBuf<S> {
    fn format(&self, f: defmt::Formatter<'_>) {
        // The readable region's offset in the storage, from the public view of it.
        let start = (self.readable().as_ptr() as usize)
            .wrapping_sub(self.storage().as_ref().as_ptr() as usize);
        defmt::write!(
            f,
            "RxBuf {{ capacity: {=usize}, start: {=usize}, end: {=usize}, .. }}",
            self.capacity(),
            start,
            start.wrapping_add(self.len())
        );
    }
}

/// As `Debug`, never the bytes: the capacity, how much is buffered and ready to send, and whether bytes are
/// held back or the ring is paused.
impl<S: AsRef<[u8]> + AsMut<[u8]>> defmt::Format for TxRing<S> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "TxRing {{ capacity: {=usize}, len: {=usize}, ready: {=usize}, holding: {=bool}, paused: {=bool}, .. }}",
            self.capacity(),
            self.len(),
            self.ready(),
            self.is_holding(),
            self.is_paused()
        );
    }
}

/// Issue #11 item 9: `defmt::info!("{}", x)` compiles for each type a firmware logs. Generic, so it is
/// type-checked in every `defmt` build (the thumb targets included) but never code-generated or linked.
#[allow(dead_code, reason = "a compile-time check only")]
fn every_logged_type_is_defmt_format<S, T>(
    event: &crate::Event<'_>,
    request: &crate::Request<'_>,
    response: &crate::Response<'_>,
    rx: &RxBuf<S>,
    tx: &TxRing<T>,
) where
    S: AsRef<[u8]> + AsMut<[u8]>,
    T: AsRef<[u8]> + AsMut<[u8]>,
{
    defmt::info!("{}", event);
    defmt::info!("{}", request);
    defmt::info!("{}", response);
    defmt::info!("{}", rx);
    defmt::info!("{}", tx);
}
