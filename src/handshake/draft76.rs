//! The numbers of the hixie-76 opening handshake (draft-hixie-thewebsocketprotocol-76 §1.3, §5.2):
//! the value of a `Sec-WebSocket-Key1` / `Sec-WebSocket-Key2` header, and the 16-byte MD5 digest the
//! server sends as the body of its response.
//!
//! This module holds pure functions of bytes only. It must never allocate, never panic or overflow
//! whatever the header holds (digit strings of any length), and never read or write a socket:
//! parsing the request head and writing the response head belong to the handshake module that calls it.

use md5::{Digest, Md5};

/// The value of a `Sec-WebSocket-Key1` or `Sec-WebSocket-Key2` header (draft-hixie-thewebsocketprotocol-76
/// §5.2 steps 4–7, §1.3): the digits of `header_value` (`0`–`9`, every other byte ignored) read as one
/// decimal number, divided by the count of spaces (U+0020) in it.
///
/// Returns `None`, for which the server refuses the handshake, when the value has no digits, has no
/// spaces (§5.2 step 5: a symptom of a cross-protocol attack), its number is not an integral multiple of
/// its count of spaces (§5.2 step 6), or the quotient exceeds 2^32−1 (the most a 32-bit big-endian part
/// of the challenge can hold, §5.2 step 8).
///
/// §5.2 step 4 also lets a server abort when the number itself (before the division) exceeds 2^32−1,
/// which a conforming client never sends (its key generation in §4.1 keeps `number × spaces` at most
/// 2^32−1). This function checks only the quotient, as the project's behaviour H13 asks, so a number up
/// to (2^32−1) × spaces is accepted when divisible.
///
/// Digit strings of any length are handled without overflow or panic: the number is accumulated in a
/// `u64` and the value is rejected as soon as it exceeds (2^32−1) × (count of spaces), since more digits
/// only make it larger. Leading zeros do not count against it.
///
/// ```
/// # use websocket_driver::handshake::draft76::key_value;
/// // §1.3's example: 4146546015 / 5 spaces.
/// assert_eq!(key_value(b"4 @1  46546xW%0l 1 5"), Some(829_309_203));
/// assert_eq!(key_value(b"no digits at all"), None);
/// ```
pub fn key_value(header_value: &[u8]) -> Option<u32> {
    let spaces = header_value.iter().filter(|&&b| b == b' ').count();
    let spaces = u64::try_from(spaces).ok().filter(|&s| s > 0)?;
    // The number may be at most u32::MAX × spaces for the quotient to fit in a u32.
    let limit = u64::from(u32::MAX).saturating_mul(spaces);
    let mut number: u64 = 0;
    let mut digits = false;
    for &b in header_value {
        if b.is_ascii_digit() {
            digits = true;
            number = number
                .checked_mul(10)?
                .checked_add(u64::from(b - b'0'))
                .filter(|&n| n <= limit)?;
        }
    }
    if !digits || !number.is_multiple_of(spaces) {
        return None;
    }
    u32::try_from(number / spaces).ok()
}

/// The 16-byte body of the server's hixie-76 response (draft-hixie-thewebsocketprotocol-76 §5.2 steps
/// 8–9, sent after the response head in step 13): MD5 of the challenge `BE32(v1) ‖ BE32(v2) ‖ key3`, where `v1` and `v2` are the [`key_value`]s
/// of `Sec-WebSocket-Key1` and `Sec-WebSocket-Key2` and `key3` is the 8-byte body of the client's request.
///
/// A client (§4.1) computes the same digest to check the server's answer.
///
/// ```
/// # use websocket_driver::handshake::draft76::digest;
/// // §1.3's example.
/// assert_eq!(&digest(829_309_203, 259_970_620, b"^n:ds[4U"), b"8jKS'y:G*Co,Wxa-");
/// ```
pub fn digest(v1: u32, v2: u32, key3: &[u8; 8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(v1.to_be_bytes());
    md5.update(v2.to_be_bytes());
    md5.update(key3);
    md5.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::{digest, key_value};
    use std::string::String;

    // H13: the vector of BEHAVIOUR H13.
    #[test]
    fn behaviour_vector() {
        let v1 = key_value(b"1   38 wZ3f9 23O0 3l 0r").unwrap();
        let v2 = key_value(b"27   0E 6 2  1665:< ;U 1H").unwrap();
        let key3 = [0x91, 0x25, 0x3e, 0xd3, 0xa9, 0xe7, 0x6a, 0x88];
        assert_eq!(
            digest(v1, v2, &key3),
            [
                0xb4, 0x9c, 0x6e, 0x40, 0x53, 0x04, 0x04, 0x26, 0xe5, 0x1b, 0xbf, 0x6c, 0xb7, 0x9f,
                0x1d, 0xf9
            ]
        );
    }

    // H13: the example of draft-hixie-thewebsocketprotocol-76 §1.3.
    #[test]
    fn draft_example() {
        let v1 = key_value(b"4 @1  46546xW%0l 1 5").unwrap();
        let v2 = key_value(b"12998 5 Y3 1  .P00").unwrap();
        assert_eq!((v1, v2), (4_146_546_015 / 5, 1_299_853_100 / 5));
        assert_eq!(&digest(v1, v2, b"^n:ds[4U"), b"8jKS'y:G*Co,Wxa-");
    }

    // H13: 2785899415 is not a multiple of 4 spaces.
    #[test]
    fn behaviour_invalid_key() {
        assert_eq!(key_value(b"2 L785 8o% s9Sy9@V. 4<1P5"), None);
    }

    // H13
    #[test]
    fn no_digits() {
        assert_eq!(key_value(b"a b c"), None);
        assert_eq!(key_value(b" "), None);
        assert_eq!(key_value(b""), None);
    }

    // H13
    #[test]
    fn no_spaces() {
        assert_eq!(key_value(b"12345"), None);
        assert_eq!(key_value(b"0"), None);
        // A tab is not U+0020.
        assert_eq!(key_value(b"12\t34"), None);
    }

    // H13
    #[test]
    fn not_divisible() {
        assert_eq!(key_value(b"1 0"), Some(10));
        assert_eq!(key_value(b"1 1 "), None); // 11 / 2
        assert_eq!(key_value(b"  7"), None); // 7 / 2
        assert_eq!(key_value(b"0 "), Some(0)); // zero is divisible by anything
    }

    // H13: the quotient at 2^32−1 and just above it.
    #[test]
    fn quotient_bounds() {
        assert_eq!(key_value(b"4294967295 "), Some(u32::MAX));
        assert_eq!(key_value(b"4294967296 "), None);
        // (2^32−1) × 2 with two spaces: the quotient fits.
        assert_eq!(key_value(b"8589934590  "), Some(u32::MAX));
        // 2^32 × 2 with two spaces: the quotient is 2^32.
        assert_eq!(key_value(b"8589934592  "), None);
        // Non-digit bytes, including non-ASCII ones, are ignored.
        assert_eq!(key_value("42 é\u{ff}x".as_bytes()), Some(42));
    }

    // H13: a 10,000-digit key neither overflows nor panics.
    #[test]
    fn ten_thousand_digits() {
        let mut key = String::from("1 ");
        key.extend(core::iter::repeat_n('9', 10_000));
        assert_eq!(key_value(key.as_bytes()), None);
        // With as many spaces as digits the bound is far above u64::MAX: still no overflow.
        let spaced: String = core::iter::repeat_n("9 ", 10_000).collect();
        assert_eq!(key_value(spaced.as_bytes()), None);
        // Leading zeros are digits of the same number: 10,000 of them before `8` still read as 8.
        let mut zeros: String = core::iter::repeat_n('0', 10_000).collect();
        zeros.push_str("8  ");
        assert_eq!(key_value(zeros.as_bytes()), Some(4));
    }

    proptest::proptest! {
        // H13: any header value: no panic, and a value is returned only when it is the quotient.
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            if let Some(v) = key_value(&bytes) {
                let spaces = bytes.iter().filter(|&&b| b == b' ').count() as u128;
                let digits: String = bytes.iter().filter(|b| b.is_ascii_digit()).map(|&b| b as char).collect();
                let number: u128 = digits.trim_start_matches('0').parse().unwrap_or(0);
                proptest::prop_assert_eq!(number, u128::from(v) * spaces);
            }
        }

        // H13: a key built as a conforming client builds it (§4.1) always reads back as its number.
        #[test]
        fn client_keys(number in 0u32.., spaces in 1u32..=12, noise in 0usize..64) {
            let number = number / spaces; // at most u32::MAX / spaces, as §4.1 picks it
            let product = u64::from(number) * u64::from(spaces);
            let mut key = std::format!("{product}").into_bytes();
            for i in 0..spaces as usize {
                // Spaces are never put at the start or end (§4.1).
                let at = 1 + (noise + i * 7) % key.len().max(1);
                key.insert(at.min(key.len()), b' ');
            }
            if key.first() == Some(&b' ') || key.last() == Some(&b' ') {
                key.insert(0, b'x');
                key.push(b'y');
            }
            proptest::prop_assert_eq!(key_value(&key), Some(number));
        }
    }
}
