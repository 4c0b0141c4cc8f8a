//! Stateless wire codecs (RFC 6455 §5): frame headers, opcodes, close codes and payloads, masking.
//!
//! Everything here is a pure function of its inputs, as in smoltcp's `wire`: no connection state, no
//! buffering, no I/O. Each module carries byte vectors and parse/emit round-trip tests.

pub mod close;
pub mod header;
pub mod mask;
pub mod opcode;

pub use close::{CloseCode, ClosePayload, MAX_REASON_LEN};
pub use header::{EncodedHeader, FrameHeader, MAX_HEADER_LEN, MaskRule, Rsv, Rules, Status};
pub use opcode::OpCode;
