//! Sending frames: BEHAVIOUR.md F15–F17, zero-copy sends and streaming.

mod support;

use support::{Conn, Ev, lenient};
use websocket_driver::mask_source::{FixedSequence, SplitMix};
use websocket_driver::wire::{FrameHeader, Status};
use websocket_driver::{CloseCode, Config, DataKind, Driver, Rsv, SendError, TxRing};

fn server() -> (Driver, TxRing<Vec<u8>>, SplitMix) {
    (
        Driver::server_upgraded(Config::default()),
        TxRing::new(vec![0; 1 << 18]),
        SplitMix::new(1),
    )
}

fn drained(tx: &mut TxRing<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    while !tx.peek().is_empty() {
        let n = tx.peek().len();
        out.extend_from_slice(tx.peek());
        tx.consume(n);
    }
    out
}

#[test]
fn one_frame_per_message_with_minimal_lengths() {
    // F15: "Hello" → 81 05 …; 70000-byte binary → 82 7f 00 00 00 00 00 01 11 70; ping("mic check");
    // close(1003, "<%= reasons %>").
    let (mut ws, mut tx, mut rng) = server();
    ws.text(&mut tx, &mut rng, "Hello").unwrap();
    assert_eq!(drained(&mut tx), b"\x81\x05Hello");
    ws.binary(&mut tx, &mut rng, &vec![7u8; 70000]).unwrap();
    let out = drained(&mut tx);
    assert_eq!(
        out[..10],
        [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x70]
    );
    assert_eq!(out.len(), 70010);
    for (len, header) in [
        (125usize, &[0x82u8, 125][..]),
        (126, &[0x82, 126, 0, 126]),
        (65535, &[0x82, 126, 0xff, 0xff]),
    ] {
        ws.binary(&mut tx, &mut rng, &vec![0; len]).unwrap();
        assert!(drained(&mut tx).starts_with(header));
    }
    ws.binary(&mut tx, &mut rng, &vec![0; 65536]).unwrap();
    assert!(drained(&mut tx).starts_with(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
    ws.ping(&mut tx, &mut rng, b"mic check").unwrap();
    assert_eq!(
        drained(&mut tx),
        b"\x89\x09\x6d\x69\x63\x20\x63\x68\x65\x63\x6b"
    );
    ws.close(&mut tx, &mut rng, Some(CloseCode(1003)), "<%= reasons %>")
        .unwrap();
    assert_eq!(
        drained(&mut tx),
        [
            0x88, 0x10, 0x03, 0xeb, 0x3c, 0x25, 0x3d, 0x20, 0x72, 0x65, 0x61, 0x73, 0x6f, 0x6e,
            0x73, 0x20, 0x25, 0x3e
        ]
    );
}

#[test]
fn streaming_a_message_in_fragments() {
    // F15: a message may be sent in fragments; control frames may go between; other messages may not.
    let (mut ws, mut tx, mut rng) = server();
    ws.send_fragment(&mut tx, &mut rng, DataKind::Text, Rsv::NONE, b"Hel", false)
        .unwrap();
    ws.ping(&mut tx, &mut rng, b"").unwrap();
    assert_eq!(
        ws.text(&mut tx, &mut rng, "no"),
        Err(SendError::MessageInProgress)
    );
    assert_eq!(
        ws.send_fragment(&mut tx, &mut rng, DataKind::Binary, Rsv::NONE, b"x", true),
        Err(SendError::MessageInProgress)
    );
    ws.send_fragment(&mut tx, &mut rng, DataKind::Text, Rsv::NONE, b"lo", true)
        .unwrap();
    assert_eq!(drained(&mut tx), b"\x01\x03Hel\x89\x00\x80\x02lo");
    ws.text(&mut tx, &mut rng, "next").unwrap();
    // and a peer reassembles it
    let mut peer = Conn::server(lenient().reassemble(true));
    peer.feed(b"\x01\x03Hel\x89\x00\x80\x02lo");
    assert_eq!(peer.take_events(), [Ev::Ping(vec![]), Ev::text("Hello")]);
}

#[test]
fn client_frames_are_masked_with_fresh_keys() {
    // F16: every client frame is masked with a new key from the RNG; the caller's data is untouched.
    let mut ws = Driver::client_upgraded(Config::default());
    let mut tx = TxRing::new(vec![0u8; 4096]);
    let mut rng = FixedSequence::new(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let data = b"Hello".to_vec();
    ws.binary(&mut tx, &mut rng, &data).unwrap();
    ws.binary(&mut tx, &mut rng, &data).unwrap();
    assert_eq!(data, b"Hello");
    let out = drained(&mut tx);
    let Status::Complete((first, n)) = FrameHeader::parse(&out) else {
        panic!()
    };
    assert_eq!(first.mask, Some([1, 2, 3, 4]));
    let payload: Vec<u8> = out[n..n + 5]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4])
        .collect();
    assert_eq!(payload, b"Hello");
    let Status::Complete((second, _)) = FrameHeader::parse(&out[n + 5..]) else {
        panic!()
    };
    assert_eq!(second.mask, Some([5, 6, 7, 8]));
    // A server reads them.
    let mut server = Conn::server(Config::default());
    server.feed(&out);
    assert_eq!(
        server.take_events(),
        [Ev::binary(b"Hello"), Ev::binary(b"Hello")]
    );
    // `masking(false)` (the originals' option) sends plain frames.
    let mut plain = Driver::client_upgraded(Config::default().masking(false));
    plain.text(&mut tx, &mut rng, "hi").unwrap();
    assert_eq!(drained(&mut tx), b"\x81\x02hi");
}

#[test]
fn forbidden_sends_are_refused() {
    // F17: codes outside the sendable set, reasons over 123 bytes, control payloads over 125 → error, nothing sent.
    let (mut ws, mut tx, mut rng) = server();
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        assert_eq!(
            ws.close(&mut tx, &mut rng, Some(CloseCode(code)), ""),
            Err(SendError::InvalidCloseCode(code))
        );
    }
    assert_eq!(
        ws.close(&mut tx, &mut rng, Some(CloseCode::NORMAL), &"r".repeat(124)),
        Err(SendError::CloseReasonTooLong)
    );
    assert_eq!(
        ws.ping(&mut tx, &mut rng, &[0; 126]),
        Err(SendError::ControlTooLong)
    );
    assert_eq!(
        ws.pong(&mut tx, &mut rng, &[0; 126]),
        Err(SendError::ControlTooLong)
    );
    assert!(tx.is_empty());
    ws.ping(&mut tx, &mut rng, &[0; 125]).unwrap();
    ws.close(&mut tx, &mut rng, Some(CloseCode(4000)), &"r".repeat(123))
        .unwrap();
    assert_eq!(drained(&mut tx).len(), 127 + 127);
}

#[test]
fn whole_frames_or_nothing() {
    // S2: a frame that does not fit is refused whole with the room it needs; one that never fits is TooLarge.
    let mut ws = Driver::server_upgraded(Config::default());
    let mut tx = TxRing::new(vec![0u8; 200]);
    let mut rng = SplitMix::new(1);
    ws.binary(&mut tx, &mut rng, &[1; 150]).unwrap();
    assert_eq!(
        ws.binary(&mut tx, &mut rng, &[2; 100]),
        Err(SendError::Full { needed: 102 })
    );
    assert_eq!(
        ws.binary(&mut tx, &mut rng, &[2; 300]),
        Err(SendError::TooLarge {
            size: 304,
            capacity: 200
        })
    );
    assert_eq!(tx.len(), 154);
}

#[test]
fn zero_copy_send_contract() {
    // F16: the header is returned for a vectored write; a client masks the lent buffer in place; the
    // ring is held until the application resumes it.
    let mut client = Driver::client_upgraded(Config::default());
    let mut tx = TxRing::new(vec![0u8; 4096]);
    let mut rng = FixedSequence::new(&[9, 8, 7, 6]);
    let mut payload = b"Hello".to_vec();
    let header = client
        .send_zero_copy(&mut tx, &mut rng, DataKind::Text, Rsv::NONE, &mut payload)
        .unwrap();
    assert_eq!(header.as_bytes(), [0x81, 0x85, 9, 8, 7, 6]);
    assert_eq!(payload, [b'H' ^ 9, b'e' ^ 8, b'l' ^ 7, b'l' ^ 6, b'o' ^ 9]);
    client.ping(&mut tx, &mut rng, b"").unwrap();
    assert!(tx.peek().is_empty(), "held until the payload is written");
    assert_eq!(
        client.send_zero_copy(
            &mut tx,
            &mut rng,
            DataKind::Binary,
            Rsv::NONE,
            &mut [0u8; 3]
        ),
        Err(SendError::RingNotEmpty)
    );
    tx.resume();
    assert_eq!(tx.peek().len(), 6);
    let mut server = Driver::server_upgraded(Config::default());
    let mut stx = TxRing::new(vec![0u8; 4096]);
    let mut data = b"big".to_vec();
    let header = server
        .send_zero_copy(&mut stx, &mut rng, DataKind::Binary, Rsv::NONE, &mut data)
        .unwrap();
    assert_eq!(header.as_bytes(), [0x82, 0x03]);
    assert_eq!(data, b"big");
}
