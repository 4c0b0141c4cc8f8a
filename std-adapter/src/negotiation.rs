//! Server negotiation as a function of its own (RFC 6455 §4.2.2, §9.1; RFC 7692 §5; BEHAVIOUR H4, X2, X3):
//! request headers in; the chosen subprotocol, the response headers and the extension session out.
//!
//! No I/O and no state of its own: any HTTP stack (hyper, axum, the engine's raw mode) calls it with the
//! headers it parsed and writes the answer it returns.

use crate::extensions::Extensions;

/// What the server answers, when it accepts.
#[derive(Debug)]
pub struct Negotiated {
    /// The chosen subprotocol (H4): the first of the client's list that the server speaks.
    pub protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value of the answer, if any extension was accepted.
    pub extensions_header: Option<String>,
    /// The negotiated pipeline (the registered extensions, with their sessions active).
    pub extensions: Extensions,
}

impl Negotiated {
    /// The answer's negotiated headers (`Sec-WebSocket-Protocol`, `Sec-WebSocket-Extensions`), for a
    /// stack that writes the 101 itself.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(p) = &self.protocol {
            headers.push(("Sec-WebSocket-Protocol", p.clone()));
        }
        if let Some(e) = &self.extensions_header {
            headers.push(("Sec-WebSocket-Extensions", e.clone()));
        }
        headers
    }
}

/// Why a request cannot be accepted: the status and the one-line body to refuse it with (H3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (400).
    pub status: u16,
    /// The body.
    pub reason: String,
}

/// Negotiates a request's subprotocol and extensions: `headers` are the request's, `protocols` the ones
/// the server speaks in its order of preference, `extensions` the registered ones (X1). Every
/// `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` header counts, in order (RFC 7230 §3.2.2).
/// An extension offer that cannot be parsed is refused with 400 (H3, X3).
pub fn negotiate<'h>(
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
    protocols: &[String],
    mut extensions: Extensions,
) -> Result<Negotiated, Refusal> {
    let mut offered_protocols: Vec<String> = Vec::new();
    let mut offer: Vec<String> = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value);
        if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            offered_protocols.extend(value.split(',').map(|p| p.trim().to_owned()));
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            offer.push(value.into_owned());
        }
    }
    // H4: the client's order decides.
    let protocol = offered_protocols
        .into_iter()
        .find(|p| protocols.iter().any(|s| s == p));
    let extensions_header = if offer.is_empty() || extensions.is_empty() {
        None
    } else {
        let offer = offer.join(", ");
        extensions.generate_response(&offer).map_err(|_| Refusal {
            status: 400,
            reason: format!("Invalid Sec-WebSocket-Extensions header: {offer}"),
        })?
    };
    Ok(Negotiated {
        protocol,
        extensions_header,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PermessageDeflate;

    #[test]
    fn client_order_decides_the_subprotocol() {
        // H4: client `a, c, b`, server [b, c] → c; nothing in common → none.
        let headers = [
            ("Sec-WebSocket-Protocol", &b"a, c"[..]),
            ("Sec-WebSocket-Protocol", b"b"),
        ];
        let server = ["b".to_owned(), "c".to_owned()];
        let n = negotiate(headers, &server, Extensions::new()).unwrap();
        assert_eq!(n.protocol.as_deref(), Some("c"));
        let n = negotiate(
            [("Sec-WebSocket-Protocol", &b"x"[..])],
            &server,
            Extensions::new(),
        )
        .unwrap();
        assert_eq!(n.protocol, None);
        assert!(n.response_headers().is_empty());
    }

    #[test]
    fn permessage_deflate_is_negotiated_without_io() {
        // X5: the offer in, the answer and the active session out.
        let mut extensions = Extensions::new();
        extensions.add(Box::new(PermessageDeflate::new())).unwrap();
        let headers = [(
            "Sec-WebSocket-Extensions",
            &b"permessage-deflate; client_max_window_bits"[..],
        )];
        let n = negotiate(headers, &[], extensions).unwrap();
        let answer = n.extensions_header.clone().unwrap();
        assert!(answer.starts_with("permessage-deflate"), "{answer}");
        assert_eq!(
            n.extensions.active().collect::<Vec<_>>(),
            ["permessage-deflate"]
        );
        assert_eq!(n.response_headers()[0].0, "Sec-WebSocket-Extensions");
    }

    #[test]
    fn an_unparsable_offer_is_refused() {
        // H3 X3: 400 with the reason.
        let mut extensions = Extensions::new();
        extensions.add(Box::new(PermessageDeflate::new())).unwrap();
        let headers = [("Sec-WebSocket-Extensions", &b"x-webkit- -frame"[..])];
        let refusal = negotiate(headers, &[], extensions).unwrap_err();
        assert_eq!(refusal.status, 400);
        assert_eq!(
            refusal.reason,
            "Invalid Sec-WebSocket-Extensions header: x-webkit- -frame"
        );
    }
}
