//! The legacy drafts on the server: BEHAVIOUR.md V3, H12–H14, L1–L3 (feature `drafts`, option
//! `allow_drafts`).
#![cfg(feature = "drafts")]

mod support;

use support::{Conn, Ev};
use websocket_driver::{Accept, Config, Driver, ProtocolError, SendError, State, Version};

const HIXIE76: &[u8] = b"GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key2: 27   0E 6 2  1665:< ;U 1H\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\n\
Sec-WebSocket-Key1: 1   38 wZ3f9 23O0 3l 0r\r\nOrigin: http://example.com\r\n\r\n";
const KEY3: [u8; 8] = [0x91, 0x25, 0x3e, 0xd3, 0xa9, 0xe7, 0x6a, 0x88];
const DIGEST: [u8; 16] = [
    0xb4, 0x9c, 0x6e, 0x40, 0x53, 0x04, 0x04, 0x26, 0xe5, 0x1b, 0xbf, 0x6c, 0xb7, 0x9f, 0x1d, 0xf9,
];
const HIXIE75: &[u8] =
    b"GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\n\
Origin: http://example.com\r\n\r\n";

fn server() -> Conn {
    Conn::new(
        Driver::server(Config::default().allow_drafts(true).max_length(1 << 16)),
        16 * 1024,
        16 * 1024,
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn hixie75_handshake() {
    // V3 H12: hixie-75 answer with origin and location, open at once; wss:// when the app says secure.
    for (secure, scheme) in [(false, "ws"), (true, "wss")] {
        let mut conn = server();
        conn.feed(HIXIE75);
        assert_eq!(
            conn.take_events(),
            [Ev::Connect("GET".into(), "/demo".into())]
        );
        conn.driver
            .accept(
                &mut conn.rx,
                &mut conn.tx,
                &Accept {
                    secure,
                    ..Accept::default()
                },
            )
            .unwrap();
        assert_eq!(conn.driver.version(), Version::Hixie75);
        assert_eq!(conn.driver.version().as_str(), "hixie-75");
        assert_eq!(
            text(&conn.take_out()),
            format!(
                "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
WebSocket-Origin: http://example.com\r\nWebSocket-Location: {scheme}://example.com/demo\r\n\r\n"
            )
        );
        conn.pump();
        assert_eq!(conn.take_events(), [Ev::Open(None)]);
        assert_eq!(conn.driver.state(), State::Open);
    }
}

#[test]
fn hixie76_handshake_vector() {
    // H13: the response head, then MD5(BE32(v1) ‖ BE32(v2) ‖ body) as a 16-byte body.
    let mut conn = server();
    let mut bytes = HIXIE76.to_vec();
    bytes.extend_from_slice(&KEY3);
    conn.feed(&bytes);
    let accept = Accept {
        protocols: &["sample"],
        ..Accept::default()
    };
    assert_eq!(
        conn.driver.accept(&mut conn.rx, &mut conn.tx, &accept),
        Ok(Some(0))
    );
    conn.pump();
    assert_eq!(
        conn.take_events(),
        [Ev::Connect("GET".into(), "/demo".into()), Ev::Open(None)]
    );
    let out = conn.take_out();
    let head = "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Location: ws://example.com/demo\r\n\
Sec-WebSocket-Protocol: sample\r\n\r\n";
    assert_eq!(text(&out[..head.len()]), head);
    assert_eq!(out[head.len()..], DIGEST);
    assert_eq!(conn.driver.version(), Version::Hixie76);
}

#[test]
fn hixie76_invalid_keys() {
    // H13: a key with no digits/spaces, not divisible, or over 2^32−1 → 400 "Client sent invalid
    // Sec-WebSocket-Key headers".
    let invalid = text(HIXIE76).replace("1   38 wZ3f9 23O0 3l 0r", "2 L785 8o% s9Sy9@V. 4<1P5");
    // V3: either numbered key makes the request hixie-76, whose two keys must then both be valid:
    // one missing, or one given twice, is refused too (not served as hixie-75).
    let one = text(HIXIE76).replace("Sec-WebSocket-Key2: 27   0E 6 2  1665:< ;U 1H\r\n", "");
    let twice = text(HIXIE76).replace(
        "Origin:",
        "Sec-WebSocket-Key1: 1   38 wZ3f9 23O0 3l 0r\r\nOrigin:",
    );
    for bad in [invalid, one, twice] {
        let mut conn = server();
        conn.feed(bad.as_bytes());
        conn.take_events();
        let result = conn
            .driver
            .accept(&mut conn.rx, &mut conn.tx, &Accept::default());
        assert!(result.is_err(), "{bad}");
        let out = text(&conn.take_out());
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nClient sent invalid Sec-WebSocket-Key headers"));
    }
}

#[test]
fn deferred_body_in_any_split() {
    // H14: fewer than 8 body bytes → still connecting; the 8th (in any split) sends the digest, opens,
    // flushes what was queued, and what follows is parsed.
    let mut stream = HIXIE76.to_vec();
    stream.extend_from_slice(&KEY3);
    stream.extend_from_slice(b"\x00Hello\xff");
    for cut in HIXIE76.len()..stream.len() {
        let mut conn = server();
        conn.feed(&stream[..HIXIE76.len()]);
        conn.driver
            .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
            .unwrap();
        conn.driver
            .text(&mut conn.tx, &mut conn.rng, "queued")
            .unwrap();
        conn.feed(&stream[HIXIE76.len()..cut]);
        if cut < HIXIE76.len() + 8 {
            assert_eq!(conn.driver.state(), State::Connecting, "cut {cut}");
        }
        conn.feed(&stream[cut..]);
        let events = conn.take_events();
        assert_eq!(
            events[1..],
            [Ev::Open(None), Ev::text("Hello")],
            "cut {cut}"
        );
        let out = conn.take_out();
        let digest_at = out.len() - 16 - 8;
        assert_eq!(out[digest_at..digest_at + 16], DIGEST);
        assert_eq!(out[digest_at + 16..], *b"\x00queued\xff");
    }
}

#[test]
fn draft_text_frames() {
    // L1: 00 text ff; two frames in one read; split anywhere; a length-prefixed frame is skipped.
    let mut stream = HIXIE75.to_vec();
    let head_len = stream.len();
    stream.extend_from_slice(b"\x00Hello\xff\x00caf\xc3\xa9\xff\x80\x02\x48\x65\x00Hello\xff");
    for cut in head_len..stream.len() {
        let mut conn = server();
        conn.feed(&stream[..head_len]);
        conn.driver
            .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
            .unwrap();
        conn.feed(&stream[head_len..cut]);
        conn.feed(&stream[cut..]);
        assert_eq!(
            conn.take_events()[1..],
            [
                Ev::Open(None),
                Ev::text("Hello"),
                Ev::text("café"),
                Ev::text("Hello")
            ]
        );
    }
    // L1 L3: we send text as 00 text ff; binary, ping and pong say they are unsupported.
    let mut conn = server();
    conn.feed(HIXIE75);
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.take_out();
    conn.driver.text(&mut conn.tx, &mut conn.rng, "hi").unwrap();
    assert_eq!(conn.take_out(), b"\x00hi\xff");
    assert_eq!(
        conn.driver.binary(&mut conn.tx, &mut conn.rng, b"x"),
        Err(SendError::UnsupportedByDraft)
    );
    assert_eq!(
        conn.driver.ping(&mut conn.tx, &mut conn.rng, b""),
        Err(SendError::UnsupportedByDraft)
    );
    assert_eq!(
        conn.driver.pong(&mut conn.tx, &mut conn.rng, b""),
        Err(SendError::UnsupportedByDraft)
    );
}

#[test]
fn length_prefix_is_bounded() {
    // L2: the length prefix is bounded by max_length while it is read; a ff inside a skipped frame is data.
    let mut conn = server();
    conn.feed(HIXIE75);
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.feed(b"\x81\x03\xff\xff\xff\x00A\xff");
    assert_eq!(conn.take_events()[1..], [Ev::Open(None), Ev::text("A")]);
    conn.feed(&[0xff; 64]);
    let events = conn.take_events();
    assert_eq!(events[0], Ev::Error(ProtocolError::MessageTooBig));
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn hixie76_closing() {
    // L3: hixie-76 close is ff 00 (answered once); hixie-75 has none; nothing is sent after close.
    let mut conn = server();
    let mut bytes = HIXIE76.to_vec();
    bytes.extend_from_slice(&KEY3);
    conn.feed(&bytes);
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.pump();
    conn.take_out();
    conn.take_events();
    conn.feed(b"\xff\x00\x00late\xff");
    assert_eq!(conn.take_events(), [Ev::Close(1000, String::new())]);
    assert_eq!(conn.take_out(), b"\xff\x00");
    assert_eq!(
        conn.driver.text(&mut conn.tx, &mut conn.rng, "x"),
        Err(SendError::Closed)
    );
    // Our close: hixie-76 sends ff 00, hixie-75 nothing; closed at once.
    let mut conn = server();
    conn.feed(HIXIE75);
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.take_out();
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, None, "")
        .unwrap();
    assert!(conn.take_out().is_empty());
    assert_eq!(conn.driver.state(), State::Closed);
    conn.feed(b"\x00after\xff");
    assert_eq!(
        conn.take_events().last(),
        Some(&Ev::Close(1000, String::new()))
    );
}

#[test]
fn hixie76_close_waits_for_room() {
    // L3 backpressure: a hixie-76 closing frame whose answer does not fit stays unconsumed until the
    // ring is drained; it is answered then, not lost.
    let mut conn = Conn::new(
        Driver::server(Config::default().allow_drafts(true)),
        16 * 1024,
        400,
    );
    let mut bytes = HIXIE76.to_vec();
    bytes.extend_from_slice(&KEY3);
    conn.feed(&bytes);
    conn.driver
        .accept(&mut conn.rx, &mut conn.tx, &Accept::default())
        .unwrap();
    conn.pump();
    conn.take_out();
    conn.take_events();
    let fill = "f".repeat(conn.tx.free() - 3);
    conn.driver
        .text(&mut conn.tx, &mut conn.rng, &fill)
        .unwrap();
    assert!(conn.tx.free() < 2);
    conn.rx.write(b"\xff\x00");
    let polled = conn
        .driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        .unwrap();
    assert!(
        matches!(polled, Some(websocket_driver::Event::TxFull { needed: 2 })),
        "{polled:?}"
    );
    assert_eq!(conn.rx.len(), 2, "the closing frame is not consumed");
    assert_eq!(conn.driver.state(), State::Open);
    conn.take_out();
    conn.pump();
    assert_eq!(conn.take_events(), [Ev::Close(1000, String::new())]);
    assert_eq!(conn.take_out(), b"\xff\x00");
}
