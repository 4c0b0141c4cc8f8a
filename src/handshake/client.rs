//! The client's half of the opening handshake (RFC 6455 §4.1; BEHAVIOUR H8–H11): the request, the checks
//! of the response in H9's order, and the proxy CONNECT exchange.
//!
//! The client cannot keep the application's subprotocol list (the driver borrows nothing between
//! calls and stays small), so it keeps a fingerprint of each offered name — a 32-bit FNV-1a hash of its
//! length and bytes — and the response's choice must match one; the chosen name itself is handed out
//! in the open event's response, for an application that wants to compare the text.

use core::fmt::Write as _;

use super::accept::{AcceptKey, encode_nonce};
use super::url::Url;
use super::{CustomHeaders, HandshakeError, Response, trim};
use crate::buffer::{Transaction, TxError};

/// The most subprotocols a client may offer.
pub const MAX_PROTOCOLS: usize = 8;

/// What a client asks for.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'p> {
    /// The `ws:` or `wss:` URL.
    pub url: &'p Url<'p>,
    /// Subprotocols to offer, in order of preference (`Sec-WebSocket-Protocol`).
    pub protocols: &'p [&'p str],
    /// Extra request headers, in order (H1, H8).
    pub headers: &'p [(&'p str, &'p str)],
    /// The `Sec-WebSocket-Extensions` offer made by an extension framework, if any.
    pub extensions: Option<&'p str>,
}

/// Request headers that belong to the protocol: a custom header never replaces them (H1).
const BUILTIN: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

/// What a client remembers of its request to check the response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Offer {
    nonce: [u8; 16],
    protocols: [u32; MAX_PROTOCOLS],
    protocol_count: u8,
    extensions: bool,
}

/// FNV-1a over the length and the bytes of a subprotocol name.
fn fingerprint(name: &[u8]) -> u32 {
    let step = |h: u32, b: u8| (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    let seeded = (name.len() as u32)
        .to_le_bytes()
        .into_iter()
        .fold(0x811c_9dc5, step);
    name.iter().fold(seeded, |h, &b| step(h, b))
}

impl Offer {
    pub(crate) fn new(
        request: &ClientRequest<'_>,
        nonce: [u8; 16],
    ) -> Result<Offer, HandshakeError> {
        if request.protocols.len() > MAX_PROTOCOLS {
            return Err(HandshakeError::TooManyProtocols);
        }
        let mut offer = Offer {
            nonce,
            extensions: request.extensions.is_some(),
            ..Offer::default()
        };
        for (slot, p) in offer.protocols.iter_mut().zip(request.protocols) {
            if !super::is_valid_header("Sec-WebSocket-Protocol", p) || p.contains(',') {
                return Err(HandshakeError::InvalidHeader);
            }
            *slot = fingerprint(p.as_bytes());
        }
        offer.protocol_count = request.protocols.len() as u8;
        Ok(offer)
    }

    /// H9, in order: status 101, `Upgrade: websocket`, `Connection` with `upgrade`, the accept value,
    /// a subprotocol we offered (or none), extensions only if we offered some. Returns the index of the
    /// chosen subprotocol in the offer.
    pub(crate) fn check(&self, response: &Response<'_>) -> Result<Option<usize>, HandshakeError> {
        if response.status() != 101 {
            return Err(HandshakeError::UnexpectedStatus(response.status()));
        }
        if !response
            .header("upgrade")
            .is_some_and(|v| trim(v).eq_ignore_ascii_case(b"websocket"))
        {
            return Err(HandshakeError::InvalidUpgrade);
        }
        if !response.has_token("connection", "upgrade") {
            return Err(HandshakeError::InvalidConnection);
        }
        let expected = AcceptKey::for_key(&encode_nonce(&self.nonce));
        if response.header("sec-websocket-accept").map(trim) != Some(expected.as_bytes()) {
            return Err(HandshakeError::AcceptMismatch);
        }
        let protocol = match response.header("sec-websocket-protocol").map(trim) {
            None | Some(b"") => None,
            Some(chosen) => {
                let print = fingerprint(chosen);
                let offered = &self.protocols[..usize::from(self.protocol_count)];
                Some(
                    offered
                        .iter()
                        .position(|p| *p == print)
                        .ok_or(HandshakeError::ProtocolMismatch)?,
                )
            }
        };
        let extensions = response
            .headers()
            .any(|h| h.name.eq_ignore_ascii_case("sec-websocket-extensions"));
        if extensions && !self.extensions {
            return Err(HandshakeError::ExtensionMismatch);
        }
        Ok(protocol)
    }
}

/// Writes the request (H8): request line, `Host`, `Upgrade`, `Connection`, `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version: 13`, `Sec-WebSocket-Protocol`, `Authorization: Basic` from the userinfo
/// (unless a custom `Authorization` replaces it), custom headers, `Sec-WebSocket-Extensions`.
pub(crate) fn write_request(
    out: &mut Transaction<'_>,
    request: &ClientRequest<'_>,
    key: &[u8; 24],
) -> Result<(), TxError> {
    let url = request.url;
    let custom = CustomHeaders(request.headers);
    let _ = write!(out, "GET {} HTTP/1.1\r\n", url.resource());
    if !custom.has("host") {
        let _ = write!(out, "Host: {}\r\n", url.host_header());
    }
    let _ = out.write_str("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    let _ = out.put(key);
    let _ = out.write_str("\r\nSec-WebSocket-Version: 13\r\n");
    if let [first, rest @ ..] = request.protocols {
        let _ = write!(out, "Sec-WebSocket-Protocol: {first}");
        for p in rest {
            let _ = write!(out, ", {p}");
        }
        let _ = out.write_str("\r\n");
    }
    if let (Some(auth), false) = (url.basic_auth(), custom.has("authorization")) {
        let _ = write!(out, "Authorization: {auth}\r\n");
    }
    let _ = custom.write(out, BUILTIN);
    if let Some(e) = request.extensions {
        let _ = write!(out, "Sec-WebSocket-Extensions: {e}\r\n");
    }
    let _ = out.write_str("\r\n");
    out.error().map_or(Ok(()), Err)
}

/// Writes a proxy CONNECT request for `target` (H11): `CONNECT host:port HTTP/1.1`, `Host`,
/// `Connection: keep-alive`, `Proxy-Connection: keep-alive`, `Proxy-Authorization: Basic` from the proxy
/// URL's userinfo, custom headers.
pub(crate) fn write_connect(
    out: &mut Transaction<'_>,
    target: &Url<'_>,
    proxy: &Url<'_>,
    headers: &[(&str, &str)],
) -> Result<(), TxError> {
    let custom = CustomHeaders(headers);
    let authority = target.authority();
    let _ = write!(out, "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    let _ = out.write_str("Connection: keep-alive\r\nProxy-Connection: keep-alive\r\n");
    if let (Some(auth), false) = (proxy.basic_auth(), custom.has("proxy-authorization")) {
        let _ = write!(out, "Proxy-Authorization: {auth}\r\n");
    }
    let _ = custom.write(out, &["host", "connection", "proxy-connection"]);
    let _ = out.write_str("\r\n");
    out.error().map_or(Ok(()), Err)
}

/// H11: a proxy that answers anything but 200 refused the tunnel.
pub(crate) fn check_connect(response: &Response<'_>) -> Result<(), HandshakeError> {
    match response.status() {
        200 => Ok(()),
        status => Err(HandshakeError::ProxyRefused(status)),
    }
}
