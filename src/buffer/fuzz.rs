//! The buffers' fuzz check (`fuzz/fuzz_targets/buffers.rs` calls it): an operation sequence run against
//! `RxBuf` and `TxRing` and `VecDeque<u8>` models, asserting that the bytes read back equal the model's.
//! It lives in the crate because it drives the buffers' driver side, which is crate-private; it is
//! compiled only with the private `__fuzz` feature and is not public API.

use std::collections::VecDeque;
use std::prelude::rust_2024::*;
use std::vec;

use arbitrary::{Arbitrary, Unstructured};

use super::{NotEmpty, RxBuf, Slot, TxError, TxRing};

#[derive(Arbitrary, Debug)]
enum Op {
    RxRead {
        n: u16,
        seed: u8,
    },
    RxConsume(u16),
    RxView {
        n: u16,
        a: u16,
        b: u16,
    },
    TxFrame {
        n: u16,
        split: u16,
        mask: Option<([u8; 4], u8)>,
        commit: bool,
    },
    TxTxn {
        a: u16,
        b: u16,
        commit: bool,
    },
    TxHold,
    TxRelease,
    TxReserve(u8),
    TxFill(u8),
    TxPause,
    TxResume,
    TxDrain(u16),
    TxUnwrite(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    rx_cap: u8,
    tx_cap: u8,
    ops: Vec<Op>,
}

fn fits(len: usize, cap: usize, size: usize) -> Result<(), TxError> {
    if size > cap {
        Err(TxError::TooLarge {
            size,
            capacity: cap,
        })
    } else if size > cap - len {
        Err(TxError::Full { needed: size })
    } else {
        Ok(())
    }
}

/// Decodes `data` as an operation sequence and checks the buffers against their models; panics on a
/// difference.
pub fn buffers(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    run(input);
}

fn run(input: Input) {
    let (rx_cap, tx_cap) = (usize::from(input.rx_cap), usize::from(input.tx_cap));
    let mut rx = RxBuf::new(vec![0u8; rx_cap]);
    let mut rx_model = VecDeque::new();
    let mut tx = TxRing::new(vec![0u8; tx_cap]);
    let mut tx_model = VecDeque::new();
    let (mut written, mut mark, mut paused) = (0u64, None::<u64>, false);
    let mut slots: Vec<(Slot, u64)> = Vec::new();
    for op in input.ops {
        match op {
            Op::RxRead { n, seed } => {
                let free = rx.free_space();
                assert_eq!(free.is_empty(), rx_model.len() == rx_cap);
                let k = usize::from(n) % (free.len() + 1);
                free[..k].fill(seed);
                rx.commit(k);
                rx_model.extend(std::iter::repeat_n(seed, k));
            }
            Op::RxConsume(n) => {
                let n = usize::from(n) % (rx_model.len() + 1);
                rx.consume(n);
                rx_model.drain(..n);
            }
            Op::RxView { n, a, b } => {
                let len = rx_model.len();
                let (n, a, b) = (
                    usize::from(n) % (len + 1),
                    usize::from(a) % (len + 1),
                    usize::from(b) % (len + 1),
                );
                let range = a.min(b)..a.max(b);
                let expected: Vec<u8> = rx_model.range(range.clone()).copied().collect();
                assert_eq!(rx.consume_view(n, range), &expected[..]);
                rx_model.drain(..n);
            }
            Op::TxFrame {
                n,
                split,
                mask,
                commit,
            } => {
                let n = usize::from(n) % (tx_cap + 2);
                let expected = fits(tx_model.len(), tx_cap, n);
                let mut w = match tx.frame(n) {
                    Ok(w) => w,
                    Err(e) => {
                        assert_eq!(Err(e), expected);
                        continue;
                    }
                };
                assert_eq!(expected, Ok(()));
                let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
                let (first, second) = data.split_at(usize::from(split) % (n + 1));
                let out: Vec<u8> = match mask {
                    Some((key, phase)) => {
                        let next = w.put_masked(first, key, usize::from(phase));
                        w.put_masked(second, key, next);
                        let phase = usize::from(phase);
                        data.iter()
                            .enumerate()
                            .map(|(i, b)| b ^ key[(phase + i) % 4])
                            .collect()
                    }
                    None => {
                        w.put(first);
                        w.put(second);
                        data.clone()
                    }
                };
                if commit {
                    w.commit();
                    tx_model.extend(out);
                    written += n as u64;
                }
            }
            Op::TxTxn { a, b, commit } => {
                let (a, b) = (usize::from(a) % (tx_cap + 2), usize::from(b) % (tx_cap + 2));
                let mut t = tx.transaction();
                let ra = t.put(&vec![b'a'; a]);
                let rb = t.put(&vec![b'b'; b]);
                assert_eq!(ra, fits(tx_model.len(), tx_cap, a));
                assert_eq!(rb, fits(tx_model.len(), tx_cap, a + b));
                if commit {
                    let n = t.commit();
                    if rb.is_ok() {
                        assert_eq!(n, a + b);
                        tx_model.extend(
                            std::iter::repeat_n(b'a', a).chain(std::iter::repeat_n(b'b', b)),
                        );
                        written += n as u64;
                    } else {
                        assert_eq!(n, 0);
                    }
                }
            }
            Op::TxHold => {
                tx.hold();
                mark.get_or_insert(written);
            }
            Op::TxRelease => {
                tx.release();
                mark = None;
            }
            Op::TxReserve(n) => {
                let n = usize::from(n % 20);
                let expected = fits(tx_model.len(), tx_cap, n);
                match tx.reserve(n) {
                    Ok(slot) => {
                        assert_eq!(expected, Ok(()));
                        mark.get_or_insert(written);
                        slots.push((slot, written));
                        tx_model.extend(std::iter::repeat_n(0, n));
                        written += n as u64;
                    }
                    Err(e) => assert_eq!(Err(e), expected),
                }
            }
            Op::TxFill(which) => {
                let consumed = written - tx_model.len() as u64;
                slots.retain(|&(_, pos)| pos >= consumed);
                if !slots.is_empty() {
                    let (slot, pos) = slots[usize::from(which) % slots.len()];
                    tx.fill(slot, &vec![which; slot.len()]);
                    let at = (pos - consumed) as usize;
                    tx_model
                        .range_mut(at..at + slot.len())
                        .for_each(|b| *b = which);
                }
            }
            Op::TxPause => {
                let expected = if tx_model.is_empty() {
                    Ok(())
                } else {
                    Err(NotEmpty)
                };
                assert_eq!(tx.pause(), expected);
                paused |= expected.is_ok();
            }
            Op::TxResume => {
                tx.resume();
                paused = false;
            }
            Op::TxDrain(n) => {
                let consumed = written - tx_model.len() as u64;
                let ready = match (paused, mark) {
                    (true, _) => 0,
                    (false, Some(m)) => (m - consumed) as usize,
                    (false, None) => tx_model.len(),
                };
                assert_eq!(tx.ready(), ready);
                let got = tx.peek_vectored().concat();
                assert!(got.iter().eq(tx_model.iter().take(ready)));
                let k = usize::from(n) % (ready + 1);
                tx.consume(k);
                tx_model.drain(..k);
            }
            Op::TxUnwrite(n) => {
                let n = usize::from(n) % (tx_model.len() + 2);
                let allowed = n <= tx_model.len() && mark.is_none_or(|m| m <= written - n as u64);
                let k = tx.unwritable(written, n);
                assert_eq!(k, if allowed { n } else { 0 });
                tx.unwrite(k);
                tx_model.truncate(tx_model.len() - k);
                written -= k as u64;
                slots.retain(|&(slot, pos)| pos + slot.len() as u64 <= written);
            }
        }
        assert_eq!(
            rx.readable(),
            &rx_model.iter().copied().collect::<Vec<u8>>()[..]
        );
        assert_eq!(tx.len(), tx_model.len());
    }
    tx.resume();
    tx.release();
    let rest = tx.peek_vectored().concat();
    assert!(rest.iter().eq(tx_model.iter()));
}
