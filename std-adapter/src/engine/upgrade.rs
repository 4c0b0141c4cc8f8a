//! A request whose upgrade an HTTP stack (hyper, axum) carries out itself: the engine checks it
//! (RFC 6455 §4.2.1), lets the application decide, negotiates the subprotocol and extensions with the same
//! function as every other face, and says which headers the 101 must carry (§4.2.2); the stack writes the
//! 101, and the engine runs on the upgraded connection, open at once.
//!
//! The core checks the request and computes the accept key; nothing here writes a byte of the wire.

use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver::handshake::server::check_request;
use websocket_driver::{Driver as Core, Request, Version};

use super::incoming::RequestHead;
use super::{Decision, Engine};
use crate::negotiation::negotiate;

/// How to answer a request an HTTP stack upgrades itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// Send `101 Switching Protocols` with these headers (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, and the negotiated `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions`,
    /// then the application's), then run the engine on the upgraded connection.
    Accept(Vec<(String, String)>),
    /// Answer with this status, headers and body instead (400 for a request that is not a valid
    /// upgrade, 426 for a version we do not speak, or the application's refusal).
    Refuse {
        /// The HTTP status.
        status: u16,
        /// Response headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
}

impl Engine {
    /// Server: answers a request an HTTP stack parsed and upgrades itself (RFC 6455 §4.2): `method`,
    /// `target`, the minor version of its HTTP/1.x (`0` is refused, §4.2.1 asks for HTTP/1.1 or later)
    /// and its headers. `decide` sees the whole request first (`None`: accept with the options'
    /// subprotocols). On [`Upgrade::Accept`] the engine is open, and the sends queued before it (S2) are
    /// in its output: hand it the upgraded connection's bytes.
    pub fn accept_upgrade<'h>(
        &mut self,
        method: &str,
        target: &str,
        minor_version: u8,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        decide: impl FnOnce(&RequestHead) -> Option<Decision>,
    ) -> Upgrade {
        let headers: Vec<websocket_driver::Header<'h>> = headers
            .into_iter()
            .map(|(name, value)| websocket_driver::Header { name, value })
            .collect();
        let request = Request::new(method, target, minor_version, &headers);
        let refuse = |status: u16, body: String| Upgrade::Refuse {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.into_bytes(),
        };
        // RFC 6455 §4.2.1: only RFC 6455 itself here; a stack that upgrades cannot answer the drafts.
        let config = self.options.config().allow_drafts(false);
        match check_request(&request, &config) {
            Ok(Version::Hybi(_)) => {}
            Ok(_) => return refuse(400, "Unsupported WebSocket draft".into()),
            Err(e) => {
                let mut answer = refuse(e.status(), e.to_string());
                if let (Upgrade::Refuse { headers, .. }, 426) = (&mut answer, e.status()) {
                    headers.push((
                        "Sec-WebSocket-Version".into(),
                        websocket_driver::handshake::server::SUPPORTED_VERSIONS.into(),
                    ));
                }
                return answer;
            }
        }
        let head = RequestHead {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            websocket: true,
        };
        let (choice, extra) = match decide(&head) {
            Some(Decision::Refuse {
                status,
                headers,
                body,
            }) => {
                return Upgrade::Refuse {
                    status,
                    headers,
                    body,
                };
            }
            Some(Decision::Accept { protocol, headers }) => (Some(protocol), headers),
            None => (None, Vec::new()),
        };
        let supported = match &choice {
            Some(chosen) => chosen.iter().cloned().collect(),
            None => self.options.protocols.clone(),
        };
        let extensions = std::mem::take(&mut self.extensions);
        let negotiated = match negotiate(
            headers.iter().map(|h| (h.name, h.value)),
            &supported,
            extensions,
        ) {
            Ok(negotiated) => negotiated,
            Err(refusal) => return refuse(refusal.status, refusal.reason),
        };
        let key = request.header("sec-websocket-key").unwrap_or_default();
        let mut answer = vec![
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("Connection".to_owned(), "Upgrade".to_owned()),
            (
                "Sec-WebSocket-Accept".to_owned(),
                AcceptKey::for_key(key.trim_ascii()).as_str().to_owned(),
            ),
        ];
        answer.extend(
            negotiated
                .response_headers()
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v)),
        );
        // The application's headers (`set_header`, then the decision's), never the protocol's own (H1).
        let custom = std::mem::take(&mut self.custom_headers);
        answer.extend(custom.into_iter().chain(extra).filter(|(n, v)| {
            websocket_driver::handshake::is_valid_header(n, v)
                && !n.to_ascii_lowercase().starts_with("sec-websocket-")
                && !n.eq_ignore_ascii_case("upgrade")
                && !n.eq_ignore_ascii_case("connection")
        }));
        self.extensions = negotiated.extensions;
        self.protocol = negotiated.protocol;
        self.started = true;
        self.core = Core::server_upgraded(self.options.config());
        self.core.set_allowed_rsv(self.extensions.allowed_rsv());
        // Open at once, with no open event to flush them at: the sends made before go out now (S2).
        self.flush_queue();
        Upgrade::Accept(answer)
    }
}
