//! The blocking and tokio clients' opening handshakes: through an HTTP proxy (H11), and a failed
//! handshake's error keeping the server's status and headers (H9) and saying when it timed out.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver_std::blocking::{Connection, Incoming};
use websocket_driver_std::{HandshakeFailure, Message, Options};

/// Reads an HTTP head from `reader`, line by line.
fn read_head(reader: &mut impl BufRead) -> String {
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        assert!(
            reader.read_line(&mut head).unwrap() > 0,
            "the head ended early"
        );
    }
    head
}

/// A proxy that answers one CONNECT with 200 and then plays the WebSocket server itself: it answers
/// the handshake and echoes one unmasked text frame back. Returns the CONNECT head.
fn proxy_then_server(listener: TcpListener) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut socket = socket;
        let connect = read_head(&mut reader);
        socket
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let request = read_head(&mut reader);
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        write!(
            socket,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            AcceptKey::for_key(key.trim().as_bytes()).as_str()
        )
        .unwrap();
        // One masked client frame of under 126 bytes, unmasked and echoed.
        let mut head = [0u8; 2];
        reader.read_exact(&mut head).unwrap();
        let len = usize::from(head[1] & 0x7f);
        let mut key = [0u8; 4];
        reader.read_exact(&mut key).unwrap();
        let mut payload = vec![0u8; len];
        reader.read_exact(&mut payload).unwrap();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
        socket.write_all(&[0x81, len as u8]).unwrap();
        socket.write_all(&payload).unwrap();
        thread::sleep(Duration::from_millis(200));
        connect
    })
}

#[test]
fn blocking_connect_goes_through_the_proxy_setup_names() {
    // H11: the TCP connection goes to the proxy, CONNECT names the WebSocket host, and the
    // handshake then runs through the tunnel.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    let server = proxy_then_server(listener);
    let mut connection =
        Connection::connect("ws://ws.example:8123/chat", Options::default(), |engine| {
            engine
                .connect_proxy(
                    &format!("http://{proxy}"),
                    &[("Proxy-Authorization", "Basic eA==")],
                )
                .unwrap();
        })
        .unwrap();
    connection.send("through the tunnel").unwrap();
    assert_eq!(
        connection.recv().unwrap(),
        Some(Incoming::Message(Message::Text(
            "through the tunnel".into()
        )))
    );
    let connect = server.join().unwrap();
    assert!(
        connect.starts_with("CONNECT ws.example:8123 HTTP/1.1\r\n"),
        "{connect}"
    );
    assert!(
        connect.contains("Proxy-Authorization: Basic eA==\r\n"),
        "{connect}"
    );
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_connect_goes_through_the_proxy_setup_names() {
    // H11, on the tokio face.
    use futures_util::{SinkExt, StreamExt};
    use websocket_driver_std::tokio::{Item, connect};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    let server = proxy_then_server(listener);
    let io = tokio::net::TcpStream::connect(proxy).await.unwrap();
    let mut ws = connect(io, "ws://ws.example/", Options::default(), |engine| {
        engine
            .connect_proxy(&format!("http://{proxy}"), &[])
            .unwrap();
    })
    .await
    .unwrap();
    ws.send(Item::Message(Message::Text("hi".into())))
        .await
        .unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed, Item::Message(Message::Text("hi".into())));
    let connect = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert!(
        connect.starts_with("CONNECT ws.example:80 HTTP/1.1\r\n"),
        "{connect}"
    );
}

/// A server that answers one request with `answer`, then holds the connection a while.
fn answering(answer: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        read_head(&mut reader);
        let mut socket = socket;
        socket.write_all(answer.as_bytes()).unwrap();
        thread::sleep(Duration::from_secs(2));
    });
    addr
}

const UNAUTHORIZED: &str = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"chat\"\r\n\
    Content-Length: 0\r\n\r\n";

/// H9: the status and headers of a refusing response, from the error.
fn assert_unauthorized(e: &io::Error) {
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    let failure = HandshakeFailure::of(e).expect("the error carries the failure");
    assert_eq!(failure.status, Some(401));
    assert_eq!(
        failure.header("www-authenticate"),
        Some("Bearer realm=\"chat\"")
    );
    assert!(failure.reason.contains("401"), "{}", failure.reason);
}

#[test]
fn blocking_handshake_failure_keeps_the_response() {
    // H9: status() and headers() after a failure, through the error.
    let addr = answering(UNAUTHORIZED);
    let e = Connection::connect(&format!("ws://{addr}/"), Options::default(), |_| {})
        .err()
        .unwrap();
    assert_unauthorized(&e);
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_handshake_failure_keeps_the_response() {
    // H9, on the tokio face.
    let addr = answering(UNAUTHORIZED);
    let io = tokio::net::TcpStream::connect(addr).await.unwrap();
    let e = websocket_driver_std::tokio::connect(
        io,
        &format!("ws://{addr}/"),
        Options::default(),
        |_| {},
    )
    .await
    .err()
    .unwrap();
    assert_unauthorized(&e);
}

#[test]
fn a_handshake_that_times_out_says_so() {
    // A server that accepts the connection and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = thread::spawn(move || {
        let held = listener.accept().unwrap();
        thread::sleep(Duration::from_secs(2));
        drop(held);
    });
    let options = Options::new().handshake_timeout(Some(Duration::from_millis(200)));
    let stream = TcpStream::connect(addr).unwrap();
    let e = Connection::client(stream, &format!("ws://{addr}/"), options, |_| {})
        .err()
        .unwrap();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
    assert_eq!(HandshakeFailure::of(&e).unwrap().status, None);
    silent.join().unwrap();
}
