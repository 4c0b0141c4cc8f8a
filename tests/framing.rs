//! Receiving frames: BEHAVIOUR.md F1–F14, with the vectors given there, unmasked (server with
//! `require_masking` off) and masked (the default server).

mod support;

use support::{Conn, Ev, frame, lenient, masked};
use websocket_driver::{
    Config, Driver, MIN_RX_CAPACITY, MIN_TX_CAPACITY as MIN_TX, ProtocolError, State,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Feeds `bytes` to a lenient server unmasked, and to a strict server masked frame by frame; both must
/// see the same events. Returns them and the lenient server.
fn both(frames: &[&[u8]]) -> (Vec<Ev>, Conn) {
    let mut plain = Conn::server(lenient());
    let mut strict = Conn::server(Config::default());
    for f in frames {
        plain.feed(f);
        strict.feed(&masked(f, KEY));
    }
    let events = plain.take_events();
    assert_eq!(events, strict.take_events(), "masked and unmasked differ");
    (events, plain)
}

fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    frame(0x88, &payload)
}

#[test]
fn hello_binary_and_empty() {
    // F14: 81 05 "Hello" → text; 82 05 → binary; 81 00 → "".
    let (ev, _) = both(&[b"\x81\x05Hello", b"\x82\x05Hello", b"\x81\x00"]);
    assert_eq!(ev, [Ev::text("Hello"), Ev::binary(b"Hello"), Ev::text("")]);
}

#[test]
fn fragments_as_chunks_or_reassembled() {
    // F14: 01 03 48 65 6c + 80 02 6c 6f → chunks "Hel"/"lo" (fin false/true), or "Hello" with reassembly.
    let (ev, _) = both(&[b"\x01\x03Hel", b"\x80\x02lo"]);
    assert_eq!(
        ev,
        [Ev::Text("Hel".into(), false), Ev::Text("lo".into(), true)]
    );
    let mut whole = Conn::server(lenient().reassemble(true));
    whole.feed(b"\x01\x03Hel\x80\x02lo");
    assert_eq!(whole.take_events(), [Ev::text("Hello")]);
}

#[test]
fn multibyte_text_split_anywhere() {
    // F14 F10: "Apple = \u{F8FF}" whole, split after 6 bytes, and as 01 0a …ef a3 + 80 01 bf.
    let whole = b"\x81\x0bApple = \xef\xa3\xbf";
    let (ev, _) = both(&[whole]);
    assert_eq!(ev, [Ev::text("Apple = \u{F8FF}")]);
    let mut split = Conn::server(lenient());
    split.feed_split(whole, &[6]);
    assert_eq!(split.take_events(), [Ev::text("Apple = \u{F8FF}")]);
    // The split code point waits for the next fragment, so each chunk is a &str.
    let (ev, _) = both(&[b"\x01\x0aApple = \xef\xa3", b"\x80\x01\xbf"]);
    assert_eq!(
        ev,
        [
            Ev::Text("Apple = ".into(), false),
            Ev::Text("\u{F8FF}".into(), true)
        ]
    );
    let mut whole = Conn::server(lenient().reassemble(true));
    whole.feed(b"\x01\x0aApple = \xef\xa3\x80\x01\xbf");
    assert_eq!(whole.take_events(), [Ev::text("Apple = \u{F8FF}")]);
}

#[test]
fn sixteen_bit_length() {
    // F14: 81 7e 00 c8 + "Hello"×40.
    let text = "Hello".repeat(40);
    let mut bytes = b"\x81\x7e\x00\xc8".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    let (ev, _) = both(&[&bytes]);
    assert_eq!(ev, [Ev::text(&text)]);
}

#[test]
fn unknown_opcode_closes_with_1002() {
    // F2 F14: 83 00 → close 1002 "Unrecognized frame opcode: 3".
    let (ev, conn) = both(&[b"\x83\x00"]);
    assert_eq!(
        ev,
        [
            Ev::Error(ProtocolError::UnknownOpcode(3)),
            Ev::Close(1002, "Unrecognized frame opcode: 3".into())
        ]
    );
    assert_eq!(conn.out, close_frame(1002, "Unrecognized frame opcode: 3"));
}

#[test]
fn close_is_echoed() {
    // F14 S5: 88 07 03 e8 "Hello" → we echo the same bytes; close event (1000, "Hello").
    let (ev, mut conn) = both(&[b"\x88\x07\x03\xe8Hello"]);
    assert_eq!(ev, [Ev::Close(1000, "Hello".into())]);
    assert_eq!(conn.take_out(), b"\x88\x07\x03\xe8Hello");
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn ping_gets_a_pong() {
    // F13 F14: 89 04 "OHAI" → we send 8a 04 "OHAI", then a ping event.
    let (ev, mut conn) = both(&[b"\x89\x04OHAI"]);
    assert_eq!(ev, [Ev::Ping(b"OHAI".to_vec())]);
    assert_eq!(conn.take_out(), b"\x8a\x04OHAI");
}

#[test]
fn long_length_encodings_fit_the_smallest_buffer() {
    // F13 F11: a 125-byte ping with a 64-bit length (14-byte header, 139 bytes in all) and a 16-bit one,
    // between the fragments of a text message cut inside a code point, through a buffer of
    // MIN_RX_CAPACITY: the header is dropped once read, so the payload fits and the ping is answered.
    let payload = [0x61; 125];
    let ping64 = [&[0x89, 127, 0, 0, 0, 0, 0, 0, 0, 125][..], &payload].concat();
    let ping16 = [&[0x89, 126, 0, 125][..], &payload].concat();
    let text = "a\u{10348}".as_bytes(); // a 4-byte code point
    let input = [
        &[0x01, 3][..],
        &text[..3],
        &ping64,
        &ping16,
        &[0x80, 2],
        &text[3..],
    ]
    .concat();
    let pong = [&[0x8a, 125][..], &payload].concat();
    for whole in [true, false] {
        let mut conn = Conn::new(Driver::server_upgraded(lenient()), MIN_RX_CAPACITY, 4096);
        if whole {
            conn.feed(&input);
        } else {
            let cuts: Vec<usize> = (1..input.len()).collect();
            conn.feed_split(&input, &cuts);
        }
        let (mut pings, mut text) = (0, String::new());
        for ev in conn.take_events() {
            match ev {
                Ev::Ping(p) if p == payload => pings += 1,
                Ev::Text(s, _) => text.push_str(&s),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((pings, text.as_str()), (2, "a\u{10348}"));
        assert_eq!(conn.take_out(), [&pong[..], &pong].concat());
    }
}

#[test]
fn pong_is_queued_ahead_of_later_data() {
    // F13: the pong is queued at once, before what the application sends after the event.
    let mut conn = Conn::server(lenient());
    conn.echo = true;
    conn.feed(b"\x81\x02hi\x89\x01p\x81\x02yo");
    assert_eq!(conn.take_out(), b"\x81\x02hi\x8a\x01p\x81\x02yo");
}

fn fails_with(frames: &[&[u8]], error: ProtocolError, code: u16) {
    let (ev, conn) = both(frames);
    let reason = error.to_string();
    assert_eq!(ev.last(), Some(&Ev::Close(code, reason.clone())), "{ev:?}");
    assert_eq!(ev[ev.len() - 2], Ev::Error(error));
    assert!(
        conn.out.ends_with(&close_frame(code, &reason)),
        "{:02x?}",
        conn.out
    );
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn reserved_bits_fail() {
    // F1: RSV without an extension, or on control/continuation frames → 1002.
    use websocket_driver::Rsv;
    fails_with(&[b"\xc1\x00"], ProtocolError::ReservedBits(Rsv::RSV1), 1002);
    fails_with(&[b"\xa2\x00"], ProtocolError::ReservedBits(Rsv::RSV2), 1002);
    fails_with(&[b"\x99\x00"], ProtocolError::ReservedBits(Rsv::RSV3), 1002);
    // With RSV1 owned by an extension: allowed on the first frame, not on continuation or control.
    let mut conn = Conn::server(lenient());
    conn.driver.set_allowed_rsv(Rsv::RSV1);
    conn.feed(b"\x41\x02ab\x80\x01c");
    assert_eq!(
        conn.take_events(),
        [
            Ev::Ext(
                websocket_driver::DataKind::Text,
                0x40,
                b"ab".to_vec(),
                false
            ),
            Ev::Ext(websocket_driver::DataKind::Text, 0x40, b"c".to_vec(), true)
        ]
    );
    conn.feed(b"\x41\x01a\xc0\x01b");
    assert_eq!(
        conn.take_events()[1],
        Ev::Error(ProtocolError::ReservedBits(Rsv::RSV1))
    );
}

#[test]
fn control_frame_rules() {
    // F3: fragmented control → 1002. F4: control payload > 125 → 1002.
    fails_with(&[b"\x09\x00"], ProtocolError::FragmentedControl(9), 1002);
    let mut long = b"\x89\x7e\x00\x7e".to_vec();
    long.extend_from_slice(&[b'x'; 126]);
    fails_with(&[&long], ProtocolError::ControlTooLong(126), 1002);
}

#[test]
fn fragmentation_sequence_rules() {
    // F5: a new data frame inside an open message → 1002. F6: continuation with none open → 1002.
    fails_with(
        &[b"\x01\x01a", b"\x81\x01b"],
        ProtocolError::UnfinishedMessage,
        1002,
    );
    fails_with(&[b"\x80\x01a"], ProtocolError::UnexpectedContinuation, 1002);
}

#[test]
fn control_frames_between_fragments() {
    // F11: a ping and a pong between fragments are handled at once.
    let (ev, mut conn) = both(&[b"\x01\x03Hel", b"\x89\x01p", b"\x8a\x01q", b"\x80\x02lo"]);
    assert_eq!(
        ev,
        [
            Ev::Text("Hel".into(), false),
            Ev::Ping(b"p".to_vec()),
            Ev::Pong(b"q".to_vec()),
            Ev::Text("lo".into(), true)
        ]
    );
    assert_eq!(conn.take_out(), b"\x8a\x01p");
    let mut whole = Conn::server(Config::default().reassemble(true));
    for f in [
        &b"\x01\x03Hel"[..],
        b"\x89\x01p",
        b"\x00\x01l",
        b"\x8a\x00",
        b"\x80\x01o",
    ] {
        whole.feed(&masked(f, KEY));
    }
    assert_eq!(
        whole.take_events(),
        [Ev::Ping(b"p".to_vec()), Ev::Pong(vec![]), Ev::text("Hello")]
    );
}

#[test]
fn masking_by_role() {
    // F7: a server refuses unmasked frames (1002); a client refuses masked frames (1002).
    let mut server = Conn::server(Config::default());
    server.feed(b"\x81\x02hi");
    assert_eq!(
        server.take_events(),
        [
            Ev::Error(ProtocolError::UnmaskedFrame),
            Ev::Close(1002, ProtocolError::UnmaskedFrame.to_string())
        ]
    );
    let mut client = Conn::client(Config::default());
    client.feed(&masked(b"\x81\x02hi", KEY));
    assert_eq!(
        client.take_events()[0],
        Ev::Error(ProtocolError::MaskedFrame)
    );
    let mut client = Conn::client(Config::default());
    client.feed(b"\x81\x02hi");
    assert_eq!(client.take_events(), [Ev::text("hi")]);
}

#[test]
fn top_bit_length_fails() {
    // F8: 64-bit length with the most significant bit set → 1002.
    fails_with(
        &[b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01"],
        ProtocolError::LengthOverflow,
        1002,
    );
}

#[test]
fn max_length_from_the_header() {
    // F9: `81 7f 00 00 00 00 40 00 00 00` → 1009 before any payload; equal is allowed; totals count.
    fails_with(
        &[b"\x81\x7f\x00\x00\x00\x00\x40\x00\x00\x00"],
        ProtocolError::MessageTooBig,
        1009,
    );
    let mut conn = Conn::server(lenient().max_length(5));
    conn.feed(b"\x82\x05Hello");
    assert_eq!(conn.take_events(), [Ev::binary(b"Hello")]);
    conn.feed(b"\x02\x03Hel\x80\x03lo!");
    let ev = conn.take_events();
    assert_eq!(ev[1], Ev::Error(ProtocolError::MessageTooBig));
    assert_eq!(
        ev[2],
        Ev::Close(1009, "WebSocket frame length too large".into())
    );
}

#[test]
fn invalid_utf8_fails_fast() {
    // F10: invalid UTF-8 → 1007 as soon as the bytes arrive: here the frame announces 100 bytes, and
    // only 14 have arrived when the connection fails.
    let mut conn = Conn::server(lenient());
    let mut head = b"\x81\x64".to_vec();
    head.extend_from_slice(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80");
    conn.feed(&head);
    let ev = conn.take_events();
    assert_eq!(ev[0], Ev::Error(ProtocolError::InvalidUtf8));
    assert_eq!(
        ev[1],
        Ev::Close(1007, "Could not decode a text frame as UTF-8".into())
    );
    // Inside a fragment of a message.
    let mut conn = Conn::server(lenient());
    conn.feed(b"\x01\x02ok\x00\x05\xf4\x90");
    assert_eq!(conn.take_events()[1], Ev::Error(ProtocolError::InvalidUtf8));
    // A message ending inside a code point.
    fails_with(&[b"\x81\x02a\xe2"], ProtocolError::InvalidUtf8, 1007);
    // Compressed messages are not checked by the core.
    let mut conn = Conn::server(lenient());
    conn.driver.set_allowed_rsv(websocket_driver::Rsv::RSV1);
    conn.feed(b"\xc1\x02\xff\xfe");
    assert_eq!(
        conn.take_events(),
        [Ev::Ext(
            websocket_driver::DataKind::Text,
            0x40,
            vec![0xff, 0xfe],
            true
        )]
    );
}

#[test]
fn close_payload_rules() {
    // F12: empty close → 1005 reported and an empty close echoed; 1-byte, bad code, bad UTF-8 → 1002.
    let (ev, mut conn) = both(&[b"\x88\x00"]);
    assert_eq!(ev, [Ev::Close(1005, String::new())]);
    assert_eq!(conn.take_out(), b"\x88\x00");
    fails_with(
        &[b"\x88\x01\x03"],
        ProtocolError::ClosePayloadTooShort,
        1002,
    );
    for code in [999u16, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        fails_with(
            &[&close_frame(code, "")],
            ProtocolError::InvalidCloseCode(code),
            1002,
        );
    }
    fails_with(
        &[b"\x88\x03\x03\xe8\xff"],
        ProtocolError::InvalidCloseReason,
        1002,
    );
    for code in [1000u16, 1003, 1007, 1012, 1013, 1014, 3000, 4999] {
        let (ev, _) = both(&[&close_frame(code, "ok")]);
        assert_eq!(ev, [Ev::Close(code, "ok".into())]);
    }
}

#[test]
fn nothing_after_the_peer_close() {
    // S5: input after the close is ignored.
    let (ev, mut conn) = both(&[b"\x88\x02\x03\xe8", b"\x81\x02hi"]);
    assert_eq!(ev, [Ev::Close(1000, String::new())]);
    assert_eq!(conn.take_out(), b"\x88\x02\x03\xe8");
    assert_eq!(conn.driver.state(), State::Closed);
}

#[test]
fn buffer_minimums_are_checked() {
    let mut conn = Conn::new(Driver::server_upgraded(lenient()), 64, 4096);
    let err = conn
        .driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        .unwrap_err();
    assert_eq!(
        err,
        websocket_driver::Error::BufferTooSmall {
            capacity: 64,
            minimum: 134
        }
    );
}

/// Polls without draining the transmit ring until `poll` is idle or reports `TxFull`; returns the
/// pings' payloads and whether the ring was full.
fn poll_undrained(conn: &mut Conn) -> (Vec<Vec<u8>>, bool) {
    let mut pings = Vec::new();
    loop {
        match conn
            .driver
            .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        {
            Ok(None) => return (pings, false),
            Ok(Some(websocket_driver::Event::Ping(p))) => pings.push(p.to_vec()),
            Ok(Some(websocket_driver::Event::TxFull { .. })) => return (pings, true),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn coalesced_pongs_answer_only_the_newest_ping() {
    // F13 (RFC 6455 §5.5.3): with `coalesce_pongs` on, three pings whose pongs are still unsent leave
    // one pong, the newest ping's; off, every ping gets its own.
    let input = [frame(0x89, b"a"), frame(0x89, b"bb"), frame(0x89, b"ccc")].concat();
    for on in [false, true] {
        let mut conn = Conn::server(lenient());
        conn.driver.coalesce_pongs(on);
        assert_eq!(conn.rx.write(&input), input.len());
        let (pings, full) = poll_undrained(&mut conn);
        assert_eq!(pings, [b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
        assert!(!full);
        let want = if on {
            frame(0x8a, b"ccc")
        } else {
            [frame(0x8a, b"a"), frame(0x8a, b"bb"), frame(0x8a, b"ccc")].concat()
        };
        assert_eq!(conn.take_out(), want, "coalescing {on}");
    }
}

#[test]
fn a_pong_is_replaced_only_while_wholly_unsent_and_last() {
    // F13: coalescing never drops bytes already (partly) written, nor reorders around the
    // application's frames: a pong behind data, or one whose first byte went out, stays.
    let mut conn = Conn::server(lenient());
    conn.driver.coalesce_pongs(true);
    conn.rx.write(&frame(0x89, b"a"));
    poll_undrained(&mut conn);
    conn.driver
        .text(&mut conn.tx, &mut conn.rng, "hi")
        .expect("open");
    conn.rx.write(&frame(0x89, b"b"));
    poll_undrained(&mut conn);
    let first = conn.tx.peek()[0];
    conn.tx.consume(1);
    conn.rx.write(&frame(0x89, b"c"));
    poll_undrained(&mut conn);
    let mut out = vec![first];
    out.extend(conn.take_out());
    let want = [frame(0x8a, b"a"), frame(0x81, b"hi"), frame(0x8a, b"c")].concat();
    assert_eq!(
        out, want,
        "b's pong was last and unsent when c came: replaced"
    );
    // Now the pong "d" goes out in part before "e" arrives: both stay.
    conn.rx.write(&frame(0x89, b"d"));
    poll_undrained(&mut conn);
    conn.tx.consume(1);
    conn.rx.write(&frame(0x89, b"e"));
    poll_undrained(&mut conn);
    assert_eq!(
        conn.take_out(),
        [&frame(0x8a, b"d")[1..], &frame(0x8a, b"e")].concat()
    );
}

#[test]
fn a_client_replaces_its_masked_pong_and_a_full_ring_makes_room() {
    // F13 F16: a client's pongs are masked; the one left answers the newest ping, under a fresh key.
    // A ring with room for one pong (a 118-byte frame of ours fills 131 bytes but 13): without
    // coalescing the second ping waits (TxFull), with it the first pong makes way.
    let pings = [frame(0x89, b"ping-1"), frame(0x89, b"ping-22")].concat();
    for on in [false, true] {
        let mut conn = Conn::new(Driver::client_upgraded(Config::default()), 4096, MIN_TX);
        conn.driver.coalesce_pongs(on);
        conn.driver
            .binary(&mut conn.tx, &mut conn.rng, &[7; 112])
            .expect("fits");
        assert_eq!(conn.tx.free(), 13);
        conn.rx.write(&pings);
        let (got, full) = poll_undrained(&mut conn);
        assert_eq!(full, !on);
        let out = conn.take_out().split_off(118);
        if on {
            assert_eq!(got, [b"ping-1".to_vec(), b"ping-22".to_vec()]);
            assert_eq!(out.len(), 2 + 4 + 7);
            assert_eq!(out[..2], [0x8a, 0x80 | 7]);
            let key = [out[2], out[3], out[4], out[5]];
            assert_eq!(masked(&frame(0x8a, b"ping-22"), key), out);
        } else {
            assert_eq!(got, [b"ping-1".to_vec()]);
            assert_eq!(out.len(), 2 + 4 + 6);
        }
    }
}
