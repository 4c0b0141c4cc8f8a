//! The receive buffer, [`RxBuf`]: a linear byte region the I/O layer reads into and the driver
//! parses frames from in place.
//!
//! It must never allocate, never shift buffered bytes except in the one compaction case
//! described on [`RxBuf::free_space`], and never hand out bytes that were not committed.

use core::fmt;
use core::ops::Range;

/// A receive buffer over caller-owned storage (an array, a `&mut [u8]`, a `Vec<u8>`…).
///
/// The readable bytes are one contiguous region of the storage. The I/O side reads into
/// [`free_space`](Self::free_space) and [`commit`](Self::commit)s what it read; the driver
/// looks at [`readable`](Self::readable), unmasks in place through
/// `readable_mut`, and `consume`s whole frames (or takes a borrowed view of a payload with
/// `consume_view`) — the driver's side, which is crate-private: an application that consumed bytes
/// between polls would desynchronise the driver.
///
/// Bytes are moved only by compaction, and only when the write position has reached the end
/// of the storage while consumed bytes sit before the readable region. A consumer that drains
/// everything it can parse (all complete frames, leaving at most one partial frame) moves each
/// byte at most once, so the cost is amortised O(1) per byte received. A consumer that keeps
/// the buffer almost full while consuming a few bytes at a time can make every compaction move
/// up to `capacity() - 1` bytes: each compaction is bounded by the capacity, never by more.
pub struct RxBuf<S> {
    storage: S,
    /// Physical index of the first readable byte.
    start: usize,
    /// Physical index one past the last readable byte.
    end: usize,
    /// Bytes moved by compaction since construction.
    compacted: u64,
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> RxBuf<S> {
    /// Wraps `storage`; its whole length is the capacity. The buffer starts empty.
    pub fn new(storage: S) -> Self {
        RxBuf {
            storage,
            start: 0,
            end: 0,
            compacted: 0,
        }
    }

    /// Total size of the storage in bytes.
    pub fn capacity(&self) -> usize {
        self.storage.as_ref().len()
    }

    /// Number of readable (committed, not yet consumed) bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether there are no readable bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether the readable bytes fill the whole storage: no more bytes can come in until some
    /// are consumed.
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Space the readable region could grow to without consuming: `capacity() - len()`.
    pub fn room(&self) -> usize {
        self.capacity() - self.len()
    }

    /// I/O side: the free space after the readable region, to read into.
    ///
    /// When the readable region is empty, the buffer first rewinds to the start of the
    /// storage (free: nothing moves). When the write position has reached the end of the
    /// storage and bytes were consumed before the readable region, the readable bytes are moved
    /// to the front of the storage (compaction). In every other case nothing moves.
    ///
    /// Returns an empty slice only when the buffer [is full](Self::is_full).
    pub fn free_space(&mut self) -> &mut [u8] {
        let cap = self.capacity();
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == cap && self.start > 0 {
            let len = self.len();
            self.storage.as_mut().copy_within(self.start..self.end, 0);
            self.compacted += len as u64;
            self.start = 0;
            self.end = len;
        }
        // `end <= capacity()` always holds for storage that keeps its length; for one that does not,
        // no space is the safe answer.
        self.storage
            .as_mut()
            .get_mut(self.end..)
            .unwrap_or_default()
    }

    /// I/O side: `n` bytes were written at the start of the slice
    /// [`free_space`](Self::free_space) returned; they become readable.
    ///
    /// # Panics
    ///
    /// If `n` exceeds the free space after the readable region (a caller bug).
    pub fn commit(&mut self, n: usize) {
        // A constant message: formatting the numbers would link integer formatting into firmware.
        assert!(
            n <= self.capacity() - self.end,
            "RxBuf::commit: n exceeds the free space"
        );
        self.end += n;
    }

    /// Convenience: copies as much of `data` as fits (compacting as
    /// [`free_space`](Self::free_space) does), commits it and returns the count, which is
    /// `min(data.len(), room())`.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let mut copied = 0;
        // At most two rounds: the second one happens only after the first filled the storage
        // up to its end, when `free_space` compacts and then offers all the remaining room.
        while copied < data.len() {
            let free = self.free_space();
            let n = free.len().min(data.len() - copied);
            if n == 0 {
                break;
            }
            free[..n].copy_from_slice(&data[copied..copied + n]);
            self.end += n;
            copied += n;
        }
        copied
    }

    /// The readable bytes, oldest first.
    pub fn readable(&self) -> &[u8] {
        self.storage
            .as_ref()
            .get(self.start..self.end)
            .unwrap_or_default()
    }

    /// The readable bytes, mutably (for in-place unmasking by the driver).
    pub(crate) fn readable_mut(&mut self) -> &mut [u8] {
        self.storage
            .as_mut()
            .get_mut(self.start..self.end)
            .unwrap_or_default()
    }

    /// Drops the first `n` readable bytes (all of them if `n > len()`, which the driver never asks:
    /// checked in debug builds, the fuzz targets' included).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len(), "RxBuf::consume: more than readable");
        self.start += n.min(self.len());
        if self.start == self.end {
            // Rewinding an empty buffer moves nothing and keeps the free space maximal.
            self.start = 0;
            self.end = 0;
        }
    }

    /// Consumes the first `n` readable bytes and returns a view of `range`, relative to the
    /// readable region as it was before the call.
    ///
    /// The range may extend past `n`: the driver can view a frame's payload while consuming
    /// the whole frame. The view borrows the buffer, so its bytes stay valid until the next
    /// write into the buffer.
    ///
    /// The driver never passes `n > len()` or a range outside the readable bytes (checked in debug
    /// builds, the fuzz targets' included); if it did, the view would be empty: no panic path is built
    /// into firmware for it.
    #[inline]
    pub(crate) fn consume_view(&mut self, n: usize, range: Range<usize>) -> &mut [u8] {
        debug_assert!(
            range.start <= range.end && range.end <= self.len(),
            "RxBuf::consume_view: range outside the readable bytes"
        );
        let base = self.start;
        self.consume(n);
        self.storage
            .as_mut()
            .get_mut(base + range.start..base + range.end)
            .unwrap_or_default()
    }

    /// Lends the readable region to `f`, which returns how many leading bytes to consume and a result
    /// that may borrow the region (smoltcp's `recv(|buf| (n, r))` idiom). The consumed bytes stay
    /// valid until the next write into the buffer.
    /// `f` never returns more than `len()` in the driver (checked in debug builds); if it did, all
    /// would be consumed.
    pub(crate) fn consume_with<'a, R>(
        &'a mut self,
        f: impl FnOnce(&'a mut [u8]) -> (usize, R),
    ) -> R {
        let (start, end) = (self.start, self.end);
        let (n, result) = f(self
            .storage
            .as_mut()
            .get_mut(start..end)
            .unwrap_or_default());
        debug_assert!(n <= end - start, "RxBuf::consume_with: more than readable");
        self.start += n.min(end - start);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        result
    }

    /// Drops readable bytes from the end, keeping the first `len`: for bytes already handled that
    /// nothing will read again. Does nothing if `len >= self.len()`.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.end = self.start + len;
            if self.start == self.end {
                self.start = 0;
                self.end = 0;
            }
        }
    }

    /// I/O side: moves the readable bytes to the front of `storage` and keeps using it, returning the old
    /// storage — to grow the buffer, or to shrink it once it is drained. The driver's view of the
    /// readable bytes is unchanged (they stay the same bytes, in order), so this is safe between polls.
    ///
    /// # Errors
    ///
    /// `storage` itself, unchanged, when the readable bytes do not fit in it.
    pub fn swap_storage(&mut self, mut storage: S) -> Result<S, S> {
        let len = self.len();
        let Some(front) = storage.as_mut().get_mut(..len) else {
            return Err(storage);
        };
        front.copy_from_slice(self.readable());
        self.start = 0;
        self.end = len;
        Ok(core::mem::replace(&mut self.storage, storage))
    }

    /// The underlying storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back.
    pub fn into_inner(self) -> S {
        self.storage
    }

    /// Bytes moved by compaction since construction (for tests that check amortisation).
    #[doc(hidden)]
    pub fn bytes_compacted(&self) -> u64 {
        self.compacted
    }
}

impl<S: AsRef<[u8]>> fmt::Debug for RxBuf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RxBuf")
            .field("capacity", &self.storage.as_ref().len())
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::RxBuf;

    /// Physical index of the readable region inside the storage.
    fn offset<S: AsRef<[u8]> + AsMut<[u8]>>(rx: &RxBuf<S>) -> usize {
        rx.readable().as_ptr() as usize - rx.storage().as_ref().as_ptr() as usize
    }

    #[test]
    fn read_commit_consume() {
        let mut rx = RxBuf::new([0u8; 8]);
        assert!(rx.is_empty() && !rx.is_full());
        let free = rx.free_space();
        assert_eq!(free.len(), 8);
        free[..3].copy_from_slice(b"abc");
        rx.commit(3);
        assert_eq!(rx.readable(), b"abc");
        assert_eq!(rx.room(), 5);
        rx.consume(1);
        assert_eq!(rx.readable(), b"bc");
        // Not at the end of the storage: nothing moves.
        assert_eq!(rx.free_space().len(), 5);
        assert_eq!(offset(&rx), 1);
        assert_eq!(rx.bytes_compacted(), 0);
    }

    #[test]
    fn compacts_only_at_the_end_of_the_storage() {
        let mut rx = RxBuf::new([0u8; 8]);
        assert_eq!(rx.write(b"01234567"), 8);
        assert!(rx.is_full());
        assert!(rx.free_space().is_empty());
        rx.consume(5);
        // Write position at the end, 5 bytes consumed before the readable region: compact.
        assert_eq!(rx.free_space().len(), 5);
        assert_eq!(rx.bytes_compacted(), 3);
        assert_eq!(offset(&rx), 0);
        assert_eq!(rx.readable(), b"567");
    }

    #[test]
    fn empty_buffer_rewinds_without_moving() {
        let mut rx = RxBuf::new([0u8; 4]);
        rx.write(b"abcd");
        rx.consume(4);
        assert_eq!(rx.free_space().len(), 4);
        assert_eq!(rx.bytes_compacted(), 0);
    }

    #[test]
    fn write_fills_all_the_room() {
        let mut rx = RxBuf::new([0u8; 6]);
        rx.write(b"abcd");
        rx.consume(3);
        // 2 bytes fit before the end, then compaction offers the other 3.
        assert_eq!(rx.write(b"efghijk"), 5);
        assert_eq!(rx.readable(), b"defghi");
        assert_eq!(rx.bytes_compacted(), 3);
        assert_eq!(rx.write(b"x"), 0);
    }

    #[test]
    fn consume_view_returns_payload_of_consumed_frame() {
        let mut rx = RxBuf::new([0u8; 16]);
        rx.write(b"\x81\x03abcNEXT");
        let view = rx.consume_view(5, 2..5);
        view[0] = b'A';
        assert_eq!(view, b"Abc");
        assert_eq!(rx.readable(), b"NEXT");
    }

    #[test]
    fn trickle_consumer_moves_less_than_capacity_per_compaction() {
        let mut rx = RxBuf::new([0u8; 10]);
        rx.write(&[7; 10]);
        for _ in 0..20 {
            rx.consume(1);
            let before = rx.bytes_compacted();
            assert_eq!(rx.write(&[1]), 1);
            assert_eq!(rx.bytes_compacted() - before, 9);
        }
    }

    #[test]
    fn swap_storage_moves_the_readable_bytes() {
        let mut rx = RxBuf::new(std::vec![0u8; 8]);
        rx.write(b"abcdefgh");
        rx.consume(5);
        assert_eq!(rx.swap_storage(std::vec![0u8; 2]), Err(std::vec![0u8; 2]));
        let old = rx.swap_storage(std::vec![0u8; 16]).unwrap();
        assert_eq!(old.len(), 8);
        assert_eq!(rx.readable(), b"fgh");
        assert_eq!(rx.free_space().len(), 13);
        rx.consume(3);
        assert!(rx.swap_storage(std::vec::Vec::new()).is_ok());
        assert_eq!(rx.capacity(), 0);
    }

    #[test]
    fn zero_capacity() {
        let mut rx = RxBuf::new([0u8; 0]);
        assert!(rx.is_full() && rx.is_empty());
        assert!(rx.free_space().is_empty());
        assert_eq!(rx.write(b"a"), 0);
        rx.commit(0);
        rx.consume(0);
    }

    #[test]
    #[should_panic(expected = "exceeds")]
    fn commit_past_free_space_panics() {
        let mut rx = RxBuf::new([0u8; 4]);
        rx.commit(5);
    }

    // Debug builds only: the driver's own misuse, checked by `debug_assert!`.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "more than readable")]
    fn consume_past_len_panics() {
        let mut rx = RxBuf::new([0u8; 4]);
        rx.write(b"ab");
        rx.consume(3);
    }

    // Debug builds only: the driver's own misuse, checked by `debug_assert!`.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "outside")]
    fn consume_view_out_of_bounds_panics() {
        let mut rx = RxBuf::new([0u8; 4]);
        rx.write(b"ab");
        rx.consume_view(1, 0..3);
    }
}
