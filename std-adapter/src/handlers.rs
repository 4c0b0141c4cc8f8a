//! The original's events as callbacks: `connect`, `open`, `message`, `error`, `close`, `ping`, `pong`,
//! and `body` (a plain HTTP request's, H6).
//!
//! A callback receives the driver's [`Handle`] (to send, start or close) and the event's data. Handlers
//! never see the core; they run after the core's event was turned into owned data.

use std::io::Write;

use crate::driver::Handle;
use crate::engine::Event;
use crate::{CloseEvent, ErrorEvent, Message};

type Callback<W, T> = Box<dyn FnMut(&mut Handle<W>, T) + Send>;

/// The registered callbacks of one driver.
pub(crate) struct Handlers<W: Write> {
    connect: Option<Callback<W, ()>>,
    open: Option<Callback<W, ()>>,
    message: Option<Callback<W, Message>>,
    error: Option<Callback<W, ErrorEvent>>,
    close: Option<Callback<W, CloseEvent>>,
    ping: Option<Callback<W, Vec<u8>>>,
    pong: Option<Callback<W, Vec<u8>>>,
    proxy_connect: Option<Callback<W, ()>>,
    body: Option<Callback<W, Vec<u8>>>,
}

impl<W: Write> Default for Handlers<W> {
    fn default() -> Self {
        Handlers {
            connect: None,
            open: None,
            message: None,
            error: None,
            close: None,
            ping: None,
            pong: None,
            proxy_connect: None,
            body: None,
        }
    }
}

impl<W: Write> Handlers<W> {
    /// Runs the handler for `event`; a server with no `connect` handler starts on its own (and refuses
    /// a request that is not an upgrade with 400).
    pub(crate) fn run(&mut self, handle: &mut Handle<W>, event: Event) {
        match event {
            Event::Connect(head) => match &mut self.connect {
                Some(f) => f(handle, ()),
                None if head.websocket => {
                    handle.start();
                }
                None => {
                    handle.refuse(400, "Not a WebSocket request");
                }
            },
            Event::Body(bytes) => call(&mut self.body, handle, bytes),
            Event::Open => call(&mut self.open, handle, ()),
            Event::ProxyConnected => match &mut self.proxy_connect {
                Some(f) => f(handle, ()),
                None => {
                    handle.start();
                }
            },
            Event::Message(message) => call(&mut self.message, handle, message),
            Event::Ping(payload) => call(&mut self.ping, handle, payload),
            Event::Pong(payload) => {
                // S9: a ping's callback runs once, when the pong with its payload arrives.
                for callback in handle.take_ping_callbacks(&payload) {
                    callback();
                }
                call(&mut self.pong, handle, payload);
            }
            Event::Close(event) => {
                // No pong comes any more: the callbacks still waiting for one are dropped.
                handle.drop_ping_callbacks();
                call(&mut self.close, handle, event)
            }
            Event::Error(error) => call(
                &mut self.error,
                handle,
                ErrorEvent {
                    message: error.to_string(),
                },
            ),
        }
    }
}

fn call<W: Write, T>(callback: &mut Option<Callback<W, T>>, handle: &mut Handle<W>, value: T) {
    if let Some(f) = callback {
        f(handle, value);
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $field:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $name(&mut self, f: impl FnMut(&mut Handle<W>, $ty) + Send + 'static) {
            self.handlers.$field = Some(Box::new(f));
        }
    };
}

impl<W: Write> crate::Driver<W> {
    setter!(
        /// Server: the request head arrived; call `start` to accept (without a handler, an upgrade
        /// request starts on its own and any other request is refused with 400).
        on_connect, connect, ()
    );
    setter!(
        /// The handshake completed; sends made before it have been flushed.
        on_open, open, ()
    );
    setter!(
        /// A whole message arrived.
        on_message, message, Message
    );
    setter!(
        /// Something went wrong; a close event follows.
        on_error, error, ErrorEvent
    );
    setter!(
        /// The connection closed (closing handshake completed, or failed).
        on_close, close, CloseEvent
    );
    setter!(
        /// A ping arrived (its pong is already sent).
        on_ping, ping, Vec<u8>
    );
    setter!(
        /// A pong arrived.
        on_pong, pong, Vec<u8>
    );
    setter!(
        /// Server: bytes of the body of a request that is not an upgrade, as they arrive (H6, the
        /// original's `rack.input`); never parsed as frames. Answer the request through the socket.
        on_body, body, Vec<u8>
    );
    setter!(
        /// Client through a proxy: the proxy opened the tunnel (without a handler, the WebSocket handshake
        /// starts on its own). Start TLS first for `wss:`, by wrapping the socket before `start`.
        on_proxy_connect, proxy_connect, ()
    );
}
