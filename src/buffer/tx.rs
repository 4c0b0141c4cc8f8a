//! The transmit ring, [`TxRing`]: whole frames written by the driver, drained by the I/O layer.
//!
//! It must never allocate, never expose a partly written frame or transaction to the I/O side,
//! and never let a failed write change what is buffered.

use core::fmt;

/// A reserved region of a [`TxRing`], to be written later with [`TxRing::fill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "drafts"), allow(dead_code))] // hixie-76 only
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct Slot {
    /// Logical position of the first reserved byte (bytes ever committed before it).
    pos: u64,
    /// Length of the slot in bytes.
    len: usize,
}

#[cfg(any(test, feature = "__fuzz"))]
impl Slot {
    /// Length of the slot in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// A ring buffer over caller-owned storage, holding frames that wait to be sent.
///
/// The driver writes whole frames (`frame`) or byte sequences of unknown length
/// (`transaction`), all or nothing. The I/O side sends what
/// [`peek`](Self::peek) or [`peek_vectored`](Self::peek_vectored) shows and
/// [`consume`](Self::consume)s what was sent. Bytes can be held back behind a release mark
/// (`hold`, `reserve`: the driver's side, crate-private) and the whole ring can be paused while
/// the application sends a zero-copy frame itself ([`pause`](Self::pause)).
// `repr(C)` for the field order only: `len` and `written` grow by the same amount on every write and,
// adjacent, were merged by the compiler into one 16-byte vector add and store, which the 8-byte load
// of `len` that follows (`peek`, `ready`) waits on; server send of 16 B went from 24 to 40 µs.
#[repr(C)]
pub struct TxRing<S> {
    storage: S,
    /// Buffered bytes, held or not.
    len: usize,
    /// Physical index of the first unsent byte.
    head: usize,
    /// Logical count of bytes ever committed.
    written: u64,
    /// Logical position from which bytes are held back.
    mark: Option<u64>,
    /// Whether the I/O side is shown nothing.
    paused: bool,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> TxRing<S> {
    /// Wraps `storage`; its whole length is the capacity. The ring starts empty.
    pub fn new(storage: S) -> Self {
        TxRing {
            storage,
            head: 0,
            len: 0,
            written: 0,
            mark: None,
            paused: false,
        }
    }

    /// Total size of the storage in bytes.
    pub fn capacity(&self) -> usize {
        self.storage.as_ref().len()
    }

    /// All buffered bytes, held or not.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free space in bytes: `capacity() - len()`.
    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// Logical position of the first unsent byte.
    fn consumed(&self) -> u64 {
        self.written - self.len as u64
    }

    /// Bytes ready to send in total: everything buffered up to the release mark; 0 while
    /// paused.
    #[inline]
    pub fn ready(&self) -> usize {
        if self.paused {
            return 0;
        }
        match self.mark {
            // The mark is never behind the first unsent byte: only ready bytes are consumed.
            Some(mark) => (mark - self.consumed()) as usize,
            None => self.len,
        }
    }

    /// I/O side: the next contiguous bytes ready to send: from the first unsent byte up to the
    /// end of the storage, the release mark, or nothing while paused.
    #[inline]
    pub fn peek(&self) -> &[u8] {
        let buf = self.storage.as_ref();
        let end = buf.len().min(self.head + self.ready());
        buf.get(self.head..end).unwrap_or_default()
    }

    /// I/O side: both contiguous parts ready to send, for vectored writes. The second is empty
    /// unless the ready bytes wrap around the end of the storage.
    pub fn peek_vectored(&self) -> [&[u8]; 2] {
        let ready = self.ready();
        let buf = self.storage.as_ref();
        let first = ready.min(buf.len() - self.head);
        [
            buf.get(self.head..self.head + first).unwrap_or_default(),
            buf.get(..ready - first).unwrap_or_default(),
        ]
    }

    /// I/O side: `n` bytes of what [`peek`](Self::peek) or
    /// [`peek_vectored`](Self::peek_vectored) returned were sent.
    ///
    /// # Panics
    ///
    /// If `n > ready()` (a caller bug).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        // A constant message: formatting the numbers would link integer formatting into firmware.
        assert!(
            n <= self.ready(),
            "TxRing::consume: n exceeds the bytes ready to send"
        );
        self.len -= n;
        self.head = if self.len == 0 {
            // Rewind: the next frames start contiguous at the front of the storage.
            0
        } else {
            wrap(self.head + n, self.capacity())
        };
    }

    /// Checks that a write of `size` bytes fits now.
    fn check(&self, size: usize) -> Result<(), TxError> {
        let capacity = self.capacity();
        if size > capacity {
            Err(TxError::TooLarge { size, capacity })
        } else if size > self.free() {
            Err(TxError::Full { needed: size })
        } else {
            Ok(())
        }
    }

    /// Physical index where the next byte will be written.
    fn tail(&self) -> usize {
        wrap(self.head + self.len, self.capacity())
    }

    /// Driver side: an all-or-nothing write of exactly `n` bytes through the returned writer.
    ///
    /// Nothing is visible to [`peek`](Self::peek) until [`FrameWriter::commit`]; dropping the
    /// writer writes nothing.
    ///
    /// # Errors
    ///
    /// [`TxError::TooLarge`] when `n > capacity()`, [`TxError::Full`] with `needed: n` when
    /// `n > free()`. Nothing is written then.
    pub(crate) fn frame(&mut self, n: usize) -> Result<FrameWriter<'_>, TxError> {
        self.check(n)?;
        let start = self.tail();
        Ok(FrameWriter {
            buf: self.storage.as_mut(),
            len: &mut self.len,
            written: &mut self.written,
            start,
            size: n,
            filled: 0,
        })
    }

    /// Driver side: a write of unknown length (an HTTP head, say). Bytes accumulate until
    /// [`Transaction::commit`]; dropping the transaction, or an error from
    /// [`Transaction::put`], discards everything written through it.
    pub(crate) fn transaction(&mut self) -> Transaction<'_> {
        let capacity = self.capacity();
        let free = self.free();
        let start = self.tail();
        Transaction {
            buf: self.storage.as_mut(),
            len: &mut self.len,
            written: &mut self.written,
            start,
            capacity,
            free,
            size: 0,
            error: None,
        }
    }

    /// Logical count of bytes ever committed (less any taken back by [`unwrite`](Self::unwrite)).
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Driver side: how many of the last `n` bytes, ending at logical position `end`, can be taken
    /// back: `n` when they are the last bytes written, none of them was consumed, and no release mark
    /// lies inside them; 0 otherwise.
    pub(crate) fn unwritable(&self, end: u64, n: usize) -> usize {
        let start = end.wrapping_sub(n as u64);
        if end == self.written && n <= self.len && self.mark.is_none_or(|m| m <= start) {
            n
        } else {
            0
        }
    }

    /// Driver side: takes back the last `n` bytes written, as [`unwritable`](Self::unwritable)
    /// allowed.
    pub(crate) fn unwrite(&mut self, n: usize) {
        debug_assert!(n <= self.len, "TxRing::unwrite: more than is buffered");
        let n = n.min(self.len);
        self.len -= n;
        self.written -= n as u64;
        if self.len == 0 {
            self.head = 0;
        }
    }

    /// Release mark: bytes written from now on are held back ([`peek`](Self::peek) stops before
    /// them) until [`release`](Self::release). Holding while already holding keeps the earlier
    /// mark.
    pub(crate) fn hold(&mut self) {
        if self.mark.is_none() {
            self.mark = Some(self.written);
        }
    }

    /// Removes the release mark: every buffered byte becomes ready to send (unless paused).
    ///
    /// Releasing before an outstanding [`Slot`] is filled sends the slot's zero bytes.
    pub(crate) fn release(&mut self) {
        self.mark = None;
    }

    /// Whether a release mark is set.
    #[cfg(any(test, feature = "defmt"))]
    pub(crate) fn is_holding(&self) -> bool {
        self.mark.is_some()
    }

    /// Reserves `n` bytes at the write position for a value known later (hixie-76's 16-byte
    /// digest). The reserved bytes are zeroed, and they and everything written after them are
    /// held, as by [`hold`](Self::hold) at the slot's start (an earlier mark stays).
    ///
    /// # Errors
    ///
    /// As `frame`: [`TxError::TooLarge`] or [`TxError::Full`], and nothing
    /// changes.
    #[cfg_attr(not(feature = "drafts"), allow(dead_code))]
    pub(crate) fn reserve(&mut self, n: usize) -> Result<Slot, TxError> {
        let mut writer = self.frame(n)?;
        writer.zero();
        writer.commit();
        let pos = self.written - n as u64;
        if self.mark.is_none() {
            self.mark = Some(pos);
        }
        Ok(Slot { pos, len: n })
    }

    /// Writes `bytes` into a reserved slot. Does not release anything.
    ///
    /// # Panics
    ///
    /// If `bytes.len()` differs from the slot's length, or the slot is no longer entirely
    /// buffered (a caller bug).
    #[cfg_attr(not(feature = "drafts"), allow(dead_code))]
    pub(crate) fn fill(&mut self, slot: Slot, bytes: &[u8]) {
        assert!(
            bytes.len() == slot.len,
            "TxRing::fill: not the slot's length"
        );
        let consumed = self.consumed();
        assert!(
            slot.pos >= consumed && slot.pos + slot.len as u64 <= self.written,
            "TxRing::fill: the slot is no longer buffered"
        );
        let cap = self.capacity();
        let at = wrap(self.head + (slot.pos - consumed) as usize, cap);
        copy_in(self.storage.as_mut(), at, bytes);
    }

    /// Starts a zero-copy send: the application writes a frame header and its own payload to
    /// the socket itself. From then on [`peek`](Self::peek) and [`ready`](Self::ready) report
    /// nothing (frames the driver writes meanwhile, an automatic pong say, wait) until
    /// [`resume`](Self::resume).
    ///
    /// # Errors
    ///
    /// [`NotEmpty`] unless the ring is empty, so that nothing buffered is overtaken.
    pub fn pause(&mut self) -> Result<(), NotEmpty> {
        if self.len != 0 {
            return Err(NotEmpty);
        }
        self.paused = true;
        Ok(())
    }

    /// Ends a zero-copy send: buffered bytes are ready to send again.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Whether the ring is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// I/O side: moves every buffered byte (ready, held back or paused alike) into `storage`, in order,
    /// and keeps using it, returning the old storage — to grow the ring, or to shrink it once drained.
    /// Release marks and reserved slots keep their logical positions, so this is safe between any two
    /// calls of the driver.
    ///
    /// # Errors
    ///
    /// `storage` itself, unchanged, when the buffered bytes do not fit in it.
    pub fn swap_storage(&mut self, mut storage: S) -> Result<S, S> {
        let len = self.len;
        if storage.as_ref().len() < len {
            return Err(storage);
        }
        let old = self.storage.as_ref();
        let first = len.min(old.len() - self.head);
        let (a, b) = (&old[self.head..self.head + first], &old[..len - first]);
        let new = storage.as_mut();
        new[..first].copy_from_slice(a);
        new[first..len].copy_from_slice(b);
        self.head = 0;
        Ok(core::mem::replace(&mut self.storage, storage))
    }

    /// Gives the storage back.
    pub fn into_inner(self) -> S {
        self.storage
    }
}

impl<S: AsRef<[u8]>> fmt::Debug for TxRing<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxRing")
            .field("capacity", &self.storage.as_ref().len())
            .field("head", &self.head)
            .field("len", &self.len)
            .field("written", &self.written)
            .field("mark", &self.mark)
            .field("paused", &self.paused)
            .finish()
    }
}

/// `index` reduced into `0..cap`, for an index below `2 * cap` (0 when `cap` is 0).
fn wrap(index: usize, cap: usize) -> usize {
    if index >= cap { index - cap } else { index }
}

/// Copies `data` into the ring storage `buf` from physical index `at`, wrapping at the end.
/// `data` must fit (`data.len() <= buf.len()`).
fn copy_in(buf: &mut [u8], at: usize, data: &[u8]) {
    let (head, tail) = data.split_at(data.len().min(buf.len().saturating_sub(at)));
    if let Some(to) = buf.get_mut(at..at + head.len()) {
        to.copy_from_slice(head);
    }
    if let Some(to) = buf.get_mut(..tail.len()) {
        to.copy_from_slice(tail);
    }
}

/// The `first` bytes of `buf` from physical index `at` and its first `rest` bytes: the two pieces of a
/// wrapped write (empty where they would lie outside `buf`, which the callers' sizes rule out).
fn pieces(buf: &mut [u8], at: usize, first: usize, rest: usize) -> (&mut [u8], &mut [u8]) {
    let (front, back) = buf.split_at_mut_checked(at).unwrap_or_default();
    (
        back.get_mut(..first).unwrap_or_default(),
        front.get_mut(..rest).unwrap_or_default(),
    )
}

/// Writes one frame of a size fixed in advance into a [`TxRing`]; see [`TxRing::frame`].
///
/// Exactly the announced number of bytes must be put before [`commit`](Self::commit). Dropping
/// the writer without committing writes nothing.
pub(crate) struct FrameWriter<'a> {
    buf: &'a mut [u8],
    len: &'a mut usize,
    written: &'a mut u64,
    /// Physical index of the frame's first byte.
    start: usize,
    /// Announced frame size.
    size: usize,
    /// Bytes put so far.
    filled: usize,
}

impl FrameWriter<'_> {
    /// Bytes still to put before [`commit`](Self::commit).
    pub fn remaining(&self) -> usize {
        self.size - self.filled
    }

    /// Physical index of the next byte, after checking (in debug builds, the fuzz targets' included)
    /// that `n` more bytes fit in the frame. The driver never puts more; if it did, the bytes past the
    /// frame would land in the ring's free space, which nothing sends, and `commit` would still check
    /// the count.
    fn advance(&mut self, n: usize) -> usize {
        debug_assert!(
            n <= self.remaining(),
            "FrameWriter: more bytes than announced"
        );
        let at = wrap(self.start + self.filled, self.buf.len());
        self.filled += n;
        at
    }

    /// Appends `bytes` to the frame.
    ///
    /// # Panics
    ///
    /// If `bytes` is longer than [`remaining`](Self::remaining) (a driver bug).
    pub fn put(&mut self, bytes: &[u8]) {
        let at = self.advance(bytes.len());
        copy_in(self.buf, at, bytes);
    }

    /// Appends `src` masked with `key`, starting at key index `phase % 4`, in one pass.
    /// Returns the phase for the next masked bytes.
    ///
    /// # Panics
    ///
    /// If `src` is longer than [`remaining`](Self::remaining) (a driver bug).
    pub fn put_masked(&mut self, src: &[u8], key: [u8; 4], phase: usize) -> usize {
        let at = self.advance(src.len());
        let first = src.len().min(self.buf.len() - at);
        let (head, tail) = src.split_at(first);
        let (to_head, to_tail) = pieces(self.buf, at, first, tail.len());
        let phase = crate::wire::mask::copy_masked_shared(to_head, head, key, phase);
        crate::wire::mask::copy_masked_shared(to_tail, tail, key, phase)
    }

    /// Fills the rest of the frame with zeros.
    #[cfg_attr(not(feature = "drafts"), allow(dead_code))]
    fn zero(&mut self) {
        let n = self.remaining();
        let at = self.advance(n);
        let first = n.min(self.buf.len() - at);
        let (head, tail) = pieces(self.buf, at, first, n - first);
        head.fill(0);
        tail.fill(0);
    }

    /// Makes the frame visible to the I/O side (behind the release mark, if any).
    ///
    /// # Panics
    ///
    /// If not exactly the announced number of bytes were put (a driver bug).
    pub fn commit(self) {
        assert!(
            self.remaining() == 0,
            "FrameWriter::commit: fewer bytes than announced"
        );
        *self.len += self.size;
        *self.written += self.size as u64;
    }
}

impl fmt::Debug for FrameWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameWriter")
            .field("size", &self.size)
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

/// A write of unknown length into a [`TxRing`]; see [`TxRing::transaction`].
///
/// Nothing is visible to the I/O side until [`commit`](Self::commit). Dropping the transaction
/// discards everything written through it. After a failed [`put`](Self::put) the transaction
/// is failed: what it held is discarded, every later put fails too (reporting the total size
/// attempted so far), and [`commit`](Self::commit) writes nothing.
pub(crate) struct Transaction<'a> {
    buf: &'a mut [u8],
    len: &'a mut usize,
    written: &'a mut u64,
    /// Physical index of the first byte.
    start: usize,
    capacity: usize,
    /// Free space in the ring when the transaction started.
    free: usize,
    /// Bytes put so far (attempted, once failed).
    size: usize,
    /// The latest error, once failed.
    error: Option<TxError>,
}

impl Transaction<'_> {
    /// Appends `bytes`.
    ///
    /// # Errors
    ///
    /// [`TxError::TooLarge`] (with the total size so far, this piece included) when the
    /// transaction can never fit in the ring, else [`TxError::Full`] with
    /// `needed: bytes written so far + bytes.len()` when it does not fit in the free space.
    /// The transaction is then failed and holds nothing.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), TxError> {
        let size = self.size.saturating_add(bytes.len());
        let error = if size > self.capacity {
            Some(TxError::TooLarge {
                size,
                capacity: self.capacity,
            })
        } else if size > self.free {
            Some(TxError::Full { needed: size })
        } else {
            None
        };
        if let Some(error) = error {
            self.size = size;
            self.error = Some(error);
            return Err(error);
        }
        // Once failed, the size only grows, so a failed transaction never gets here.
        let at = wrap(self.start + self.size, self.buf.len());
        copy_in(self.buf, at, bytes);
        self.size = size;
        Ok(())
    }

    /// Bytes held by the transaction (0 once failed).
    pub fn len(&self) -> usize {
        if self.error.is_some() { 0 } else { self.size }
    }

    /// The error of the latest failed [`put`](Self::put) (also through [`fmt::Write`]), if any.
    pub fn error(&self) -> Option<TxError> {
        self.error
    }

    /// Makes the bytes visible to the I/O side (behind the release mark, if any) and returns
    /// their count; a failed transaction writes nothing and returns 0.
    pub fn commit(self) -> usize {
        let n = self.len();
        *self.len += n;
        *self.written += n as u64;
        n
    }
}

impl fmt::Write for Transaction<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("size", &self.size)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

mod error;
mod frame;
#[cfg(test)]
mod tests;

pub use error::{NotEmpty, TxError};
