//! Texts written piece by piece without `core::fmt`: the HTTP heads, refusal bodies and close reasons
//! the driver puts on the wire, and the `Display` impls that show the same texts.
//!
//! A [`Sink`] takes string pieces and decimal numbers. The transmit ring's transaction, a cut-off byte
//! buffer ([`Cut`]) and a `core::fmt::Formatter` ([`Fmt`]) are sinks, so the wire and `Display` share
//! one writer per text while a firmware that never formats links none of `core::fmt` for them (its
//! machinery and the integer formatter are several KiB of flash on a Cortex-M). This module must never
//! allocate, never panic on any input, and never go through `core::fmt` on a wire path.

use core::fmt;

use crate::buffer::Transaction;

/// Where a text goes, a piece at a time.
pub(crate) trait Sink {
    /// Appends `s`.
    fn text(&mut self, s: &str);

    /// Appends `bytes` (header values, which need not be UTF-8). Only byte sinks take them: a sink
    /// that holds text (a `Formatter`) shows each byte as the `char` of the same value.
    fn bytes(&mut self, bytes: &[u8]);

    /// Appends `n` in decimal, without leading zeros.
    #[inline(never)]
    fn number(&mut self, n: u64) {
        self.bytes(Decimal::new(n).as_bytes());
    }
}

/// The decimal digits of a number, written from the end of a 20-byte buffer (`u64::MAX` has 20).
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    /// The digits of `n`. Divides in 16-bit steps, so that a 32-bit target needs no 64-bit division
    /// routine from the compiler's runtime library.
    #[inline(never)]
    pub(crate) fn new(n: u64) -> Self {
        let (mut hi, mut lo) = ((n >> 32) as u32, n as u32);
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        for (i, digit) in digits.iter_mut().enumerate().rev() {
            let remainder;
            (hi, lo, remainder) = div10(hi, lo);
            *digit = b'0' + remainder;
            start = i;
            if hi | lo == 0 {
                break;
            }
        }
        Decimal { digits, start }
    }

    /// The digits, most significant first.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }
}

/// `(hi·2^32 + lo) / 10` as its two halves, and the remainder: long division of 16-bit pieces, each
/// step dividing a number below 10·2^16 by 10 in 32-bit arithmetic.
fn div10(hi: u32, lo: u32) -> (u32, u32, u8) {
    let a = hi >> 16;
    let b = ((a % 10) << 16) | (hi & 0xffff);
    let c = ((b % 10) << 16) | (lo >> 16);
    let d = ((c % 10) << 16) | (lo & 0xffff);
    (
        ((a / 10) << 16) | (b / 10),
        ((c / 10) << 16) | (d / 10),
        (d % 10) as u8,
    )
}

/// Not inlined: a head is written in a few dozen pieces, and one call each is smaller than the ring's
/// copy at every one of them.
impl Sink for Transaction<'_> {
    #[inline(never)]
    fn text(&mut self, s: &str) {
        let _ = self.put(s.as_bytes());
    }

    #[inline(never)]
    fn bytes(&mut self, bytes: &[u8]) {
        let _ = self.put(bytes);
    }
}

/// A byte buffer filled up to its length, the rest of the text cut off at a UTF-8 character boundary
/// (a close reason cut to 123 bytes is still valid UTF-8, RFC 6455 §5.5.1).
pub(crate) struct Cut<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl<'b> Cut<'b> {
    /// An empty text over `out`.
    pub(crate) fn new(out: &'b mut [u8]) -> Self {
        Cut { out, len: 0 }
    }

    /// The bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The text written so far.
    pub(crate) fn into_bytes(self) -> &'b [u8] {
        let Cut { out, len } = self;
        let out: &'b [u8] = out;
        out.get(..len).unwrap_or_default()
    }
}

impl Sink for Cut<'_> {
    fn text(&mut self, s: &str) {
        let room = self.out.len().saturating_sub(self.len);
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes(s.as_bytes().get(..take).unwrap_or_default());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let free = self.out.get_mut(self.len..).unwrap_or_default();
        let n = bytes.len().min(free.len());
        for (to, from) in free.iter_mut().zip(bytes) {
            *to = *from;
        }
        self.len += n;
    }
}

/// A `Formatter` as a sink: what the `Display` impls write through. Keeps the first error.
pub(crate) struct Fmt<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    result: fmt::Result,
}

impl<'a, 'b> Fmt<'a, 'b> {
    /// Writes `write`'s text to `f`.
    pub(crate) fn show(
        f: &'a mut fmt::Formatter<'b>,
        write: impl FnOnce(&mut Self),
    ) -> fmt::Result {
        let mut sink = Fmt { f, result: Ok(()) };
        write(&mut sink);
        sink.result
    }
}

impl Sink for Fmt<'_, '_> {
    fn text(&mut self, s: &str) {
        if self.result.is_ok() {
            self.result = self.f.write_str(s);
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.result.is_ok() {
                self.result = fmt::Write::write_char(self.f, char::from(b));
            }
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4), written four characters at a time.
///
/// One copy for every use (the `Sec-WebSocket-Key` nonce, the accept value, `Authorization: Basic`),
/// hence `dyn`.
#[inline(never)]
pub(crate) fn write_base64(out: &mut dyn Sink, bytes: &mut dyn Iterator<Item = u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while let Some(a) = bytes.next() {
        let b = bytes.next();
        let c = b.and_then(|_| bytes.next());
        let n = u32::from(a) << 16 | u32::from(b.unwrap_or(0)) << 8 | u32::from(c.unwrap_or(0));
        let char_at = |shift: u32| ALPHABET[(n >> shift & 63) as usize];
        let group = [
            char_at(18),
            char_at(12),
            if b.is_some() { char_at(6) } else { b'=' },
            if c.is_some() { char_at(0) } else { b'=' },
        ];
        out.bytes(&group);
        if c.is_none() {
            break;
        }
    }
}

/// For tests: a text collected in a string.
#[cfg(test)]
impl Sink for std::string::String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.extend(bytes.iter().map(|&b| char::from(b)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            1000,
            65_535,
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(
                Decimal::new(n).as_bytes(),
                std::format!("{n}").as_bytes(),
                "{n}"
            );
        }
    }

    #[test]
    fn cut_keeps_whole_characters() {
        let mut buf = [0u8; 5];
        let mut cut = Cut::new(&mut buf);
        cut.text("ab");
        cut.text("çé"); // 4 bytes: only ç fits
        assert_eq!(cut.len(), 4);
        cut.number(78); // one digit fits
        assert_eq!(cut.into_bytes(), "abç7".as_bytes());
    }
}
