//! The `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 step 5.4): base64(SHA-1(key ‖ GUID)).
//!
//! Pure and allocation-free: the 28-byte result is returned by value. Encoded with the crate's own
//! base64 writer (the one `Authorization: Basic` needs anyway); the client's key is checked by its
//! form, which is what decoding it to 16 bytes amounts to.

use crate::text::{Cut, write_base64};

/// The GUID every server appends to the client's key (RFC 6455 §1.3).
pub const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A `Sec-WebSocket-Accept` value: 28 ASCII characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// The accept value for the client's `Sec-WebSocket-Key` as sent (its base64 text, not decoded).
    pub fn for_key(key: &[u8]) -> Self {
        let mut sha = sha1_smol::Sha1::new();
        sha.update(key);
        sha.update(GUID);
        let mut out = [0u8; 28];
        write_base64(
            &mut Cut::new(&mut out),
            &mut sha.digest().bytes().into_iter(),
        );
        AcceptKey(out)
    }

    /// The value as text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The value as bytes, to compare with a received header.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for AcceptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: base64 that decodes to exactly 16 bytes (RFC 6455
/// §4.2.1 item 5; BEHAVIOUR H3).
///
/// Checked by form rather than by decoding: 16 bytes are 128 bits, so their canonical base64 is 22
/// alphabet characters, the last of which carries 2 bits and 4 zero bits (`A`, `Q`, `g` or `w`), then
/// `==` (RFC 4648 §4, §3.5: the pad bits are zero). No table, no decoder linked.
pub fn is_valid_key(key: &[u8]) -> bool {
    let [body @ .., last, b'=', b'='] = key else {
        return false;
    };
    body.len() == 21
        && body
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        && matches!(last, b'A' | b'Q' | b'g' | b'w')
}

/// The base64 text of a 16-byte nonce, for a client's `Sec-WebSocket-Key`.
pub fn encode_nonce(nonce: &[u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    write_base64(&mut Cut::new(&mut out), &mut nonce.iter().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_vectors() {
        // H2: the three vectors of BEHAVIOUR.md.
        for (key, accept) in [
            ("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("JFBCWHksyIpXV+6Wlq/9pw==", "JdiiuafpBKRqD7eol0y4vJDTsTs="),
            ("2vBVWg4Qyk3ZoM/5d3QD9Q==", "QV3I5XUXU2CdhtjixE7QCkCcMZM="),
        ] {
            assert_eq!(AcceptKey::for_key(key.as_bytes()).as_str(), accept);
        }
    }

    #[test]
    fn key_validity() {
        // H3: the key must decode to 16 bytes.
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZWU="));
        assert!(!is_valid_key(b"not base64 at all!!!!!!!"));
        assert!(!is_valid_key(b""));
        // A non-zero pad bit: decodes to 16 bytes only under a lax decoder.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
        assert_eq!(
            &encode_nonce(b"the sample nonce"),
            b"dGhlIHNhbXBsZSBub25jZQ=="
        );
    }

    /// The `base64` crate's strict decoder, the reference for [`is_valid_key`].
    fn decodes_to_16(key: &[u8]) -> bool {
        use base64::Engine as _;
        let mut decoded = [0u8; 18];
        key.len() == 24
            && matches!(
                base64::engine::general_purpose::STANDARD.decode_slice(key, &mut decoded),
                Ok(16)
            )
    }

    #[test]
    fn key_validity_matches_a_decoder_for_every_last_character() {
        // H3: every character (and none) in the two positions the form check singles out.
        let mut key = *b"dGhlIHNhbXBsZSBub25jZQ==";
        for at in [21, 22, 23] {
            for c in 0..=255u8 {
                let mut k = key;
                k[at] = c;
                assert_eq!(is_valid_key(&k), decodes_to_16(&k), "{:?}", k);
            }
        }
        key[0] = b'=';
        assert!(!is_valid_key(&key));
    }

    proptest::proptest! {
        /// H3: keys over the base64 alphabet, padding and a few other bytes, of 22 to 26 bytes: the
        /// form check agrees with decoding.
        #[test]
        fn key_validity_matches_a_decoder(
            key in proptest::collection::vec(
                proptest::sample::select(
                    b"AQgwBbz09+/=-_ \x80".to_vec()
                ),
                22..=26,
            ),
        ) {
            proptest::prop_assert_eq!(is_valid_key(&key), decodes_to_16(&key));
        }

        /// H3: the encoding of any 16 bytes is a valid key.
        #[test]
        fn every_nonce_is_a_valid_key(nonce in proptest::array::uniform16(proptest::num::u8::ANY)) {
            proptest::prop_assert!(is_valid_key(&encode_nonce(&nonce)));
        }
    }
}
