//! Servers see the request before accepting, plain HTTP keeps its body, `serve` is safe by default, and a
//! blocking connection splits into a reader and a writer (RFC 6455 §4.2, §10.2; H3, H4, H6).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use websocket_driver_std::blocking::{Connection, Incoming, ServeOptions, serve, serve_with};
use websocket_driver_std::engine::{Decision, RequestHead};
use websocket_driver_std::{Message, Options};

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Sends `request` and reads the whole answer (the server closes after a refusal).
fn exchange(port: u16, request: &str) -> String {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn echo(mut connection: Connection<TcpStream>) {
    while let Ok(Some(incoming)) = connection.recv() {
        match incoming {
            Incoming::Message(m) => {
                let _ = connection.send(m);
            }
            Incoming::Close(_) => break,
            _ => {}
        }
    }
}

/// `serve_with` on a fresh port with `decide`; the cookies the callback saw go to the returned channel.
fn server(serve_options: ServeOptions, decide: fn(&RequestHead) -> Option<Decision>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let _ = serve_with(
            listener,
            serve_options,
            |_| {},
            decide,
            echo,
            |request: RequestHead, body: Vec<u8>, mut stream: TcpStream| {
                let answer = format!(
                    "{} {} body={}",
                    request.method,
                    request.target,
                    String::from_utf8_lossy(&body)
                );
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            },
        );
    });
    port
}

/// The check a real server makes: a foreign `Origin` is refused with 403 (RFC 6455 §10.2), a client
/// without the session cookie with 401, and the subprotocol is the application's choice.
fn check(request: &RequestHead) -> Option<Decision> {
    if request
        .origin()
        .is_some_and(|o| o != "https://chat.example")
    {
        return Some(Decision::Refuse {
            status: 403,
            headers: vec![("X-Reason".into(), "origin".into())],
            body: b"cross-site WebSocket refused".to_vec(),
        });
    }
    if request.cookie("session") != Some("s3cret") {
        return Some(Decision::refuse(401, "log in first"));
    }
    let protocol = request
        .protocols()
        .into_iter()
        .find(|p| p.starts_with("v2"));
    Some(Decision::Accept {
        protocol: protocol.map(str::to_owned),
        headers: vec![("X-Seen-Cookie".into(), "yes".into())],
    })
}

#[test]
fn a_refused_origin_gets_the_callbacks_answer() {
    // RFC 6455 §10.2: the callback sees Origin and refuses with its status, headers and body.
    let port = server(ServeOptions::new(Options::new()), check);
    let answer = exchange(
        port,
        &format!("{UPGRADE}Origin: https://evil.example\r\nCookie: session=s3cret\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.contains("X-Reason: origin\r\n"), "{answer}");
    assert!(
        answer.ends_with("\r\n\r\ncross-site WebSocket refused"),
        "{answer}"
    );
    let answer = exchange(
        port,
        &format!("{UPGRADE}Origin: https://chat.example\r\n\r\n"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
}

#[test]
fn the_callback_chooses_the_subprotocol_and_sees_cookies() {
    // H4 with the application's choice; the cookie reached the callback (its answer says so).
    let port = server(ServeOptions::new(Options::new()), check);
    let url = format!("ws://127.0.0.1:{port}/chat");
    let options = Options::new().protocols(["v1.chat", "v2.chat"]);
    let mut client = Connection::connect(&url, options, |engine| {
        engine.set_header("Origin", "https://chat.example");
        engine.set_header("Cookie", "theme=dark; session=s3cret");
    })
    .unwrap();
    assert_eq!(client.driver().protocol(), Some("v2.chat"));
    assert!(
        client
            .driver()
            .headers()
            .iter()
            .any(|(n, v)| n == "X-Seen-Cookie" && v == "yes")
    );
    client.send(Message::Text("hi".into())).unwrap();
    assert_eq!(
        client.recv().unwrap(),
        Some(Incoming::Message(Message::Text("hi".into())))
    );
}

#[test]
fn a_post_keeps_its_body() {
    // H6: plain HTTP on the WebSocket port: head and body (arrived with the head) handed over intact.
    let port = server(ServeOptions::new(Options::new()), |_| None);
    let answer = exchange(
        port,
        "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello=world",
    );
    assert!(answer.ends_with("POST /form body=hello=world"), "{answer}");
}

#[test]
fn slowloris_heads_do_not_stop_other_clients() {
    // 50 connections send half a head and stall; other clients are still served, and the stalled ones
    // are dropped at the handshake timeout.
    let serve_options =
        ServeOptions::new(Options::new()).handshake_timeout(Some(Duration::from_millis(800)));
    let port = server(serve_options, |_| None);
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket
            .write_all(b"GET /chat HTTP/1.1\r\nHost: a\r\n")
            .unwrap();
        stalled.push(socket);
    }
    let url = format!("ws://127.0.0.1:{port}/");
    for i in 0..5 {
        let mut client = Connection::connect(&url, Options::new(), |_| {}).unwrap();
        client.send(Message::Text(format!("{i}"))).unwrap();
        assert_eq!(
            client.recv().unwrap(),
            Some(Incoming::Message(Message::Text(format!("{i}"))))
        );
    }
    let started = std::time::Instant::now();
    for mut socket in stalled {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest); // closed by the server
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn connections_over_the_cap_get_503() {
    // `max_connections`: one more is answered 503 before its request is read.
    let port = server(ServeOptions::new(Options::new()).max_connections(2), |_| {
        None
    });
    let url = format!("ws://127.0.0.1:{port}/");
    let _a = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    let _b = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    let answer = exchange(port, &format!("{UPGRADE}\r\n"));
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    drop(_a);
    // A slot frees once its connection ends.
    let mut freed = false;
    for _ in 0..50 {
        thread::sleep(Duration::from_millis(20));
        if let Ok(mut c) = Connection::connect(&url, Options::new(), |_| {}) {
            let _ = c.close(1000, "");
            freed = true;
            break;
        }
    }
    assert!(freed);
}

#[test]
fn a_reader_and_a_writer_on_two_threads() {
    // Split: the writer sends from one thread while the reader receives on another; pings from the peer
    // are answered while only the reader runs.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let _ = serve(
            listener,
            Options::new(),
            |_| {},
            |mut connection: Connection<TcpStream>| {
                connection.ping(b"from the server").unwrap();
                echo(connection)
            },
            |_, _, _| {},
        );
    });
    let client =
        Connection::connect(&format!("ws://127.0.0.1:{port}/"), Options::new(), |_| {}).unwrap();
    let (mut reader, writer) = client.split().unwrap();
    let (done_tx, done) = mpsc::channel();
    let writing = thread::spawn(move || {
        for i in 0..100u32 {
            writer
                .send(Message::Binary(vec![i as u8; i as usize * 100]))
                .unwrap();
        }
        done.recv().unwrap();
        writer.close(1000, "").unwrap();
    });
    let mut seen = 0u32;
    let mut pinged = false;
    while seen < 100 {
        match reader.recv().unwrap() {
            Some(Incoming::Message(Message::Binary(data))) => {
                assert_eq!(data, vec![seen as u8; seen as usize * 100]);
                seen += 1;
            }
            Some(Incoming::Ping(p)) => {
                assert_eq!(p, b"from the server");
                pinged = true;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(pinged);
    done_tx.send(()).unwrap();
    loop {
        match reader.recv().unwrap() {
            Some(Incoming::Close(c)) => {
                assert_eq!(c.code, 1000);
                break;
            }
            Some(_) => {}
            None => panic!("no close"),
        }
    }
    writing.join().unwrap();
}

#[test]
fn split_connections_on_both_ends_send_large_messages_at_once() {
    // Full duplex with blocking split halves on both ends: each writer thread sends 16 MiB in 4 MiB
    // messages while its reader reads the other's. A writer blocked on a full socket must not stop
    // its own reader (it holds no lock the reader needs), or the two ends wait on each other for good.
    const MESSAGES: usize = 4;
    const SIZE: usize = 4 << 20;
    fn both_ways(connection: Connection<TcpStream>, tag: u8) -> usize {
        let (mut reader, writer) = connection.split().unwrap();
        let writing = thread::spawn(move || {
            for i in 0..MESSAGES {
                writer
                    .send(Message::Binary(vec![tag ^ i as u8; SIZE]))
                    .unwrap();
            }
            writer
        });
        let mut got = 0;
        while got < MESSAGES {
            match reader.recv().unwrap() {
                Some(Incoming::Message(Message::Binary(data))) => {
                    assert_eq!(data.len(), SIZE);
                    got += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        writing.join().unwrap();
        got
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = Options::new().max_length(SIZE as u64);
    let (done_tx, done) = mpsc::channel();
    let server_options = options.clone();
    thread::spawn(move || {
        let _ = serve(
            listener,
            server_options,
            |_| {},
            move |connection: Connection<TcpStream>| {
                let _ = done_tx.send(both_ways(connection, 0x55));
            },
            |_, _, _| {},
        );
    });
    let client = Connection::connect(&format!("ws://127.0.0.1:{port}/"), options, |_| {}).unwrap();
    let client = thread::spawn(move || both_ways(client, 0xaa));
    let server = done
        .recv_timeout(Duration::from_secs(60))
        .expect("neither end waits on the other for good");
    assert_eq!((server, client.join().unwrap()), (MESSAGES, MESSAGES));
}

#[test]
fn a_close_that_cannot_be_sent_is_an_error() {
    // S4, F17 (blocking): a code that may not be sent or a reason over 123 bytes is refused with
    // `InvalidInput` and nothing is sent (the connection stays open); closing twice is `NotConnected`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let _ = serve(listener, Options::new(), |_| {}, echo, |_, _, _| {});
    });
    let mut client =
        Connection::connect(&format!("ws://127.0.0.1:{port}/"), Options::new(), |_| {}).unwrap();
    for (code, reason) in [
        (1005, String::new()),
        (1006, String::new()),
        (1000, "x".repeat(124)),
    ] {
        let e = client.close(code, &reason).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{code}");
    }
    client.send(Message::Text("still open".into())).unwrap();
    assert_eq!(
        client.recv().unwrap(),
        Some(Incoming::Message(Message::Text("still open".into())))
    );
    client.close(1000, "bye").unwrap();
    assert_eq!(
        client.close(1000, "").unwrap_err().kind(),
        std::io::ErrorKind::NotConnected
    );
    assert!(matches!(client.recv().unwrap(), Some(Incoming::Close(c)) if c.code == 1000));
}

#[allow(dead_code)]
#[path = "../examples/chat.rs"]
mod chat;

#[allow(dead_code)]
#[path = "../examples/chat_blocking.rs"]
mod chat_blocking;

#[test]
fn the_chat_demo_with_two_clients() {
    // The demo on axum (`chat`) and on the blocking split (`chat_blocking`): the page on GET /, and two
    // members who see each other's lines, numbered.
    two_members(chat::run);
    two_members(chat_blocking::run);
}

fn two_members(run: fn(TcpListener) -> std::io::Result<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || run(listener));
    let page = exchange(
        port,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n") && page.contains("websocket-driver chat"));
    let url = format!("ws://127.0.0.1:{port}/chat");
    let mut alice = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    let first = match alice.recv().unwrap() {
        Some(Incoming::Message(Message::Text(t))) => t,
        other => panic!("{other:?}"),
    };
    let alice_id = first.trim_end_matches(" joined").to_owned();
    let mut bob = Connection::connect(&url, Options::new(), |_| {}).unwrap();
    let bob_joined = match bob.recv().unwrap() {
        Some(Incoming::Message(Message::Text(t))) => t,
        other => panic!("{other:?}"),
    };
    let bob_id = bob_joined.trim_end_matches(" joined").to_owned();
    assert_ne!(alice_id, bob_id);
    assert_eq!(
        alice.recv().unwrap(),
        Some(Incoming::Message(Message::Text(format!("{bob_id} joined"))))
    );
    alice.send(Message::Text("hello bob".into())).unwrap();
    let line = Some(Incoming::Message(Message::Text(format!(
        "{alice_id}: hello bob"
    ))));
    assert_eq!(bob.recv().unwrap(), line);
    assert_eq!(alice.recv().unwrap(), line);
    bob.close(1000, "").unwrap();
    assert_eq!(
        alice.recv().unwrap(),
        Some(Incoming::Message(Message::Text(format!("{bob_id} left"))))
    );
}
