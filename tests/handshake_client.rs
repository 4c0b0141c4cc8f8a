//! The client's opening handshake and the proxy: BEHAVIOUR.md H8–H11, S2, S8, and a core client
//! handshaking with a core server.

mod support;

use support::{Conn, Ev, drained, frame};
use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver::mask_source::FixedSequence;
use websocket_driver::{
    Accept, ClientRequest, CloseCode, Config, Driver, Duration, Event, HandshakeCallError,
    HandshakeError, Instant, SendError, State, Url,
};

/// `2vBVWg4Qyk3ZoM/5d3QD9Q==` decoded: the key of BEHAVIOUR's H8 vector.
const NONCE: [u8; 16] = [
    218, 240, 85, 90, 14, 16, 202, 77, 217, 160, 207, 249, 119, 116, 3, 245,
];
const ACCEPT: &str = "QV3I5XUXU2CdhtjixE7QCkCcMZM=";

fn client() -> Conn {
    Conn::new(Driver::client(Config::default()), 16 * 1024, 16 * 1024)
}

fn start(conn: &mut Conn, url: &str, protocols: &[&str], headers: &[(&str, &str)]) -> String {
    let url = Url::parse_ws(url).unwrap();
    let request = ClientRequest {
        url: &url,
        protocols,
        headers,
        extensions: None,
    };
    let mut rng = FixedSequence::new(&NONCE);
    conn.driver.start(&mut conn.tx, &mut rng, &request).unwrap();
    conn.offered = protocols.iter().map(|p| p.to_string()).collect();
    String::from_utf8(drained(&mut conn.tx)).unwrap()
}

fn response(extra: &str) -> Vec<u8> {
    format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n")
        .into_bytes()
}

#[test]
fn request_vector() {
    // H8: the request with the key fixed; the port appears in Host only when not the default.
    let mut conn = client();
    assert_eq!(
        start(&mut conn, "ws://www.example.com/socket", &[], &[]),
        "GET /socket HTTP/1.1\r\nHost: www.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: 2vBVWg4Qyk3ZoM/5d3QD9Q==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut conn = client();
    assert!(
        start(&mut conn, "ws://www.example.com:3000/socket", &[], &[])
            .contains("\r\nHost: www.example.com:3000\r\n")
    );
    let mut conn = client();
    assert!(
        start(&mut conn, "wss://www.example.com:443/", &[], &[])
            .contains("\r\nHost: www.example.com\r\n")
    );
}

#[test]
fn request_with_protocols_auth_and_headers() {
    // H8: protocols, Basic auth from userinfo, custom headers, in that order.
    let mut conn = client();
    let out = start(
        &mut conn,
        "ws://user:pass@example.com/chat?room=1",
        &["xmpp", "chat"],
        &[("X-Trace", "7")],
    );
    assert!(out.starts_with("GET /chat?room=1 HTTP/1.1\r\n"), "{out}");
    assert!(out.ends_with(
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp, chat\r\nAuthorization: Basic dXNlcjpwYXNz\r\nX-Trace: 7\r\n\r\n"
    ), "{out}");
    // H8: URLs that are not ws:/wss: with a host are refused at construction.
    assert!(Url::parse_ws("http://example.com/").is_err());
    assert!(Url::parse_ws("ws://").is_err());
    // H1: header injection is refused on the client too, and nothing is written.
    let mut conn = client();
    let url = Url::parse_ws("ws://example.com/").unwrap();
    let bad = ClientRequest {
        url: &url,
        protocols: &[],
        headers: &[("X", "a\r\nB: c")],
        extensions: None,
    };
    assert_eq!(
        conn.driver
            .start(&mut conn.tx, &mut FixedSequence::new(&NONCE), &bad),
        Err(HandshakeCallError::Send(SendError::InvalidHeader))
    );
    assert!(conn.tx.is_empty());
}

#[test]
fn response_and_first_frames_in_one_read() {
    // H10: `…\r\n\r\n` + `81 02 48 69` → open, then "Hi". H9: a status line without reason is fine.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &[], &[]);
    let mut bytes = response("");
    bytes.extend_from_slice(b"\x81\x02Hi");
    conn.feed(&bytes);
    assert_eq!(conn.take_events(), [Ev::Open(Some(101)), Ev::text("Hi")]);
    assert_eq!(conn.driver.state(), State::Open);
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &[], &[]);
    conn.feed(format!("HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n").as_bytes());
    assert_eq!(conn.take_events(), [Ev::Open(Some(101))]);
}

#[test]
fn nothing_is_sent_before_the_101() {
    // H10 S2: frames sent after start wait behind the request until the response is checked.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &[], &[]);
    conn.driver
        .text(&mut conn.tx, &mut conn.rng, "queued")
        .unwrap();
    conn.driver.ping(&mut conn.tx, &mut conn.rng, b"").unwrap();
    assert!(drained(&mut conn.tx).is_empty());
    conn.feed(&response(""));
    let out = conn.take_out();
    assert_eq!(out.len(), 2 + 4 + 6 + 2 + 4);
    assert_eq!(out[0], 0x81);
    // Before start, a client cannot queue (the adapter queues on the heap).
    let mut idle = client();
    assert_eq!(
        idle.driver.text(&mut idle.tx, &mut idle.rng, "x"),
        Err(SendError::NotOpen)
    );
}

#[test]
fn response_checks_in_order() {
    // H9: each check with its own error; error, then close 1002 "Error during WebSocket handshake: …";
    // status and headers readable after the failure; later input ignored.
    let good = format!("Sec-WebSocket-Accept: {ACCEPT}\r\n");
    let cases: Vec<(String, HandshakeError)> = vec![
        ("HTTP/1.1 404 Not Found\r\nUpgrade: websocket\r\n\r\n".into(), HandshakeError::UnexpectedStatus(404)),
        (format!("HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n{good}\r\n"), HandshakeError::InvalidUpgrade),
        (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n{good}\r\n"), HandshakeError::InvalidConnection),
        ("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n".into(), HandshakeError::AcceptMismatch),
        (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{good}Sec-WebSocket-Protocol: irc\r\n\r\n"), HandshakeError::ProtocolMismatch),
        (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{good}Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"), HandshakeError::ExtensionMismatch),
        ("HTTP/1.1 200 OK\r\nUpgrade: h2c\r\n\r\n".into(), HandshakeError::UnexpectedStatus(200)),
        ("garbage\r\n\r\n".into(), HandshakeError::MalformedHead),
    ];
    for (head, error) in cases {
        let mut conn = client();
        start(&mut conn, "ws://example.com/", &["chat"], &[]);
        conn.rx.write(head.as_bytes());
        conn.rx.write(b"\x81\x02Hi");
        let polled = conn
            .driver
            .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now);
        let checked_late = matches!(
            error,
            HandshakeError::ProtocolMismatch | HandshakeError::ExtensionMismatch
        );
        if checked_late {
            // The checks that need the offered list run in `check_response`.
            assert!(matches!(polled, Ok(Some(Event::Response(_)))), "{head}");
            let err = conn
                .driver
                .check_response(&mut conn.rx, &mut conn.tx, &["chat"])
                .unwrap_err();
            assert_eq!(err, HandshakeCallError::Handshake(error), "{head}");
        } else {
            assert_eq!(
                polled.unwrap_err(),
                websocket_driver::Error::Handshake(error),
                "{head}"
            );
        }
        if error != HandshakeError::MalformedHead {
            let status = conn.driver.response(&conn.rx).map(|r| r.status());
            assert_eq!(
                status,
                head[9..12].parse().ok(),
                "status readable after failure"
            );
            assert!(conn.driver.response(&conn.rx).unwrap().headers().count() >= 1);
        }
        conn.pump();
        assert_eq!(
            conn.take_events(),
            [Ev::Close(
                1002,
                format!("Error during WebSocket handshake: {error}")
            )]
        );
        assert_eq!(conn.driver.state(), State::Closed);
        assert!(conn.driver.should_close_transport());
    }
    assert_eq!(
        HandshakeError::UnexpectedStatus(404).to_string(),
        "Unexpected response code: 404"
    );
}

#[test]
fn chosen_protocol_is_reported() {
    // H9 H4: the server's choice, one we offered, as an index into the offer.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &["xmpp", "chat"], &[]);
    conn.feed(&response("Sec-WebSocket-Protocol: chat\r\n"));
    assert_eq!(conn.take_events(), [Ev::Open(Some(101))]);
    assert_eq!(conn.driver.protocol(), Some(1));
}

#[test]
fn proxy_connect() {
    // H11: CONNECT with Host, keep-alive headers and Proxy-Authorization from the proxy's userinfo; 200 →
    // connected, bytes after the proxy's head kept for the WebSocket handshake.
    let target = Url::parse_ws("ws://www.example.com/socket").unwrap();
    let proxy = Url::parse("http://user:pass@proxy.example.com:8080").unwrap();
    let mut conn = client();
    conn.driver
        .connect_proxy(&mut conn.tx, &target, &proxy, &[("User-Agent", "wsd")])
        .unwrap();
    assert_eq!(
        String::from_utf8(drained(&mut conn.tx)).unwrap(),
        "CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com:80\r\nConnection: keep-alive\r\n\
Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nUser-Agent: wsd\r\n\r\n"
    );
    let mut bytes = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
    bytes.extend(response(""));
    conn.feed(&bytes);
    assert_eq!(conn.take_events(), [Ev::ProxyConnected(200)]);
    start(&mut conn, "ws://www.example.com/socket", &[], &[]);
    conn.pump();
    assert_eq!(conn.take_events(), [Ev::Open(Some(101))]);
}

#[test]
fn proxy_refusal() {
    // H11: any other status → error, with the status and headers readable.
    let target = Url::parse_ws("wss://www.example.com/").unwrap();
    let proxy = Url::parse("http://proxy.example.com").unwrap();
    let mut conn = client();
    conn.driver
        .connect_proxy(&mut conn.tx, &target, &proxy, &[])
        .unwrap();
    assert!(
        String::from_utf8(drained(&mut conn.tx))
            .unwrap()
            .starts_with("CONNECT www.example.com:443 HTTP/1.1\r\n")
    );
    conn.rx
        .write(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n");
    let err = conn
        .driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        .unwrap_err();
    assert_eq!(
        err,
        websocket_driver::Error::Handshake(HandshakeError::ProxyRefused(407))
    );
    let response = conn.driver.response(&conn.rx).unwrap();
    assert_eq!(response.status(), 407);
    assert_eq!(response.header("proxy-authenticate"), Some(&b"Basic"[..]));
}

#[test]
fn client_waits_for_the_server_to_close() {
    // S8: after the closing handshake the client waits for the server to close TCP, with a timeout. One
    // close_timeout bounds the whole closing: armed by close(), it also ends the wait for the transport.
    let mut conn = Conn::new(
        Driver::client(Config::default().with_close_timeout(Duration::from_secs(2))),
        16 * 1024,
        4096,
    );
    start(&mut conn, "ws://example.com/", &[], &[]);
    conn.now = Instant::from_secs(10);
    conn.feed(&response(""));
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, Some(CloseCode::NORMAL), "")
        .unwrap();
    // Due at once; the poll at 10 s arms the deadline from its now.
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(10)));
    conn.pump();
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(12)));
    conn.now = Instant::from_secs(11);
    conn.feed(&frame(0x88, b"\x03\xe8"));
    assert_eq!(conn.driver.state(), State::Closed);
    assert!(
        !conn.driver.should_close_transport(),
        "the server closes first"
    );
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(12)));
    conn.driver.handle_timeout(Instant::from_secs(11));
    assert!(!conn.driver.should_close_transport());
    conn.driver.handle_timeout(Instant::from_secs(12));
    assert!(conn.driver.should_close_transport());
    assert_eq!(conn.driver.poll_timeout(), None);

    // S8 when the server closes first: the client echoes and waits close_timeout from then.
    let mut conn = Conn::new(
        Driver::client(Config::default().with_close_timeout(Duration::from_secs(2))),
        16 * 1024,
        4096,
    );
    start(&mut conn, "ws://example.com/", &[], &[]);
    conn.feed(&response(""));
    conn.now = Instant::from_secs(20);
    conn.feed(&frame(0x88, b"\x03\xe8"));
    assert_eq!(conn.driver.state(), State::Closed);
    assert!(!conn.driver.should_close_transport());
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(22)));
}

#[test]
fn handshake_deadline() {
    // S8: an optional handshake deadline fails a handshake that does not complete.
    let config = Config::default().with_handshake_timeout(Some(Duration::from_secs(3)));
    let mut conn = Conn::new(Driver::client(config), 16 * 1024, 4096);
    start(&mut conn, "ws://example.com/", &[], &[]);
    conn.now = Instant::from_secs(1);
    conn.pump();
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(4)));
    conn.driver.handle_timeout(Instant::from_secs(4));
    assert_eq!(conn.driver.state(), State::Closed);
    conn.pump();
    assert_eq!(
        conn.take_events(),
        [Ev::Close(
            1002,
            "Error during WebSocket handshake: Handshake timed out".into()
        )]
    );
}

#[test]
fn core_client_meets_core_server() {
    // H1 H4 H8 H9 H10 S2: a client and a server handshake over their rings, with subprotocols, then talk.
    let mut server = Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024);
    let mut client = client();
    let url = Url::parse_ws("ws://localhost:8080/chat").unwrap();
    let request = ClientRequest {
        url: &url,
        protocols: &["v2.chat", "v1.chat"],
        headers: &[],
        extensions: None,
    };
    client
        .driver
        .start(&mut client.tx, &mut client.rng, &request)
        .unwrap();
    client.offered = vec!["v2.chat".into(), "v1.chat".into()];
    client
        .driver
        .text(&mut client.tx, &mut client.rng, "sent before open")
        .unwrap();
    client.drain();
    server.feed(&std::mem::take(&mut client.out));
    assert_eq!(
        server.take_events(),
        [Ev::Connect("GET".into(), "/chat".into())]
    );
    let accept = Accept {
        protocols: &["v1.chat", "v2.chat"],
        ..Accept::default()
    };
    assert_eq!(
        server
            .driver
            .accept(&mut server.rx, &mut server.tx, &accept),
        Ok(Some(1))
    );
    server.echo = true;
    server.pump();
    assert_eq!(server.take_events(), [Ev::Open(None)]);
    client.feed(&server.take_out());
    assert_eq!(client.take_events(), [Ev::Open(Some(101))]);
    assert_eq!(client.driver.protocol(), Some(0));
    client.drain();
    server.feed(&std::mem::take(&mut client.out));
    assert_eq!(server.take_events(), [Ev::text("sent before open")]);
    client.feed(&server.take_out());
    assert_eq!(client.take_events(), [Ev::text("sent before open")]);
    assert_eq!(
        AcceptKey::for_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn through_a_proxy_stub() {
    // H11: a client reaches a core server through a stub HTTP proxy that answers CONNECT and then pipes.
    let mut server = Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024);
    server.auto_accept = Some(&["chat"]);
    server.echo = true;
    let mut client = client();
    let target = Url::parse_ws("ws://localhost:8080/chat").unwrap();
    let proxy = Url::parse("http://proxy.local:3128").unwrap();
    client
        .driver
        .connect_proxy(&mut client.tx, &target, &proxy, &[])
        .unwrap();
    client.drain();
    let connect = String::from_utf8(std::mem::take(&mut client.out)).unwrap();
    assert!(connect.starts_with("CONNECT localhost:8080 HTTP/1.1\r\nHost: localhost:8080\r\n"));
    // The stub answers; from now on it pipes bytes both ways.
    client.feed(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: stub\r\n\r\n");
    assert_eq!(client.take_events(), [Ev::ProxyConnected(200)]);
    let request = ClientRequest {
        url: &target,
        protocols: &["chat"],
        headers: &[],
        extensions: None,
    };
    client
        .driver
        .start(&mut client.tx, &mut client.rng, &request)
        .unwrap();
    client.offered = vec!["chat".into()];
    client
        .driver
        .text(&mut client.tx, &mut client.rng, "through the tunnel")
        .unwrap();
    for _ in 0..4 {
        client.drain();
        server.feed(&std::mem::take(&mut client.out));
        client.feed(&server.take_out());
    }
    assert_eq!(
        client.take_events(),
        [Ev::Open(Some(101)), Ev::text("through the tunnel")]
    );
    assert_eq!(client.driver.protocol(), Some(0));
    assert_eq!(
        server.take_events()[..2],
        [Ev::Connect("GET".into(), "/chat".into()), Ev::Open(None)]
    );
}

#[test]
fn offered_subprotocols_are_distinct_tokens() {
    // H8 (RFC 6455 §4.1 item 10): each subprotocol a non-empty token, none twice; otherwise nothing
    // is written.
    for protocols in [
        &["chat v2"][..],
        &[""],
        &["a;b"],
        &[" chat"],
        &["chat", "chat"],
        &["a,b"],
    ] {
        let mut conn = client();
        let url = Url::parse_ws("ws://example.com/").unwrap();
        let request = ClientRequest {
            url: &url,
            protocols,
            headers: &[],
            extensions: None,
        };
        assert_eq!(
            conn.driver
                .start(&mut conn.tx, &mut FixedSequence::new(&NONCE), &request),
            Err(HandshakeCallError::Handshake(HandshakeError::InvalidHeader)),
            "{protocols:?}"
        );
        assert!(conn.tx.is_empty());
    }
    let mut conn = client();
    let request = start(
        &mut conn,
        "ws://example.com/",
        &["chat", "v2.chat", "x~!#$"],
        &[],
    );
    assert!(request.contains("\r\nSec-WebSocket-Protocol: chat, v2.chat, x~!#$\r\n"));
}

#[test]
fn repeated_response_headers_fail_their_check() {
    // H9 (RFC 6455 §11.3.3, §11.3.4): `Upgrade`, `Sec-WebSocket-Accept` and `Sec-WebSocket-Protocol`
    // appear once; repeated, they fail as the list they combine into would.
    let good = format!("Sec-WebSocket-Accept: {ACCEPT}\r\n");
    let cases = [
        (
            format!(
                "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n{good}\r\n"
            ),
            HandshakeError::InvalidUpgrade,
        ),
        (
            format!(
                "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{good}Sec-WebSocket-Accept: wrong\r\n\r\n"
            ),
            HandshakeError::AcceptMismatch,
        ),
        (
            format!(
                "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{good}Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"
            ),
            HandshakeError::ProtocolMismatch,
        ),
    ];
    for (head, error) in cases {
        let mut conn = client();
        start(&mut conn, "ws://example.com/", &["chat", "superchat"], &[]);
        conn.feed(head.as_bytes());
        assert_eq!(conn.take_events()[0], Ev::HandshakeError(error), "{head}");
        assert_eq!(conn.driver.state(), State::Closed, "{head}");
    }
}

#[test]
fn forged_subprotocol_is_refused() {
    // H9 (RFC 6455 §4.1): the server's subprotocol must be one we offered, compared exactly — `#HznbaQ`
    // collides with `chat` under the 32-bit FNV-1a fingerprint the client once kept.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &["chat"], &[]);
    conn.feed(&response("Sec-WebSocket-Protocol: #HznbaQ\r\n"));
    assert_eq!(
        conn.take_events()[0],
        Ev::HandshakeError(HandshakeError::ProtocolMismatch)
    );
    assert_eq!(conn.driver.state(), State::Closed);
    assert_eq!(conn.driver.protocol(), None);
    // The exact name is taken.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &["chat"], &[]);
    conn.feed(&response("Sec-WebSocket-Protocol: chat\r\n"));
    assert_eq!(conn.take_events(), [Ev::Open(Some(101))]);
    assert_eq!(conn.driver.protocol(), Some(0));
}

#[test]
fn response_waits_for_check_response() {
    // H9 H10: the response is reported; nothing opens, no frame is delivered and nothing queued goes
    // out until the application passes the offered list back.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &["chat"], &[]);
    conn.driver
        .text(&mut conn.tx, &mut conn.rng, "queued")
        .unwrap();
    conn.rx.write(&response("Sec-WebSocket-Protocol: chat\r\n"));
    conn.rx.write(b"\x81\x02Hi");
    let status = match conn
        .driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
    {
        Ok(Some(Event::Response(r))) => r.status(),
        other => panic!("{other:?}"),
    };
    assert_eq!(status, 101);
    assert_eq!(
        conn.driver.response(&conn.rx).map(|r| r.status()),
        Some(101)
    );
    assert!(
        conn.driver
            .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
            .unwrap()
            .is_none()
    );
    assert_eq!(conn.tx.ready(), 0, "frames wait behind the check");
    assert_eq!(
        conn.driver
            .check_response(&mut conn.rx, &mut conn.tx, &["chat"]),
        Ok(Some(0))
    );
    assert!(conn.tx.ready() > 0);
    conn.pump();
    assert_eq!(conn.take_events(), [Ev::Open(None), Ev::text("Hi")]);
}

#[test]
fn zero_copy_send_waits_for_open() {
    // H10 (RFC 6455 §4.1): a zero-copy frame goes straight to the transport, so it is refused until the
    // server's 101 was checked.
    let mut conn = client();
    start(&mut conn, "ws://example.com/", &[], &[]);
    let mut payload = *b"early";
    assert_eq!(
        conn.driver.send_zero_copy(
            &mut conn.tx,
            &mut conn.rng,
            websocket_driver::DataKind::Text,
            websocket_driver::Rsv::NONE,
            &mut payload,
        ),
        Err(SendError::NotOpen)
    );
    assert_eq!(&payload, b"early", "not masked either");
    conn.feed(&response(""));
    assert!(
        conn.driver
            .send_zero_copy(
                &mut conn.tx,
                &mut conn.rng,
                websocket_driver::DataKind::Text,
                websocket_driver::Rsv::NONE,
                &mut payload,
            )
            .is_ok()
    );
}
