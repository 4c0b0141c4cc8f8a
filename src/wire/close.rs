//! Close codes and the close frame payload (RFC 6455 §5.5.1, §7.4).
//!
//! Close codes are an open space (IANA registers new ones), so [`CloseCode`] is a newtype with named
//! constants rather than an enum. This module parses and emits payloads; it never decides when to close.

use core::fmt;

use crate::error::{ProtocolError, SendError};

/// A close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: an endpoint is going away (server shutdown, page navigated away).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: a protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a type of data the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Reported locally, never sent (RFC 6455 §7.4.1).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame. Reported locally, never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8 in text).
    pub const INVALID_DATA: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: the gateway received an invalid response (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Reported locally, never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may appear in a close frame on the wire, in either direction (F12, F17):
    /// 1000–1003, 1007–1014 (1012–1014 are registered with IANA) and 3000–4999 (registered and private
    /// codes). 1004–1006, 1015, 1016–2999, everything below 1000 and from 5000 up are not.
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

/// The longest close reason that fits a control frame: 125 − 2 bytes of code (RFC 6455 §5.5).
pub const MAX_REASON_LEN: usize = 123;

/// A parsed close frame payload, borrowing its reason from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClosePayload<'a> {
    /// The status code, or `None` for an empty payload (reported to applications as 1005, F12).
    pub code: Option<CloseCode>,
    /// The reason: valid UTF-8, possibly empty.
    pub reason: &'a str,
}

impl<'a> ClosePayload<'a> {
    /// Parses and validates a received close payload (RFC 6455 §5.5.1, §7.1.5; F12).
    ///
    /// An empty payload has no code. A one-byte payload, a code not valid on the wire, or a reason that is
    /// not UTF-8 is a protocol error.
    pub fn parse(payload: &'a [u8]) -> Result<Self, ProtocolError> {
        match payload {
            [] => Ok(ClosePayload {
                code: None,
                reason: "",
            }),
            [_] => Err(ProtocolError::ClosePayloadTooShort),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_valid_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = simdutf8::basic::from_utf8(reason)
                    .map_err(|_| ProtocolError::InvalidCloseReason)?;
                Ok(ClosePayload {
                    code: Some(code),
                    reason,
                })
            }
        }
    }

    /// The code an application is told about: the code, or 1005 when none was sent.
    pub fn reported_code(&self) -> CloseCode {
        self.code.unwrap_or(CloseCode::NO_STATUS)
    }
}

/// Writes a close payload for `code` and `reason` into `out`, returning its length (RFC 6455 §5.5.1; F17).
///
/// `None` writes the empty payload. A code that must not be sent, or a reason over
/// [`MAX_REASON_LEN`] bytes, is refused and nothing is written.
pub fn emit_close(
    code: Option<CloseCode>,
    reason: &str,
    out: &mut [u8; 125],
) -> Result<usize, SendError> {
    let Some(code) = code else {
        return if reason.is_empty() {
            Ok(0)
        } else {
            Err(SendError::ReasonWithoutCode)
        };
    };
    if !code.is_valid_on_wire() {
        return Err(SendError::InvalidCloseCode(code.0));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(SendError::CloseReasonTooLong);
    }
    out[..2].copy_from_slice(&code.0.to_be_bytes());
    out[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    Ok(2 + reason.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_follows_the_registry() {
        // F12 F17: exactly 1000–1003, 1007–1014, 3000–4999.
        for code in 0..=u16::MAX {
            let valid = (1000..=1003).contains(&code)
                || (1007..=1014).contains(&code)
                || (3000..=4999).contains(&code);
            assert_eq!(CloseCode(code).is_valid_on_wire(), valid, "{code}");
        }
        for refused in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
            assert!(!CloseCode(refused).is_valid_on_wire());
        }
    }

    #[test]
    fn parse_close_payloads() {
        // F12: empty → no code (1005 reported); one byte, bad code, bad UTF-8 → protocol error.
        let empty = ClosePayload::parse(&[]).unwrap();
        assert_eq!(empty.code, None);
        assert_eq!(empty.reported_code(), CloseCode::NO_STATUS);
        let hello = ClosePayload::parse(&[0x03, 0xe8, b'H', b'e', b'l', b'l', b'o']).unwrap();
        assert_eq!(hello.code, Some(CloseCode::NORMAL));
        assert_eq!(hello.reason, "Hello");
        assert_eq!(
            ClosePayload::parse(&[0x03]),
            Err(ProtocolError::ClosePayloadTooShort)
        );
        assert_eq!(
            ClosePayload::parse(&[0x03, 0xed]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            ClosePayload::parse(&[0x03, 0xe8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
        assert_eq!(
            ClosePayload::parse(&[0x0f, 0xa0]).unwrap().code,
            Some(CloseCode(4000))
        );
        assert_eq!(
            ClosePayload::parse(&[0x03, 0xf6]).unwrap().code,
            Some(CloseCode::BAD_GATEWAY)
        );
    }

    #[test]
    fn emit_close_vector_and_refusals() {
        // F15: close(1003, "<%= reasons %>") → 88 10 03 eb 3c 25 3d 20 72 65 61 73 6f 6e 73 20 25 3e (payload part).
        let mut out = [0u8; 125];
        let n = emit_close(Some(CloseCode(1003)), "<%= reasons %>", &mut out).unwrap();
        assert_eq!(&out[..n], b"\x03\xeb<%= reasons %>");
        assert_eq!(n, 0x10);
        assert_eq!(emit_close(None, "", &mut out), Ok(0));
        // F17: never send what the RFC forbids.
        for code in [1004u16, 1005, 1006, 1015, 999, 2000, 5000] {
            assert_eq!(
                emit_close(Some(CloseCode(code)), "", &mut out),
                Err(SendError::InvalidCloseCode(code))
            );
        }
        let long = "x".repeat(MAX_REASON_LEN + 1);
        assert_eq!(
            emit_close(Some(CloseCode::NORMAL), &long, &mut out),
            Err(SendError::CloseReasonTooLong)
        );
        let max = "y".repeat(MAX_REASON_LEN);
        assert_eq!(emit_close(Some(CloseCode::NORMAL), &max, &mut out), Ok(125));
        assert_eq!(
            emit_close(None, "why", &mut out),
            Err(SendError::ReasonWithoutCode)
        );
    }
}
