//! Randomness as an input: the source of client masking keys and handshake nonces (RFC 6455 §5.3, §4.1).
//!
//! The driver never owns or seeds a generator; a call that needs randomness borrows a [`MaskSource`].
//! Implementations here: `RandCore` over any `rand_core` generator (feature `rand_core`),
//! [`FixedSequence`] and [`SplitMix`] for tests. Nothing here may be used where unpredictability matters
//! except `RandCore` over a cryptographically secure generator.

/// A source of random bytes for masking keys and `Sec-WebSocket-Key` nonces.
///
/// RFC 6455 §5.3: "The masking key MUST be derived from a strong source of entropy", unpredictable to the
/// application that produces the payload; §10.3 explains why (cache poisoning of intermediaries).
pub trait MaskSource {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);

    /// A fresh 4-byte masking key (RFC 6455 §5.3; F16).
    fn mask_key(&mut self) -> [u8; 4] {
        let mut key = [0u8; 4];
        self.fill_bytes(&mut key);
        key
    }

    /// A fresh 16-byte nonce for `Sec-WebSocket-Key` (RFC 6455 §4.1).
    fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = [0u8; 16];
        self.fill_bytes(&mut nonce);
        nonce
    }
}

impl<M: MaskSource + ?Sized> MaskSource for &mut M {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        (**self).fill_bytes(dest);
    }
}

/// Adapts any `rand_core` generator (for example `rand::rngs::StdRng` or a hardware RNG's driver).
#[cfg(feature = "rand_core")]
#[derive(Clone, Debug, Default)]
pub struct RandCore<R>(pub R);

#[cfg(feature = "rand_core")]
impl<R: rand_core::RngCore> MaskSource for RandCore<R> {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
}

/// Replays a fixed byte sequence, cycling: for test vectors that fix a key (e.g. the H8 request vector).
/// An empty sequence yields zeros.
#[derive(Clone, Debug)]
pub struct FixedSequence<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> FixedSequence<'a> {
    /// A source that yields `bytes`, then `bytes` again, and so on.
    pub const fn new(bytes: &'a [u8]) -> Self {
        FixedSequence { bytes, pos: 0 }
    }
}

impl MaskSource for FixedSequence<'_> {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self.bytes.get(self.pos).copied().unwrap_or(0);
            self.pos = if self.pos + 1 >= self.bytes.len() {
                0
            } else {
                self.pos + 1
            };
        }
    }
}

/// A small deterministic generator (SplitMix64) for tests and simulations: reproducible, **not**
/// unpredictable, so never for real connections.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator started from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl MaskSource for SplitMix {
    fn mask_key(&mut self) -> [u8; 4] {
        let [a, b, c, d, ..] = self.next_u64().to_le_bytes();
        [a, b, c, d]
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_sequence_cycles() {
        let mut src = FixedSequence::new(&[1, 2, 3]);
        assert_eq!(src.mask_key(), [1, 2, 3, 1]);
        assert_eq!(src.mask_key(), [2, 3, 1, 2]);
        assert_eq!(FixedSequence::new(&[]).mask_key(), [0; 4]);
    }

    #[test]
    fn splitmix_is_reproducible_and_varies() {
        // F16: a fresh key per frame — consecutive keys differ.
        let mut a = SplitMix::new(7);
        let mut b = SplitMix::new(7);
        let keys: std::vec::Vec<[u8; 4]> = (0..64).map(|_| a.mask_key()).collect();
        assert_eq!(
            keys,
            (0..64).map(|_| b.mask_key()).collect::<std::vec::Vec<_>>()
        );
        assert!(keys.windows(2).all(|w| w[0] != w[1]));
        let by_ref: &mut dyn MaskSource = &mut a;
        assert_ne!(by_ref.nonce(), [0; 16]);
    }

    #[cfg(feature = "rand_core")]
    #[test]
    fn rand_core_adapter_forwards() {
        struct Counting(u8);
        impl rand_core::RngCore for Counting {
            fn next_u32(&mut self) -> u32 {
                0
            }
            fn next_u64(&mut self) -> u64 {
                0
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                for b in dest {
                    self.0 += 1;
                    *b = self.0;
                }
            }
        }
        assert_eq!(RandCore(Counting(0)).mask_key(), [1, 2, 3, 4]);
    }
}
