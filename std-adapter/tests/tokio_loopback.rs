//! The tokio helpers over loopback TCP: accept and connect, a Stream and a Sink of messages, deflate on.
#![cfg(feature = "tokio")]

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use websocket_driver_std::tokio::{Item, accept, connect};
use websocket_driver_std::{Message, Options, PermessageDeflate};

#[tokio::test]
async fn echo_over_tokio() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (io, _) = listener.accept().await.unwrap();
        let mut ws = accept(io, Options::new(), |d| {
            d.add_extension(Box::new(PermessageDeflate::new()));
        })
        .await
        .unwrap();
        while let Some(item) = ws.next().await {
            if let Item::Message(message) = item.unwrap() {
                ws.send(message).await.unwrap();
            }
        }
        ws.close_event().cloned()
    });
    let io = TcpStream::connect(addr).await.unwrap();
    let mut ws = connect(io, &format!("ws://{addr}/"), Options::new(), |d| {
        d.add_extension(Box::new(PermessageDeflate::new()));
    })
    .await
    .unwrap();
    assert!(
        ws.driver()
            .headers()
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("sec-websocket-extensions")
                && v.starts_with("permessage-deflate"))
    );
    let messages = vec![
        Message::Text("hello".into()),
        Message::Binary(vec![7; 300_000]),
        Message::Text("ünïcödé".repeat(100)),
        Message::Binary(Vec::new()),
    ];
    for m in &messages {
        ws.send(m.clone()).await.unwrap();
    }
    for m in &messages {
        assert_eq!(ws.next().await.unwrap().unwrap(), Item::Message(m.clone()));
    }
    let closed = ws.close(1000, "").await.unwrap();
    assert_eq!(closed.code, 1000);
    assert!(ws.next().await.is_none());
    assert_eq!(ws.close_event().map(|c| c.code), Some(1000));
    let server_close = server.await.unwrap();
    assert_eq!(server_close.map(|c| c.code), Some(1000));
}

/// `Options::handshake_timeout` bounds the opening handshake: a server that accepts the TCP connection
/// but never answers fails the client's `connect` in time, with a reason.
#[tokio::test]
async fn handshake_timeout_over_tokio() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        drop(socket);
    });
    let started = std::time::Instant::now();
    let io = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let options = Options::new().handshake_timeout(Some(std::time::Duration::from_millis(200)));
    let result = connect(io, &format!("ws://127.0.0.1:{port}/"), options, |_| {}).await;
    let error = result.err().expect("the handshake cannot complete");
    assert!(started.elapsed() < std::time::Duration::from_millis(2500));
    assert!(error.to_string().to_lowercase().contains("time"), "{error}");
    silent.abort();
}
