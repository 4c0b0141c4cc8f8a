//! A server that refuses a handshake still gets its refusal to the client when the client is still
//! sending (RFC 9112 §9.6): closing with unread input resets the connection, so the server shuts
//! down its write half and reads on for a moment before closing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use websocket_driver_std::Options;

/// Sends a request whose head is far over the limit, in full, and returns what came back.
fn oversized_request(addr: std::net::SocketAddr) -> Vec<u8> {
    let socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = socket.try_clone().unwrap();
    let sending = thread::spawn(move || {
        let mut head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
        head.resize(head.len() + (512 << 10), b'a');
        head.extend_from_slice(b"\r\n\r\n");
        let _ = writer.write_all(&head);
    });
    let mut answer = Vec::new();
    let mut reader = socket;
    let mut buf = [0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the answer was lost: {e} (after {} bytes)", answer.len()),
        }
    }
    sending.join().unwrap();
    answer
}

#[test]
fn blocking_a_431_reaches_a_client_still_sending() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        websocket_driver_std::blocking::accept(socket, Options::default(), |_| {}).is_err()
    });
    let answer = oversized_request(addr);
    assert!(server.join().unwrap());
    assert!(
        answer.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_a_431_reaches_a_client_still_sending() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        websocket_driver_std::tokio::accept(socket, Options::default(), |_| {})
            .await
            .is_err()
    });
    let answer = tokio::task::spawn_blocking(move || oversized_request(addr))
        .await
        .unwrap();
    assert!(server.await.unwrap());
    assert!(
        answer.starts_with(b"HTTP/1.1 431 "),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
}
