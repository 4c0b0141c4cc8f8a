//! The original's `driver.proxy(url)`: an HTTP CONNECT tunnel before the WebSocket handshake (H11).
//!
//! The core writes the CONNECT request and reads the proxy's answer; this file only keeps the proxy's
//! URL and headers until `start`.

use std::io::Write;

use websocket_driver::Url;

use crate::driver::Driver;
use crate::message::ErrorEvent;

/// A proxy being set up: add headers, then `start` sends the CONNECT. Its events are the driver's
/// `on_proxy_connect`, and `on_error`/`on_close` for a refusal (with `status()` and `headers()`).
pub struct Proxy<'d, W: Write> {
    driver: &'d mut Driver<W>,
}

impl<W: Write> Driver<W> {
    /// Goes through the HTTP proxy at `url` (`http:` or `https:`, with optional `user:pass@`).
    ///
    /// ```
    /// use websocket_driver_std::{Driver, Options};
    ///
    /// let mut ws = Driver::client(Vec::new(), "ws://example.com/", Options::new()).unwrap();
    /// let mut proxy = ws.proxy("http://user:pass@proxy.local:3128").unwrap();
    /// proxy.set_header("User-Agent", "demo");
    /// proxy.start();
    /// assert!(ws.socket().starts_with(b"CONNECT example.com:80 HTTP/1.1\r\n"));
    /// ws.parse(b"HTTP/1.1 200 OK\r\n\r\n"); // the tunnel is open: the handshake starts on its own
    /// assert!(ws.socket().windows(14).any(|w| w == b"GET / HTTP/1.1"));
    /// ```
    pub fn proxy(&mut self, url: &str) -> Result<Proxy<'_, W>, ErrorEvent> {
        Url::parse(url).map_err(|e| ErrorEvent {
            message: format!("Invalid proxy URL: {e}"),
        })?;
        self.handle.proxy = Some((url.to_owned(), Vec::new()));
        Ok(Proxy { driver: self })
    }
}

impl<W: Write> Proxy<'_, W> {
    /// Adds a header to the CONNECT request; refuses header injection (H1).
    pub fn set_header(&mut self, name: &str, value: &str) -> bool {
        let valid = websocket_driver::handshake::is_valid_header(name, value);
        if let (true, Some((_, headers))) = (valid, &mut self.driver.handle.proxy) {
            headers.push((name.to_owned(), value.to_owned()));
        }
        valid
    }

    /// Sends the CONNECT request.
    pub fn start(self) -> bool {
        self.driver.start()
    }
}
