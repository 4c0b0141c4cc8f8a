//! The client's half of the opening handshake (RFC 6455 §4.1; BEHAVIOUR H8–H11): the request, the checks
//! of the response in H9's order, and the proxy CONNECT exchange.
//!
//! The client keeps no copy of the application's subprotocol list (the driver borrows nothing between
//! calls and stays small): the response's checks that need it run in
//! [`Driver::check_response`](crate::Driver::check_response), where the application passes the list
//! again, and the server's choice is compared with it exactly.

use super::accept::{AcceptKey, encode_nonce};
use super::url::Url;
use super::{CustomHeaders, HandshakeError, Response, eq_ignore_case, trim};
use crate::buffer::{Transaction, TxError};
use crate::text::Sink;

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

/// What a client remembers of its request to check the response (RFC 6455 §4.1): the nonce behind its
/// key, and whether it offered extensions. The driver keeps one between `start` and `check_response`; a
/// client whose HTTP stack sends the request and reads the response itself (hyper's client, say) uses
/// one directly: [`Offer::new`], send [`key`](Self::key) and the offer's headers, then check the response
/// with [`check_head`](Self::check_head) and [`check_choice`](Self::check_choice).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    nonce: [u8; 16],
    extensions: bool,
}

impl Offer {
    /// The offer of `request` with `nonce` (16 bytes from the mask source, RFC 6455 §4.1), or why the
    /// request cannot be made: a subprotocol that is not a token, or one offered twice (RFC 6455 §4.1 item
    /// 10; H8).
    pub fn new(request: &ClientRequest<'_>, nonce: [u8; 16]) -> Result<Offer, HandshakeError> {
        // RFC 6455 §4.1 item 10: each a non-empty token, all different.
        for (i, p) in request.protocols.iter().enumerate() {
            let token = !p.is_empty() && p.bytes().all(super::is_tchar);
            if !token || request.protocols.get(..i).unwrap_or_default().contains(p) {
                return Err(HandshakeError::InvalidHeader);
            }
        }
        Ok(Offer {
            nonce,
            extensions: request.extensions.is_some(),
        })
    }

    /// The `Sec-WebSocket-Key` value to send: the nonce in base64 (RFC 6455 §4.1).
    pub fn key(&self) -> [u8; 24] {
        encode_nonce(&self.nonce)
    }

    /// H9, in order, the checks that need nothing but the offer: status 101, `Upgrade: websocket`,
    /// `Connection` with `upgrade`, the accept value (RFC 6455 §4.1, items 1–4 of the client's checks).
    pub fn check_head(&self, response: &Response<'_>) -> Result<(), HandshakeError> {
        if response.status() != 101 {
            return Err(HandshakeError::UnexpectedStatus(response.status()));
        }
        // The headers RFC 6455 §11.3 allows once: a repeated one fails its check, as the list two
        // lines combine into (RFC 9110 §5.3) would.
        if !response
            .sole_header("upgrade")
            .is_some_and(|v| eq_ignore_case(trim(v), b"websocket"))
        {
            return Err(HandshakeError::InvalidUpgrade);
        }
        if !response.has_token("connection", "upgrade") {
            return Err(HandshakeError::InvalidConnection);
        }
        let expected = AcceptKey::for_key(&encode_nonce(&self.nonce));
        if response.sole_header("sec-websocket-accept").map(trim) != Some(expected.as_bytes()) {
            return Err(HandshakeError::AcceptMismatch);
        }
        Ok(())
    }

    /// H9, the rest in order: a subprotocol we offered, compared exactly with `offered` (or none), then
    /// extensions only if we offered some (RFC 6455 §4.1, items 5–6). Returns the index of the chosen
    /// subprotocol in `offered`.
    pub fn check_choice(
        &self,
        response: &Response<'_>,
        offered: &[&str],
    ) -> Result<Option<usize>, HandshakeError> {
        let repeated = response.sole_header("sec-websocket-protocol").is_none()
            && response.header("sec-websocket-protocol").is_some();
        if repeated {
            return Err(HandshakeError::ProtocolMismatch);
        }
        let protocol = match response.header("sec-websocket-protocol").map(trim) {
            None | Some(b"") => None,
            Some(chosen) => Some(
                offered
                    .iter()
                    .position(|p| p.as_bytes() == chosen)
                    .ok_or(HandshakeError::ProtocolMismatch)?,
            ),
        };
        let extensions = response
            .headers()
            .any(|h| eq_ignore_case(h.name.as_bytes(), b"sec-websocket-extensions"));
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
    out.text("GET ");
    url.resource().write_to(out);
    out.text(" HTTP/1.1\r\n");
    if !custom.has("host") {
        out.text("Host: ");
        url.host_header().write_to(out);
        out.text("\r\n");
    }
    out.text("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    out.bytes(key);
    out.text("\r\nSec-WebSocket-Version: 13\r\n");
    if let [first, rest @ ..] = request.protocols {
        out.text("Sec-WebSocket-Protocol: ");
        out.text(first);
        for p in rest {
            out.text(", ");
            out.text(p);
        }
        out.text("\r\n");
    }
    if let (Some(auth), false) = (url.basic_auth(), custom.has("authorization")) {
        out.text("Authorization: ");
        auth.write_to(out);
        out.text("\r\n");
    }
    custom.write(out, BUILTIN);
    if let Some(e) = request.extensions {
        out.text("Sec-WebSocket-Extensions: ");
        out.text(e);
        out.text("\r\n");
    }
    out.text("\r\n");
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
    out.text("CONNECT ");
    authority.write_to(out);
    out.text(" HTTP/1.1\r\nHost: ");
    authority.write_to(out);
    out.text("\r\nConnection: keep-alive\r\nProxy-Connection: keep-alive\r\n");
    if let (Some(auth), false) = (proxy.basic_auth(), custom.has("proxy-authorization")) {
        out.text("Proxy-Authorization: ");
        auth.write_to(out);
        out.text("\r\n");
    }
    custom.write(out, &["host", "connection", "proxy-connection"]);
    out.text("\r\n");
    out.error().map_or(Ok(()), Err)
}

/// H11: a proxy that answers anything but 200 refused the tunnel.
pub(crate) fn check_connect(response: &Response<'_>) -> Result<(), HandshakeError> {
    match response.status() {
        200 => Ok(()),
        status => Err(HandshakeError::ProxyRefused(status)),
    }
}
