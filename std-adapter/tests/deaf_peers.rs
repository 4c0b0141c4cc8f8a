//! A peer that stops reading what we write cannot hold a sending thread or task, and a send whose
//! message it never took fails rather than reporting success: a blocking write is paced (a peer that
//! takes a few bytes now and then is as gone as one that takes none), a split writer blocked on it is
//! woken when keepalive ends the connection (RFC 6455 §5.5.2), and a tokio flush of output given up
//! says so.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use websocket_driver_std::blocking::{Accepted, Incoming, Timeouts, accept};
use websocket_driver_std::{CloseEvent, Message, Options};

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Keepalive that gives up on a silent peer after 300 ms.
fn quick_keepalive() -> Options {
    Options::new()
        .ping_interval(Some(Duration::from_millis(150)))
        .pong_timeout(Duration::from_millis(150))
}

/// A transport whose peer reads 64 bytes every 20 ms (3.2 KB/s): each write returns having sent a
/// little, as a socket's write timeout returns a partial write. It has timeouts to set, like a socket.
struct Trickle {
    input: io::Cursor<&'static [u8]>,
    written: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        thread::sleep(Duration::from_millis(20));
        let n = buf.len().min(64);
        self.written += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Timeouts for Trickle {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }
    fn set_read_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }
    fn set_write_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_peer_that_takes_a_trickle_cannot_hold_a_blocking_send() {
    let stream = Trickle {
        input: io::Cursor::new(REQUEST),
        written: 0,
    };
    let Accepted::WebSocket(mut connection) = accept(stream, quick_keepalive(), |_| {}).unwrap()
    else {
        panic!("the upgrade was not accepted");
    };
    // 64 KiB at 3.2 KB/s would take 20 s; the peer takes under 4 KiB in the 300 ms write window.
    let started = Instant::now();
    let failed = connection.send(vec![7u8; 64 * 1024]).unwrap_err();
    assert_eq!(failed.kind(), io::ErrorKind::TimedOut, "{failed}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(connection.stream().written < 8 * 1024);
    // The connection is over: sends say so, and the stream ends with 1006.
    let again = connection.send("more").unwrap_err();
    assert_eq!(again.kind(), io::ErrorKind::NotConnected);
    assert!(matches!(
        connection.recv().unwrap(),
        Some(Incoming::Close(CloseEvent { code: 1006, .. }))
    ));
}

/// A client that sends the request and then neither reads nor writes for `hold`.
fn deaf_client(addr: std::net::SocketAddr, hold: Duration) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut socket = TcpStream::connect(addr).unwrap();
        socket.write_all(REQUEST).unwrap();
        thread::sleep(hold);
    })
}

/// More than loopback's socket buffers hold, so that a write to a peer that reads nothing blocks.
const LARGE: usize = 32 << 20;

#[test]
fn a_split_writer_blocked_on_a_deaf_peer_fails_when_keepalive_ends_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = deaf_client(listener.local_addr().unwrap(), Duration::from_secs(20));
    let (socket, _) = listener.accept().unwrap();
    // The application bounds writes itself, far beyond keepalive: it is keepalive that ends this.
    socket
        .set_write_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let Accepted::WebSocket(connection) = accept(socket, quick_keepalive(), |_| {}).unwrap() else {
        panic!("the upgrade was not accepted");
    };
    let (mut reader, writer) = connection.split().unwrap();
    let reading = thread::spawn(move || {
        let mut last = None;
        while let Some(item) = reader.recv().unwrap() {
            last = Some(item);
        }
        last
    });
    let started = Instant::now();
    let failed = writer.send(Message::Binary(vec![1; LARGE])).unwrap_err();
    assert_eq!(failed.kind(), io::ErrorKind::NotConnected, "{failed}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let again = writer.send("more").unwrap_err();
    assert_eq!(again.kind(), io::ErrorKind::NotConnected);
    let last = reading.join().unwrap();
    assert!(
        matches!(last, Some(Incoming::Close(CloseEvent { code: 1006, .. }))),
        "{last:?}"
    );
    drop(peer);
}

/// A tokio server connection (quick keepalive) to a client that never reads, and the client.
#[cfg(feature = "tokio")]
async fn accepted_from_a_deaf_client() -> (
    websocket_driver_std::tokio::WebSocketStream<tokio::net::TcpStream>,
    thread::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = deaf_client(listener.local_addr().unwrap(), Duration::from_secs(20));
    let (socket, _) = listener.accept().unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = tokio::net::TcpStream::from_std(socket).unwrap();
    let ws = websocket_driver_std::tokio::accept(socket, quick_keepalive(), |_| {})
        .await
        .unwrap();
    (ws, peer)
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn a_tokio_send_the_peer_never_took_is_an_error() {
    use futures_util::{SinkExt, StreamExt};
    use websocket_driver_std::tokio::Item;

    let (ws, peer) = accepted_from_a_deaf_client().await;
    let (mut reader, mut writer) = ws.split();
    let reading = tokio::spawn(async move {
        let mut last = None;
        while let Some(item) = reader.next().await {
            last = Some(item.unwrap());
        }
        last
    });
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        writer.send(Item::Message(Message::Binary(vec![1; LARGE]))),
    )
    .await
    .expect("the send ends when keepalive ends the connection");
    let error = sent.unwrap_err();
    assert!(error.to_string().contains("output"), "{error}");
    let last = reading.await.unwrap();
    assert!(
        matches!(last, Some(Item::Close(CloseEvent { code: 1006, .. }))),
        "{last:?}"
    );
    drop(peer);
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn a_tokio_send_on_an_unsplit_stream_gives_up_on_a_deaf_peer() {
    // Nothing reads the pong while `send` waits, so keepalive cannot end this: the pace does.
    use futures_util::{SinkExt, StreamExt};
    use websocket_driver_std::tokio::Item;

    let (mut ws, peer) = accepted_from_a_deaf_client().await;
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        ws.send(Item::Message(Message::Binary(vec![1; LARGE]))),
    )
    .await
    .expect("the send gives up on the peer");
    match sent {
        Err(websocket_driver_std::tokio::Error::Io(e)) => {
            assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}")
        }
        other => panic!("{other:?}"),
    }
    match ws.next().await {
        Some(Ok(Item::Close(CloseEvent { code: 1006, reason }))) => {
            assert!(reason.contains("too slowly"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none());
    drop(peer);
}
