//! The server's opening handshake: BEHAVIOUR.md V1–V4, H1–H7, S1–S3, S8, in raw and pre-parsed modes.

mod support;

use support::{Conn, Ev, drained, masked};
use websocket_driver::{
    Accept, CloseCode, Config, Driver, HandshakeCallError, HandshakeError, Header, Request,
    SendError, State, Version,
};

fn request(version: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n{extra}Sec-WebSocket-Version: {version}\r\n\r\n"
    )
    .into_bytes()
}

fn server() -> Conn {
    Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024)
}

/// Reads the request and accepts it with `accept`.
fn accepted(
    bytes: &[u8],
    accept: &Accept<'_>,
) -> (Conn, Result<Option<usize>, HandshakeCallError>) {
    let mut conn = server();
    conn.feed(bytes);
    assert!(matches!(conn.take_events().first(), Some(Ev::Connect(m, _)) if m == "GET"));
    let result = conn.driver.accept(&mut conn.rx, &mut conn.tx, accept);
    (conn, result)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rfc_sample_handshake() {
    // H1 H2 H4: the 101 with the accept value and the chosen subprotocol, in this order.
    let accept = Accept {
        protocols: &["chat"],
        ..Accept::default()
    };
    let (mut conn, result) = accepted(
        &request("13", "Sec-WebSocket-Protocol: chat, superchat\r\n"),
        &accept,
    );
    assert_eq!(result, Ok(Some(0)));
    assert_eq!(
        text(&conn.take_out()),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    );
    assert_eq!(conn.driver.state(), State::Open);
    assert_eq!(conn.driver.protocol(), Some(0));
    conn.pump();
    assert_eq!(conn.take_events(), [Ev::Open(None)]);
}

#[test]
fn versions_13_8_7_are_served() {
    // V1: 13, 8 and 7 frame alike and are accepted; version() names them.
    for (v, name) in [("13", "hybi-13"), ("8", "hybi-8"), ("7", "hybi-7")] {
        let (conn, result) = accepted(&request(v, ""), &Accept::default());
        assert_eq!(result, Ok(None));
        assert_eq!(conn.driver.version().as_str(), name);
    }
}

#[test]
fn other_versions_get_426() {
    // V2: any other version → 426 Upgrade Required with Sec-WebSocket-Version: 13, 8, 7.
    // A repeated header (RFC 6455 §11.3.5: only once) is as unsupported as the list it combines into.
    let versions = [
        ("9", ""),
        ("14", ""),
        ("0", ""),
        ("abc", ""),
        ("13", "Sec-WebSocket-Version: 8\r\n"),
    ];
    for (v, extra) in versions {
        let (mut conn, result) = accepted(&request(v, extra), &Accept::default());
        assert_eq!(
            result,
            Err(HandshakeCallError::Handshake(
                HandshakeError::UnsupportedVersion
            ))
        );
        let out = text(&conn.take_out());
        assert!(
            out.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
            "{out}"
        );
        assert!(
            out.contains("\r\nSec-WebSocket-Version: 13, 8, 7\r\n"),
            "{out}"
        );
        assert_eq!(conn.driver.state(), State::Closed);
    }
}

#[test]
fn drafts_are_refused_when_off() {
    // V3: hixie-76 (Key1/Key2) and hixie-75 (Upgrade: WebSocket alone) are refused with 400 by default.
    let hixie76 = b"GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n\
Origin: http://example.com\r\n\r\n^n:ds[4U";
    let hixie75 =
        b"GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\n\
Origin: http://example.com\r\n\r\n";
    for req in [&hixie76[..], &hixie75[..]] {
        let (mut conn, result) = accepted(req, &Accept::default());
        assert_eq!(
            result,
            Err(HandshakeCallError::Handshake(
                HandshakeError::DraftsDisabled
            ))
        );
        assert!(text(&conn.take_out()).starts_with("HTTP/1.1 400 Bad Request\r\n"));
    }
}

#[test]
fn bad_requests_get_400_with_a_reason() {
    // H3: key missing or not 16 bytes, method not GET, HTTP/1.0 → 400, text/plain, Content-Length, one-line
    // reason; then an error event and closed.
    let cases: [(&[u8], HandshakeError); 6] = [
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::InvalidKey),
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::InvalidKey),
        (b"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::OldHttp),
        // H3 (RFC 6455 §4.2.1 item 2): no Host header.
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::MissingHost),
        // H3, RFC 6455 §11.3.1 and RFC 9112 §3.2: the key and Host only once.
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: JFBCWHksyIpXV+6Wlq/9pw==\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::InvalidKey),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", HandshakeError::RepeatedHost),
    ];
    for (req, error) in cases {
        let mut conn = server();
        conn.feed(req);
        let result = conn
            .driver
            .accept(&mut conn.rx, &mut conn.tx, &Accept::default());
        assert_eq!(result, Err(HandshakeCallError::Handshake(error)));
        let reason = error.to_string();
        assert_eq!(
            text(&conn.take_out()),
            format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reason}",
                reason.len()
            )
        );
        assert_eq!(conn.driver.state(), State::Closed);
        conn.pump();
        assert_eq!(
            conn.take_events().last(),
            Some(&Ev::Close(
                1002,
                format!("Error during WebSocket handshake: {reason}")
            ))
        );
    }
    // The application refuses with its own reason (H3's extension example, decided by the std adapter).
    let mut conn = server();
    conn.feed(&request(
        "13",
        "Sec-WebSocket-Extensions: x-webkit- -frame\r\n",
    ));
    conn.take_events();
    let reason = "Invalid Sec-WebSocket-Extensions header: x-webkit- -frame";
    conn.driver
        .refuse(&mut conn.rx, &mut conn.tx, 400, reason)
        .unwrap();
    assert!(text(&conn.take_out()).ends_with(&format!(
        "Content-Length: 57\r\nConnection: close\r\n\r\n{reason}"
    )));
    assert_eq!(conn.driver.state(), State::Closed);
    assert!(conn.driver.should_close_transport());
}

#[test]
fn method_must_be_get() {
    // H3 V4: a PUT with upgrade headers is no WebSocket request: raw mode reports it with its body; a
    // pre-parsed one handed to accept_request is refused with 400.
    let mut req = request("13", "");
    req.splice(0..3, *b"PUT");
    let mut conn = server();
    conn.feed(&req);
    assert_eq!(
        conn.take_events(),
        [Ev::Connect("PUT".into(), "/chat".into())]
    );
    assert_eq!(
        conn.driver
            .accept(&mut conn.rx, &mut conn.tx, &Accept::default()),
        Err(HandshakeCallError::Send(SendError::NoPendingRequest))
    );
    let headers = [
        Header {
            name: "Upgrade",
            value: b"websocket",
        },
        Header {
            name: "Connection",
            value: b"Upgrade",
        },
        Header {
            name: "Sec-WebSocket-Key",
            value: b"dGhlIHNhbXBsZSBub25jZQ==",
        },
        Header {
            name: "Sec-WebSocket-Version",
            value: b"13",
        },
    ];
    let mut conn = server();
    let result = conn.driver.accept_request(
        &mut conn.tx,
        &Request::new("PUT", "/", 1, &headers),
        &Accept::default(),
    );
    assert_eq!(
        result,
        Err(HandshakeCallError::Handshake(HandshakeError::NotGet))
    );
    assert!(text(&conn.take_out()).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

#[test]
fn custom_headers_in_order_and_checked() {
    // H1: custom headers in call order before the protocol's; never replacing a protocol header; a name
    // that is not a token or a value with CR/LF/NUL is refused and nothing is written.
    let accept = Accept {
        headers: &[
            ("Set-Cookie", "a=1"),
            ("Sec-WebSocket-Accept", "forged"),
            ("X-Server", "wsd"),
        ],
        ..Accept::default()
    };
    let (mut conn, result) = accepted(&request("13", ""), &accept);
    assert_eq!(result, Ok(None));
    let out = text(&conn.take_out());
    assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\nSet-Cookie: a=1\r\nX-Server: wsd\r\nUpgrade: websocket\r\n"), "{out}");
    assert!(!out.contains("forged"));
    for headers in [
        &[("X-Bad", "v\r\nInjected: 1")][..],
        &[("Bad Name", "v")],
        &[("X-Nul", "a\0b")],
    ] {
        let (mut conn, result) = accepted(
            &request("13", ""),
            &Accept {
                headers,
                ..Accept::default()
            },
        );
        assert_eq!(
            result,
            Err(HandshakeCallError::Send(SendError::InvalidHeader))
        );
        assert!(conn.take_out().is_empty());
        assert_eq!(
            conn.driver
                .accept(&mut conn.rx, &mut conn.tx, &Accept::default()),
            Ok(None),
            "the request is still there"
        );
    }
}

#[test]
fn subprotocol_by_the_clients_order() {
    // H4: client `a, c, b`, server [b, c] → c; client `foo, bar, xmpp`, server [xmpp] → xmpp; none → no header.
    let accept = Accept {
        protocols: &["b", "c"],
        ..Accept::default()
    };
    let (mut conn, result) = accepted(
        &request("13", "Sec-WebSocket-Protocol: a, c, b\r\n"),
        &accept,
    );
    assert_eq!(result, Ok(Some(1)));
    assert!(text(&conn.take_out()).contains("\r\nSec-WebSocket-Protocol: c\r\n"));
    let accept = Accept {
        protocols: &["xmpp"],
        ..Accept::default()
    };
    let (mut conn, result) = accepted(
        &request("13", "Sec-WebSocket-Protocol: foo, bar, xmpp\r\n"),
        &accept,
    );
    assert_eq!(result, Ok(Some(0)));
    assert!(text(&conn.take_out()).contains("\r\nSec-WebSocket-Protocol: xmpp\r\n"));
    let (mut conn, result) = accepted(&request("13", "Sec-WebSocket-Protocol: foo\r\n"), &accept);
    assert_eq!(result, Ok(None));
    assert!(!text(&conn.take_out()).contains("Sec-WebSocket-Protocol"));
    assert_eq!(conn.driver.protocol(), None);
    assert_eq!(conn.driver.state(), State::Open);
    // Split over several header lines, the list keeps its order.
    let (_, result) = accepted(
        &request(
            "13",
            "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: c, b\r\n",
        ),
        &Accept {
            protocols: &["b", "c"],
            ..Accept::default()
        },
    );
    assert_eq!(result, Ok(Some(1)));
}

#[test]
fn extensions_answer_passes_through() {
    // H3 X1: the extension framework's answer is written after the protocol headers.
    let accept = Accept {
        extensions: Some("permessage-deflate"),
        ..Accept::default()
    };
    let (mut conn, _) = accepted(
        &request("13", "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        &accept,
    );
    assert!(
        text(&conn.take_out())
            .ends_with("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    );
}

#[test]
fn frames_after_the_head_are_kept() {
    // H5: frames in the same read as the request wait for accept, and are then delivered.
    let mut bytes = request("13", "");
    bytes.extend(masked(b"\x81\x02hi", [1, 2, 3, 4]));
    bytes.extend(masked(b"\x89\x01p", [5, 6, 7, 8]));
    let mut conn = server();
    conn.feed(&bytes);
    assert_eq!(
        conn.take_events(),
        [Ev::Connect("GET".into(), "/chat".into())]
    );
    conn.pump();
    assert!(conn.take_events().is_empty(), "nothing before accept");
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.pump();
    assert_eq!(
        conn.take_events(),
        [Ev::Open(None), Ev::text("hi"), Ev::Ping(b"p".to_vec())]
    );
    assert!(conn.take_out().ends_with(b"\r\n\r\n\x8a\x01p"));
}

#[test]
fn a_plain_request_has_a_body() {
    // H6a: a request that is not an upgrade is reported, and what follows its head is its body, never frames.
    let mut conn = server();
    conn.feed(b"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n\x81\x02hi");
    conn.feed(b"\x88\x00more");
    let events = conn.take_events();
    assert_eq!(events[0], Ev::Connect("POST".into(), "/form".into()));
    let body: Vec<u8> = events[1..]
        .iter()
        .flat_map(|e| match e {
            Ev::Body(b) => b.clone(),
            _ => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(body, b"\x81\x02hi\x88\x00more");
    conn.driver
        .refuse(&mut conn.rx, &mut conn.tx, 404, "no")
        .unwrap();
    assert!(text(&conn.take_out()).starts_with("HTTP/1.1 404 Not Found\r\n"));
}

#[test]
fn pre_parsed_requests() {
    // H6b: the application's HTTP server parsed the request; bytes read past its head go into the buffer.
    let headers = [
        Header {
            name: "Upgrade",
            value: b"websocket",
        },
        Header {
            name: "Connection",
            value: b"Upgrade",
        },
        Header {
            name: "Sec-WebSocket-Key",
            value: b"dGhlIHNhbXBsZSBub25jZQ==",
        },
        Header {
            name: "Sec-WebSocket-Version",
            value: b"13",
        },
        Header {
            name: "Sec-WebSocket-Protocol",
            value: b"chat",
        },
        Header {
            name: "Host",
            value: b"example.com",
        },
    ];
    let request = Request::new("GET", "/chat", 1, &headers);
    assert!(request.is_websocket());
    // V4: two `Upgrade` lines combine into a list, which is not equal to `websocket`.
    let mut twice = headers.to_vec();
    twice.push(Header {
        name: "upgrade",
        value: b"h2c",
    });
    assert!(!Request::new("GET", "/chat", 1, &twice).is_websocket());
    let mut conn = server();
    conn.rx.write(&masked(b"\x81\x05early", [9, 9, 9, 9]));
    let accept = Accept {
        protocols: &["chat"],
        ..Accept::default()
    };
    assert_eq!(
        conn.driver.accept_request(&mut conn.tx, &request, &accept),
        Ok(Some(0))
    );
    conn.pump();
    assert_eq!(conn.take_events(), [Ev::Open(None), Ev::text("early")]);
    assert!(
        text(&conn.take_out()).contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
    );
}

#[test]
fn head_limits() {
    // H7: a head over 8 KiB → 431 and closed; more than 64 header lines → 431; not HTTP → 400.
    let mut big = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 8 * 1024));
    let mut conn = server();
    conn.feed(&big);
    assert_eq!(
        conn.take_events()[0],
        Ev::HandshakeError(HandshakeError::HeadTooLarge)
    );
    assert!(text(&conn.take_out()).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert_eq!(conn.driver.state(), State::Closed);
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..65 {
        many.extend(format!("X-{i}: v\r\n").bytes());
    }
    many.extend(b"\r\n");
    let mut conn = server();
    conn.feed(&many);
    assert_eq!(
        conn.take_events()[0],
        Ev::HandshakeError(HandshakeError::TooManyHeaders)
    );
    assert!(text(&conn.take_out()).starts_with("HTTP/1.1 431 "));
    let mut conn = server();
    conn.feed(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n");
    assert_eq!(
        conn.take_events()[0],
        Ev::HandshakeError(HandshakeError::MalformedHead)
    );
    assert!(text(&conn.take_out()).starts_with("HTTP/1.1 400 Bad Request\r\n"));
    // A smaller limit, and a buffer too small for the limit.
    let mut conn = Conn::new(Driver::server(Config::default().head_limit(200)), 200, 1024);
    conn.feed(&request("13", ""));
    assert_eq!(
        conn.take_events()[0],
        Ev::Connect("GET".into(), "/chat".into())
    );
    // H7 with a receive buffer smaller than the head limit: the limit is clamped to the buffer, so a
    // firmware's 2 KiB buffer with the default config reads heads up to 2 KiB and refuses larger ones
    // with 431 — never a buffer error.
    let mut small = Conn::new(Driver::server(Config::default()), 2048, 1024);
    small.feed(&request("13", ""));
    assert_eq!(
        small.take_events()[0],
        Ev::Connect("GET".into(), "/chat".into())
    );
    let mut small = Conn::new(Driver::server(Config::default()), 2048, 1024);
    let mut long = request("13", "");
    long.truncate(long.len() - 2);
    long.extend(format!("X-Pad: {}\r\n\r\n", "p".repeat(2100)).bytes());
    small.feed(&long);
    assert_eq!(
        small.take_events()[0],
        Ev::HandshakeError(HandshakeError::HeadTooLarge)
    );
    assert!(text(&small.take_out()).starts_with("HTTP/1.1 431 "));
}

#[test]
fn states_and_closing_before_open() {
    // S1: connecting, open, closed readable throughout. S3: close() before open → closed at once, close
    // event (1000, ""), nothing sent. S2: a server's sends before accept are refused.
    let mut conn = server();
    assert_eq!(conn.driver.state(), State::Connecting);
    assert_eq!(conn.driver.version(), Version::Hybi(13));
    assert_eq!(
        conn.driver.text(&mut conn.tx, &mut conn.rng, "early"),
        Err(SendError::NotOpen)
    );
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, Some(CloseCode::NORMAL), "")
        .unwrap();
    assert_eq!(conn.driver.state(), State::Closed);
    conn.feed(&request("13", ""));
    assert_eq!(conn.take_events(), [Ev::Close(1000, String::new())]);
    assert!(conn.take_out().is_empty());
}

#[test]
fn server_closes_the_transport_after_the_closing_handshake() {
    // S8: the server side tells the I/O layer to close TCP once the close handshake completes.
    let (mut conn, _) = accepted(&request("13", ""), &Accept::default());
    assert!(!conn.driver.should_close_transport());
    conn.feed(&masked(b"\x88\x02\x03\xe8", [1, 1, 1, 1]));
    assert_eq!(conn.driver.state(), State::Closed);
    assert!(conn.driver.should_close_transport());
    assert!(drained(&mut conn.tx).is_empty());
}

#[test]
fn refuse_only_while_a_request_waits() {
    // H6: refuse answers a pending request; once the connection is open (or before a request was
    // reported) it writes no HTTP into the stream.
    let mut conn = server();
    assert_eq!(
        conn.driver.refuse(&mut conn.rx, &mut conn.tx, 403, "no"),
        Err(SendError::NoPendingRequest)
    );
    conn.feed(&request("13", ""));
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.take_out();
    assert_eq!(
        conn.driver.refuse(&mut conn.rx, &mut conn.tx, 403, "no"),
        Err(SendError::NoPendingRequest)
    );
    assert!(conn.take_out().is_empty());
    assert_eq!(conn.driver.state(), State::Open);
}

#[test]
fn refusal_that_does_not_fit_reports_its_size() {
    // H3: a refusal that does not fit the ring says how many bytes it needs, and nothing is written.
    let mut conn = Conn::new(Driver::server(Config::default()), 4096, 140);
    conn.feed(&request("13", ""));
    let reason = "x".repeat(100);
    let err = conn
        .driver
        .refuse(&mut conn.rx, &mut conn.tx, 403, &reason)
        .unwrap_err();
    let expected = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{reason}"
    );
    assert_eq!(
        err,
        SendError::TooLarge {
            size: expected.len(),
            capacity: 140
        }
    );
    assert!(conn.tx.is_empty());
    assert_eq!(conn.driver.state(), State::Connecting, "nothing changed");
    assert!(
        conn.driver
            .refuse(&mut conn.rx, &mut conn.tx, 403, "short")
            .is_ok()
    );
}

#[test]
fn host_can_be_optional() {
    // H3 Decision: Host is required by default; `require_host(false)` restores the originals' leniency,
    // for a missing Host and a repeated one (the originals read the first).
    let requests: [&[u8]; 2] = [
        b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ];
    for req in requests {
        let mut conn = Conn::new(
            Driver::server(Config::default().require_host(false)),
            4096,
            4096,
        );
        conn.feed(req);
        assert!(
            conn.driver
                .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
                .is_ok()
        );
    }
}

#[test]
fn answers_to_plain_http_have_their_reason_phrase() {
    // H6: a request that is not an upgrade may be answered with any status, with its RFC 9110 phrase.
    let mut conn = server();
    conn.feed(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
    let refusal = websocket_driver::Refusal {
        status: 200,
        headers: &[],
        body: b"ok",
    };
    conn.driver
        .refuse_with(&mut conn.rx, &mut conn.tx, &refusal)
        .unwrap();
    let out = text(&conn.take_out());
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nok"), "{out}");
}
