//! WebSocket extensions (RFC 6455 §9) and permessage-deflate (RFC 7692), for whole messages.
//!
//! This module holds the extension model of the Ruby/Node `websocket-extensions` library rebuilt in Rust:
//! the `Sec-WebSocket-Extensions` header grammar ([`header`]), the per-connection registry and negotiated
//! pipeline ([`Extensions`]), the traits an extension implements ([`Extension`], [`Session`],
//! [`ClientSession`], [`ServerSession`]) and the permessage-deflate extension ([`PermessageDeflate`]).
//! It must never touch sockets, frames or close handshakes: it sees header values and whole reassembled
//! messages, and reports failures as [`ExtensionError`] values carrying the close code for the caller to
//! send. It must never panic on peer input, never use `unsafe`, and never let a peer make it do work or
//! allocate memory beyond the bounds documented on each entry point.
//!
//! # Flow
//!
//! - Server: [`Extensions::generate_response`] with the client's offer header during the opening
//!   handshake (an `Err` means the request is refused with `400 Invalid Sec-WebSocket-Extensions header`).
//! - Client: [`Extensions::generate_offer`] for the request, then [`Extensions::activate`] with the
//!   response header (an `Err` fails the handshake).
//! - Both: [`Extensions::allowed_rsv`] tells the frame parser which RSV bits are legal; each received
//!   message goes through [`Extensions::process_incoming`] with the RSV bits of its first frame, each sent
//!   message through [`Extensions::process_outgoing`] (the returned RSV bits go on its first frame only);
//!   [`Extensions::close`] when the connection ends.

use std::error::Error;
use std::fmt;

pub mod deflate;
pub mod header;
mod registry;

pub use deflate::PermessageDeflate;
pub use header::{
    MAX_ELEMENTS, MAX_HEADER_LEN, Offer, ParamValue, Params, parse_header, serialize,
};
pub use registry::Extensions;
// The core's types an extension works with: the kind of a data message (RFC 6455 §5.6), the RSV bits of
// a frame (RFC 6455 §5.2) and close codes (RFC 6455 §7.4.1).
pub use websocket_driver::{CloseCode, DataKind, Rsv};

/// A whole data message as extensions see it (RFC 6455 §9: extensions transform messages and own RSV bits).
/// Control frames (RFC 6455 §5.5) never go through extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Text or binary (RFC 6455 §5.6); a text message is UTF-8 once every extension has processed it.
    pub kind: DataKind,
    /// The RSV bits (RFC 6455 §5.2). Incoming: the bits of the message's first frame; outgoing: the bits
    /// to put on the first frame.
    pub rsv: Rsv,
    /// The payload (RFC 6455 §5.6), unmasked and reassembled from all frames.
    pub data: Vec<u8>,
}

impl Message {
    /// A text message with no RSV bits (RFC 6455 §5.6).
    pub fn text(data: impl Into<Vec<u8>>) -> Self {
        Message {
            kind: DataKind::Text,
            rsv: Rsv::NONE,
            data: data.into(),
        }
    }

    /// A binary message with no RSV bits (RFC 6455 §5.6).
    pub fn binary(data: impl Into<Vec<u8>>) -> Self {
        Message {
            kind: DataKind::Binary,
            rsv: Rsv::NONE,
            data: data.into(),
        }
    }
}

/// Why negotiating or running extensions failed (RFC 6455 §9.1, RFC 7692 §5, §8).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The `Sec-WebSocket-Extensions` value breaks the grammar of RFC 6455 §9.1 / RFC 7230 §3.2.6, §7, or
    /// exceeds [`MAX_HEADER_LEN`] / [`MAX_ELEMENTS`]; or an offer or response to send has a name that is
    /// not a token or a value with a control character, and cannot be written into it ([`serialize`]).
    InvalidHeader {
        /// Byte offset in the header value where the problem was found.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Two extensions with one name were registered, or a server response names one twice (RFC 6455 §9.1).
    DuplicateExtension(String),
    /// The server's response names an extension the client did not offer (RFC 6455 §4.1, §9.1).
    UnknownExtension(String),
    /// An extension claims RSV bits another active extension owns (RFC 6455 §5.2, §9).
    RsvConflict(String),
    /// The named extension rejected the parameters of the server's response (RFC 6455 §9.1, RFC 7692 §5).
    RejectedParams(String),
    /// Processing a message failed; the connection must be failed with `code` (RFC 6455 §7.4.1):
    /// [`CloseCode::MANDATORY_EXTENSION`] (1010) for extension errors (checklist X4, e.g. corrupt DEFLATE
    /// data, RFC 7692 §8), [`CloseCode::TOO_BIG`] (1009) for a message that inflates past `max_length`,
    /// [`CloseCode::INVALID_DATA`] (1007) for a text message that is not UTF-8 once processed (RFC 6455
    /// §8.1), [`CloseCode::PROTOCOL_ERROR`] (1002) for RSV bits no extension owns (RFC 6455 §5.2).
    Processing {
        /// The close code to send (RFC 6455 §7.4.1).
        code: CloseCode,
        /// A human-readable reason, suitable for the close frame (short, no peer data).
        reason: String,
    },
}

impl ExtensionError {
    /// A processing error with close code `code` (RFC 6455 §7.4.1).
    pub fn processing(code: CloseCode, reason: impl Into<String>) -> Self {
        ExtensionError::Processing {
            code,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtensionError::InvalidHeader { offset, reason } => {
                write!(
                    f,
                    "invalid Sec-WebSocket-Extensions header at byte {offset}: {reason}"
                )
            }
            ExtensionError::DuplicateExtension(name) => {
                write!(f, "extension {name} appears more than once")
            }
            ExtensionError::UnknownExtension(name) => {
                write!(
                    f,
                    "server responded with extension {name}, which was not offered"
                )
            }
            ExtensionError::RsvConflict(name) => {
                write!(f, "extension {name} claims RSV bits already in use")
            }
            ExtensionError::RejectedParams(name) => {
                write!(f, "extension {name} rejected the response's parameters")
            }
            ExtensionError::Processing { code, reason } => {
                write!(f, "extension error ({code}): {reason}")
            }
        }
    }
}

impl Error for ExtensionError {}

/// An extension type, registered once per connection (RFC 6455 §9): names itself, claims RSV bits, and makes
/// a session per connection, as in the Ruby/Node `websocket-extensions` library.
pub trait Extension: Send {
    /// The extension token used in `Sec-WebSocket-Extensions` (RFC 6455 §9.1), e.g. `permessage-deflate`.
    fn name(&self) -> &str;
    /// The RSV bits the extension uses (RFC 6455 §5.2); permessage-deflate uses [`Rsv::RSV1`] (RFC 7692
    /// §6).
    fn rsv(&self) -> Rsv;
    /// A client session, which makes offers and is activated by the server's response (RFC 6455 §9.1).
    fn client_session(&self) -> Box<dyn ClientSession>;
    /// A server session for the first acceptable one of the client's `offers` for this extension, in the
    /// client's order, or `None` to decline them all (RFC 6455 §9.1).
    fn server_session(&self, offers: &[&Params]) -> Option<Box<dyn ServerSession>>;
}

/// One connection's negotiated use of an extension: transforms whole messages (RFC 6455 §9).
pub trait Session: Send {
    /// Transforms a received message; sessions run in reverse negotiation order (RFC 6455 §9.1). A
    /// session clears the RSV bits it consumed. The result must not exceed `max_length` bytes.
    fn process_incoming(
        &mut self,
        msg: Message,
        max_length: u64,
    ) -> Result<Message, ExtensionError>;
    /// Transforms a message to send; sessions run in negotiation order (RFC 6455 §9.1). A session sets
    /// the RSV bits it used.
    fn process_outgoing(&mut self, msg: Message) -> Result<Message, ExtensionError>;
    /// Releases the session's resources when the connection closes (RFC 6455 §7).
    fn close(&mut self);
}

/// The client side of a session (RFC 6455 §9.1): offer, then activate on the server's response.
pub trait ClientSession: Session {
    /// The parameter sets to offer, most preferred first; each becomes one list element (RFC 6455 §9.1).
    /// An empty list means the extension is not offered.
    fn offer(&mut self) -> Vec<Params>;
    /// Accepts the server's response parameters, or returns `false` to fail the handshake (RFC 6455 §9.1).
    fn activate(&mut self, params: &Params) -> bool;
}

/// The server side of a session (RFC 6455 §9.1), made from the client's offers.
pub trait ServerSession: Session {
    /// The parameters of the response element for this extension (RFC 6455 §9.1).
    fn response(&mut self) -> Params;
}
