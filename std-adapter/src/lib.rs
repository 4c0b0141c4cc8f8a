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
//! ## Layers
//! ```text
//!  faces        callbacks (Driver)      blocking (Connection, serve)      tokio (Stream + Sink)
//!                    │                          │                               │
//!  engine       engine::Engine: the core driver, its buffers (on demand, released when idle), the
//!               extension pipeline and message assembly; bytes in → events out, sends in → bytes out,
//!               and "stop reading" while the output is over the high-water mark
//!  negotiation  negotiation::negotiate: request headers in → subprotocol, answer, extension session
//!  core         websocket-driver: every byte on the wire
//! ```
//!
//! ## Memory per connection
//! Measured with a counting allocator (`tests/engine_memory.rs`), for an open, idle server engine after a
//! message each way:
//!
//! | configuration | heap |
//! |---|---|
//! | no extension | 824 B (the engine struct; no buffer is held while idle) |
//! | permessage-deflate, the server's default answer (`server_no_context_takeover; client_no_context_takeover`) | 1.7 KB (codec state is freed after each message) |
//! | permessage-deflate, `server_no_context_takeover` only (the client keeps its context) | 48 KB (a decompressor) |
//! | permessage-deflate with context takeover both ways, 12-bit windows | 307 KiB |
//! | permessage-deflate with context takeover both ways, 15-bit windows | 419 KiB |
//!
//! While a message is received the receive buffer grows up to `Options::receive_buffer` (a larger
//! message arrives in chunks and is assembled once); output the peer causes stays under
//! `Options::transmit_buffer` plus one frame, because the engine stops reading above it.
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
