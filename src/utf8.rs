//! Incremental, fail-fast UTF-8 validation of text messages (RFC 6455 §8.1, RFC 3629).
//!
//! This module holds [`Utf8Validator`], which checks a text message piece by piece as its bytes
//! arrive (across reads, partial frames and fragments), and [`Utf8Error`]. It must never copy or
//! buffer payload bytes beyond the (at most 3) bytes of one unfinished code point, never allocate,
//! and never accept a byte that cannot continue valid UTF-8: an invalid text fails at the feed that
//! brings its first offending byte, not at the end of the message.

use core::fmt;

/// Why a text is not valid UTF-8.
///
/// RFC 6455 §8.1: an endpoint that receives a text message that is not valid UTF-8 must fail the
/// WebSocket connection (close code 1007, RFC 6455 §7.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Utf8Error {
    /// A byte that can never be part of valid UTF-8 at its position (RFC 3629 §4).
    Invalid,
    /// The text ended in the middle of a code point.
    Incomplete,
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Utf8Error::Invalid => "invalid UTF-8",
            Utf8Error::Incomplete => "incomplete UTF-8 code point at the end of the text",
        })
    }
}

/// Incremental UTF-8 validator for one text message at a time (RFC 6455 §8.1, RFC 3629).
///
/// Feed the payload bytes of a text message in any pieces with [`feed`](Self::feed), then call
/// [`finish`](Self::finish) at the end of the message. A code point may be split across pieces
/// (RFC 6455 §5.6: only the whole message must be valid UTF-8, not each fragment); the validator
/// keeps its unfinished bytes (at most 3), which are always a valid prefix of a code point.
///
/// After [`feed`](Self::feed) returns `Err(Utf8Error::Invalid)` the state is unspecified until
/// [`reset`](Self::reset) (or [`finish`](Self::finish)) is called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Utf8Validator {
    /// Bytes of an unfinished code point; only `pending[..pending_len]` are meaningful.
    pending: [u8; 3],
    /// How many bytes of `pending` are held (0..=3).
    pending_len: u8,
}

/// Total length of the UTF-8 sequence started by the valid lead byte `lead` (RFC 3629 §4).
///
/// Only called with the first byte of a held, valid, multi-byte prefix.
const fn sequence_len(lead: u8) -> usize {
    match lead {
        ..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

impl Utf8Validator {
    /// A validator at the start of a text, holding nothing.
    pub const fn new() -> Self {
        Utf8Validator {
            pending: [0; 3],
            pending_len: 0,
        }
    }

    /// Feeds the next piece of a text (RFC 6455 §8.1).
    ///
    /// Fails at the first byte that makes the text invalid: a text that can never become valid
    /// fails as soon as the offending byte is fed, not at the end.
    ///
    /// On success returns how many leading bytes of `input` end on a char boundary:
    /// `input.len()` minus the bytes of `input` now held as an incomplete code point, saturating
    /// at 0. For example with `[0xE2]` pending, feeding `[0x82]` returns `Ok(0)` and feeding
    /// `[0x82, 0xAC, 0x41]` afterwards returns `Ok(3)`: the held bytes followed by `input[..n]` are
    /// always whole chars.
    ///
    /// # Errors
    ///
    /// [`Utf8Error::Invalid`] if a byte of `input` cannot continue valid UTF-8.
    #[inline]
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, Utf8Error> {
        if self.pending_len == 0 {
            self.feed_on_boundary(input)
        } else {
            self.feed_after_pending(input)
        }
    }

    /// Bytes of an incomplete code point held from earlier input (0..=3).
    #[inline]
    pub fn pending(&self) -> usize {
        usize::from(self.pending_len)
    }

    /// Ends the text. Resets the validator either way.
    ///
    /// # Errors
    ///
    /// [`Utf8Error::Incomplete`] if the text ended inside a code point.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let unfinished = self.pending_len != 0;
        self.reset();
        if unfinished {
            Err(Utf8Error::Incomplete)
        } else {
            Ok(())
        }
    }

    /// Forgets everything (start of a new text).
    #[inline]
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Validates `input` starting on a char boundary; holds its unfinished tail, if any.
    #[inline]
    fn feed_on_boundary(&mut self, input: &[u8]) -> Result<usize, Utf8Error> {
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(input.len()),
            // `error_len() == None`: the input ends in a valid prefix of a code point (1..=3 bytes).
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                // 1 to 3 bytes; copied by zipping, so that no length can panic.
                let tail = input.get(valid..).unwrap_or_default();
                for (to, &byte) in self.pending.iter_mut().zip(tail) {
                    *to = byte;
                }
                self.pending_len = tail.len().min(3) as u8;
                Ok(valid)
            }
            Err(_) => Err(Utf8Error::Invalid),
        }
    }

    /// Completes the held code point from the first bytes of `input`, then validates the rest.
    #[inline(never)]
    fn feed_after_pending(&mut self, input: &[u8]) -> Result<usize, Utf8Error> {
        // Slices taken with `get` and bytes copied by zipping: no bounds panic is built in.
        let held = usize::from(self.pending_len);
        let (head, rest) = input.split_at(
            sequence_len(self.pending[0])
                .saturating_sub(held)
                .min(input.len()),
        );
        let [a, b, c] = self.pending;
        let mut bytes = [a, b, c, 0];
        for (to, &byte) in bytes.iter_mut().skip(held).zip(head) {
            *to = byte;
        }
        let len = (held + head.len()).min(4);
        match core::str::from_utf8(bytes.get(..len).unwrap_or_default()) {
            Ok(_) => {
                self.pending_len = 0;
                let rest = self.feed_on_boundary(rest)?;
                Ok(head.len() + rest)
            }
            // Still a valid prefix: `input` was too short to finish it (so `rest` is empty).
            Err(e) if e.error_len().is_none() => {
                let [a, b, c, _] = bytes;
                self.pending = [a, b, c];
                self.pending_len = len as u8;
                Ok(0)
            }
            Err(_) => Err(Utf8Error::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// What the reference checker says about a whole input.
    #[derive(Debug, PartialEq, Eq)]
    enum Verdict {
        Valid,
        /// Index of the first byte that cannot continue a valid prefix.
        InvalidAt(usize),
        /// Valid up to the end, which is inside a code point.
        Truncated,
    }

    /// Byte-at-a-time DFA per RFC 3629 §4 (the table of well-formed byte sequences).
    fn reference(bytes: &[u8]) -> Verdict {
        // Remaining continuation bytes, and the allowed range for the next one.
        let mut need = 0u8;
        let mut range = 0x80..=0xBF_u8;
        for (i, &b) in bytes.iter().enumerate() {
            if need > 0 {
                if !range.contains(&b) {
                    return Verdict::InvalidAt(i);
                }
                need -= 1;
                range = 0x80..=0xBF;
                continue;
            }
            (need, range) = match b {
                0x00..=0x7F => (0, 0x80..=0xBF),
                0xC2..=0xDF => (1, 0x80..=0xBF),
                0xE0 => (2, 0xA0..=0xBF),
                0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80..=0xBF),
                0xED => (2, 0x80..=0x9F),
                0xF0 => (3, 0x90..=0xBF),
                0xF1..=0xF3 => (3, 0x80..=0xBF),
                0xF4 => (3, 0x80..=0x8F),
                _ => return Verdict::InvalidAt(i), // 80..=C1, F5..=FF
            };
        }
        if need == 0 {
            Verdict::Valid
        } else {
            Verdict::Truncated
        }
    }

    /// The reference verdict derived from `core::str::from_utf8` instead.
    fn std_verdict(bytes: &[u8]) -> Verdict {
        match core::str::from_utf8(bytes) {
            Ok(_) => Verdict::Valid,
            Err(e) => match e.error_len() {
                None => Verdict::Truncated,
                Some(len) => {
                    let at = e.valid_up_to();
                    // std reports the maximal valid prefix as the invalid sequence; the offending
                    // byte follows it, unless the first byte is no lead byte at all.
                    let lead_ok = matches!(bytes[at], 0xC2..=0xF4);
                    Verdict::InvalidAt(if lead_ok { at + len } else { at })
                }
            },
        }
    }

    /// Outcome of feeding `pieces` in order: `Ok(())` if every feed and `finish` succeed, else
    /// `Err((index of the failing piece, or pieces.len() for finish, error))`.
    fn run(pieces: &[&[u8]]) -> Result<(), (usize, Utf8Error)> {
        let mut v = Utf8Validator::new();
        for (i, piece) in pieces.iter().enumerate() {
            v.feed(piece).map_err(|e| (i, e))?;
        }
        v.finish().map_err(|e| (pieces.len(), e))
    }

    /// Checks one split of `whole` against the reference, including which piece fails.
    fn check_split(whole: &[u8], pieces: &[&[u8]]) {
        let want = match reference(whole) {
            Verdict::Valid => Ok(()),
            Verdict::Truncated => Err((pieces.len(), Utf8Error::Incomplete)),
            Verdict::InvalidAt(at) => {
                // The piece that holds byte `at`.
                let mut ends = pieces.iter().scan(0, |end, p| {
                    *end += p.len();
                    Some(*end)
                });
                Err((ends.position(|end| at < end).unwrap(), Utf8Error::Invalid))
            }
        };
        assert_eq!(run(pieces), want, "{whole:02x?} split {pieces:02x?}");
    }

    const APPLE: &[u8] = b"Apple = \xef\xa3\xbf";
    const KOSME_SURROGATE: &[u8] = &[
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65,
        0x64, 0x69, 0x74, 0x65, 0x64,
    ];

    const SAMPLES: &[&[u8]] = &[
        b"",
        b"hello",
        APPLE,
        KOSME_SURROGATE,
        &[0xf4, 0x90, 0x80, 0x80],
        &[0xc0, 0x80],
        &[0xc1, 0xbf],
        &[0xed, 0x9f, 0xbf],
        &[0xed, 0xa0, 0x80],
        &[0xe0, 0x80, 0x80],
        &[0xe0, 0xa0, 0x80],
        &[0xf0, 0x80, 0x80, 0x80],
        &[0xf0, 0x90, 0x80, 0x80],
        &[0xf4, 0x8f, 0xbf, 0xbf],
        &[0xf5, 0x80, 0x80, 0x80],
        &[0xff],
        &[0xfe, 0xff],
        &[0x80],
        &[0x41, 0xbf, 0x41],
        &[0xe2, 0x82],
        &[0xe2, 0x82, 0x41],
        &[0xf0, 0x9f, 0x98],
        &[0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62],
        "κόσμε ∀x∈ℝ 😀 \u{10FFFF}\u{FFFD}".as_bytes(),
    ];

    #[test]
    fn reference_agrees_with_std() {
        for s in SAMPLES {
            assert_eq!(reference(s), std_verdict(s), "{s:02x?}");
        }
    }

    // F10: a code point split across fragments or reads is fine, and invalid bytes fail in the
    // very piece that brings them, for every 2-way and 3-way split and byte by byte.
    #[test]
    fn every_split_agrees_with_reference() {
        for &s in SAMPLES {
            check_split(s, &[s]);
            for a in 0..=s.len() {
                check_split(s, &[&s[..a], &s[a..]]);
                for b in a..=s.len() {
                    check_split(s, &[&s[..a], &s[a..b], &s[b..]]);
                }
            }
            let bytes: Vec<&[u8]> = s.chunks(1).collect();
            check_split(s, &bytes);
        }
    }

    // F10: fail-fast byte by byte at the offending byte, not at the end of the text.
    #[test]
    fn fails_at_the_offending_byte() {
        let cases: &[(&[u8], usize)] = &[
            (KOSME_SURROGATE, 12), // the `a0` after `ed`
            (&[0xf4, 0x90, 0x80, 0x80], 1),
            (&[0xc0, 0x80], 0),
            (&[0xf5], 0),
            (&[0xff], 0),
            (&[0xed, 0xa0], 1),
            (&[0xe0, 0x80], 1),
            (&[0xf0, 0x8f], 1),
            (&[0xe2, 0x82, 0x41], 2),
        ];
        for &(text, at) in cases {
            assert_eq!(reference(text), Verdict::InvalidAt(at), "{text:02x?}");
            let mut v = Utf8Validator::new();
            for (i, b) in text.iter().enumerate() {
                let r = v.feed(core::slice::from_ref(b));
                if i < at {
                    assert!(r.is_ok(), "{text:02x?} failed early at {i}");
                } else {
                    assert_eq!(r, Err(Utf8Error::Invalid), "{text:02x?} at {i}");
                    break;
                }
            }
        }
    }

    // F10: known vectors, also split inside their multi-byte chars.
    #[test]
    fn vectors() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&APPLE[..6]), Ok(6));
        assert_eq!(v.feed(&APPLE[6..]), Ok(5));
        assert_eq!(v.finish(), Ok(()));

        assert_eq!(v.feed(&APPLE[..10]), Ok(8));
        assert_eq!(v.pending(), 2);
        assert_eq!(v.feed(&APPLE[10..]), Ok(1));
        assert_eq!(v.pending(), 0);
        assert_eq!(v.finish(), Ok(()));

        assert_eq!(v.feed(&[0xe2]), Ok(0));
        assert_eq!(v.feed(&[0x82]), Ok(0));
        assert_eq!(v.pending(), 2);
        assert_eq!(v.feed(&[0xac, 0x41]), Ok(2));
        assert_eq!(v.finish(), Ok(()));

        assert_eq!(v.feed(KOSME_SURROGATE), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v.feed(&KOSME_SURROGATE[..13]), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v.feed(&KOSME_SURROGATE[..12]), Ok(11));
        assert_eq!(v.feed(&KOSME_SURROGATE[12..13]), Err(Utf8Error::Invalid));
        v.reset();

        assert_eq!(v.feed(&[0xf4]), Ok(0));
        assert_eq!(v.feed(&[0x90]), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v.feed(&[0xc0]), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v.feed(&[0xff]), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v.feed(&[0xed, 0x9f, 0xbf]), Ok(3));
        assert_eq!(v.feed(&[0xf0, 0x90, 0x80, 0x80]), Ok(4));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn finish_reset_size_display() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xf0, 0x9f, 0x98]), Ok(0));
        assert_eq!(v.pending(), 3);
        assert_eq!(v.finish(), Err(Utf8Error::Incomplete));
        assert_eq!(v, Utf8Validator::new());
        assert_eq!(v.finish(), Ok(()));

        assert_eq!(v.feed(&[0xe2]), Ok(0));
        v.reset();
        assert_eq!(v.pending(), 0);
        assert_eq!(v.feed(&[0x82]), Err(Utf8Error::Invalid));
        v.reset();
        assert_eq!(v, Utf8Validator::default());
        assert_eq!(v.feed(&[]), Ok(0));
        assert!(core::mem::size_of::<Utf8Validator>() <= 4);
        assert_eq!(Utf8Error::Invalid.to_string(), "invalid UTF-8");
        assert_eq!(
            Utf8Error::Incomplete.to_string(),
            "incomplete UTF-8 code point at the end of the text"
        );
    }

    /// Splits `bytes` at the given points (taken modulo `len + 1`, sorted).
    fn split<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for c in cuts {
            pieces.push(&bytes[start..c]);
            start = c;
        }
        pieces.push(&bytes[start..]);
        pieces
    }

    /// Chars of every UTF-8 length, weighted towards multi-byte ones.
    fn mixed_text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            proptest::char::range('\0', '\u{7F}'),
            proptest::char::range('\u{80}', '\u{7FF}'),
            proptest::char::range('\u{800}', '\u{FFFF}'),
            proptest::char::range('\u{10000}', '\u{10FFFF}'),
        ];
        proptest::collection::vec(ch, 0..40).prop_map(|v| v.into_iter().collect())
    }

    /// Mostly-UTF-8 bytes with corruption: valid text with some bytes replaced.
    fn corrupted_text() -> impl Strategy<Value = Vec<u8>> {
        let special: &[u8] = &[0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5];
        let interesting = prop_oneof![any::<u8>(), proptest::sample::select(special)];
        (
            mixed_text(),
            proptest::collection::vec((any::<usize>(), interesting), 0..3),
        )
            .prop_map(|(s, edits)| {
                let mut b = s.into_bytes();
                if !b.is_empty() {
                    for (at, byte) in edits {
                        let len = b.len();
                        b[at % len] = byte;
                    }
                }
                b
            })
    }

    proptest! {
        // F10: a code point split across reads is fine; the returned counts cut whole chars.
        #[test]
        fn returned_counts_cut_whole_chars(
            text in mixed_text(),
            points in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let bytes = text.as_bytes();
            let mut v = Utf8Validator::new();
            let mut out: Vec<u8> = Vec::new();
            let mut carry: Vec<u8> = Vec::new();
            for piece in split(bytes, &points) {
                let n = v.feed(piece).unwrap();
                prop_assert!(n <= piece.len());
                if n > 0 {
                    let mut emitted = core::mem::take(&mut carry);
                    emitted.extend_from_slice(&piece[..n]);
                    prop_assert!(core::str::from_utf8(&emitted).is_ok(), "{:02x?}", emitted);
                    out.extend_from_slice(&emitted);
                    carry.extend_from_slice(&piece[n..]);
                } else {
                    carry.extend_from_slice(piece);
                }
                prop_assert_eq!(carry.len(), v.pending());
                prop_assert!(bytes.starts_with(&out));
            }
            prop_assert_eq!(v.finish(), Ok(()));
            prop_assert!(carry.is_empty());
            prop_assert_eq!(out, bytes);
        }

        // F10: random (mostly corrupted) bytes in random pieces fail exactly in the piece that
        // holds the offending byte; the reference agrees with std.
        #[test]
        fn random_bytes_random_splits(
            bytes in prop_oneof![corrupted_text(), proptest::collection::vec(any::<u8>(), 0..24)],
            points in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            prop_assert_eq!(reference(&bytes), std_verdict(&bytes));
            check_split(&bytes, &split(&bytes, &points));
            let whole_ok = run(&split(&bytes, &points)).is_ok();
            prop_assert_eq!(whole_ok, core::str::from_utf8(&bytes).is_ok());
        }
    }

    #[test]
    fn long_input_uses_the_wide_path() {
        // Long enough for a SIMD validator's blocks; error far from the start.
        let mut text = "aé€😀".repeat(200).into_bytes();
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&text[..1002]), Ok(1001));
        assert_eq!(v.pending(), 1);
        assert_eq!(v.feed(&text[1002..]), Ok(text.len() - 1002));
        assert_eq!(v.finish(), Ok(()));
        text[777] = 0xff;
        check_split(&text, &[&text[..500], &text[500..]]);
        check_split(&text, &[&text[..777], &text[777..]]);
        check_split(&text, &[&text[..778], &text[778..]]);
    }
}
