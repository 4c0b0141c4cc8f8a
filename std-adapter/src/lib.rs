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
//! | permessage-deflate, `server_no_context_takeover` only (the client keeps its context) | 49 KB (a decompressor and the kept window) |
//! | permessage-deflate with context takeover both ways, 12-bit windows | 308 KiB |
//! | permessage-deflate with context takeover both ways, 15-bit windows | 420 KiB |
//!
//! Where the client keeps its context, the server also keeps the last 2^bits bytes it inflated (the window,
//! restored after a final DEFLATE block, RFC 7692 §7.2.3.4): 1.2 KB above, after one 1.2 KB message; up to
//! 32 KiB with 15-bit windows once that much has arrived.
//!
//! While a message is received the receive buffer grows up to `Options::receive_buffer` (a larger
//! message arrives in chunks and is assembled once); output the peer causes stays under
//! `Options::transmit_buffer` plus one frame, because the engine stops reading above it.
//!
//! Measured end to end (`../shared/bench-load/idle.sh`: 10,000 idle connections on loopback, server RSS
//! growth / N, two runs) for the `echo_server` example on tokio: **3.6–3.7 KB per connection plain,
//! 15.0–15.3 KB with permessage-deflate negotiated** (the default answer, one compressed message each),
//! keepalive's timer (on by default) and the write-waker list of split halves included (3.2 and 14.6 KB
//! without them, in an earlier run); in an earlier run fastwebsockets held
//! 6.4 KB and tokio-websockets 7.0 KB (neither negotiates deflate).
//!
//! ## Tokio quick start
//! An echo server with keepalive; each connection's task holds only its stream while idle:
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use websocket_driver_std::tokio::{Item, accept};
//! use websocket_driver_std::{Options, PermessageDeflate};
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (socket, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let options = Options::new(); // a 10 s handshake timeout and 30 s keepalive by default
//!         let mut ws = accept(socket, options, |engine| {
//!             engine.add_extension(Box::new(PermessageDeflate::new()));
//!         })
//!         .await?;
//!         while let Some(item) = ws.next().await {
//!             match item? {
//!                 Item::Message(message) => ws.send(message).await?,
//!                 Item::Close(event) => println!("closed: {} {}", event.code, event.reason),
//!                 _ => {} // pings are answered already
//!             }
//!         }
//!         Ok::<_, websocket_driver_std::tokio::Error>(())
//!     });
//! }
//! # }
//! ```
//! `split()` gives a reader and a writer for two tasks; `close(code, reason)` closes gracefully;
//! `accept_with` decides on the request first (see Security).
//!
//! ## Blocking quick start
//! A server that checks `Origin` before accepting (RFC 6455 §10.2) and echoes, a thread per connection:
//! ```no_run
//! use websocket_driver_std::blocking::{Incoming, ServeOptions, serve_with};
//! use websocket_driver_std::engine::Decision;
//! use websocket_driver_std::{Options, PermessageDeflate};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
//! serve_with(
//!     listener,
//!     ServeOptions::new(Options::new()).max_connections(500),
//!     |engine| {
//!         engine.add_extension(Box::new(PermessageDeflate::new()));
//!     },
//!     |request| match request.origin() {
//!         Some("https://app.example") | None => None, // accept (None: a non-browser client)
//!         Some(_) => Some(Decision::refuse(403, "cross-site WebSocket refused")),
//!     },
//!     |mut connection| {
//!         while let Ok(Some(incoming)) = connection.recv() {
//!             if let Incoming::Message(message) = incoming {
//!                 let _ = connection.send(message);
//!             }
//!         }
//!     },
//!     |_request, _body, _stream| {}, // plain HTTP on the same port: answer it here
//! )?;
//! # Ok::<(), std::io::Error>(())
//! ```
//! A client: `blocking::Connection::connect(url, options, setup)`, then `send` and `recv`; `split()`
//! gives a reader and a writer for two threads. The tokio face is in [`tokio`].
//!
//! ## Security
//! - **Defaults.** `blocking::serve` drops a handshake not completed in 10 s (a slowloris peer holds a
//!   thread that long at most), pings a connection silent for 30 s and closes it (1006) if it stays
//!   silent 20 s more, and answers a connection over the cap (1024) with 503 — see
//!   [`ServeOptions`](crate::blocking::ServeOptions). These timers are [`Options`]' defaults, so the
//!   tokio and hyper faces have them too; the closing handshake is bounded by `close_timeout` (5 s). A
//!   peer that stops reading stops our reading, and keepalive then ends it; a send waiting on a peer
//!   that takes less than 4 KiB of it in `ping_interval + pong_timeout` fails (`TimedOut`) and ends
//!   the connection (1006), so neither a thread nor a task is held by a peer that reads a trickle.
//!   hyper reads the request head before the upgrade is ours: its time limit is the HTTP server's
//!   (see [`hyper`]).
//! - **Failures are sent, then reported.** A protocol violation's close frame (1002, 1007, 1009) is
//!   written before the error is returned, so an application that stops at the first error still
//!   sends it; after refusing a handshake a server shuts down its write half and reads on for up to
//!   2 s (RFC 9112 §9.6), so the refusal is not lost to a reset. A failed client handshake's error
//!   carries a [`HandshakeFailure`] with the response's status and headers.
//! - **Limits.** A request or response head is at most 8 KiB and 64 header lines (431 otherwise); a
//!   message at most `max_length` (2^26 − 1 bytes; 1009 otherwise), checked from the frame header
//!   before the payload is buffered and again after inflating (no decompression bomb); control frames
//!   125 bytes. The legacy drafts are off.
//! - **Origin checking.** Browsers send `Origin`, and cookies go along with a cross-site WebSocket
//!   request: a server that authenticates by cookie must check `Origin` before accepting (cross-site
//!   WebSocket hijacking). Every face gives the whole request to a decision first:
//!   `blocking::{accept_with, serve_with}`, `tokio::accept_with`, and `on_connect` +
//!   [`Handle::decide`] in the callback API. The request's `Debug` hides `Cookie`, `Authorization` and
//!   `Proxy-Authorization`.
//! - **Memory per connection** is bounded by construction (table above): nothing a peer sends grows a
//!   queue without bound, and a peer that does not read the replies it causes stops our reading (what
//!   the application sends is the application's to bound: `buffered_amount`, the sinks' `poll_ready`).
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
mod handshake_failure;
#[cfg(feature = "hyper")]
pub mod hyper;
mod message;
pub mod negotiation;
mod options;
mod pace;
mod proxy;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use driver::{Driver, Handle, MAX_PING_CALLBACKS, PingCallback};
pub use extensions::{Extension, PermessageDeflate};
pub use handshake_failure::HandshakeFailure;
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
