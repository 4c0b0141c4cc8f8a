//! Fixed vectors for the transmit ring: wrap-around, release mark, reserved slot, pause, errors.

use super::{NotEmpty, TxError, TxRing};
use core::fmt::Write as _;
use std::vec::Vec;

fn frame(tx: &mut TxRing<[u8; 8]>, bytes: &[u8]) {
    let mut w = tx.frame(bytes.len()).unwrap();
    w.put(bytes);
    w.commit();
}

fn drain(tx: &mut TxRing<[u8; 8]>) -> Vec<u8> {
    let out = tx.peek_vectored().concat();
    tx.consume(out.len());
    out
}

#[test]
fn frame_wraps_around_the_end() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"abcdef");
    tx.consume(5);
    frame(&mut tx, b"ghijkl");
    assert_eq!(tx.peek(), b"fgh");
    assert_eq!(tx.peek_vectored(), [&b"fgh"[..], b"ijkl"]);
    tx.consume(3);
    assert_eq!(tx.peek(), b"ijkl");
    assert_eq!(tx.into_inner(), *b"ijklefgh");
}

#[test]
fn masked_frame_wraps_around_the_end() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"abcdef");
    tx.consume(5);
    let mut w = tx.frame(5).unwrap();
    assert_eq!(w.put_masked(&[0; 1], [1, 2, 3, 4], 1) % 4, 2);
    // This piece is split by the end of the storage.
    assert_eq!(w.put_masked(&[0; 4], [1, 2, 3, 4], 2) % 4, 2);
    w.commit();
    assert_eq!(tx.peek_vectored(), [&[b'f', 2, 3][..], &[4, 1, 2]]);
}

#[test]
fn release_mark_holds_later_bytes() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"A");
    tx.hold();
    frame(&mut tx, b"B");
    tx.hold(); // Keeps the earlier mark.
    frame(&mut tx, b"C");
    assert!(tx.is_holding());
    assert_eq!((tx.peek(), tx.ready(), tx.len()), (&b"A"[..], 1, 3));
    tx.consume(1);
    assert!(tx.peek().is_empty());
    tx.release();
    assert_eq!(drain(&mut tx), b"BC");
}

#[test]
fn reserved_slot_is_held_until_filled_and_released() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"hd");
    let slot = tx.reserve(3).unwrap();
    assert_eq!(slot.len(), 3);
    frame(&mut tx, b"x");
    assert_eq!(tx.peek(), b"hd");
    tx.fill(slot, b"DIG");
    assert_eq!(drain(&mut tx), b"hd");
    tx.release();
    assert_eq!(drain(&mut tx), b"DIGx");
    assert_eq!(
        tx.reserve(9),
        Err(TxError::TooLarge {
            size: 9,
            capacity: 8
        })
    );
    assert!(!tx.is_holding());
}

#[test]
fn pause_needs_an_empty_ring_and_hides_new_frames() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"data");
    assert_eq!(tx.pause(), Err(NotEmpty));
    drain(&mut tx);
    tx.pause().unwrap();
    frame(&mut tx, b"pong");
    assert!(tx.is_paused() && tx.peek().is_empty() && tx.ready() == 0);
    tx.resume();
    assert_eq!(drain(&mut tx), b"pong");
}

#[test]
fn errors_report_sizes_and_change_nothing() {
    let mut tx = TxRing::new([0u8; 8]);
    frame(&mut tx, b"abcde");
    assert_eq!(tx.frame(4).err(), Some(TxError::Full { needed: 4 }));
    let too_large = TxError::TooLarge {
        size: 9,
        capacity: 8,
    };
    assert_eq!(tx.frame(9).err(), Some(too_large));
    let mut t = tx.transaction();
    t.put(b"12").unwrap();
    assert_eq!(t.put(b"34"), Err(TxError::Full { needed: 4 }));
    assert!(write!(t, "56789").is_err());
    assert_eq!(t.error(), Some(too_large));
    assert_eq!((t.len(), t.commit()), (0, 0));
    assert_eq!(drain(&mut tx), b"abcde");
    let mut s = std::string::String::new();
    write!(s, "{}", TxError::Full { needed: 4 }).unwrap();
    assert_eq!(
        s,
        "transmit ring full: the write needs 4 bytes of free space"
    );
}

#[test]
fn transaction_commits_or_discards() {
    let mut tx = TxRing::new([0u8; 8]);
    {
        let mut t = tx.transaction();
        write!(t, "GET {}", 7).unwrap();
        assert_eq!(t.len(), 5);
    } // Dropped without a commit.
    assert!(tx.is_empty());
    let mut t = tx.transaction();
    write!(t, "GET {}", 7).unwrap();
    assert_eq!(t.commit(), 5);
    assert_eq!(drain(&mut tx), b"GET 7");
}

#[test]
#[should_panic(expected = "fewer bytes than announced")]
fn commit_of_a_short_frame_panics() {
    let mut tx = TxRing::new([0u8; 8]);
    let mut w = tx.frame(3).unwrap();
    w.put(b"ab");
    w.commit();
}

#[test]
// Debug builds only: the driver's own misuse, checked by `debug_assert!`.
#[cfg(debug_assertions)]
#[should_panic(expected = "more bytes than announced")]
fn put_past_the_frame_panics() {
    let mut tx = TxRing::new([0u8; 8]);
    tx.frame(1).unwrap().put(b"ab");
}

#[test]
#[should_panic(expected = "exceeds")]
fn consume_of_held_bytes_panics() {
    let mut tx = TxRing::new([0u8; 8]);
    tx.hold();
    frame(&mut tx, b"a");
    tx.consume(1);
}

#[test]
#[should_panic(expected = "no longer buffered")]
fn fill_of_a_sent_slot_panics() {
    let mut tx = TxRing::new([0u8; 8]);
    let slot = tx.reserve(2).unwrap();
    tx.release();
    tx.consume(2);
    tx.fill(slot, b"ab");
}

#[test]
fn zero_capacity() {
    let mut tx = TxRing::new([0u8; 0]);
    tx.frame(0).unwrap().commit();
    assert_eq!(
        tx.frame(1).err(),
        Some(TxError::TooLarge {
            size: 1,
            capacity: 0
        })
    );
    assert!(tx.peek().is_empty());
    tx.consume(0);
}

#[test]
fn swap_storage_keeps_bytes_and_marks() {
    // Growing or shrinking a ring keeps every buffered byte in order, and the release mark.
    use std::vec;
    fn put(tx: &mut TxRing<Vec<u8>>, bytes: &[u8]) {
        let mut w = tx.frame(bytes.len()).unwrap();
        w.put(bytes);
        w.commit();
    }
    let mut tx = TxRing::new(vec![0u8; 8]);
    put(&mut tx, b"abcdef");
    tx.consume(4);
    put(&mut tx, b"ghij"); // wraps: "efghij" buffered, head at 4
    tx.hold();
    put(&mut tx, b"k");
    assert_eq!(
        tx.swap_storage(vec![0u8; 6]),
        Err(vec![0u8; 6]),
        "7 bytes do not fit 6"
    );
    let old = tx.swap_storage(vec![0u8; 32]).unwrap();
    assert_eq!(old.len(), 8);
    assert_eq!(tx.peek(), b"efghij");
    assert_eq!(tx.len(), 7);
    tx.release();
    assert_eq!(tx.peek(), b"efghijk");
    tx.consume(7);
    assert!(
        tx.swap_storage(vec![0u8; 0]).is_ok(),
        "an empty ring shrinks to nothing"
    );
    assert_eq!(tx.capacity(), 0);
}

/// `put_frame` (the send path) gives the same bytes as a temporary header plus a copy, at every start
/// position of a small ring: contiguous, and split by the end of the storage inside the header or the
/// payload; masked and not; and all or nothing when it does not fit.
#[test]
fn put_frame_at_every_position() {
    use crate::wire::{FrameHeader, OpCode, mask};
    for masked in [false, true] {
        for start in 0..32 {
            for len in [0usize, 1, 5, 17, 30] {
                let mut header = FrameHeader::new(OpCode::Binary, len as u64);
                header.mask = masked.then_some([0x11, 0x22, 0x33, 0x44]);
                let payload: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
                let mut want = header.to_bytes().as_bytes().to_vec();
                let mut body = payload.clone();
                if let Some(key) = header.mask {
                    mask::apply(&mut body, key, 0);
                }
                want.extend_from_slice(&body);

                let mut tx = TxRing::new([0u8; 32]);
                // Move the head to `start`: fill, drain, leave one byte so the ring does not rewind.
                let mut w = tx.frame(start + 1).unwrap();
                w.put(&[0xee; 33][..start + 1]);
                w.commit();
                tx.consume(start);
                let result = tx.put_frame(&header, &payload);
                if want.len() + 1 > 32 {
                    let error = if want.len() > 32 {
                        TxError::TooLarge {
                            size: want.len(),
                            capacity: 32,
                        }
                    } else {
                        TxError::Full { needed: want.len() }
                    };
                    assert_eq!(result, Err(error));
                    assert_eq!(tx.len(), 1, "nothing written");
                    continue;
                }
                result.unwrap();
                let out = tx.peek_vectored().concat();
                assert_eq!(out[0], 0xee);
                assert_eq!(
                    &out[1..],
                    &want[..],
                    "start {start}, len {len}, masked {masked}"
                );
            }
        }
    }
    let mut tx = TxRing::new([0u8; 8]);
    let header = FrameHeader::new(OpCode::Binary, 7);
    assert_eq!(
        tx.put_frame(&header, &[0; 7]),
        Err(TxError::TooLarge {
            size: 9,
            capacity: 8
        })
    );
}
