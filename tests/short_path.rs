//! The short path for a whole frame (`src/driver/fast.rs`) against the full path: the same bytes, fed in
//! one piece (whole frames: the short path takes what it may) and one byte at a time (never a whole
//! frame: the full path only), must give the same events, errors and output — also for hostile frames
//! (any first byte, masked or not, lengths around `max_length`, invalid UTF-8), in both roles.

mod support;

use proptest::prelude::*;
use support::{Conn, Ev, frame, masked};
use websocket_driver::{Config, Driver, ProtocolError};

#[derive(Clone, Debug)]
struct Raw {
    b0: u8,
    payload: Vec<u8>,
    mask: Option<[u8; 4]>,
}

fn raw() -> impl Strategy<Value = Raw> {
    let b0 = prop_oneof![
        // Mostly the short path's own first bytes, then anything.
        4 => prop::sample::select(vec![0x81u8, 0x82]),
        1 => prop::sample::select(vec![0x01u8, 0x02, 0x00, 0x80, 0x89, 0x8a, 0xc1, 0x83]),
        1 => any::<u8>(),
    ];
    let payload = prop_oneof![
        3 => "(\\PC|[\u{80}-\u{10ffff}]){0,40}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..70),
        // Around a `max_length` of 64 and the 7/16-bit length forms.
        1 => (60usize..70).prop_map(|n| vec![b'a'; n]),
        1 => (124usize..130).prop_map(|n| vec![b'b'; n]),
    ];
    (b0, payload, prop::option::weighted(0.8, any::<[u8; 4]>()))
        .prop_map(|(b0, payload, mask)| Raw { b0, payload, mask })
}

fn wire(frames: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        let plain = frame(f.b0, &f.payload);
        match f.mask {
            Some(key) => out.extend(masked(&plain, key)),
            None => out.extend(plain),
        }
    }
    out
}

fn run(driver: Driver, bytes: &[u8], one_by_one: bool) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Conn::new(driver, 1024, 1 << 16);
    if one_by_one {
        let cuts: Vec<usize> = (1..bytes.len()).collect();
        conn.feed_split(bytes, &cuts);
    } else {
        conn.feed(bytes);
    }
    (conn.take_events(), conn.take_out())
}

fn drivers(pick: u8) -> Driver {
    let config = Config::default().max_length(64);
    match pick % 3 {
        0 => Driver::server_upgraded(config),
        1 => Driver::server_upgraded(config.require_masking(false)),
        _ => Driver::client_upgraded(config),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // F1, F2, F7, F8, F9, F10 decided the same way whichever path reads the frame.
    #[test]
    fn whole_and_byte_by_byte_agree(frames in prop::collection::vec(raw(), 1..6), pick in any::<u8>()) {
        let bytes = wire(&frames);
        let whole = run(drivers(pick), &bytes, false);
        let split = run(drivers(pick), &bytes, true);
        prop_assert_eq!(whole, split);
    }

    // Reads sized by `frame_remaining` (else `chunk` bytes), reading on without a poll while a frame is
    // under way: a read of exactly what it says completes the frame, and the events and output are the
    // same as for the whole input (F1, F7, F9, F10 on the frames a poll had not seen yet).
    #[test]
    fn reads_sized_by_frame_remaining_agree(
        frames in prop::collection::vec(raw(), 1..6),
        pick in any::<u8>(),
        chunk in 1usize..40,
    ) {
        let bytes = wire(&frames);
        let whole = run(drivers(pick), &bytes, false);
        let mut conn = Conn::new(drivers(pick), 1024, 1 << 16);
        let mut offset = 0;
        while offset < bytes.len() {
            let remaining = conn.driver.frame_remaining(&conn.rx) as usize;
            let take = if remaining > 0 { remaining } else { chunk };
            let end = bytes.len().min(offset + take);
            let n = conn.rx.write(&bytes[offset..end]);
            offset += n;
            if remaining > 0 && n == remaining {
                prop_assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
            }
            if n > 0 && conn.driver.frame_remaining(&conn.rx) > 0 && conn.rx.room() > 0 {
                continue;
            }
            conn.pump();
            if n == 0 && conn.rx.room() == 0 {
                break; // failed and not reading any more
            }
        }
        conn.pump();
        prop_assert_eq!(whole, (conn.take_events(), conn.take_out()));
    }
}

/// F10: invalid UTF-8 in a whole text frame fails with 1007 on the short path, as it does in pieces.
#[test]
fn invalid_utf8_in_a_whole_frame_fails_the_connection() {
    let bytes = masked(&frame(0x81, b"ok\xff"), [1, 2, 3, 4]);
    for one_by_one in [false, true] {
        let (events, out) = run(
            Driver::server_upgraded(Config::default()),
            &bytes,
            one_by_one,
        );
        assert_eq!(
            events,
            vec![
                Ev::Error(ProtocolError::InvalidUtf8),
                Ev::Close(1007, events_reason(&events))
            ]
        );
        assert_eq!(
            (out[0], &out[2..4]),
            (0x88, &[0x03, 0xef][..]),
            "a close frame with 1007"
        );
    }
}

fn events_reason(events: &[Ev]) -> String {
    match events.last() {
        Some(Ev::Close(_, reason)) => reason.clone(),
        _ => String::new(),
    }
}

/// F7: a client drops the connection on a masked frame, a strict server on an unmasked one, even when
/// the frame is whole and otherwise fit for the short path.
#[test]
fn masking_rules_hold_for_whole_frames() {
    let text = frame(0x81, b"hi");
    let (events, _) = run(
        Driver::client_upgraded(Config::default()),
        &masked(&text, [9, 9, 9, 9]),
        false,
    );
    assert_eq!(events.first(), Some(&Ev::Error(ProtocolError::MaskedFrame)));
    let (events, _) = run(Driver::server_upgraded(Config::default()), &text, false);
    assert_eq!(
        events.first(),
        Some(&Ev::Error(ProtocolError::UnmaskedFrame))
    );
    let (events, _) = run(
        Driver::server_upgraded(Config::default().require_masking(false)),
        &text,
        false,
    );
    assert_eq!(events, vec![Ev::text("hi")]);
}

/// `frame_remaining`: the payload bytes of the data frame under way not yet in the buffer, counting bytes
/// committed since the last poll; 0 between frames and for control frames.
#[test]
fn frame_remaining_counts_what_the_frame_still_needs() {
    let bytes = masked(&frame(0x82, &[7u8; 1000]), [1, 2, 3, 4]);
    let mut conn = Conn::new(Driver::server_upgraded(Config::default()), 4096, 4096);
    assert_eq!(
        conn.driver.frame_remaining(&conn.rx),
        0,
        "nothing under way"
    );
    // Header (2 + 2 + 4 bytes) and 100 payload bytes.
    conn.feed(&bytes[..108]);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 900);
    // Committed, not polled yet: counted as arrived.
    assert_eq!(conn.rx.write(&bytes[108..508]), 400);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 500);
    conn.pump();
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 500);
    conn.feed(&bytes[508..]);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
    assert_eq!(conn.take_events(), vec![Ev::binary(&[7u8; 1000])]);
    // A control frame in pieces is not a data frame under way.
    let ping = masked(&frame(0x89, b"12345"), [5, 6, 7, 8]);
    conn.feed(&ping[..8]);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
}

/// `frame_remaining` reads the header of a frame committed since the last poll, so a caller can read
/// the rest of the frame before polling: the text is then checked once, as a whole, and handed out as
/// one message (F10 still fails a text found incomplete at a poll as soon as it is invalid, below).
#[test]
fn frame_remaining_sees_a_header_not_yet_polled() {
    let text = "κόσμε ".repeat(300); // 3,300 bytes, two-byte code points
    let bytes = masked(&frame(0x81, text.as_bytes()), [9, 8, 7, 6]);
    let mut conn = Conn::new(Driver::server_upgraded(Config::default()), 8192, 4096);
    conn.pump();
    // Header (2 + 2 + 4) and 1,001 payload bytes: the cut falls inside a code point.
    assert_eq!(conn.rx.write(&bytes[..1009]), 1009);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 3300 - 1001);
    // An incomplete header: nothing known yet.
    let mut partial = Conn::new(Driver::server_upgraded(Config::default()), 8192, 4096);
    partial.pump();
    assert_eq!(partial.rx.write(&bytes[..3]), 3);
    assert_eq!(partial.driver.frame_remaining(&partial.rx), 0);
    // The rest read before the next poll: one whole text message.
    assert_eq!(conn.rx.write(&bytes[1009..]), bytes.len() - 1009);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
    conn.pump();
    assert_eq!(conn.take_events(), vec![Ev::text(&text)]);

    // Not for frames `poll` will refuse or that are not data: control frames, reserved opcodes, a
    // length past `max_length` (F9: a caller must not size a read by it).
    for (first, len) in [(0x89, 100), (0x83, 5000), (0x82, 70_000)] {
        let mut conn = Conn::new(
            Driver::server_upgraded(Config::default().max_length(65_536)),
            8192,
            4096,
        );
        conn.pump();
        let bytes = masked(&frame(first, &vec![b'a'; len]), [1, 2, 3, 4]);
        conn.rx.write(&bytes[..20]);
        assert_eq!(
            conn.driver.frame_remaining(&conn.rx),
            0,
            "first byte {first:#x}"
        );
    }
}

/// Before the handshake completes the buffered bytes are a request head, never a frame header, even when
/// they would read as one.
#[test]
fn frame_remaining_is_zero_during_the_handshake() {
    let bytes = masked(&frame(0x82, &[0u8; 3000]), [1, 2, 3, 4]);
    let mut conn = Conn::new(Driver::server(Config::default()), 8192, 4096);
    conn.rx.write(&bytes[..100]);
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
    let mut open = Conn::new(Driver::server_upgraded(Config::default()), 8192, 4096);
    open.pump();
    open.rx.write(&bytes[..100]);
    assert_eq!(open.driver.frame_remaining(&open.rx), 3000 - 92);
}

/// A connection that failed inside a frame reads no more frames: `frame_remaining` is 0 (a caller must not
/// size or grow its reads for a frame that will never be handled). Found by the property test above.
#[test]
fn frame_remaining_is_zero_once_the_connection_failed() {
    let mut payload = vec![0u8; 26];
    payload[24] = 0x80; // invalid UTF-8 (F10), in the first read
    let bytes = masked(&frame(0x81, &payload), [0, 0, 0, 0]);
    let mut conn = Conn::new(Driver::server_upgraded(Config::default()), 1024, 4096);
    conn.feed(&bytes[..31]);
    assert_eq!(conn.take_events()[0], Ev::Error(ProtocolError::InvalidUtf8));
    assert_eq!(conn.driver.frame_remaining(&conn.rx), 0);
}
