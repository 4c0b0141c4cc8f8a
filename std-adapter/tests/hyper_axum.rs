//! Upgrading through hyper and through axum into our stream (RFC 6455 §4.2): deflate on and off, a refused
//! Origin, the chosen subprotocol, 16 MiB messages and the close handshake.
#![cfg(feature = "hyper")]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use websocket_driver_std::engine::{Decision, Engine, RequestHead};
use websocket_driver_std::tokio::{Item, connect};
use websocket_driver_std::{Message, Options, PermessageDeflate};

#[path = "../examples/serve_http/mod.rs"]
mod serve_http;

fn deflate(engine: &mut Engine) {
    engine.add_extension(Box::new(PermessageDeflate::new()));
}

/// Refuses a foreign Origin (RFC 6455 §10.2) and picks `v2` when offered.
fn check(request: &RequestHead) -> Option<Decision> {
    if request.origin().is_some_and(|o| o != "https://ok.example") {
        return Some(Decision::refuse(403, "cross-site WebSocket refused"));
    }
    let v2 = request.protocols().into_iter().find(|p| *p == "v2");
    Some(Decision::Accept {
        protocol: v2.map(str::to_owned),
        headers: Vec::new(),
    })
}

/// The upgrade in an axum handler, echoing.
async fn axum_echo(mut request: Request) -> Response {
    let (response, upgrading) =
        websocket_driver_std::hyper::upgrade(&mut request, Options::new(), deflate, check);
    if let Some(upgrading) = upgrading {
        tokio::spawn(async move {
            let mut ws = upgrading.await.unwrap();
            while let Some(Ok(item)) = ws.next().await {
                if let Item::Message(m) = item {
                    ws.send(m).await.unwrap();
                }
            }
        });
    }
    response.into_response()
}

/// An upgrade whose `setup` sets a response header (H1) and sends a message before open (S2).
async fn axum_greeting(mut request: Request) -> Response {
    let setup = |engine: &mut Engine| {
        assert!(engine.set_header("X-Greeting", "hello"));
        engine.send(Message::Text("welcome".into())).unwrap();
    };
    let (response, upgrading) =
        websocket_driver_std::hyper::upgrade(&mut request, Options::new(), setup, |_| None);
    if let Some(upgrading) = upgrading {
        tokio::spawn(async move {
            let mut ws = upgrading.await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
        });
    }
    response.into_response()
}

async fn axum_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = Router::new()
            .route("/", any(axum_echo))
            .route("/greet", any(axum_greeting));
        serve_http::serve(listener, app).await.unwrap();
    });
    addr
}

/// The same over plain hyper: a service function and `serve_connection(..).with_upgrades()`.
async fn hyper_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |mut request: hyper::Request<hyper::body::Incoming>| async move {
                        let (response, upgrading) = websocket_driver_std::hyper::upgrade(
                            &mut request,
                            Options::new(),
                            deflate,
                            check,
                        );
                        if let Some(upgrading) = upgrading {
                            tokio::spawn(async move {
                                let mut ws = upgrading.await.unwrap();
                                while let Some(Ok(item)) = ws.next().await {
                                    if let Item::Message(m) = item {
                                        ws.send(m).await.unwrap();
                                    }
                                }
                            });
                        }
                        Ok::<_, Infallible>(response)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

async fn conversation(addr: std::net::SocketAddr, with_deflate: bool) {
    let io = TcpStream::connect(addr).await.unwrap();
    let options = Options::new().protocols(["v1", "v2"]);
    let mut ws = connect(io, &format!("ws://{addr}/"), options, |e| {
        e.set_header("Origin", "https://ok.example");
        if with_deflate {
            deflate(e);
        }
    })
    .await
    .unwrap();
    assert_eq!(ws.driver().protocol(), Some("v2"));
    assert_eq!(
        ws.driver().extensions().active().count(),
        usize::from(with_deflate)
    );
    for len in [0usize, 125, 65536, 16 << 20] {
        let data: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
        ws.send(Message::Binary(data.clone())).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Item::Message(Message::Binary(data))
        );
    }
    ws.send(Item::Ping(b"p".to_vec())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Item::Pong(b"p".to_vec()));
    assert_eq!(ws.close(1000, "done").await.unwrap().code, 1000);
    assert!(ws.next().await.is_none());
}

async fn refused_origin(addr: std::net::SocketAddr) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = socket.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.ends_with("cross-site WebSocket refused"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_axum() {
    let addr = axum_server().await;
    conversation(addr, false).await;
    conversation(addr, true).await;
    refused_origin(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_hyper() {
    // The client side through hyper's client connection, against the axum server: same stream.
    let addr = axum_server().await;
    for with_deflate in [false, true] {
        let io = TcpStream::connect(addr).await.unwrap();
        let options = Options::new().protocols(["v1", "v2"]);
        let mut ws =
            websocket_driver_std::hyper::connect(io, &format!("ws://{addr}/"), options, |e| {
                e.set_header("Origin", "https://ok.example");
                if with_deflate {
                    deflate(e);
                }
            })
            .await
            .unwrap();
        assert_eq!(ws.driver().protocol(), Some("v2"));
        assert_eq!(
            ws.driver().extensions().active().count(),
            usize::from(with_deflate)
        );
        let big: Vec<u8> = (0..16usize << 20).map(|i| (i % 239) as u8).collect();
        ws.send(Message::Binary(big.clone())).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Item::Message(Message::Binary(big))
        );
        assert_eq!(ws.close(1000, "").await.unwrap().code, 1000);
    }
    // A refusal reaches the client as an error.
    let io = TcpStream::connect(addr).await.unwrap();
    let refused =
        websocket_driver_std::hyper::connect(io, &format!("ws://{addr}/"), Options::new(), |e| {
            e.set_header("Origin", "https://evil.example");
        })
        .await;
    // H9: with the response's status, as the other clients report it.
    let e = refused.err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    let failure = websocket_driver_std::HandshakeFailure::of(&e).unwrap();
    assert_eq!(failure.status, Some(403), "{failure:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_hyper() {
    let addr = hyper_server().await;
    conversation(addr, false).await;
    conversation(addr, true).await;
    refused_origin(addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_headers_and_early_sends_reach_the_client() {
    // H1 and S2 through axum: a header set in `setup` is in the 101, and a message sent before open
    // is the first thing the client reads.
    let addr = axum_server().await;
    let io = TcpStream::connect(addr).await.unwrap();
    let mut ws = connect(io, &format!("ws://{addr}/greet"), Options::new(), |_| {})
        .await
        .unwrap();
    assert!(
        ws.driver()
            .headers()
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("x-greeting") && v == "hello"),
        "{:?}",
        ws.driver().headers()
    );
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Item::Message(Message::Text("welcome".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_upgrade_is_refused() {
    // RFC 6455 §4.2.1 (H3) through hyper: the upgrade needs HTTP/1.1 or later.
    let addr = hyper_server().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        answer.starts_with("HTTP/1.0 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("HTTP/1.1 or later is required"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_examples_axum_server_drops_a_head_that_never_ends() {
    // Slowloris: the request head never completes. hyper reads it, before the upgrade is ours, so
    // the server the examples use gives hyper a timer for its header read timeout.
    let addr = axum_server().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the connection is still open after 30 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(20),
        "{took:?}"
    );
}
