//! States and the closing handshake: BEHAVIOUR.md S4–S7, and backpressure on automatic replies.

mod support;

use support::{Conn, Ev, Pair, lenient};
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{
    CloseCode, Config, Driver, Event, Instant, ProtocolError, RxBuf, SendError, State, TxRing,
};

#[test]
fn close_when_open_then_peer_close() {
    // S4: close() sends a close frame and moves to closing; data still arrives; no more data is sent;
    // the close event comes with the peer's close, which is not echoed.
    // F13 (RFC 6455 §5.5.2): a ping that arrives after our close, before the peer's, is still answered.
    let mut conn = Conn::server(lenient());
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, Some(CloseCode::NORMAL), "bye")
        .unwrap();
    assert_eq!(conn.driver.state(), State::Closing);
    assert_eq!(conn.take_out(), b"\x88\x05\x03\xe8bye");
    conn.feed(b"\x81\x02hi\x89\x00");
    assert_eq!(conn.take_events(), [Ev::text("hi"), Ev::Ping(vec![])]);
    assert_eq!(conn.take_out(), b"\x8a\x00", "a pong after our close (F13)");
    assert_eq!(
        conn.driver.text(&mut conn.tx, &mut conn.rng, "x"),
        Err(SendError::Closed)
    );
    conn.feed(b"\x88\x02\x03\xe8");
    assert_eq!(conn.take_events(), [Ev::Close(1000, String::new())]);
    assert!(conn.take_out().is_empty(), "no echo while closing (S5)");
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn peer_close_while_open_is_echoed() {
    // S5: the same code is echoed; state closed; close event.
    let mut conn = Conn::server(lenient());
    conn.feed(b"\x88\x02\x0f\xa0");
    assert_eq!(conn.take_events(), [Ev::Close(4000, String::new())]);
    assert_eq!(conn.take_out(), b"\x88\x02\x0f\xa0");
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn protocol_error_is_reported_once_then_closed() {
    // S6: close frame with code and reason, error then close, closed, later input ignored, one error.
    let mut conn = Conn::server(lenient());
    conn.feed(b"\x83\x00\x81\x02hi\x84\x00");
    let reason = ProtocolError::UnknownOpcode(3).to_string();
    assert_eq!(
        conn.take_events(),
        [
            Ev::Error(ProtocolError::UnknownOpcode(3)),
            Ev::Close(1002, reason.clone())
        ]
    );
    conn.feed(b"\x81\x02hi\x84\x00");
    assert!(conn.take_events().is_empty());
    let mut expected = b"\x88".to_vec();
    expected.push(2 + reason.len() as u8);
    expected.extend_from_slice(b"\x03\xea");
    expected.extend_from_slice(reason.as_bytes());
    assert_eq!(conn.take_out(), expected);
    assert_eq!(conn.driver.failure(), Some(ProtocolError::UnknownOpcode(3)));
}

#[test]
fn failure_close_waits_for_room_and_goes_first() {
    // S6: when the close frame does not fit yet, it is sent as soon as it fits, before anything else.
    let mut driver = Driver::server_upgraded(lenient());
    let mut rx = RxBuf::new(vec![0u8; 256]);
    let mut tx = TxRing::new(vec![0u8; 140]);
    let mut rng = SplitMix::new(3);
    driver.binary(&mut tx, &mut rng, &[0; 120]).unwrap();
    rx.write(b"\x83\x00");
    let err = driver
        .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
        .unwrap_err();
    assert_eq!(
        err,
        websocket_driver::Error::Protocol(ProtocolError::UnknownOpcode(3))
    );
    let needed = match driver
        .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
        .unwrap()
    {
        Some(Event::TxFull { needed }) => needed,
        other => panic!("{other:?}"),
    };
    assert!(needed > tx.free());
    assert_eq!(driver.text(&mut tx, &mut rng, "x"), Err(SendError::Closed));
    tx.consume(122);
    match driver
        .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
        .unwrap()
    {
        Some(Event::Close { code, .. }) => assert_eq!(code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    assert!(tx.peek().starts_with(b"\x88"));
    assert!(
        driver
            .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
            .unwrap()
            .is_none()
    );
}

#[test]
fn nothing_is_sent_after_closed() {
    // S7: after closed, text/binary/ping/pong/close all report that nothing can be sent.
    let mut conn = Conn::server(lenient());
    conn.feed(b"\x88\x00");
    let (d, tx, rng) = (&mut conn.driver, &mut conn.tx, &mut conn.rng);
    assert_eq!(d.text(tx, rng, "a"), Err(SendError::Closed));
    assert_eq!(d.binary(tx, rng, b"a"), Err(SendError::Closed));
    assert_eq!(d.ping(tx, rng, b"a"), Err(SendError::Closed));
    assert_eq!(d.pong(tx, rng, b"a"), Err(SendError::Closed));
    assert_eq!(d.close(tx, rng, None, ""), Err(SendError::Closed));
    assert_eq!(conn.take_out(), b"\x88\x00");
}

#[test]
fn auto_pong_waits_for_room() {
    // F13 backpressure: a ping whose pong does not fit is kept (its header read, its payload and what
    // follows left in the buffer) until the ring is drained.
    let mut driver = Driver::server_upgraded(lenient());
    let mut rx = RxBuf::new(vec![0u8; 256]);
    let mut tx = TxRing::new(vec![0u8; 140]);
    let mut rng = SplitMix::new(3);
    driver.binary(&mut tx, &mut rng, &[0; 135]).unwrap();
    rx.write(b"\x89\x05hello\x81\x01a");
    assert_eq!(
        driver
            .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
            .unwrap(),
        Some(Event::TxFull { needed: 7 })
    );
    assert_eq!(
        rx.readable(),
        b"hello\x81\x01a",
        "the payload and what follows kept"
    );
    tx.consume(tx.ready());
    assert_eq!(
        driver
            .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
            .unwrap(),
        Some(Event::Ping(b"hello"))
    );
    let mut out = Vec::new();
    while tx.ready() > 0 {
        out.extend_from_slice(tx.peek());
        tx.consume(tx.peek().len());
    }
    assert_eq!(out, b"\x8a\x05hello");
    assert_eq!(
        driver
            .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
            .unwrap(),
        Some(Event::Text {
            data: "a",
            fin: true
        })
    );
}

#[test]
fn pair_conversation_and_closing_handshake() {
    // S4 S5: a client and a server back to back; client-initiated close completes on both sides.
    let mut pair = Pair::new(Config::default(), Config::default());
    pair.server.rx = RxBuf::new(vec![0; 1 << 17]); // holds the whole 70000-byte message, echoed whole
    pair.server.echo = true;
    pair.client
        .driver
        .text(&mut pair.client.tx, &mut pair.client.rng, "Hello")
        .unwrap();
    pair.client
        .driver
        .binary(&mut pair.client.tx, &mut pair.client.rng, &[0u8; 70000])
        .unwrap();
    pair.client
        .driver
        .ping(&mut pair.client.tx, &mut pair.client.rng, b"p")
        .unwrap();
    pair.drive();
    let events = pair.client.take_events();
    assert_eq!(events[0], Ev::text("Hello"));
    let binary: Vec<u8> = events[1..]
        .iter()
        .filter_map(|e| match e {
            Ev::Binary(b, _) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(binary.len(), 70000);
    assert_eq!(events.last(), Some(&Ev::Pong(b"p".to_vec())));
    pair.client
        .driver
        .close(
            &mut pair.client.tx,
            &mut pair.client.rng,
            Some(CloseCode::GOING_AWAY),
            "done",
        )
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.server.take_events().last(),
        Some(&Ev::Close(1001, "done".into()))
    );
    assert_eq!(pair.client.take_events(), [Ev::Close(1001, "done".into())]);
    assert_eq!(pair.client.driver.state(), State::Closed);
    assert_eq!(pair.server.driver.state(), State::Closed);
}
