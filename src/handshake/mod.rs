//! The opening handshake (RFC 6455 §4): HTTP heads as borrowed views, their limits, and the pieces each
//! side checks and writes.
//!
//! A head is found by an incremental scan for its blank line (linear however the bytes arrive,
//! RUSTSEC-2023-0065), parsed once with `httparse`, and then kept where it is — in the receive buffer — as
//! a [`Request`] or [`Response`] view. Nothing here allocates; nothing here decides the connection's state.

pub mod accept;
pub mod client;
#[cfg(feature = "drafts")]
pub mod draft76;
pub(crate) mod extensions;
/// The head parser's fuzz check; private feature `__fuzz`, not public API.
#[cfg(any(test, feature = "__fuzz"))]
#[doc(hidden)]
pub mod fuzz;
pub mod head;
pub mod server;
mod start_line;
pub mod url;

use core::fmt;

use crate::text::{Fmt, Sink};

pub use head::{Header, Headers, Request, Response};

/// The protocol version a server speaks on a connection (BEHAVIOUR V1, V3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Version {
    /// RFC 6455 framing, with the `Sec-WebSocket-Version` the client sent: 13, 8 or 7.
    Hybi(u8),
    /// draft-hixie-thewebsocketprotocol-75.
    Hixie75,
    /// draft-hixie-thewebsocketprotocol-76.
    Hixie76,
}

impl Version {
    /// The originals' names: `hybi-13`, `hybi-8`, `hybi-7`, `hixie-75`, `hixie-76`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::Hybi(7) => "hybi-7",
            Version::Hybi(8) => "hybi-8",
            Version::Hybi(_) => "hybi-13",
            Version::Hixie75 => "hixie-75",
            Version::Hixie76 => "hixie-76",
        }
    }

    /// Whether this is one of the legacy drafts.
    pub const fn is_draft(self) -> bool {
        matches!(self, Version::Hixie75 | Version::Hixie76)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an opening handshake failed. Servers answer with [`status`](Self::status); clients report
/// `Error during WebSocket handshake: <this>` with close code 1002 (BEHAVIOUR H9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head is not HTTP/1.x (H7).
    MalformedHead,
    /// The head is over the configured limit (H7; RFC 6585 §5).
    HeadTooLarge,
    /// The head has more header lines than the configured limit (H7).
    TooManyHeaders,
    /// The request's method is not GET (RFC 6455 §4.2.1; H3).
    NotGet,
    /// The request is older than HTTP/1.1 (RFC 6455 §4.2.1; H3).
    OldHttp,
    /// The request is not a WebSocket upgrade (V4).
    NotWebSocket,
    /// `Sec-WebSocket-Key` missing or not 16 bytes of base64 (RFC 6455 §4.2.1; H3).
    InvalidKey,
    /// A `Sec-WebSocket-Version` we do not speak (RFC 6455 §4.4; V2).
    UnsupportedVersion,
    /// A legacy draft request while drafts are off (V3).
    DraftsDisabled,
    /// hixie-76 keys that do not give numbers (H13).
    InvalidDraftKeys,
    /// A header to send whose name is not a token or whose value has CR, LF or NUL (H1).
    InvalidHeader,
    /// The response status is not 101 (H9).
    UnexpectedStatus(u16),
    /// The response's `Upgrade` is not `websocket` (H9).
    InvalidUpgrade,
    /// The response's `Connection` lacks `upgrade` (H9).
    InvalidConnection,
    /// `Sec-WebSocket-Accept` does not match our key (RFC 6455 §4.1; H9).
    AcceptMismatch,
    /// The server chose a subprotocol we did not offer (H9).
    ProtocolMismatch,
    /// The server answered with extensions we did not offer (H9).
    ExtensionMismatch,
    /// The proxy refused the CONNECT (H11).
    ProxyRefused(u16),
    /// The request has no `Host` header (RFC 6455 §4.2.1 item 2; H3), and `Config::require_host` is on.
    MissingHost,
    /// The request has more than one `Host` header (RFC 9112 §3.2; H3), and `Config::require_host` is
    /// on.
    RepeatedHost,
    /// The handshake did not complete before its deadline.
    Timeout,
}

impl HandshakeError {
    /// The HTTP status a server refuses with: 431 for oversized heads, 426 for versions, 400 otherwise.
    pub const fn status(self) -> u16 {
        match self {
            HandshakeError::HeadTooLarge | HandshakeError::TooManyHeaders => 431,
            HandshakeError::UnsupportedVersion => 426,
            _ => 400,
        }
    }
}

impl HandshakeError {
    /// Writes the text: a server's refusal body (BEHAVIOUR H3), and after
    /// `Error during WebSocket handshake: ` a client's close reason (H9); also the `Display` text.
    pub(crate) fn write_text(self, out: &mut impl Sink) {
        let (text, number) = match self {
            HandshakeError::MalformedHead => ("Invalid HTTP head", None),
            HandshakeError::HeadTooLarge => ("HTTP head too large", None),
            HandshakeError::TooManyHeaders => ("Too many HTTP headers", None),
            HandshakeError::NotGet => ("Method must be GET", None),
            HandshakeError::OldHttp => ("HTTP/1.1 or later is required", None),
            HandshakeError::NotWebSocket => ("Not a WebSocket upgrade request", None),
            HandshakeError::InvalidKey => ("Missing or invalid Sec-WebSocket-Key header", None),
            HandshakeError::UnsupportedVersion => ("Unsupported WebSocket version", None),
            HandshakeError::DraftsDisabled => ("Legacy WebSocket drafts are not allowed", None),
            HandshakeError::InvalidDraftKeys => {
                ("Client sent invalid Sec-WebSocket-Key headers", None)
            }
            HandshakeError::InvalidHeader => ("Invalid header name or value", None),
            HandshakeError::UnexpectedStatus(code) => ("Unexpected response code: ", Some(code)),
            HandshakeError::InvalidUpgrade => ("'Upgrade' header value is not 'WebSocket'", None),
            HandshakeError::InvalidConnection => {
                ("'Connection' header value must contain 'Upgrade'", None)
            }
            HandshakeError::AcceptMismatch => ("Sec-WebSocket-Accept mismatch", None),
            HandshakeError::ProtocolMismatch => ("Sec-WebSocket-Protocol mismatch", None),
            HandshakeError::ExtensionMismatch => ("Sec-WebSocket-Extensions mismatch", None),
            HandshakeError::ProxyRefused(code) => (
                "Can't establish a connection to the server: proxy answered ",
                Some(code),
            ),
            HandshakeError::MissingHost => ("Missing Host header", None),
            HandshakeError::RepeatedHost => ("More than one Host header", None),
            HandshakeError::Timeout => ("Handshake timed out", None),
        };
        out.text(text);
        if let Some(n) = number {
            out.number(n.into());
        }
    }
}

/// The refusal body and close reason (always available: it goes on the wire).
impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_text(out))
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HandshakeError {}

/// Whether `name` is an RFC 7230 §3.2.6 token and `value` has no CR, LF or NUL: what may be sent as a
/// custom header without injecting others (BEHAVIOUR H1).
pub fn is_valid_header(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(is_tchar)
        && !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// RFC 7230 §3.2.6 `tchar`.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// Whether a comma-separated header value contains `token` (ASCII case-insensitive), as `Connection`
/// and `Upgrade` values are read (RFC 7230 §7, §6.7).
pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|item| eq_ignore_case(trim(item), token.as_bytes()))
}

/// ASCII case-insensitive equality, as header names and tokens compare (RFC 7230 §3.2, §3.2.6). One
/// copy: inlined, `eq_ignore_ascii_case` is a loop at each of a dozen header lookups.
#[inline(never)]
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Trims optional white space (RFC 7230 §3.2.3).
pub(crate) fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// A `Sec-WebSocket-Key`-sized nonce or an accept value, written into a transaction.
pub(crate) struct CustomHeaders<'h>(pub &'h [(&'h str, &'h str)]);

impl CustomHeaders<'_> {
    /// Checks every header (H1); nothing is written when one is refused.
    pub(crate) fn check(&self) -> Result<(), HandshakeError> {
        if self
            .0
            .iter()
            .all(|(name, value)| is_valid_header(name, value))
        {
            Ok(())
        } else {
            Err(HandshakeError::InvalidHeader)
        }
    }

    /// Writes the headers in call order, skipping the ones named in `builtin` (the protocol's own headers,
    /// which a custom header never replaces).
    pub(crate) fn write(&self, out: &mut impl Sink, builtin: &[&str]) {
        for (name, value) in self.0 {
            if !builtin
                .iter()
                .any(|b| eq_ignore_case(b.as_bytes(), name.as_bytes()))
            {
                out.text(name);
                out.text(": ");
                out.text(value);
                out.text("\r\n");
            }
        }
    }

    /// Whether a custom header named `name` is present (it then replaces a built-in that is not part of
    /// the protocol, such as `Authorization`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(n, _)| eq_ignore_case(n.as_bytes(), name.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_is_refused() {
        // H1: names must be tokens; values must not carry CR, LF or NUL.
        assert!(is_valid_header("X-Custom", "a value; with: punctuation"));
        assert!(!is_valid_header("X Custom", "v"));
        assert!(!is_valid_header("", "v"));
        assert!(!is_valid_header("X-Custom:", "v"));
        assert!(!is_valid_header("X-Custom", "v\r\nInjected: yes"));
        assert!(!is_valid_header("X-Custom", "v\nInjected: yes"));
        assert!(!is_valid_header("X-Custom", "v\0"));
    }

    #[test]
    fn token_lists() {
        // V4: `Connection` tokens are comma-separated and case-insensitive.
        assert!(has_token(b"keep-alive, Upgrade", "upgrade"));
        assert!(has_token(b"UPGRADE", "upgrade"));
        assert!(!has_token(b"upgraded", "upgrade"));
        assert!(!has_token(b"", "upgrade"));
    }
}
