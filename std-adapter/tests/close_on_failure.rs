//! A failure's close frame goes out before the failure is reported, so an application that stops at
//! the first error (`item?`, `while let Some(Ok(..))`) and drops the connection still sends it
//! (RFC 6455 §7.1.7: 1002 for a protocol error).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use websocket_driver_std::Options;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Connects to `addr`, upgrades, sends an unmasked text frame (a client's frames must be masked,
/// RFC 6455 §5.1) and returns everything the server sent after its 101, up to the end of the stream.
fn send_an_unmasked_frame(addr: std::net::SocketAddr) -> Vec<u8> {
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket.write_all(REQUEST).unwrap();
    socket.write_all(&[0x81, 0x02, b'h', b'i']).unwrap();
    let mut all = Vec::new();
    let _ = socket.read_to_end(&mut all);
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    all.split_off(end)
}

/// The close frame with 1002, as the first and only frame.
fn assert_closed_with_1002(after_head: &[u8]) {
    assert!(after_head.len() >= 4, "no close frame: {after_head:?}");
    assert_eq!(after_head[0], 0x88, "{after_head:?}");
    assert_eq!(&after_head[2..4], &1002u16.to_be_bytes(), "{after_head:?}");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_an_application_that_stops_at_the_error_still_sends_the_close() {
    // S6: the close frame with the code goes out, then the error is emitted.
    use futures_util::StreamExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut ws = websocket_driver_std::tokio::accept(socket, Options::default(), |_| {})
            .await
            .unwrap();
        // The documented loop: stop at the first error, and drop the stream.
        let mut error = None;
        while let Some(item) = ws.next().await {
            if let Err(e) = item {
                error = Some(e);
                break;
            }
        }
        error
    });
    let after_head = tokio::task::spawn_blocking(move || send_an_unmasked_frame(addr))
        .await
        .unwrap();
    assert!(server.await.unwrap().is_some(), "the error is reported");
    assert_closed_with_1002(&after_head);
}

#[test]
fn blocking_an_application_that_stops_at_the_error_still_sends_the_close() {
    // S6, on the blocking face.
    use websocket_driver_std::blocking::{Accepted, Incoming, accept};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let Accepted::WebSocket(mut connection) =
            accept(socket, Options::default(), |_| {}).unwrap()
        else {
            panic!("the upgrade was not accepted");
        };
        loop {
            match connection.recv() {
                Ok(Some(Incoming::Error(_))) | Err(_) => return true,
                Ok(Some(_)) => {}
                Ok(None) => return false,
            }
        }
    });
    let after_head = send_an_unmasked_frame(addr);
    assert!(server.join().unwrap(), "the error is reported");
    assert_closed_with_1002(&after_head);
}
