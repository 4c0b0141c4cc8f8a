//! Frame opcodes (RFC 6455 §5.2, §11.8): a closed set, so an enum.
//!
//! This module only names opcodes and classifies them; it never decides what a connection does with one.

use core::fmt;

/// A frame opcode defined by RFC 6455 §5.2.
///
/// Opcodes 3–7 and 11–15 are reserved: [`OpCode::from_u4`] refuses them, and a frame that carries one is
/// a protocol error (F2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpCode {
    /// `0x0`: a continuation of a fragmented message.
    Continuation,
    /// `0x1`: the first frame of a text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: a close frame (RFC 6455 §5.5.1).
    Close,
    /// `0x9`: a ping (RFC 6455 §5.5.2).
    Ping,
    /// `0xA`: a pong (RFC 6455 §5.5.3).
    Pong,
}

impl OpCode {
    /// The opcode for the low four bits `bits`, or `None` for a reserved value.
    pub const fn from_u4(bits: u8) -> Option<OpCode> {
        match bits & 0x0f {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xa => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// The four-bit wire value.
    pub const fn as_u4(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xa,
        }
    }

    /// Control frames are those with the high bit of the opcode set (RFC 6455 §5.5).
    pub const fn is_control(self) -> bool {
        self.as_u4() & 0x8 != 0
    }

    /// Text or binary: the opcodes that open a message.
    pub const fn is_data_start(self) -> bool {
        matches!(self, OpCode::Text | OpCode::Binary)
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpCode::Continuation => "continuation",
            OpCode::Text => "text",
            OpCode::Binary => "binary",
            OpCode::Close => "close",
            OpCode::Ping => "ping",
            OpCode::Pong => "pong",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_four_bit_value_round_trips_or_is_reserved() {
        // F2: only 0, 1, 2, 8, 9 and 10 are opcodes.
        let defined = [0u8, 1, 2, 8, 9, 10];
        for bits in 0u8..16 {
            match OpCode::from_u4(bits) {
                Some(op) => {
                    assert!(defined.contains(&bits));
                    assert_eq!(op.as_u4(), bits);
                    assert_eq!(op.is_control(), bits >= 8);
                }
                None => assert!(!defined.contains(&bits), "{bits} must be reserved"),
            }
        }
    }
}
