//! Model-based tests of `RxBuf` and `TxRing` against `VecDeque<u8>` models, and fixed vectors
//! for the transmit ring's contracts (wrap-around, release mark, reserved slot, pause).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::prelude::rust_2024::*;
use std::vec;

use proptest::prelude::*;

use super::{NotEmpty, RxBuf, Slot, TxError, TxRing};

// ---------------------------------------------------------------------------------------------
// RxBuf
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum RxOp {
    /// `free_space` + fill + `commit` of `n % (free + 1)` bytes.
    Read {
        n: usize,
        seed: u8,
    },
    Write(Vec<u8>),
    Consume(usize),
    View {
        n: usize,
        a: usize,
        b: usize,
    },
    /// XOR every readable byte through `readable_mut`.
    Unmask(u8),
}

fn rx_op() -> impl Strategy<Value = RxOp> {
    prop_oneof![
        3 => (any::<usize>(), any::<u8>()).prop_map(|(n, seed)| RxOp::Read { n, seed }),
        2 => prop::collection::vec(any::<u8>(), 0..400).prop_map(RxOp::Write),
        3 => any::<usize>().prop_map(RxOp::Consume),
        2 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(n, a, b)| RxOp::View { n, a, b }),
        1 => any::<u8>().prop_map(RxOp::Unmask),
    ]
}

/// Physical index of the readable region inside the storage.
fn offset(rx: &RxBuf<Vec<u8>>) -> usize {
    rx.readable().as_ptr() as usize - rx.storage().as_ptr() as usize
}

fn check_rx(rx: &RxBuf<Vec<u8>>, model: &VecDeque<u8>, cap: usize) {
    assert_eq!(rx.readable(), model.iter().copied().collect::<Vec<_>>());
    assert_eq!(rx.len(), model.len());
    assert_eq!(rx.capacity(), cap);
    assert_eq!(rx.is_empty(), model.is_empty());
    assert_eq!(rx.is_full(), model.len() == cap);
    assert_eq!(rx.room(), cap - model.len());
    assert!(offset(rx) + rx.len() <= cap);
}

fn run_rx(cap: usize, ops: Vec<RxOp>) {
    let mut rx = RxBuf::new(vec![0u8; cap]);
    let mut model = VecDeque::new();
    let mut committed = 0u64;
    for op in ops {
        let (before_off, before_len) = (offset(&rx), rx.len());
        let before_moved = rx.bytes_compacted();
        match op {
            RxOp::Read { n, seed } => {
                let free = rx.free_space();
                let free_len = free.len();
                let k = n % (free_len + 1);
                for (i, b) in free[..k].iter_mut().enumerate() {
                    *b = seed.wrapping_add(i as u8);
                }
                let moved = rx.bytes_compacted() - before_moved;
                // Free space is empty only when full.
                assert_eq!(free_len == 0, before_len == cap);
                if moved > 0 {
                    // Compaction only at the end of the storage, with consumed bytes before.
                    assert!(before_off > 0 && before_off + before_len == cap);
                    assert_eq!(moved, before_len as u64);
                    assert_eq!(offset(&rx), 0);
                } else if before_len > 0 {
                    assert_eq!(offset(&rx), before_off, "bytes moved without compaction");
                    assert!(before_off == 0 || before_off + before_len < cap);
                }
                assert_eq!(free_len, cap - offset(&rx) - before_len);
                rx.commit(k);
                model.extend((0..k).map(|i| seed.wrapping_add(i as u8)));
                committed += k as u64;
            }
            RxOp::Write(data) => {
                let n = rx.write(&data);
                assert_eq!(n, data.len().min(cap - before_len));
                model.extend(&data[..n]);
                committed += n as u64;
                let moved = rx.bytes_compacted() - before_moved;
                // Compacts only when the write ran into the end of the storage with data left.
                let expect_moved =
                    before_len > 0 && before_off > 0 && data.len() > cap - before_off - before_len;
                if expect_moved {
                    assert_eq!(moved, (cap - before_off) as u64);
                } else {
                    assert_eq!(moved, 0);
                    if before_len > 0 {
                        assert_eq!(offset(&rx), before_off);
                    }
                }
            }
            RxOp::Consume(n) => {
                let n = n % (model.len() + 1);
                rx.consume(n);
                model.drain(..n);
                assert_eq!(rx.bytes_compacted(), before_moved);
            }
            RxOp::View { n, a, b } => {
                let len = model.len();
                let n = n % (len + 1);
                let (a, b) = (a % (len + 1), b % (len + 1));
                let range = a.min(b)..a.max(b);
                let expected: Vec<u8> = model.range(range.clone()).copied().collect();
                assert_eq!(rx.consume_view(n, range), expected);
                model.drain(..n);
            }
            RxOp::Unmask(key) => {
                rx.readable_mut().iter_mut().for_each(|b| *b ^= key);
                model.iter_mut().for_each(|b| *b ^= key);
            }
        }
        check_rx(&rx, &model, cap);
        // Every single compaction moves less than the capacity.
        assert!(rx.bytes_compacted() - before_moved < cap.max(1) as u64);
    }
    assert!(committed >= model.len() as u64);
}

/// The driver's pattern: every complete frame is consumed as soon as it is readable, so at
/// most one partial frame is ever moved and each byte moves at most once.
fn run_rx_frames(cap: usize, frames: Vec<usize>, chunks: Vec<usize>) {
    let frames: Vec<usize> = frames.iter().map(|f| 1 + f % cap).collect();
    let stream: Vec<u8> = frames
        .iter()
        .enumerate()
        .flat_map(|(i, &f)| std::iter::repeat_n(i as u8, f))
        .collect();
    let mut rx = RxBuf::new(vec![0u8; cap]);
    let (mut sent, mut next_frame, mut committed) = (0, 0, 0u64);
    let mut chunk = chunks.iter().cycle();
    while next_frame < frames.len() {
        let free = rx.free_space();
        assert!(!free.is_empty(), "a partial frame never fills the buffer");
        let k = (1 + chunk.next().unwrap_or(&0) % free.len()).min(stream.len() - sent);
        free[..k].copy_from_slice(&stream[sent..sent + k]);
        rx.commit(k);
        sent += k;
        committed += k as u64;
        while next_frame < frames.len() && rx.len() >= frames[next_frame] {
            let f = frames[next_frame];
            let view = rx.consume_view(f, 0..f);
            assert!(view.iter().all(|&b| b == next_frame as u8));
            next_frame += 1;
        }
        assert!(rx.bytes_compacted() <= committed);
    }
    assert!(rx.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rx_matches_model(cap in 1usize..=300, ops in prop::collection::vec(rx_op(), 0..200)) {
        run_rx(cap, ops);
    }

    #[test]
    fn rx_compaction_is_amortised(
        cap in 1usize..=300,
        frames in prop::collection::vec(any::<usize>(), 0..100),
        chunks in prop::collection::vec(any::<usize>(), 1..20),
    ) {
        run_rx_frames(cap, frames, chunks);
    }
}

// ---------------------------------------------------------------------------------------------
// TxRing
// ---------------------------------------------------------------------------------------------

/// One piece of a frame: its length (reduced to what is left) and, if masked, key and phase.
type Piece = (usize, Option<([u8; 4], usize)>);

#[derive(Clone, Debug)]
enum TxOp {
    /// `frame(n % (cap + 3))`, filled piece by piece (plain or masked), committed or dropped.
    Frame {
        n: usize,
        pieces: Vec<Piece>,
        seed: u8,
        commit: bool,
    },
    Txn {
        pieces: Vec<Vec<u8>>,
        fmt: bool,
        commit: bool,
    },
    Hold,
    Release,
    Reserve(usize),
    Fill {
        which: usize,
        seed: u8,
    },
    Pause,
    Resume,
    Drain {
        n: usize,
        vectored: bool,
    },
    /// Take back `n % (len + 2)` bytes at the end, or claim they end `off` bytes early (refused).
    Unwrite {
        n: usize,
        off: u8,
    },
}

fn tx_op() -> impl Strategy<Value = TxOp> {
    let piece = (
        any::<usize>(),
        prop::option::of((any::<[u8; 4]>(), any::<usize>())),
    );
    prop_oneof![
        4 => (any::<usize>(), prop::collection::vec(piece, 0..4), any::<u8>(), prop::bool::weighted(0.85))
            .prop_map(|(n, pieces, seed, commit)| TxOp::Frame { n, pieces, seed, commit }),
        2 => (prop::collection::vec(prop::collection::vec(any::<u8>(), 0..60), 0..5), any::<bool>(), prop::bool::weighted(0.8))
            .prop_map(|(pieces, fmt, commit)| TxOp::Txn { pieces, fmt, commit }),
        1 => Just(TxOp::Hold),
        1 => Just(TxOp::Release),
        1 => any::<usize>().prop_map(TxOp::Reserve),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(which, seed)| TxOp::Fill { which, seed }),
        1 => Just(TxOp::Pause),
        1 => Just(TxOp::Resume),
        5 => (any::<usize>(), any::<bool>()).prop_map(|(n, vectored)| TxOp::Drain { n, vectored }),
        1 => (any::<usize>(), prop::sample::select(vec![0u8, 0, 0, 1])).prop_map(|(n, off)| TxOp::Unwrite { n, off }),
    ]
}

/// What the ring should hold: every buffered byte, held or not, plus the mark and pause flag.
struct TxModel {
    cap: usize,
    bytes: VecDeque<u8>,
    written: u64,
    mark: Option<u64>,
    paused: bool,
    /// Reserved slots and their logical positions.
    slots: Vec<(Slot, u64)>,
}

impl TxModel {
    fn consumed(&self) -> u64 {
        self.written - self.bytes.len() as u64
    }
    fn ready(&self) -> usize {
        match (self.paused, self.mark) {
            (true, _) => 0,
            (false, Some(m)) => (m - self.consumed()) as usize,
            (false, None) => self.bytes.len(),
        }
    }
    fn fits(&self, size: usize) -> Result<(), TxError> {
        if size > self.cap {
            Err(TxError::TooLarge {
                size,
                capacity: self.cap,
            })
        } else if size > self.cap - self.bytes.len() {
            Err(TxError::Full { needed: size })
        } else {
            Ok(())
        }
    }
    fn push(&mut self, data: &[u8]) {
        self.bytes.extend(data);
        self.written += data.len() as u64;
    }
}

fn mask(src: &[u8], key: [u8; 4], phase: usize) -> Vec<u8> {
    src.iter()
        .enumerate()
        .map(|(i, b)| b ^ key[(phase % 4 + i) % 4])
        .collect()
}

fn bytes(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
        .collect()
}

/// Observable state, to check that a failed write changes nothing.
fn snapshot(tx: &TxRing<Vec<u8>>) -> (usize, usize, bool, Vec<u8>) {
    (
        tx.len(),
        tx.ready(),
        tx.is_holding(),
        tx.peek_vectored().concat(),
    )
}

fn check_tx(tx: &TxRing<Vec<u8>>, m: &TxModel) {
    assert_eq!(tx.capacity(), m.cap);
    assert_eq!(tx.len(), m.bytes.len());
    assert_eq!(tx.is_empty(), m.bytes.is_empty());
    assert_eq!(tx.free(), m.cap - m.bytes.len());
    assert_eq!(tx.ready(), m.ready());
    assert_eq!(tx.is_holding(), m.mark.is_some());
    assert_eq!(tx.is_paused(), m.paused);
    let [a, b] = tx.peek_vectored();
    assert_eq!(tx.peek(), a);
    assert!(!a.is_empty() || b.is_empty());
    let ready: Vec<u8> = m.bytes.iter().take(m.ready()).copied().collect();
    assert_eq!([a, b].concat(), ready);
}

fn tx_frame(tx: &mut TxRing<Vec<u8>>, m: &mut TxModel, op: TxOp) {
    let TxOp::Frame {
        n,
        pieces,
        seed,
        commit,
    } = op
    else {
        unreachable!()
    };
    let n = n % (m.cap + 3);
    let before = snapshot(tx);
    let expected = m.fits(n);
    let mut w = match tx.frame(n) {
        Ok(w) => w,
        Err(e) => {
            assert_eq!(Err(e), expected);
            assert_eq!(snapshot(tx), before);
            return;
        }
    };
    assert_eq!(expected, Ok(()));
    let data = bytes(seed, n);
    let mut out = Vec::new();
    let mut pieces = pieces.into_iter();
    while out.len() < n {
        let left = n - out.len();
        // The last piece takes the rest, unless the frame is to be dropped half written.
        let (k, masked) = match pieces.next() {
            Some((k, masked)) => (k % (left + 1), masked),
            None if commit => (left, None),
            None => break,
        };
        let src = &data[out.len()..out.len() + k];
        match masked {
            Some((key, phase)) => {
                let next = w.put_masked(src, key, phase);
                assert_eq!(next % 4, (phase % 4 + k) % 4);
                out.extend(mask(src, key, phase));
            }
            None => {
                w.put(src);
                out.extend(src);
            }
        }
        assert_eq!(w.remaining(), n - out.len());
    }
    if commit {
        w.commit();
        m.push(&out);
    } else {
        // The writer is dropped without a commit.
        assert_eq!(snapshot(tx), before);
    }
}

fn tx_txn(tx: &mut TxRing<Vec<u8>>, m: &mut TxModel, op: TxOp) {
    let TxOp::Txn {
        pieces,
        fmt,
        commit,
    } = op
    else {
        unreachable!()
    };
    let before = snapshot(tx);
    let mut t = tx.transaction();
    let (mut size, mut failed, mut out) = (0usize, None, Vec::new());
    for piece in pieces {
        let piece: Vec<u8> = if fmt {
            piece.iter().map(|b| b'a' + b % 26).collect()
        } else {
            piece
        };
        size += piece.len();
        let expected = m.fits(size);
        if fmt {
            let r = write!(t, "{}", std::str::from_utf8(&piece).unwrap());
            assert_eq!(r.is_ok(), expected.is_ok());
        } else {
            assert_eq!(t.put(&piece), expected);
        }
        match expected {
            Ok(()) if failed.is_none() => out.extend(piece),
            Ok(()) => unreachable!("a failed transaction only grows"),
            Err(e) => failed = Some(e),
        }
        assert_eq!(t.error(), failed);
        assert_eq!(t.len(), out.len() * usize::from(failed.is_none()));
    }
    if commit {
        let n = t.commit();
        if failed.is_none() {
            assert_eq!(n, out.len());
            m.push(&out);
            return;
        }
        assert_eq!(n, 0);
    }
    // A failed transaction, committed or not, and a dropped one change nothing.
    assert_eq!(snapshot(tx), before);
}

fn run_tx(cap: usize, ops: Vec<TxOp>) {
    let mut tx = TxRing::new(vec![0u8; cap]);
    let mut m = TxModel {
        cap,
        bytes: VecDeque::new(),
        written: 0,
        mark: None,
        paused: false,
        slots: Vec::new(),
    };
    let (mut sent, mut model_sent) = (Vec::<u8>::new(), Vec::<u8>::new());
    for op in ops {
        match op {
            TxOp::Frame { .. } => tx_frame(&mut tx, &mut m, op),
            TxOp::Txn { .. } => tx_txn(&mut tx, &mut m, op),
            TxOp::Hold => {
                tx.hold();
                m.mark.get_or_insert(m.written);
            }
            TxOp::Release => {
                tx.release();
                m.mark = None;
            }
            TxOp::Reserve(n) => {
                let n = n % 34;
                let before = snapshot(&tx);
                let expected = m.fits(n);
                match tx.reserve(n) {
                    Ok(slot) => {
                        assert_eq!(expected, Ok(()));
                        assert_eq!(slot.len(), n);
                        m.mark.get_or_insert(m.written);
                        m.slots.push((slot, m.written));
                        m.push(&vec![0; n]);
                    }
                    Err(e) => {
                        assert_eq!(Err(e), expected);
                        assert_eq!(snapshot(&tx), before);
                    }
                }
            }
            TxOp::Fill { which, seed } => {
                let consumed = m.consumed();
                m.slots.retain(|&(_, pos)| pos >= consumed);
                if !m.slots.is_empty() {
                    let (slot, pos) = m.slots[which % m.slots.len()];
                    let data = bytes(seed, slot.len());
                    tx.fill(slot, &data);
                    let at = (pos - consumed) as usize;
                    for (i, b) in data.into_iter().enumerate() {
                        m.bytes[at + i] = b;
                    }
                }
            }
            TxOp::Pause => {
                let expected = if m.bytes.is_empty() {
                    Ok(())
                } else {
                    Err(NotEmpty)
                };
                assert_eq!(tx.pause(), expected);
                m.paused |= expected.is_ok();
            }
            TxOp::Resume => {
                tx.resume();
                m.paused = false;
            }
            TxOp::Drain { n, vectored } => {
                let k = n % (m.ready() + 1);
                let got = if vectored {
                    tx.peek_vectored().concat()
                } else {
                    tx.peek().to_vec()
                };
                let k = if vectored { k } else { k.min(got.len()) };
                sent.extend(&got[..k]);
                tx.consume(k);
                model_sent.extend(m.bytes.drain(..k));
            }
            TxOp::Unwrite { n, off } => {
                let n = n % (m.bytes.len() + 2);
                let end = m.written.wrapping_sub(u64::from(off));
                let allowed = off == 0
                    && n <= m.bytes.len()
                    && m.mark.is_none_or(|mark| mark <= m.written - n as u64);
                let k = tx.unwritable(end, n);
                assert_eq!(k, if allowed { n } else { 0 });
                tx.unwrite(k);
                m.bytes.truncate(m.bytes.len() - k);
                m.written -= k as u64;
                let written = m.written;
                m.slots
                    .retain(|&(slot, pos)| pos + slot.len() as u64 <= written);
            }
        }
        check_tx(&tx, &m);
        assert_eq!(sent, model_sent);
    }
    // Let everything go, held bytes and filled slots included, and drain it all.
    tx.resume();
    tx.release();
    while !tx.is_empty() {
        let got = tx.peek().to_vec();
        assert!(!got.is_empty());
        sent.extend(&got);
        tx.consume(got.len());
    }
    model_sent.extend(m.bytes.drain(..));
    assert_eq!(sent, model_sent);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tx_matches_model(cap in 1usize..=300, ops in prop::collection::vec(tx_op(), 0..200)) {
        run_tx(cap, ops);
    }
}
