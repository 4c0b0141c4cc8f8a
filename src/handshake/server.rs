//! The server's half of the opening handshake (RFC 6455 §4.2; BEHAVIOUR V1–V4, H1–H4, H12–H13): which
//! version a request asks for, whether it is acceptable, the subprotocol, and the bytes of the answer.
//!
//! Pure functions over a [`Request`] view and a transmit-ring `Transaction`; the driver decides when
//! they run and what state follows.

use super::accept::{AcceptKey, is_valid_key};
use super::{CustomHeaders, HandshakeError, Request, Version, eq_ignore_case, trim};
use crate::buffer::{Transaction, TxError};
use crate::config::Config;
use crate::text::Sink;

/// How the application accepts a WebSocket request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Accept<'p> {
    /// The subprotocols this server speaks; the client's first one that is here is chosen (H4).
    pub protocols: &'p [&'p str],
    /// Extra response headers, in order (H1). Names must be tokens, values free of CR, LF and NUL.
    pub headers: &'p [(&'p str, &'p str)],
    /// The `Sec-WebSocket-Extensions` answer negotiated by an extension framework, if any (H3, X1).
    pub extensions: Option<&'p str>,
    /// Whether the connection is TLS: hixie drafts then announce a `wss://` location (H12).
    pub secure: bool,
}

/// The protocol's own response headers: custom headers never replace them (H1).
const BUILTIN: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "sec-websocket-version",
    "sec-websocket-origin",
    "sec-websocket-location",
    "websocket-origin",
    "websocket-location",
];

/// The versions served, in the order `Sec-WebSocket-Version` lists them in a 426 answer (V2).
pub const SUPPORTED_VERSIONS: &str = "13, 8, 7";

/// Decides the version a request asks for and checks it (V1–V3, H3, H13). `allow_drafts` serves the
/// hixie drafts (only with the `drafts` feature).
/// `config` says whether drafts are served and whether `Host` is required (H3).
pub fn check_request(req: &Request<'_>, config: &Config) -> Result<Version, HandshakeError> {
    let allow_drafts = config.allow_drafts;
    // H3 — RFC 9112 §3.2: a request with more than one `Host` line is refused too.
    let host = match req.sole_header("host") {
        Some(_) => Ok(()),
        None if !config.require_host => Ok(()),
        None if req.header("host").is_some() => Err(HandshakeError::RepeatedHost),
        None => Err(HandshakeError::MissingHost),
    };
    // Either header makes the request hybi (V1); a repeated one is as invalid as the list two
    // lines combine into (RFC 6455 §11.3.1, §11.3.5): the key then fails H3, the version V2.
    let hybi =
        req.header("sec-websocket-key").is_some() || req.header("sec-websocket-version").is_some();
    let key = req.sole_header("sec-websocket-key");
    let version = req.sole_header("sec-websocket-version");
    if hybi {
        // V1, H3 — RFC 6455 §4.2.1: GET, HTTP/1.1 or later, Upgrade and Connection, version, key.
        if req.method() != "GET" {
            return Err(HandshakeError::NotGet);
        }
        if req.minor_version() < 1 {
            return Err(HandshakeError::OldHttp);
        }
        host?;
        if !req.is_websocket() {
            return Err(HandshakeError::NotWebSocket);
        }
        let version = match version.map(trim) {
            Some(b"13") => 13,
            Some(b"8") => 8,
            Some(b"7") => 7,
            _ => return Err(HandshakeError::UnsupportedVersion),
        };
        if !key.map(trim).is_some_and(is_valid_key) {
            return Err(HandshakeError::InvalidKey);
        }
        return Ok(Version::Hybi(version));
    }
    // V3 — without those headers: hixie-76 if it has a numbered key (both must then be valid, H13),
    // else hixie-75.
    let hixie76 =
        req.header("sec-websocket-key1").is_some() || req.header("sec-websocket-key2").is_some();
    let upgrade = req
        .sole_header("upgrade")
        .is_some_and(|v| eq_ignore_case(trim(v), b"websocket"));
    if !upgrade || req.method() != "GET" || !req.has_token("connection", "upgrade") {
        return Err(HandshakeError::NotWebSocket);
    }
    if !allow_drafts || !cfg!(feature = "drafts") {
        return Err(HandshakeError::DraftsDisabled);
    }
    host?;
    if hixie76 {
        draft_keys(req)?;
        return Ok(Version::Hixie76);
    }
    Ok(Version::Hixie75)
}

/// The numbers of hixie-76's two keys (H13).
#[cfg(feature = "drafts")]
pub(crate) fn draft_keys(req: &Request<'_>) -> Result<(u32, u32), HandshakeError> {
    use super::draft76::key_value;
    let value = |name| {
        req.sole_header(name)
            .and_then(key_value)
            .ok_or(HandshakeError::InvalidDraftKeys)
    };
    Ok((value("sec-websocket-key1")?, value("sec-websocket-key2")?))
}

#[cfg(not(feature = "drafts"))]
pub(crate) fn draft_keys(_: &Request<'_>) -> Result<(u32, u32), HandshakeError> {
    Err(HandshakeError::DraftsDisabled)
}

/// H4: the first subprotocol in the client's list that the server supports, as an index into
/// `supported`. The client's list is every `Sec-WebSocket-Protocol` header, comma-separated, in order.
pub fn choose_protocol(req: &Request<'_>, supported: &[&str]) -> Option<usize> {
    for header in req.headers() {
        if !eq_ignore_case(header.name.as_bytes(), b"sec-websocket-protocol") {
            continue;
        }
        for offered in header.value.split(|&b| b == b',') {
            let offered = trim(offered);
            if let Some(i) = supported.iter().position(|s| s.as_bytes() == offered) {
                return Some(i);
            }
        }
    }
    None
}

/// Writes the 101 answer for a checked request whose custom headers were checked (H1, H12, H13; hixie-76's 16-byte digest is not part of
/// it: the driver reserves room for it behind the head).
pub(crate) fn write_response(
    out: &mut Transaction<'_>,
    req: &Request<'_>,
    version: Version,
    accept: &Accept<'_>,
    protocol: Option<usize>,
) -> Result<(), TxError> {
    let custom = CustomHeaders(accept.headers);
    let protocol = protocol.and_then(|i| accept.protocols.get(i));
    match version {
        Version::Hybi(_) => {
            let key = AcceptKey::for_key(
                req.header("sec-websocket-key")
                    .map(trim)
                    .unwrap_or_default(),
            );
            out.text("HTTP/1.1 101 Switching Protocols\r\n");
            custom.write(out, BUILTIN);
            out.text("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
            out.bytes(key.as_bytes());
            out.text("\r\n");
            if let Some(p) = protocol {
                out.text("Sec-WebSocket-Protocol: ");
                out.text(p);
                out.text("\r\n");
            }
            if let Some(e) = accept.extensions {
                out.text("Sec-WebSocket-Extensions: ");
                out.text(e);
                out.text("\r\n");
            }
        }
        #[cfg(feature = "drafts")]
        Version::Hixie75 | Version::Hixie76 => {
            let (status, prefix) = if version == Version::Hixie75 {
                ("101 Web Socket Protocol Handshake", "WebSocket-")
            } else {
                ("101 WebSocket Protocol Handshake", "Sec-WebSocket-")
            };
            out.text("HTTP/1.1 ");
            out.text(status);
            out.text("\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n");
            out.text(prefix);
            out.text("Origin: ");
            out.bytes(req.header("origin").unwrap_or_default());
            out.text("\r\n");
            out.text(prefix);
            out.text(if accept.secure {
                "Location: wss://"
            } else {
                "Location: ws://"
            });
            out.bytes(req.header("host").unwrap_or_default());
            out.text(req.target());
            out.text("\r\n");
            if let Some(p) = protocol {
                out.text(prefix);
                out.text("Protocol: ");
                out.text(p);
                out.text("\r\n");
            }
            custom.write(out, BUILTIN);
        }
        // `check_request` gives a draft version only with the `drafts` feature.
        #[cfg(not(feature = "drafts"))]
        Version::Hixie75 | Version::Hixie76 => {}
    }
    out.text("\r\n");
    out.error().map_or(Ok(()), Err)
}

/// How a server refuses a request (RFC 7231 §6; H3): the status, extra headers (checked as custom headers
/// are, H1), and the body. `Content-Type: text/plain` is sent unless a header replaces it;
/// `Content-Length` and `Connection: close` are always the server's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Refusal<'p> {
    /// The status code (403, 401, 503…).
    pub status: u16,
    /// Extra response headers, in order.
    pub headers: &'p [(&'p str, &'p str)],
    /// The body.
    pub body: &'p [u8],
}

/// The reason phrases of the statuses a refusal is likely to use (RFC 9110 §15); others get `Error`. A
/// table rather than a `match`: a third of the code on a Cortex-M.
const REASON_PHRASES: &[(u16, &str)] = &[
    (200, "OK"),
    (201, "Created"),
    (204, "No Content"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (304, "Not Modified"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (408, "Request Timeout"),
    (413, "Content Too Large"),
    (426, "Upgrade Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
];

/// Headers of a refusal that custom headers never replace.
const REFUSAL_BUILTIN: &[&str] = &["content-length", "connection", "sec-websocket-version"];

/// Writes a refusal: `status`, `Content-Type: text/plain` (unless replaced), `Content-Length`, the custom
/// headers, and the body (H3); a 426 also lists the versions served (V2). When it does not fit, the error
/// says the whole size it needs.
pub(crate) fn write_refusal(
    out: &mut Transaction<'_>,
    refusal: &Refusal<'_>,
) -> Result<(), TxError> {
    let status = refusal.status;
    let phrase = REASON_PHRASES
        .iter()
        .find(|(code, _)| *code == status)
        .map_or("Error", |(_, phrase)| phrase);
    let custom = CustomHeaders(refusal.headers);
    out.text("HTTP/1.1 ");
    out.number(status.into());
    out.text(" ");
    out.text(phrase);
    out.text("\r\n");
    if !custom.has("content-type") {
        out.text("Content-Type: text/plain\r\n");
    }
    out.text("Content-Length: ");
    out.number(refusal.body.len() as u64);
    out.text("\r\n");
    if status == 426 {
        out.text("Sec-WebSocket-Version: ");
        out.text(SUPPORTED_VERSIONS);
        out.text("\r\n");
    }
    custom.write(out, REFUSAL_BUILTIN);
    out.text("Connection: close\r\n\r\n");
    out.bytes(refusal.body);
    out.error().map_or(Ok(()), Err)
}
