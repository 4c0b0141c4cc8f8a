//! The error enums: what the peer did wrong ([`ProtocolError`]) and why a send was refused ([`SendError`]).
//!
//! Both are small `Copy` enums with hand-written `Display`, like httparse's. A protocol error carries what
//! the close frame needs: [`ProtocolError::close_code`] and its text (also its `Display`) as the close
//! reason, written without `core::fmt`. The texts only logs show (`Display` of [`SendError`] and
//! [`Error`]) need the `display` feature. Nothing here allocates or formats into a heap.

use core::fmt;

use crate::text::{Fmt, Sink};
use crate::wire::{CloseCode, Rsv};

/// What a failed opening handshake's reason starts with (BEHAVIOUR H9): the close event's reason and
/// [`Error`]'s text.
pub(crate) const HANDSHAKE_PREFIX: &str = "Error during WebSocket handshake: ";

/// A violation of RFC 6455 by the peer. The connection fails with [`close_code`](Self::close_code) and
/// the `Display` text as the close reason (RFC 6455 §7.1.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProtocolError {
    /// RSV bits that no negotiated extension owns, or any RSV bit on a control or continuation frame
    /// (RFC 6455 §5.2; F1).
    ReservedBits(Rsv),
    /// A reserved opcode (RFC 6455 §5.2; F2).
    UnknownOpcode(u8),
    /// A control frame with FIN clear (RFC 6455 §5.5; F3).
    FragmentedControl(u8),
    /// A control frame with more than 125 bytes of payload (RFC 6455 §5.5; F4). Carries the length.
    ControlTooLong(u64),
    /// A text or binary frame while a fragmented message is still open (RFC 6455 §5.4; F5).
    UnfinishedMessage,
    /// A continuation frame with no fragmented message open (RFC 6455 §5.4; F6).
    UnexpectedContinuation,
    /// A server received an unmasked frame (RFC 6455 §5.1; F7).
    UnmaskedFrame,
    /// A client received a masked frame (RFC 6455 §5.1; F7).
    MaskedFrame,
    /// A 64-bit payload length with its most significant bit set (RFC 6455 §5.2; F8).
    LengthOverflow,
    /// A message longer than the configured maximum (F9), closed with 1009.
    MessageTooBig,
    /// Text that is not UTF-8 (RFC 6455 §8.1; F10), closed with 1007.
    InvalidUtf8,
    /// A close frame with a one-byte payload (RFC 6455 §5.5.1; F12).
    ClosePayloadTooShort,
    /// A close frame with a code that must not be sent (RFC 6455 §7.4; F12).
    InvalidCloseCode(u16),
    /// A close frame whose reason is not UTF-8 (RFC 6455 §5.5.1; F12).
    InvalidCloseReason,
}

impl ProtocolError {
    /// The close code to fail the connection with (RFC 6455 §7.4.1).
    pub const fn close_code(self) -> CloseCode {
        match self {
            ProtocolError::MessageTooBig => CloseCode::TOO_BIG,
            ProtocolError::InvalidUtf8 => CloseCode::INVALID_DATA,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl ProtocolError {
    /// Writes the text: the close reason the connection fails with (BEHAVIOUR S6) and the `Display`
    /// text. The originals' wording, so that peers and logs see the same reasons.
    pub(crate) fn write_text(self, out: &mut impl Sink) {
        let (text, number) = match self {
            ProtocolError::ReservedBits(rsv) => {
                out.text("One or more reserved bits are on: reserved1 = ");
                out.number(rsv.rsv1().into());
                out.text(", reserved2 = ");
                out.number(rsv.rsv2().into());
                out.text(", reserved3 = ");
                out.number(rsv.rsv3().into());
                return;
            }
            ProtocolError::UnknownOpcode(op) => ("Unrecognized frame opcode: ", Some(op.into())),
            ProtocolError::FragmentedControl(op) => (
                "Received fragmented control frame: opcode = ",
                Some(op.into()),
            ),
            ProtocolError::ControlTooLong(len) => (
                "Received control frame having too long payload: ",
                Some(len),
            ),
            ProtocolError::UnfinishedMessage => (
                "Received new data frame but previous continuous frame is unfinished",
                None,
            ),
            ProtocolError::UnexpectedContinuation => {
                ("Received unexpected continuation frame", None)
            }
            ProtocolError::UnmaskedFrame => {
                ("Received unmasked frame but masking is required", None)
            }
            ProtocolError::MaskedFrame => ("Received masked frame from a server", None),
            ProtocolError::LengthOverflow => {
                ("Frame length has its most significant bit set", None)
            }
            ProtocolError::MessageTooBig => ("WebSocket frame length too large", None),
            ProtocolError::InvalidUtf8 => ("Could not decode a text frame as UTF-8", None),
            ProtocolError::ClosePayloadTooShort => {
                ("Received close frame with a 1-byte payload", None)
            }
            ProtocolError::InvalidCloseCode(code) => {
                ("Received close frame with invalid code ", Some(code.into()))
            }
            ProtocolError::InvalidCloseReason => {
                ("Received close frame with a reason that is not UTF-8", None)
            }
        };
        out.text(text);
        if let Some(n) = number {
            out.number(n);
        }
    }
}

/// The close reason the connection fails with (always available: it goes on the wire).
impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_text(out))
    }
}

/// A timer that ended an open connection (RFC 6455 §7.1.5: the close event reports 1006, abnormal
/// closure, and no close frame is sent for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Timeout {
    /// The peer did not answer our close frame within the close timeout (S4).
    Closing,
    /// The peer stayed silent for the pong timeout after a keepalive ping fell due.
    Keepalive,
}

impl Timeout {
    /// The text: the reason of the close event that reports the timeout.
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Timeout::Closing => "The peer did not answer the close frame in time",
            Timeout::Keepalive => "The peer did not answer a ping in time",
        }
    }
}

/// The close event's reason (always available).
impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Why a send was refused. Nothing was written when a send returns one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// The transmit ring needs `needed` free bytes for this frame: drain it and try again.
    Full {
        /// Free bytes the frame needs.
        needed: usize,
    },
    /// The frame (`size` bytes) can never fit in the transmit ring (`capacity` bytes).
    TooLarge {
        /// The whole frame's size.
        size: usize,
        /// The ring's capacity.
        capacity: usize,
    },
    /// A close code that must not be sent (1004–1006, 1015, 1016–2999, below 1000, from 5000; F17).
    InvalidCloseCode(u16),
    /// A close reason over 123 bytes (RFC 6455 §5.5; F17).
    CloseReasonTooLong,
    /// A close reason given without a code (RFC 6455 §5.5.1 puts the reason after the code).
    ReasonWithoutCode,
    /// A ping or pong payload over 125 bytes (RFC 6455 §5.5; F17).
    ControlTooLong,
    /// The connection is closed, or closing after our close frame: nothing more is sent (S4, S7).
    Closed,
    /// The connection is not open yet and this send cannot be queued (a server before it accepted).
    NotOpen,
    /// A message is being sent in fragments: finish it before sending another data message
    /// (RFC 6455 §5.4), or a fragment's kind differs from the message's.
    MessageInProgress,
    /// A zero-copy send needs an empty transmit ring: drain it first.
    RingNotEmpty,
    /// A header to send whose name is not an RFC 7230 token or whose value has CR, LF or NUL (H1).
    InvalidHeader,
    /// Binary, ping and pong do not exist on the hixie drafts (L3).
    UnsupportedByDraft,
    /// `refuse` was called with no request waiting for an answer (the handshake is over, or no request
    /// has been reported).
    NoPendingRequest,
}

/// Only logs show this text (the `display` feature).
#[cfg(feature = "display")]
impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SendError::Full { needed } => {
                write!(f, "transmit ring full: {needed} free bytes needed")
            }
            SendError::TooLarge { size, capacity } => {
                write!(
                    f,
                    "frame of {size} bytes can never fit a transmit ring of {capacity}"
                )
            }
            SendError::InvalidCloseCode(code) => write!(f, "close code {code} must not be sent"),
            SendError::CloseReasonTooLong => f.write_str("close reason longer than 123 bytes"),
            SendError::ReasonWithoutCode => f.write_str("close reason without a close code"),
            SendError::ControlTooLong => f.write_str("control frame payload longer than 125 bytes"),
            SendError::Closed => f.write_str("the connection is closed"),
            SendError::NotOpen => f.write_str("the connection is not open yet"),
            SendError::MessageInProgress => f.write_str("a fragmented message is being sent"),
            SendError::RingNotEmpty => f.write_str("a zero-copy send needs an empty transmit ring"),
            SendError::InvalidHeader => f.write_str("invalid header name or value"),
            SendError::NoPendingRequest => f.write_str("no request is waiting for an answer"),
            SendError::UnsupportedByDraft => {
                f.write_str("only text can be sent on a hixie draft connection")
            }
        }
    }
}

/// What [`Driver::poll`](crate::Driver::poll) reports as an error: once per connection, followed by the
/// close event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; the connection is failed with its close code (RFC 6455 §7.1.7).
    Protocol(ProtocolError),
    /// The opening handshake failed (RFC 6455 §4).
    Handshake(crate::handshake::HandshakeError),
    /// The receive buffer (`rx`) or transmit ring (`tx`) given to `poll` is smaller than the minimum
    /// ([`MIN_RX_CAPACITY`](crate::MIN_RX_CAPACITY), [`MIN_TX_CAPACITY`](crate::MIN_TX_CAPACITY)).
    /// Nothing was read or written.
    BufferTooSmall {
        /// The capacity given.
        capacity: usize,
        /// The minimum.
        minimum: usize,
    },
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

/// Only logs show this text (the `display` feature); the texts of [`ProtocolError`] and
/// [`HandshakeError`](crate::HandshakeError) are always available.
#[cfg(feature = "display")]
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => fmt::Display::fmt(e, f),
            Error::Handshake(e) => write!(f, "{HANDSHAKE_PREFIX}{e}"),
            Error::BufferTooSmall { capacity, minimum } => {
                write!(
                    f,
                    "buffer of {capacity} bytes is below the minimum of {minimum}"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
#[cfg(feature = "std")]
impl std::error::Error for ProtocolError {}
#[cfg(feature = "std")]
impl std::error::Error for SendError {}
