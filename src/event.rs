//! What [`Driver::poll`](crate::Driver::poll) reports: events that borrow the receive buffer.
//!
//! An event's data is a view into the caller's receive buffer (lifetime `'a` comes from the buffer
//! argument of `poll`, never from the driver), so the application may send — echo — while it holds it.
//! Nothing here copies payload bytes.

use crate::handshake::{Request, Response};
use crate::wire::{CloseCode, Rsv};

#[cfg(feature = "defmt")]
mod defmt_format;

/// The kind of a data message (RFC 6455 §5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DataKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

/// One thing that happened on the connection.
///
/// A message that fits in the receive buffer arrives as one event with `fin: true`; a larger one (or a
/// fragmented one when reassembly is off) arrives as ordered chunks, the last with `fin: true`. Text
/// chunks always end on a char boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a> {
    /// Server, raw mode: a request head arrived (H6a). For a WebSocket upgrade
    /// ([`Request::is_websocket`]) the head waits in the receive buffer for
    /// [`Driver::accept`](crate::Driver::accept) or [`Driver::refuse`](crate::Driver::refuse); for any
    /// other request, what follows is its body ([`Event::Body`]).
    Connect(Request<'a>),
    /// Server: body bytes of a request that was not an upgrade, as they arrive (H6); never frames.
    Body(&'a [u8]),
    /// The opening handshake completed: frames flow, and frames queued before are on their way (S2).
    Open,
    /// Client: the server's response head arrived and passed the checks of H9 that need nothing from
    /// the application (status 101, `Upgrade`, `Connection`, the accept key). It waits in the receive
    /// buffer for [`Driver::check_response`](crate::Driver::check_response), which checks the chosen
    /// subprotocol against the offered list and the extensions, and opens the connection.
    Response(Response<'a>),
    /// Client: the HTTP proxy opened the tunnel (H11). Start TLS if the URL is `wss:`, then call
    /// [`Driver::start`](crate::Driver::start).
    ProxyConnected(Response<'a>),
    /// A text message or chunk of one, validated as UTF-8 (RFC 6455 §5.6, §8.1).
    Text {
        /// The text.
        data: &'a str,
        /// The last chunk of the message.
        fin: bool,
    },
    /// A binary message or chunk of one.
    Binary {
        /// The bytes.
        data: &'a [u8],
        /// The last chunk of the message.
        fin: bool,
    },
    /// A message whose first frame carried RSV bits owned by a negotiated extension (a compressed
    /// message): handed over unchecked, for the extension to transform (F10).
    Extension {
        /// Text or binary.
        kind: DataKind,
        /// The RSV bits of the message's first frame.
        rsv: Rsv,
        /// The bytes as received (unmasked).
        data: &'a [u8],
        /// The last chunk of the message.
        fin: bool,
    },
    /// A ping arrived; its pong is already queued (RFC 6455 §5.5.2; F13).
    Ping(&'a [u8]),
    /// A pong arrived (RFC 6455 §5.5.3).
    Pong(&'a [u8]),
    /// The connection is closed: the peer's close arrived (its echo, if due, is already queued), or the
    /// connection failed (then `code` and `reason` are what we sent). RFC 6455 §7.1.5, §7.1.6.
    Close {
        /// The peer's code (1005 when its close frame had none, F12), or ours after a failure.
        code: CloseCode,
        /// The reason text.
        reason: &'a str,
    },
    /// Backpressure, not an error: the transmit ring needs `needed` free bytes for an automatic reply
    /// (a pong or a close frame). The frame that needs it stays in the receive buffer (its header
    /// already read): nothing is lost or answered twice; drain the ring, then poll again.
    TxFull {
        /// Free bytes needed.
        needed: usize,
    },
}
