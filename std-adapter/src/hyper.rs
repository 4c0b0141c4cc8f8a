//! hyper 1 and axum 0.8 (feature `hyper`, on by default): upgrade an HTTP request into our
//! [`WebSocketStream`], with the same options, extension negotiation
//! (permessage-deflate included) and request decision as the other faces (RFC 6455 §4.2).
//!
//! [`upgrade`] checks the request, returns the response to send — the 101, or a refusal — and, when it
//! accepts, a future that resolves to the stream once hyper has switched the connection. In axum, a
//! handler takes the whole request:
//!
//! ```no_run
//! use axum::{Router, extract::Request, response::{IntoResponse, Response}, routing::any};
//! use futures_util::{SinkExt, StreamExt};
//! use websocket_driver_std::tokio::Item;
//! use websocket_driver_std::{Options, PermessageDeflate};
//!
//! async fn echo(mut request: Request) -> Response {
//!     let setup = |engine: &mut websocket_driver_std::engine::Engine| {
//!         engine.add_extension(Box::new(PermessageDeflate::new()));
//!     };
//!     let (response, upgrading) =
//!         websocket_driver_std::hyper::upgrade(&mut request, Options::new(), setup, |_| None);
//!     if let Some(upgrading) = upgrading {
//!         tokio::spawn(async move {
//!             let Ok(mut ws) = upgrading.await else { return };
//!             while let Some(Ok(Item::Message(message))) = ws.next().await {
//!                 let _ = ws.send(message).await;
//!             }
//!         });
//!     }
//!     response.into_response()
//! }
//!
//! let app: Router = Router::new().route("/", any(echo));
//! ```
//!
//! Nothing here reads a frame: hyper moves the HTTP bytes, the engine the WebSocket ones.
//!
//! **Time limits on the request head are the HTTP server's.** hyper reads the head before the
//! upgrade reaches us, so `Options::handshake_timeout` cannot bound it. `axum::serve` gives hyper no
//! timer, and hyper's header read timeout then never runs: a client that sends its head a byte at a
//! time, or an idle keep-alive connection, is held for good. Serve with hyper's HTTP/1 builder, a
//! `TokioTimer` and `header_read_timeout` (`examples/serve_http/mod.rs` does, for the axum
//! examples). After the upgrade the stream's own timers run (keepalive, the closing deadline).

use std::future::Future;
use std::io;

use hyper_util::rt::TokioIo;

use crate::Options;
use crate::engine::{Decision, Engine, RequestHead, Upgrade};
use crate::tokio::WebSocketStream;

/// The upgraded connection's type.
pub type Upgraded = TokioIo<hyper::upgrade::Upgraded>;

/// Checks `request` as a WebSocket upgrade, lets `decide` see it (`None`: accept with the options'
/// subprotocols), and negotiates the subprotocol and extensions (`setup` registers them, as in the other
/// faces). Returns the response to send: `101 Switching Protocols` with a future that resolves to the
/// stream once hyper switched the connection, or a refusal (400, 426, or the application's) and `None`.
pub fn upgrade<B>(
    request: &mut http::Request<B>,
    options: Options,
    setup: impl FnOnce(&mut Engine),
    decide: impl FnOnce(&RequestHead) -> Option<Decision>,
) -> (
    http::Response<String>,
    Option<impl Future<Output = io::Result<WebSocketStream<Upgraded>>> + Send + 'static>,
) {
    let mut engine = Engine::server(options);
    setup(&mut engine);
    let method = request.method().as_str().to_owned();
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    // RFC 6455 §4.2.1: HTTP/1.1 or later (an HTTP/2 request would be an extended CONNECT, RFC 8441,
    // which the method check refuses).
    let minor_version = u8::from(
        request.version() != http::Version::HTTP_10 && request.version() != http::Version::HTTP_09,
    );
    let answer = engine.accept_upgrade(
        &method,
        &target,
        minor_version,
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
        decide,
    );
    match answer {
        Upgrade::Accept(headers) => {
            let on_upgrade = hyper::upgrade::on(request);
            let mut response = http::Response::new(String::new());
            *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
            extend(&mut response, headers);
            let upgrading = async move {
                let upgraded = on_upgrade.await.map_err(io::Error::other)?;
                Ok(WebSocketStream::from_engine(TokioIo::new(upgraded), engine))
            };
            (response, Some(upgrading))
        }
        Upgrade::Refuse {
            status,
            headers,
            body,
        } => {
            let mut response = http::Response::new(String::from_utf8_lossy(&body).into_owned());
            *response.status_mut() =
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
            extend(&mut response, headers);
            (response, None)
        }
    }
}

/// Client over hyper: opens the WebSocket at `url` through an HTTP/1.1 connection hyper runs on `io` — a
/// TCP stream, or the TLS or proxy tunnel the application already has — and returns the same stream as
/// [`tokio::connect`](crate::tokio::connect). The request goes out with the engine's headers (key,
/// version, subprotocols, extension offer; `setup` registers extensions and headers); the response is
/// checked by the core's checks (H9) before hyper hands over the connection; a response that fails
/// them is a `ConnectionRefused` error carrying a [`HandshakeFailure`](crate::HandshakeFailure) with
/// its status and headers.
pub async fn connect<S>(
    io: S,
    url: &str,
    options: Options,
    setup: impl FnOnce(&mut Engine),
) -> io::Result<WebSocketStream<Upgraded>>
where
    S: ::tokio::io::AsyncRead + ::tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut engine = Engine::client(url, options).map_err(io::Error::other)?;
    setup(&mut engine);
    let parsed = websocket_driver::Url::parse_ws(url)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let headers = engine.upgrade_request().map_err(io::Error::other)?;
    let mut request = http::Request::get(parsed.resource().to_string())
        .header(http::header::HOST, parsed.host_header().to_string())
        .body(String::new())
        .map_err(io::Error::other)?;
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid header",
            ));
        };
        request.headers_mut().append(name, value);
    }
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(io::Error::other)?;
    ::tokio::spawn(connection.with_upgrades());
    let mut response = sender
        .send_request(request)
        .await
        .map_err(io::Error::other)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    if let Err(e) = engine.accept_upgrade_response(status, headers) {
        // As the other clients report it: the reason, with the response's status and headers.
        let failure = crate::HandshakeFailure {
            reason: e.to_string(),
            status: Some(status),
            headers: response
                .headers()
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
        };
        return Err(io::Error::new(io::ErrorKind::ConnectionRefused, failure));
    }
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(io::Error::other)?;
    Ok(WebSocketStream::from_engine(TokioIo::new(upgraded), engine))
}

fn extend(response: &mut http::Response<String>, headers: Vec<(String, String)>) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
}
