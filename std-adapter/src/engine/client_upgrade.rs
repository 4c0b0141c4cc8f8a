//! A client whose HTTP stack (hyper's client, a proxy or TLS stack the application already has) sends the
//! upgrade request and reads the response itself (RFC 6455 §4.1): the engine gives the request's headers
//! and checks the response with the core's checks (H9), then runs on the upgraded connection, open.
//!
//! The core makes the key and checks the answer; nothing here decides anything about the protocol.

use websocket_driver::handshake::client::Offer;
use websocket_driver::{ClientRequest, Driver as Core, Header, Response, Url};

use super::{Engine, Error};

impl Engine {
    /// Client: the headers of the upgrade request for an HTTP stack that sends it itself —
    /// `Upgrade`, `Connection`, `Sec-WebSocket-Key` (fresh), `Sec-WebSocket-Version`, the offered
    /// subprotocols and extensions, then our custom headers (H8). The stack adds `Host` and the request
    /// line; then pass its response to [`accept_upgrade_response`](Self::accept_upgrade_response).
    pub fn upgrade_request(&mut self) -> Result<Vec<(String, String)>, Error> {
        let Some(client) = &self.client else {
            return Err(Error::Closed);
        };
        let (url_text, custom) = (client.url.clone(), client.headers.clone());
        let url = Url::parse_ws(&url_text)
            .map_err(|e| Error::Refused(format!("Invalid WebSocket URL: {e}")))?;
        let offer = self
            .extensions
            .generate_offer()
            .map_err(|e| Error::Extension {
                code: 1010,
                reason: e.to_string(),
            })?;
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        let request = ClientRequest {
            url: &url,
            protocols: &protocols,
            headers: &[],
            extensions: offer.as_deref(),
        };
        let mut nonce = [0u8; 16];
        websocket_driver::MaskSource::fill_bytes(&mut self.masks, &mut nonce);
        let checks = Offer::new(&request, nonce).map_err(Error::Handshake)?;
        let mut headers = vec![
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("Connection".to_owned(), "Upgrade".to_owned()),
            (
                "Sec-WebSocket-Key".to_owned(),
                String::from_utf8_lossy(&checks.key()).into_owned(),
            ),
            ("Sec-WebSocket-Version".to_owned(), "13".to_owned()),
        ];
        if !protocols.is_empty() {
            headers.push(("Sec-WebSocket-Protocol".to_owned(), protocols.join(", ")));
        }
        if let Some(offer) = offer {
            headers.push(("Sec-WebSocket-Extensions".to_owned(), offer));
        }
        headers.extend(custom);
        self.upgrade_offer = Some(checks);
        self.started = true;
        Ok(headers)
    }

    /// Client: checks the response an HTTP stack read (H9, in order: status 101, `Upgrade`,
    /// `Connection`, the accept key, a subprotocol we offered, extensions we offered, then their
    /// activation, X2). On success the engine is open: hand it the upgraded connection's bytes.
    pub fn accept_upgrade_response<'h>(
        &mut self,
        status: u16,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
    ) -> Result<(), Error> {
        let Some(checks) = self.upgrade_offer.take() else {
            return Err(Error::Closed);
        };
        let headers: Vec<Header<'h>> = headers
            .into_iter()
            .map(|(name, value)| Header { name, value })
            .collect();
        self.status = Some(status);
        self.response_headers = headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let response = Response::new(status, "", &headers);
        let protocols: Vec<&str> = self.options.protocols.iter().map(String::as_str).collect();
        let chosen = checks
            .check_head(&response)
            .and_then(|()| checks.check_choice(&response, &protocols))
            .map_err(Error::Handshake)?;
        // A failed activation fails the handshake like every H9 check (1002).
        self.activate_extensions().map_err(|e| Error::Extension {
            code: 1002,
            reason: format!("Error during WebSocket handshake: {e}"),
        })?;
        self.protocol = chosen.and_then(|i| self.options.protocols.get(i).cloned());
        self.core = Core::client_upgraded(self.options.config());
        self.core.set_allowed_rsv(self.extensions.allowed_rsv());
        // Open at once, with no open event to flush them at: the sends made before go out now (S2).
        self.flush_queue();
        Ok(())
    }
}
