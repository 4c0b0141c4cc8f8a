//! The base frame header (RFC 6455 §5.2): parse, emit, and the receive-side checks as pure functions.
//!
//! Parsing never fails: it reads whatever the 2–14 header bytes say ([`Status::Partial`] when they have not
//! all arrived, like httparse). Whether the header is acceptable is a separate question answered by
//! [`check`], in the order BEHAVIOUR.md fixes: RSV, opcode, control rules, fragmentation sequence,
//! masking, length. This module holds no connection state and never touches a payload.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use core::fmt;

use super::OpCode;
use crate::error::ProtocolError;

/// The longest header: 2 bytes, a 64-bit extended length and a masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// Byte positions of the header fields (smoltcp's `mod field` idiom).
mod field {
    use core::ops::Range;
    /// FIN, RSV1–3 and the opcode.
    pub const FLAGS: usize = 0;
    /// MASK and the 7-bit payload length.
    pub const LENGTH: usize = 1;
    /// The 16-bit extended length (7-bit length 126).
    pub const EXT16: Range<usize> = 2..4;
    /// The 64-bit extended length (7-bit length 127).
    pub const EXT64: Range<usize> = 2..10;

    pub const FIN: u8 = 0x80;
    pub const RSV: u8 = 0x70;
    pub const OPCODE: u8 = 0x0f;
    pub const MASK: u8 = 0x80;
    pub const LEN7: u8 = 0x7f;
}

/// The three reserved bits of a frame, in their byte-0 positions (RSV1 = `0x40`, RSV2 = `0x20`,
/// RSV3 = `0x10`). Extensions own them (RFC 6455 §5.8); permessage-deflate uses RSV1 (RFC 7692 §6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rsv(u8);

impl Rsv {
    /// No bits.
    pub const NONE: Rsv = Rsv(0);
    /// RSV1 (permessage-deflate's "compressed" bit).
    pub const RSV1: Rsv = Rsv(0x40);
    /// RSV2.
    pub const RSV2: Rsv = Rsv(0x20);
    /// RSV3.
    pub const RSV3: Rsv = Rsv(0x10);

    /// The bits of `byte0` in RSV positions; other bits are ignored.
    pub const fn from_bits(byte0: u8) -> Rsv {
        Rsv(byte0 & field::RSV)
    }
    /// The bits in their byte-0 positions.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// No bit set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Every bit of `other` is set in `self`.
    pub const fn contains(self, other: Rsv) -> bool {
        self.0 & other.0 == other.0
    }
    /// The bits of both.
    pub const fn union(self, other: Rsv) -> Rsv {
        Rsv(self.0 | other.0)
    }
    /// The bits in both.
    pub const fn intersection(self, other: Rsv) -> Rsv {
        Rsv(self.0 & other.0)
    }
    /// The bits of `self` that are not in `other`: what is left once an extension has consumed its bits,
    /// or the bits no negotiated extension owns, which must then be 0 (RFC 6455 §5.2).
    pub const fn difference(self, other: Rsv) -> Rsv {
        Rsv(self.0 & !other.0)
    }
    /// RSV1 is set.
    pub const fn rsv1(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// RSV2 is set.
    pub const fn rsv2(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// RSV3 is set.
    pub const fn rsv3(self) -> bool {
        self.0 & 0x10 != 0
    }
}

/// The result of parsing input that may be incomplete (httparse's idiom): incomplete input is not an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// Parsed; the value.
    Complete(T),
    /// More bytes are needed.
    Partial,
}

/// A frame header as it is on the wire (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameHeader {
    /// FIN: the final frame of a message.
    pub fin: bool,
    /// RSV1–3.
    pub rsv: Rsv,
    /// The raw 4-bit opcode; [`OpCode::from_u4`] names it, [`check`] refuses reserved values.
    pub opcode: u8,
    /// The masking key, when MASK is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length, as the length fields say (unchecked: see [`check`]).
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header for a frame of `opcode` with `payload_len` bytes, FIN set, no RSV bits, unmasked.
    pub const fn new(opcode: OpCode, payload_len: u64) -> Self {
        FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode: opcode.as_u4(),
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf` (RFC 6455 §5.2), returning it and its length in bytes.
    ///
    /// Never fails: any 2–14 bytes are some header. Returns [`Status::Partial`] until the whole header
    /// is there. A non-minimal length encoding is accepted, as the RFC's receivers do.
    #[inline]
    pub fn parse(buf: &[u8]) -> Status<(FrameHeader, usize)> {
        let [b0, b1, ..] = *buf else {
            return Status::Partial;
        };
        let len7 = b1 & field::LEN7;
        let masked = b1 & field::MASK != 0;
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + ext + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Status::Partial;
        }
        let payload_len = match len7 {
            126 => u64::from(u16::from_be_bytes([
                buf[field::EXT16][0],
                buf[field::EXT16][1],
            ])),
            127 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&buf[field::EXT64]);
                u64::from_be_bytes(be)
            }
            n => u64::from(n),
        };
        // The key is the header's last 4 bytes (checked present above; `get` builds no panic path).
        let mask = match buf.get(header_len.wrapping_sub(4)..header_len) {
            Some(&[a, b, c, d]) if masked => Some([a, b, c, d]),
            _ => None,
        };
        Status::Complete((
            FrameHeader {
                fin: b0 & field::FIN != 0,
                rsv: Rsv::from_bits(b0),
                opcode: b0 & field::OPCODE,
                mask,
                payload_len,
            },
            header_len,
        ))
    }

    /// The opcode, if it is not reserved.
    pub const fn opcode(&self) -> Option<OpCode> {
        OpCode::from_u4(self.opcode)
    }

    /// The encoded length with the minimal length encoding (RFC 6455 §5.2; F15).
    pub const fn encoded_len(&self) -> usize {
        let ext = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header into the start of `out` with the minimal length encoding (F15) and returns its
    /// length. The payload length is written as given: keep it under 2^63.
    ///
    /// # Panics
    /// If `out` is shorter than [`encoded_len`](Self::encoded_len) (a caller bug; `[u8; MAX_HEADER_LEN]`
    /// always fits).
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> usize {
        let len = self.encoded_len();
        let out = &mut out[..len];
        out[field::FLAGS] =
            if self.fin { field::FIN } else { 0 } | self.rsv.bits() | (self.opcode & field::OPCODE);
        let mask_bit = if self.mask.is_some() { field::MASK } else { 0 };
        let key_at = match self.payload_len {
            n @ 0..=125 => {
                out[field::LENGTH] = mask_bit | n as u8;
                2
            }
            n @ 126..=0xffff => {
                out[field::LENGTH] = mask_bit | 126;
                out[field::EXT16].copy_from_slice(&(n as u16).to_be_bytes());
                4
            }
            n => {
                out[field::LENGTH] = mask_bit | 127;
                out[field::EXT64].copy_from_slice(&n.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[key_at..key_at + 4].copy_from_slice(&key);
        }
        len
    }

    /// The encoded header in a small array: what a zero-copy send writes before its own payload.
    pub fn to_bytes(&self) -> EncodedHeader {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let len = self.encode(&mut bytes) as u8;
        EncodedHeader { bytes, len }
    }
}

/// An encoded frame header, up to [`MAX_HEADER_LEN`] bytes, held by value.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl EncodedHeader {
    /// The header bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for EncodedHeader {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncodedHeader({:02x?})", self.as_bytes())
    }
}

/// What a receiver demands of frame masking (RFC 6455 §5.1; F7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MaskRule {
    /// A server: every frame from the client must be masked.
    Required,
    /// A client: a frame from the server must not be masked.
    Forbidden,
    /// A server with `require_masking` off: either is accepted.
    Optional,
}

/// The receive-side rules for one frame header: what was negotiated and configured, and where in a
/// message the frame falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rules {
    /// RSV bits owned by negotiated extensions (allowed on the first frame of a message only).
    pub allowed_rsv: Rsv,
    /// The masking rule of our role.
    pub masking: MaskRule,
    /// The longest message accepted, in bytes (F9; equal is allowed).
    pub max_length: u64,
    /// Bytes already received of an open fragmented message, or `None` when no message is open.
    pub open_message: Option<u64>,
}

/// Checks a received header against `rules`, in this order: RSV (F1), opcode (F2), control rules
/// (F3, F4), fragmentation sequence (F5, F6), masking (F7), length (F8, F9). Returns the named opcode.
///
/// Pure: the same header and rules always give the same answer.
#[inline]
pub fn check(header: &FrameHeader, rules: &Rules) -> Result<OpCode, ProtocolError> {
    let opcode = header.opcode();
    // F1 — RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated that defines meanings for non-zero
    // values". Extensions define them for a message's first frame only (RFC 7692 §6.1).
    let starts_message = matches!(opcode, Some(OpCode::Text | OpCode::Binary));
    let rsv_owned =
        header.rsv.is_empty() || (starts_message && rules.allowed_rsv.contains(header.rsv));
    if !rsv_owned {
        return Err(ProtocolError::ReservedBits(header.rsv));
    }
    // F2 — "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    let opcode = opcode.ok_or(ProtocolError::UnknownOpcode(header.opcode))?;
    if opcode.is_control() {
        // F3, F4 — RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and
        // MUST NOT be fragmented."
        if !header.fin {
            return Err(ProtocolError::FragmentedControl(header.opcode));
        }
        if header.payload_len > 125 {
            return Err(ProtocolError::ControlTooLong(header.payload_len));
        }
    } else {
        // F5, F6 — RFC 6455 §5.4: fragments of one message arrive in order, not interleaved with another
        // message's.
        match (opcode, rules.open_message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::UnfinishedMessage);
            }
            _ => {}
        }
    }
    // F7 — RFC 6455 §5.1: clients mask, servers don't.
    match (rules.masking, header.mask.is_some()) {
        (MaskRule::Required, false) => return Err(ProtocolError::UnmaskedFrame),
        (MaskRule::Forbidden, true) => return Err(ProtocolError::MaskedFrame),
        _ => {}
    }
    // F8 — RFC 6455 §5.2: "the most significant bit MUST be 0".
    if header.payload_len >> 63 != 0 {
        return Err(ProtocolError::LengthOverflow);
    }
    // F9 — decided from the header, before any payload is buffered; the running total of a message counts.
    if !opcode.is_control() {
        let total = rules
            .open_message
            .unwrap_or(0)
            .saturating_add(header.payload_len);
        if total > rules.max_length {
            return Err(ProtocolError::MessageTooBig);
        }
    }
    Ok(opcode)
}

#[cfg(test)]
mod tests;
