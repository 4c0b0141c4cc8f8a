//! A write that fails does not take the event that came with it: the blocking connection returns the
//! event first and the write's error with the next call, and what arrived behind it is still read
//! ("nothing lost").

use std::io::{self, Read, Write};

use websocket_driver_std::blocking::{Accepted, Incoming, Timeouts, accept};
use websocket_driver_std::{CloseEvent, Options};

/// A scripted transport: reads hand out `input`, writes succeed until the server's 101 head has gone
/// out and fail with `BrokenPipe` after it (the peer is gone by the time anything else is written).
struct Scripted {
    input: io::Cursor<Vec<u8>>,
    written: Vec<u8>,
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written.windows(4).any(|w| w == b"\r\n\r\n") {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// No timeouts: a pipe-like stream, timed only when a read returns.
impl Timeouts for Scripted {}

/// A client frame (FIN set) masked with `key` (RFC 6455 §5.3).
fn masked(opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// A request, then a ping (its pong is the write that fails) and a text message behind it.
fn ping_then_text() -> Vec<u8> {
    let mut input = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    input.extend(masked(0x9, b"are you there", [1, 2, 3, 4]));
    input.extend(masked(0x1, b"hello", [5, 6, 7, 8]));
    input
}

#[test]
fn an_event_taken_when_writing_its_reply_fails_comes_before_the_error() {
    let stream = Scripted {
        input: io::Cursor::new(ping_then_text()),
        written: Vec::new(),
    };
    let Accepted::WebSocket(mut connection) = accept(stream, Options::default(), |_| {}).unwrap()
    else {
        panic!("the upgrade was not accepted");
    };
    assert!(
        connection
            .stream()
            .written
            .starts_with(b"HTTP/1.1 101 Switching Protocols\r\n")
    );
    // The pong cannot be written; the ping it answers is still returned, and the error after it.
    assert_eq!(
        connection.recv().unwrap(),
        Some(Incoming::Ping(b"are you there".to_vec()))
    );
    let error = connection.recv().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    // What had arrived behind the ping is still delivered to a caller that reads on.
    assert_eq!(
        connection.recv().unwrap(),
        Some(Incoming::Message("hello".into()))
    );
    // The transport is gone: the stream ends with 1006 (RFC 6455 §7.1.5), not the same error again,
    // and a send says so.
    assert!(matches!(
        connection.recv().unwrap(),
        Some(Incoming::Close(CloseEvent { code: 1006, .. }))
    ));
    assert_eq!(connection.recv().unwrap(), None);
    let refused = connection.send("late").unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::NotConnected);
}

/// The same transport for tokio: reads hand out `input` and then wait for good; writes fail once the
/// 101 head is out.
#[cfg(feature = "tokio")]
struct AsyncScripted(Scripted);

#[cfg(feature = "tokio")]
impl tokio::io::AsyncRead for AsyncScripted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let n = self.0.read(buf.initialize_unfilled()).unwrap();
        if n == 0 {
            return std::task::Poll::Pending;
        }
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncWrite for AsyncScripted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::task::Poll::Ready(self.0.write(buf))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_a_failed_write_is_reported_once_then_the_stream_ends() {
    use futures_util::{SinkExt, StreamExt};
    use websocket_driver_std::tokio::{Item, accept};

    let stream = AsyncScripted(Scripted {
        input: io::Cursor::new(ping_then_text()),
        written: Vec::new(),
    });
    let mut ws = accept(stream, Options::default(), |_| {}).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = ws.next().await {
        items.push(item);
        assert!(items.len() < 10, "the stream does not end: {items:?}");
    }
    let shapes: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(Item::Ping(_)) => "ping".into(),
            Ok(Item::Message(_)) => "message".into(),
            Ok(Item::Close(close)) => format!("close {}", close.code),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error {e}"),
        })
        .collect();
    assert_eq!(shapes.len(), 4, "{shapes:?}");
    assert_eq!(&shapes[..2], ["ping", "message"]);
    assert!(shapes[2].contains("pipe"), "{shapes:?}");
    assert_eq!(shapes[3], "close 1006");
    // A send after the transport failed is refused at once.
    let refused = ws.send(Item::Message("late".into())).await;
    assert!(refused.is_err());
}
