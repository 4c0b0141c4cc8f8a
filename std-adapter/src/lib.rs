//! # websocket-driver-std
//!
//! The API of the Ruby/Node `websocket-driver` for ordinary Rust applications, on top of the sans-IO
//! `websocket-driver` core: a driver over any socket with `write`, bytes in through
//! [`parse`](Driver::parse), whole messages out through callbacks, extensions (permessage-deflate), and
//! I/O helpers — blocking over `std::net` ([`blocking`]) and async over tokio (feature `tokio`).
//!
//! Every byte on the wire is decided by the core; this crate owns the heap: buffers, whole messages,
//! the queue of sends made before open, the extension pipeline.
//!
//! | the original | here |
//! |---|---|
//! | `websocket.server(socket)` | [`Driver::server`] |
//! | `websocket.client(url)` | [`Driver::client`] |
//! | `websocket.http(request)`, `websocket.rack(env)` | [`Driver::for_request`] |
//! | `websocket.isWebSocket(request)` | [`is_websocket`] |
//! | `driver.on('connect' / 'open' / 'message' / 'error' / 'close' / 'ping' / 'pong')` | [`Driver::on_connect`], [`Driver::on_open`], [`Driver::on_message`], [`Driver::on_error`], [`Driver::on_close`], [`Driver::on_ping`], [`Driver::on_pong`] |
//! | `driver.addExtension(ext)` | [`Driver::add_extension`] |
//! | `driver.setHeader(name, value)` | [`Driver::set_header`] |
//! | `driver.start()`, `driver.parse(data)` | [`Driver::start`], [`Driver::parse`] |
//! | `driver.text`, `binary`, `ping(msg, cb)`, `pong`, `close(reason, code)` | [`Handle::text`], [`Handle::binary`], [`Handle::ping`], [`Handle::pong`], [`Handle::close`] |
//! | `driver.version`, `driver.protocol`, `driver.getState()`/`readyState` | [`Handle::version`], [`Handle::protocol`], [`Handle::state`] |
//! | `driver.statusCode`, `driver.headers` (client) | [`Handle::status`], [`Handle::headers`] |
//! | `driver.proxy(url)` | [`Driver::proxy`] |
//! | options `maxLength`, `protocols` | [`Options::max_length`], [`Options::protocols`] |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
mod driver;
pub mod engine;
pub mod extensions;
mod handlers;
mod message;
pub mod negotiation;
mod options;
mod proxy;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use driver::{Driver, Handle, PingCallback};
pub use extensions::{Extension, PermessageDeflate};
pub use message::{CloseEvent, ErrorEvent, Message};
pub use options::Options;
pub use proxy::Proxy;

/// The original's `readyState`: 0 connecting, 1 open, 2 closing, 3 closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// 0: the handshake has not completed.
    Connecting = 0,
    /// 1: messages flow.
    Open = 1,
    /// 2: we sent a close frame.
    Closing = 2,
    /// 3: closed.
    Closed = 3,
}

/// The original's `isWebSocket`: whether an HTTP request is a WebSocket upgrade (V4): method GET, a
/// `Connection` header with `upgrade`, `Upgrade: websocket`.
pub fn is_websocket<'h>(
    method: &str,
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) -> bool {
    let headers: Vec<websocket_driver::Header<'h>> = headers
        .into_iter()
        .map(|(name, value)| websocket_driver::Header { name, value })
        .collect();
    websocket_driver::Request::new(method, "/", 1, &headers).is_websocket()
}
