//! A WebSocket echo at `/` on axum, permessage-deflate enabled, like `echo_server`:
//! `cargo run --release -p websocket-driver-std --example axum_echo -- --port 9001 [--host 127.0.0.1]`
#[path = "serve_http/mod.rs"]
mod serve_http;
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use websocket_driver_std::tokio::Item;
use websocket_driver_std::{Options, PermessageDeflate};

fn usage(problem: &str) -> ! {
    eprintln!("{problem}; usage: axum_echo --port P [--host H]");
    std::process::exit(2)
}

/// The upgrade in a handler: the 101 (or a refusal) goes back to axum, the echo runs on its own task.
async fn echo(mut request: Request) -> Response {
    let options = Options::new().max_length(1 << 26);
    let (response, upgrading) = websocket_driver_std::hyper::upgrade(
        &mut request,
        options,
        |engine| {
            engine.add_extension(Box::new(PermessageDeflate::new()));
        },
        |_| None,
    );
    if let Some(upgrading) = upgrading {
        tokio::spawn(async move {
            let Ok(mut ws) = upgrading.await else {
                return;
            };
            while let Some(Ok(item)) = ws.next().await {
                if let Item::Message(message) = item
                    && ws.send(message).await.is_err()
                {
                    break;
                }
            }
        });
    }
    response.into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 9001u16);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--port" => {
                port = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--port needs a number"))
            }
            "--host" => host = value(),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    // Scripts read the port from this exact line, as from echo_server's.
    eprintln!("echo server on ws://{}", listener.local_addr()?);
    let app = Router::new().route("/", any(echo));
    serve_http::serve(listener, app).await
}
