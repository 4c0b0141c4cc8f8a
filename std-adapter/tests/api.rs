//! The original library's API over in-memory sockets: events, queueing before open, ping callbacks,
//! headers, status, proxy. Two drivers are wired back to back through their socket buffers.

use std::sync::{Arc, Mutex};

use websocket_driver_std::{CloseEvent, Driver, Message, Options, PermessageDeflate, ReadyState};

type Log = Arc<Mutex<Vec<String>>>;

fn logged(driver: &mut Driver<Vec<u8>>, log: &Log, who: &'static str) {
    let l = log.clone();
    driver.on_open(move |_, ()| l.lock().unwrap().push(format!("{who} open")));
    let l = log.clone();
    driver.on_message(move |_, m| l.lock().unwrap().push(format!("{who} message {m:?}")));
    let l = log.clone();
    driver.on_close(move |_, c: CloseEvent| {
        l.lock()
            .unwrap()
            .push(format!("{who} close {} {}", c.code, c.reason))
    });
    let l = log.clone();
    driver.on_error(move |_, e| l.lock().unwrap().push(format!("{who} error {e}")));
    let l = log.clone();
    driver.on_ping(move |_, p| l.lock().unwrap().push(format!("{who} ping {p:?}")));
    let l = log.clone();
    driver.on_pong(move |_, p| l.lock().unwrap().push(format!("{who} pong {p:?}")));
}

/// Moves bytes between the two drivers until both are quiet.
fn exchange(a: &mut Driver<Vec<u8>>, b: &mut Driver<Vec<u8>>) {
    for _ in 0..50 {
        let to_b = std::mem::take(a.socket_mut());
        let to_a = std::mem::take(b.socket_mut());
        if to_a.is_empty() && to_b.is_empty() {
            return;
        }
        b.parse(&to_b);
        a.parse(&to_a);
    }
}

fn pair(
    client_options: Options,
    server_options: Options,
    deflate: bool,
) -> (Driver<Vec<u8>>, Driver<Vec<u8>>, Log) {
    let log = Log::default();
    let mut client = Driver::client(Vec::new(), "ws://example.com/chat", client_options).unwrap();
    let mut server = Driver::server(Vec::new(), server_options);
    if deflate {
        client.add_extension(Box::new(PermessageDeflate::new()));
        server.add_extension(Box::new(PermessageDeflate::new()));
    }
    logged(&mut client, &log, "client");
    logged(&mut server, &log, "server");
    (client, server, log)
}

#[test]
fn sends_before_open_are_queued_and_events_fire_in_order() {
    // S1 S2: text/binary/ping before open are queued in order and flushed on open.
    let (mut client, mut server, log) = pair(
        Options::new().protocols(["chat"]),
        Options::new().protocols(["chat"]),
        false,
    );
    assert_eq!(client.state(), ReadyState::Connecting);
    assert!(client.text("first"));
    assert!(client.binary(&[1, 2, 3]));
    assert!(client.set_header("X-Trace", "1"));
    assert!(!client.set_header("Bad Name", "x"));
    assert!(!client.set_header("X", "a\r\nInjected: 1"));
    assert!(client.start());
    assert!(!client.start(), "start once");
    assert!(
        !client.set_header("X-Late", "1"),
        "headers only before start"
    );
    exchange(&mut client, &mut server);
    assert_eq!(client.state(), ReadyState::Open);
    assert_eq!(client.protocol(), Some("chat"));
    assert_eq!(server.protocol(), Some("chat"));
    assert_eq!(client.version(), "hybi-13");
    assert_eq!(client.status(), Some(101));
    assert!(
        client
            .headers()
            .iter()
            .any(|(n, v)| n == "Sec-WebSocket-Protocol" && v == "chat")
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "server open",
            "client open",
            "server message Text(\"first\")",
            "server message Binary([1, 2, 3])"
        ]
    );
}

#[test]
fn ping_callback_runs_once_on_its_pong() {
    // S9: the callback runs once when a pong with the same payload arrives; payloads are bytes.
    let (mut client, mut server, log) = pair(Options::new(), Options::new(), false);
    client.start();
    exchange(&mut client, &mut server);
    let fired = Arc::new(Mutex::new(0));
    let f = fired.clone();
    assert!(client.ping(
        &[0xff, 0x00, 0x80],
        Some(Box::new(move || *f.lock().unwrap() += 1))
    ));
    let f = fired.clone();
    assert!(client.ping(b"other", Some(Box::new(move || *f.lock().unwrap() += 10))));
    exchange(&mut client, &mut server);
    assert_eq!(*fired.lock().unwrap(), 11);
    server.pong(&[0xff, 0x00, 0x80]);
    exchange(&mut client, &mut server);
    assert_eq!(*fired.lock().unwrap(), 11, "only once");
    assert!(
        log.lock()
            .unwrap()
            .contains(&"server ping [255, 0, 128]".to_string())
    );
    assert!(
        !client.ping(&[0; 126], None),
        "control payloads stop at 125 bytes (F17)"
    );
}

#[test]
fn closing_handshake_and_nothing_after() {
    // S4 S5 S7: close, the peer echoes, both close events; sends report false afterwards.
    let (mut client, mut server, log) = pair(Options::new(), Options::new(), true);
    client.start();
    exchange(&mut client, &mut server);
    assert!(server.text("bye soon"));
    assert!(client.close(Some(4001), "going"));
    assert_eq!(client.state(), ReadyState::Closing);
    exchange(&mut client, &mut server);
    assert_eq!(client.state(), ReadyState::Closed);
    assert_eq!(server.state(), ReadyState::Closed);
    assert!(
        !client.text("late")
            && !client.binary(b"x")
            && !client.ping(b"", None)
            && !client.pong(b"")
    );
    assert!(server.should_close());
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains(&"client message Text(\"bye soon\")".to_string()),
        "{log:?}"
    );
    assert!(log.contains(&"server close 4001 going".to_string()));
    assert!(log.contains(&"client close 4001 going".to_string()));
}

#[test]
fn close_before_open() {
    // S3: close() before open → closed at once, close event (1000, ""), nothing sent.
    let log = Log::default();
    let mut server = Driver::server(Vec::new(), Options::new());
    logged(&mut server, &log, "server");
    assert!(server.close(None, ""));
    assert_eq!(server.state(), ReadyState::Closed);
    assert!(server.socket().is_empty());
    assert_eq!(*log.lock().unwrap(), ["server close 1000 "]);
}

#[test]
fn failed_handshake_keeps_status_and_headers() {
    // H9: a refused handshake: error, then close 1002; status() and headers() readable afterwards.
    let log = Log::default();
    let mut client = Driver::client(Vec::new(), "ws://example.com/", Options::new()).unwrap();
    logged(&mut client, &log, "client");
    client.start();
    client.parse(b"HTTP/1.1 403 Forbidden\r\nX-Reason: nope\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(client.status(), Some(403));
    assert_eq!(
        client.headers()[0],
        ("X-Reason".to_string(), "nope".to_string())
    );
    assert_eq!(
        *log.lock().unwrap(),
        [
            "client error Error during WebSocket handshake: Unexpected response code: 403",
            "client close 1002 Error during WebSocket handshake: Unexpected response code: 403"
        ]
    );
    assert!(Driver::client(Vec::new(), "http://example.com/", Options::new()).is_err());
}

#[test]
fn invalid_extension_header_is_refused() {
    // H3 X3: an offer that does not parse → 400 with the header in the reason.
    let mut server = Driver::server(Vec::new(), Options::new());
    server.add_extension(Box::new(PermessageDeflate::new()));
    server.parse(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: x-webkit- -frame\r\n\r\n",
    );
    let out = String::from_utf8_lossy(server.socket()).into_owned();
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nInvalid Sec-WebSocket-Extensions header: x-webkit- -frame"));
}

#[test]
fn for_request_and_is_websocket() {
    // H6b V4: a request an HTTP server parsed; is_websocket on its headers.
    let headers: [(&str, &[u8]); 5] = [
        ("Host", b"example.com"),
        ("Upgrade", b"websocket"),
        ("Connection", b"keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", b"13"),
    ];
    assert!(websocket_driver_std::is_websocket("GET", headers));
    assert!(!websocket_driver_std::is_websocket("POST", headers));
    let masked_hi = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let mut server = Driver::for_request(Vec::new(), "GET", "/chat", headers, &[], Options::new());
    server.on_message(move |ws, m| {
        g.lock().unwrap().push(m.clone());
        ws.message(m);
    });
    assert_eq!(server.state(), ReadyState::Open);
    server.parse(&masked_hi);
    assert_eq!(*got.lock().unwrap(), [Message::Text("hi".into())]);
    assert!(server.socket().ends_with(b"\x81\x02hi"));
}

#[test]
fn proxy_then_handshake() {
    // H11: CONNECT through the proxy, then the WebSocket handshake on the same socket.
    let mut client = Driver::client(Vec::new(), "ws://example.com/chat", Options::new()).unwrap();
    let mut proxy = client.proxy("http://user:pass@proxy.local:3128").unwrap();
    assert!(proxy.set_header("User-Agent", "test"));
    assert!(proxy.start());
    let connect = String::from_utf8(std::mem::take(client.socket_mut())).unwrap();
    assert!(connect.starts_with("CONNECT example.com:80 HTTP/1.1\r\n"));
    assert!(connect.contains("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"));
    client.parse(b"HTTP/1.1 200 OK\r\n\r\n");
    let request = String::from_utf8(std::mem::take(client.socket_mut())).unwrap();
    assert!(
        request.starts_with("GET /chat HTTP/1.1\r\n"),
        "the handshake starts on its own: {request}"
    );
}

/// A socket that takes at most `room` bytes, then answers `WouldBlock` until it is given more room.
struct Choked {
    written: Vec<u8>,
    room: usize,
}

impl std::io::Write for Choked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn would_block_keeps_the_output_queued() {
    // A non-blocking socket: `WouldBlock` is not a failure; the unsent bytes stay queued
    // (buffered_amount) and go out, in order, on `flush` once the socket takes them.
    let socket = Choked {
        written: Vec::new(),
        room: 10,
    };
    let mut client = Driver::client(socket, "ws://example.com/", Options::new()).unwrap();
    assert!(client.start());
    assert_eq!(client.socket().written.len(), 10);
    let queued = client.buffered_amount();
    assert!(queued > 100, "the rest of the request is queued: {queued}");
    assert!(!client.write_failed());
    client.socket_mut().room = usize::MAX;
    assert_eq!(client.flush(), 0);
    let request = String::from_utf8(client.socket().written.clone()).unwrap();
    assert!(request.starts_with("GET / HTTP/1.1\r\n") && request.ends_with("\r\n\r\n"));
}

#[test]
fn on_connect_sees_the_whole_request_and_decides() {
    // The original's `env`: on_connect sees every header (here Origin and a cookie) and refuses with its
    // own status, headers and body; the request's Debug hides the cookie.
    let mut server = Driver::server(Vec::new(), Options::new());
    server.on_connect(|ws, ()| {
        let request = ws.request().unwrap().clone();
        assert_eq!(request.origin(), Some("https://evil.example"));
        assert_eq!(request.cookie("session"), Some("abc"));
        assert!(!format!("{request:?}").contains("abc"), "{request:?}");
        ws.decide(websocket_driver_std::engine::Decision::Refuse {
            status: 403,
            headers: vec![("X-Why".into(), "origin".into())],
            body: b"forbidden origin".to_vec(),
        });
    });
    server.parse(
        b"GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\nCookie: session=abc\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let out = String::from_utf8_lossy(server.socket()).into_owned();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert!(
        out.contains("X-Why: origin\r\n") && out.ends_with("forbidden origin"),
        "{out}"
    );
    assert_eq!(server.state(), ReadyState::Closed);
}

#[test]
fn ping_callbacks_waiting_for_a_pong_are_bounded() {
    // S9 with a peer that answers only some pings (RFC 6455 §5.5.3): at most MAX_PING_CALLBACKS wait;
    // past that the oldest is dropped without running, and the rest run on their pongs.
    let (mut client, mut server, _log) = pair(Options::new(), Options::new(), false);
    client.start();
    exchange(&mut client, &mut server);
    let fired = Arc::new(Mutex::new(Vec::new()));
    let total = websocket_driver_std::MAX_PING_CALLBACKS + 1;
    for i in 0..total {
        let f = fired.clone();
        let payload = (i as u32).to_be_bytes();
        assert!(client.ping(&payload, Some(Box::new(move || f.lock().unwrap().push(i)))));
    }
    exchange(&mut client, &mut server);
    let fired = fired.lock().unwrap().clone();
    assert_eq!(fired, (1..total).collect::<Vec<_>>());
}

#[test]
fn a_plain_http_requests_body_reaches_on_body() {
    // H6 (callback API): the bytes after the head of a request that is not an upgrade are its body,
    // handed to the application as they arrive and never parsed as frames.
    let mut server = Driver::server(Vec::new(), Options::new());
    let got = Arc::new(Mutex::new(Vec::new()));
    server.on_connect(|_, ()| {});
    let g = got.clone();
    server.on_body(move |_, bytes| g.lock().unwrap().extend(bytes));
    server.parse(b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n\x81\x05he");
    server.parse(b"llo wor");
    assert_eq!(got.lock().unwrap().as_slice(), b"\x81\x05hello wor");
}
