//! WebSocket payload masking (RFC 6455 §5.3).
//!
//! This module holds the XOR of a payload with the 4-byte masking key, in place ([`apply`]) or
//! while copying ([`copy_masked`]), resumable at any byte through a `phase` so that a payload can
//! be masked in pieces. It must never allocate, use `unsafe`, or choose or generate masking keys
//! (that is the mask source's job, RFC 6455 §5.3 and §10.3); it only applies a given key.

/// Rotates `key` so that its first byte is the one for payload offset `phase` (`phase < 4`).
#[inline]
fn rotated(key: [u8; 4], phase: usize) -> [u8; 4] {
    // Read little-endian, byte `i` sits at bits `8 i`: rotating right by `8 phase` bits brings byte
    // `phase` first. (A word rotation; `<[u8]>::rotate_left` is an out-of-line call.)
    u32::from_le_bytes(key)
        .rotate_right(8 * (phase as u32 % 4))
        .to_le_bytes()
}

/// The 4-byte key repeated over 8 bytes, in memory order, for XOR over `u64` lanes.
#[inline]
fn wide(key: [u8; 4]) -> u64 {
    let [a, b, c, d] = key;
    u64::from_ne_bytes([a, b, c, d, a, b, c, d])
}

/// Loads 8 bytes of `bytes` starting at `at` as a native-endian `u64`.
#[inline(always)]
fn load(bytes: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Below this many bytes the byte loop is used directly (no wide key is built).
const WIDE_MIN: usize = 16;

/// Applies (XORs) the 4-byte masking `key` to `buf` in place, starting at key byte `phase % 4`
/// (RFC 6455 §5.3: octet `i` of the payload is XORed with octet `i % 4` of the key).
///
/// Returns the phase for the next call: `(phase + buf.len()) % 4`, so a payload masked in
/// several pieces, each call given the phase the previous one returned, equals the payload masked
/// at once with phase 0. Masking and unmasking are the same operation.
#[inline]
pub fn apply(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let phase = phase % 4;
    let next = (phase + buf.len() % 4) % 4;
    let key = rotated(key, phase);
    #[cfg(not(target_pointer_width = "64"))]
    xor_words32(buf, key);
    #[cfg(target_pointer_width = "64")]
    if buf.len() <= SHORT_MAX {
        // Short payloads (most control frames and small messages): at most two words, inline.
        let k = wide(key);
        let mut words = buf.chunks_exact_mut(8);
        for word in &mut words {
            let v = load(word, 0) ^ k;
            word.copy_from_slice(&v.to_ne_bytes());
        }
        xor_bytes(words.into_remainder(), key);
    } else {
        apply_wide(buf, key);
    }
    next
}

/// Up to this many bytes [`apply`] masks inline, a word at a time.
#[cfg(target_pointer_width = "64")]
const SHORT_MAX: usize = 16;

/// [`apply`] for longer payloads (`key` already rotated to the phase).
///
/// With `std` on x86, payloads of [`DISPATCH_MIN`] bytes or more run the same loop compiled for
/// the widest vector instructions the CPU has (AVX2 or AVX-512, detected once at run time by
/// `fearless_simd`, whose safe `vectorize` does the `#[target_feature]` call the core cannot); the
/// build target's baseline (SSE2 on x86-64) does everything else.
#[cfg(target_pointer_width = "64")]
#[inline(never)]
fn apply_wide(buf: &mut [u8], key: [u8; 4]) {
    #[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
    if buf.len() >= DISPATCH_MIN {
        use fearless_simd::{Level, Simd};
        // Bytes up to the next cache line first, so that no wide store straddles two lines.
        let head = buf.as_ptr().align_offset(64).min(buf.len());
        let (first, buf) = buf.split_at_mut(head);
        xor_blocks(first, key);
        let key = rotated(key, head % 4);
        return match Level::new() {
            Level::Avx512(cpu) => cpu.vectorize(|| xor_blocks(buf, key)),
            Level::Avx2(cpu) => cpu.vectorize(|| xor_blocks(buf, key)),
            _ => xor_blocks(buf, key),
        };
    }
    xor_blocks(buf, key)
}

/// From this many bytes [`apply_wide`] asks which vector instructions the CPU has (one cached load)
/// before masking.
#[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
const DISPATCH_MIN: usize = 256;

/// The masking loop of [`apply_wide`]: 32-byte blocks, then words, then bytes. Always inlined, so
/// that each caller compiles it for its own target features.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
fn xor_blocks(buf: &mut [u8], key: [u8; 4]) {
    let k = wide(key);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for at in [0, 8, 16, 24] {
            let v = load(block, at) ^ k;
            block[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        }
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        let v = load(word, 0) ^ k;
        word.copy_from_slice(&v.to_ne_bytes());
    }
    // Every block and word is a multiple of 4 bytes long: the tail starts at key byte 0 again.
    xor_bytes(words.into_remainder(), key);
}

/// [`copy_masked`] out of line: one copy of its loops shared by the transmit ring's writers (the send
/// path is not slowed by the call; the flash of a firmware is spared the duplicates). With `std` on
/// x86, long payloads are masked with the widest vectors the CPU has, as in [`apply_wide`].
#[inline(never)]
pub(crate) fn copy_masked_shared(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) -> usize {
    #[cfg(all(feature = "std", any(target_arch = "x86", target_arch = "x86_64")))]
    if src.len() >= DISPATCH_MIN {
        use fearless_simd::{Level, Simd};
        return match Level::new() {
            Level::Avx512(cpu) => cpu.vectorize(|| copy_masked_inline(dst, src, key, phase)),
            Level::Avx2(cpu) => cpu.vectorize(|| copy_masked_inline(dst, src, key, phase)),
            _ => copy_masked_inline(dst, src, key, phase),
        };
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        assert!(
            dst.len() == src.len(),
            "copy_masked: destination and source lengths differ"
        );
        let next = (phase % 4 + src.len() % 4) % 4;
        copy_xor_words32(dst, src, rotated(key, phase % 4));
        next
    }
    #[cfg(target_pointer_width = "64")]
    copy_masked_inline(dst, src, key, phase)
}

/// Copies `src` into `dst` masked with `key` starting at key byte `phase % 4`, in one pass
/// (RFC 6455 §5.3). Equivalent to copying then calling [`apply`], and returns the same phase for
/// the next call: `(phase + src.len()) % 4`.
///
/// # Panics
///
/// If `dst.len() != src.len()`.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) -> usize {
    if cfg!(target_pointer_width = "64") && src.len() < WIDE_MIN {
        copy_masked_inline(dst, src, key, phase)
    } else {
        copy_masked_shared(dst, src, key, phase)
    }
}

/// [`copy_masked`], always inlined (so that [`copy_masked_shared`] compiles it for the vector
/// instructions it picked).
#[inline(always)]
fn copy_masked_inline(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) -> usize {
    // A static message: no formatting machinery linked for a caller bug.
    assert!(
        dst.len() == src.len(),
        "copy_masked: destination and source lengths differ"
    );
    let phase = phase % 4;
    let next = (phase + src.len() % 4) % 4;
    let key = rotated(key, phase);
    if src.len() < WIDE_MIN {
        copy_xor_bytes(dst, src, key);
        return next;
    }
    let k = wide(key);
    let mut dst_blocks = dst.chunks_exact_mut(32);
    let mut src_blocks = src.chunks_exact(32);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        for at in [0, 8, 16, 24] {
            let v = load(s, at) ^ k;
            d[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        }
    }
    let mut dst_words = dst_blocks.into_remainder().chunks_exact_mut(8);
    let mut src_words = src_blocks.remainder().chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let v = load(s, 0) ^ k;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    copy_xor_bytes(dst_words.into_remainder(), src_words.remainder(), key);
    next
}

/// The masking loop of targets without 64-bit registers (32-bit microcontrollers): a 32-bit word
/// at a time, then bytes. Out of line: one small copy for every caller, the flash a firmware counts
/// (on a Cortex-M0, which has no unaligned loads, the 64-bit loops above were byte loads and shifts
/// anyway).
#[cfg(any(test, not(target_pointer_width = "64")))]
#[inline(never)]
fn xor_words32(buf: &mut [u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key);
    let mut words = buf.chunks_exact_mut(4);
    for word in &mut words {
        let v = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]) ^ k;
        word.copy_from_slice(&v.to_ne_bytes());
    }
    xor_bytes(words.into_remainder(), key);
}

/// [`xor_words32`] while copying: `dst[i] = src[i] ^ key[i % 4]` (`dst` and `src` of one length).
#[cfg(any(test, not(target_pointer_width = "64")))]
#[inline(never)]
fn copy_xor_words32(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key);
    let mut dst_words = dst.chunks_exact_mut(4);
    let mut src_words = src.chunks_exact(4);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let v = u32::from_ne_bytes([s[0], s[1], s[2], s[3]]) ^ k;
        d.copy_from_slice(&v.to_ne_bytes());
    }
    copy_xor_bytes(dst_words.into_remainder(), src_words.remainder(), key);
}

/// Byte loop: `buf[i] ^= key[i % 4]`.
#[inline]
fn xor_bytes(buf: &mut [u8], key: [u8; 4]) {
    for (b, k) in buf.iter_mut().zip(key.iter().cycle()) {
        *b ^= k;
    }
}

/// Byte loop: `dst[i] = src[i] ^ key[i % 4]`.
#[inline]
fn copy_xor_bytes(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    for ((d, s), k) in dst.iter_mut().zip(src).zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The definition, RFC 6455 §5.3, shifted by `phase`.
    fn reference(buf: &mut [u8], key: [u8; 4], phase: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(phase + i) % 4];
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + 7) as u8).collect()
    }

    const KEYS: [[u8; 4]; 3] = [
        [0x37, 0xfa, 0x21, 0x3d],
        [0x01, 0x02, 0x04, 0x80],
        [0xff, 0x00, 0xa5, 0x5a],
    ];

    #[test]
    fn rfc6455_section_5_7_hello() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut buf = *b"Hello";
        assert_eq!(apply(&mut buf, key, 0), 1);
        assert_eq!(buf, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        let mut copy = [0u8; 5];
        assert_eq!(copy_masked(&mut copy, b"Hello", key, 0), 1);
        assert_eq!(copy, buf);
        apply(&mut buf, key, 0);
        assert_eq!(&buf, b"Hello");
    }

    #[test]
    fn every_length_and_phase_matches_reference() {
        for key in KEYS {
            for len in 0..=200 {
                let src = data(len);
                // Phases beyond 3 too: only `phase % 4` matters.
                for phase in 0..=7 {
                    let mut want = src.clone();
                    reference(&mut want, key, phase);
                    let next = (phase + len) % 4;

                    let mut got = src.clone();
                    assert_eq!(apply(&mut got, key, phase), next);
                    assert_eq!(got, want, "apply len {len} phase {phase}");

                    let mut dst = std::vec![0xAA; len];
                    assert_eq!(copy_masked(&mut dst, &src, key, phase), next);
                    assert_eq!(dst, want, "copy_masked len {len} phase {phase}");
                }
            }
        }
    }

    #[test]
    fn misaligned_starts_match_reference() {
        // Sub-slices at every offset, so the wide loops see every alignment.
        let key = KEYS[0];
        let src = data(300);
        for start in 0..16 {
            for phase in 0..4 {
                let mut want = src[start..].to_vec();
                reference(&mut want, key, phase);
                let mut got = src.clone();
                apply(&mut got[start..], key, phase);
                assert_eq!(&got[start..], &want[..]);
                let mut dst = std::vec![0; 300 + 16];
                copy_masked(&mut dst[start..300], &src[start..], key, phase);
                assert_eq!(&dst[start..300], &want[..]);
            }
        }
    }

    #[test]
    fn long_payloads_at_every_alignment_match_reference() {
        // Past the length where the wide path (with `std`: the run-time chosen vector loop and its
        // cache-line head) takes over, at each of the 64 start offsets a cache line has, every phase.
        let key = KEYS[2];
        let src = data(1200);
        for len in [255, 256, 257, 300, 511, 1024 + 7] {
            for start in 0..64 {
                for phase in 0..4 {
                    let mut want = src[start..start + len].to_vec();
                    reference(&mut want, key, phase);
                    let mut got = src.clone();
                    let next = apply(&mut got[start..start + len], key, phase);
                    assert_eq!(next, (phase + len) % 4);
                    assert!(
                        got[start..start + len] == want[..],
                        "len {len} start {start} phase {phase}"
                    );
                    assert_eq!(&got[..start], &src[..start], "bytes before untouched");
                    assert_eq!(
                        &got[start + len..],
                        &src[start + len..],
                        "bytes after untouched"
                    );
                    let mut dst = std::vec![0; len];
                    assert_eq!(
                        copy_masked_shared(&mut dst, &src[start..start + len], key, phase),
                        next
                    );
                    assert!(dst == want, "copy len {len} start {start} phase {phase}");
                }
            }
        }
    }

    #[test]
    fn word32_loops_match_reference() {
        // The loops 32-bit targets use (tested here on the host too), at every length, alignment
        // and phase.
        let src = data(120);
        for key in KEYS {
            for start in 0..8 {
                for len in 0..=100 {
                    for phase in 0..4 {
                        let mut want = src[start..start + len].to_vec();
                        reference(&mut want, key, phase);
                        let mut got = src[start..start + len].to_vec();
                        xor_words32(&mut got, rotated(key, phase));
                        assert_eq!(got, want, "len {len} start {start} phase {phase}");
                        let mut dst = std::vec![0; len + 8];
                        copy_xor_words32(
                            &mut dst[start..start + len],
                            &src[start..start + len],
                            rotated(key, phase),
                        );
                        assert_eq!(&dst[start..start + len], &want[..]);
                    }
                }
            }
        }
    }

    #[test]
    fn masking_twice_restores() {
        for key in KEYS {
            for len in [0, 1, 5, 15, 16, 31, 32, 33, 100, 1000] {
                for phase in 0..4 {
                    let src = data(len);
                    let mut buf = src.clone();
                    apply(&mut buf, key, phase);
                    if len >= 4 {
                        assert_ne!(buf, src);
                    }
                    apply(&mut buf, key, phase);
                    assert_eq!(buf, src);
                    let mut masked = std::vec![0; len];
                    copy_masked(&mut masked, &src, key, phase);
                    let mut back = std::vec![0; len];
                    copy_masked(&mut back, &masked, key, phase);
                    assert_eq!(back, src);
                }
            }
        }
    }

    #[test]
    fn split_calls_carry_the_phase() {
        for key in KEYS {
            for len in 0..=64 {
                let src = data(len);
                for phase in 0..4 {
                    let mut whole = src.clone();
                    apply(&mut whole, key, phase);
                    for cut in 0..=len {
                        let mut parts = src.clone();
                        let (a, b) = parts.split_at_mut(cut);
                        let mid = apply(a, key, phase);
                        assert_eq!(apply(b, key, mid), (phase + len) % 4);
                        assert_eq!(parts, whole, "len {len} cut {cut} phase {phase}");

                        let mut dst = std::vec![0; len];
                        let (da, db) = dst.split_at_mut(cut);
                        let mid = copy_masked(da, &src[..cut], key, phase);
                        copy_masked(db, &src[cut..], key, mid);
                        assert_eq!(dst, whole, "copy len {len} cut {cut} phase {phase}");
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "lengths differ")]
    fn copy_masked_panics_on_length_mismatch() {
        let mut dst = [0u8; 3];
        copy_masked(&mut dst, &[1, 2, 3, 4], [1, 2, 3, 4], 0);
    }

    #[test]
    fn huge_phase_does_not_overflow() {
        let mut buf = [0u8; 20];
        assert_eq!(
            apply(&mut buf, [1, 2, 3, 4], usize::MAX),
            (usize::MAX % 4 + 20) % 4
        );
        assert_eq!(buf[0], 4);
    }
}
