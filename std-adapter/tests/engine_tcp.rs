#![cfg(feature = "tokio")]
//! The engine's faces over loopback TCP: messages from 0 B to 16 MiB with deflate on and off, close codes
//! both ways, the closing deadline with a silent peer, and a ping flood from a peer that never reads
//! (S4, S5, F13, X5; bounded memory).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver_std::blocking::{Accepted, Connection, Incoming, accept};
use websocket_driver_std::{Message, Options, PermessageDeflate};

/// A blocking server on its own thread that runs `serve` on the first connection.
fn server(
    deflate: bool,
    serve: impl FnOnce(Connection<TcpStream>) + Send + 'static,
) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let Ok(Accepted::WebSocket(connection)) = accept(stream, Options::new(), |e| {
            if deflate {
                e.add_extension(Box::new(PermessageDeflate::new()));
            }
        }) else {
            panic!("not a WebSocket");
        };
        serve(*connection);
    });
    (url, handle)
}

fn echo(mut connection: Connection<TcpStream>) {
    while let Ok(Some(incoming)) = connection.recv() {
        match incoming {
            Incoming::Message(m) => connection.send(m).unwrap(),
            Incoming::Close(_) => break,
            _ => {}
        }
    }
}

#[test]
fn messages_from_0_bytes_to_16_mib_over_tcp() {
    // F15 X5: each size echoed byte-exact, deflate off and on (and really negotiated).
    for deflate in [false, true] {
        let (url, handle) = server(deflate, echo);
        let mut client = Connection::connect(&url, Options::new(), |e| {
            if deflate {
                e.add_extension(Box::new(PermessageDeflate::new()));
            }
        })
        .unwrap();
        assert_eq!(
            client.driver().extensions().active().count(),
            usize::from(deflate)
        );
        for len in [0usize, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
            client.send(Message::Binary(data.clone())).unwrap();
            match client.recv().unwrap() {
                Some(Incoming::Message(Message::Binary(echo))) => {
                    assert!(echo == data, "{len} bytes, deflate {deflate}")
                }
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
        client.ping(b"ping").unwrap();
        assert_eq!(
            client.recv().unwrap(),
            Some(Incoming::Pong(b"ping".to_vec()))
        );
        client.close(1000, "").unwrap();
        assert!(matches!(client.recv().unwrap(), Some(Incoming::Close(c)) if c.code == 1000));
        handle.join().unwrap();
    }
}

#[test]
fn close_codes_both_ways_over_tcp() {
    // S4 S5: the server closes with 4001 and a reason; the client sees them; and the other way round.
    let (url, handle) = server(false, |mut connection| {
        connection.close(4001, "server says bye").unwrap();
        match connection.recv().unwrap() {
            Some(Incoming::Close(c)) => {
                assert_eq!((c.code, c.reason.as_str()), (4001, "server says bye"))
            }
            other => panic!("{other:?}"),
        }
    });
    let mut client = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    match client.recv().unwrap() {
        Some(Incoming::Close(c)) => {
            assert_eq!((c.code, c.reason.as_str()), (4001, "server says bye"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(client.recv().unwrap(), None);
    handle.join().unwrap();

    let (url, handle) = server(false, |mut connection| match connection.recv().unwrap() {
        Some(Incoming::Close(c)) => assert_eq!((c.code, c.reason.as_str()), (1001, "going")),
        other => panic!("{other:?}"),
    });
    let mut client = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    client.close(1001, "going").unwrap();
    assert!(matches!(client.recv().unwrap(), Some(Incoming::Close(c)) if c.code == 1001));
    handle.join().unwrap();
}

/// Answers a client's handshake on `socket` by hand.
fn answer_handshake(socket: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = AcceptKey::for_key(key.trim().as_bytes());
    write!(
        socket,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept.as_str()
    )
    .unwrap();
}

#[test]
fn a_silent_peer_is_closed_at_the_close_deadline_over_tcp() {
    // S4: the server never answers our close; the client reports 1006 after close_timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let peer = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        answer_handshake(&mut socket);
        thread::sleep(Duration::from_secs(3));
    });
    let timeout = Duration::from_millis(300);
    let mut client =
        Connection::connect(&url, Options::new().close_timeout(timeout), |_| {}).unwrap();
    let started = Instant::now();
    client.close(1000, "").unwrap();
    match client.recv().unwrap() {
        Some(Incoming::Close(c)) => assert_eq!(c.code, 1006),
        other => panic!("{other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= timeout && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert!(client.driver().should_close());
    drop(client);
    peer.join().unwrap();
}

#[test]
fn a_ping_flood_from_a_peer_that_never_reads_stays_bounded_over_tokio() {
    // Bounded memory (tokio face): a client floods pings and never reads; the server stops reading once
    // its output passes the high-water mark, so its buffers stay under receive + transmit buffer + one
    // frame, and the flooder's writes stall.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let flooder = thread::spawn(move || {
        let mut socket = TcpStream::connect(addr).unwrap();
        write!(
            socket,
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut ping = vec![0x89, 0xfd, 1, 2, 3, 4];
        ping.extend(std::iter::repeat_n(0u8, 125));
        let chunk = ping.repeat(1024);
        socket
            .set_write_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let mut sent = 0usize;
        while sent < 256 << 20 {
            match socket.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break, // the server stopped reading: our writes stall
            }
        }
        sent
    });
    let options = Options::new();
    let bound = options.receive_buffer + options.transmit_buffer + 1024;
    let max_seen = runtime.block_on(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let (io, _) = listener.accept().await.unwrap();
        let mut ws = websocket_driver_std::tokio::accept(io, options, |_| {})
            .await
            .unwrap();
        let mut max_seen = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            use futures_util::StreamExt;
            let next = tokio::time::timeout_at(deadline, ws.next()).await;
            max_seen = max_seen.max(ws.driver().buffer_capacity());
            if next.is_err() {
                break;
            }
        }
        max_seen
    });
    let sent = flooder.join().unwrap();
    assert!(
        max_seen <= bound,
        "{max_seen} bytes of buffers, bound {bound}"
    );
    assert!(
        sent < 256 << 20,
        "the flooder was never stopped: {sent} bytes"
    );
}
