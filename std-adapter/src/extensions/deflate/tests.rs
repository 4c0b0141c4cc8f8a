//! permessage-deflate unit tests (checklist X4, X5): vectors, context takeover, limits, UTF-8, bombs;
//! the negotiation tests are in `negotiation_tests.rs`.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use super::codec::INFLATED;
use super::*;
use crate::extensions::Extensions;

/// The original's defaults: context takeover both ways, also on a server (whose default keeps none).
fn takeover() -> PermessageDeflate {
    PermessageDeflate::new()
        .no_context_takeover(false)
        .request_no_context_takeover(false)
}

pub(super) const MIB: u64 = 1 << 20;

/// Negotiates a client and a server made from `client` and `server` options; returns both and the
/// response header.
fn connect(
    client: PermessageDeflate,
    server: PermessageDeflate,
) -> (Extensions, Extensions, String) {
    let (mut c, mut s) = (Extensions::new(), Extensions::new());
    c.add(Box::new(client)).unwrap();
    s.add(Box::new(server)).unwrap();
    let offer = c.generate_offer().unwrap().unwrap();
    let response = s
        .generate_response(&offer)
        .unwrap()
        .expect("server accepts");
    c.activate(&response).unwrap();
    (c, s, response)
}

/// A server negotiated from `offer`.
pub(super) fn server_from(options: PermessageDeflate, offer: &str) -> Extensions {
    let mut s = Extensions::new();
    s.add(Box::new(options)).unwrap();
    s.generate_response(offer).unwrap().expect("server accepts");
    s
}

fn frame(msg: &Message) -> Vec<u8> {
    let opcode = if msg.kind == DataKind::Text { 1 } else { 2 };
    let mut f = vec![0x80 | msg.rsv.bits() | opcode, msg.data.len() as u8];
    f.extend_from_slice(&msg.data);
    f
}

pub(super) fn compressed(bytes: &[u8], kind: DataKind) -> Message {
    Message {
        kind,
        rsv: Rsv::RSV1,
        data: bytes.to_vec(),
    }
}

fn code(err: ExtensionError) -> CloseCode {
    match err {
        ExtensionError::Processing { code, .. } => code,
        other => panic!("not a processing error: {other:?}"),
    }
}

fn inflated_counts() -> (u64, u64) {
    INFLATED.with(|c| c.replace((0, 0)))
}

/// Sends "Hello" twice each way and returns the payloads: (client's two, server's two).
fn hellos(c: &mut Extensions, s: &mut Extensions) -> ([Vec<u8>; 2], [Vec<u8>; 2]) {
    let run = |from: &mut Extensions, to: &mut Extensions| {
        [(); 2].map(|_| {
            let msg = from.process_outgoing(Message::text("Hello")).unwrap();
            assert_eq!(msg.rsv, Rsv::RSV1);
            let payload = msg.data.clone();
            assert_eq!(
                to.process_incoming(msg, 100).unwrap(),
                Message::text("Hello")
            );
            payload
        })
    };
    let client = run(c, s);
    let server = run(s, c);
    (client, server)
}

const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];

#[test]
fn hello_vectors_with_context_takeover() {
    // X5: RFC 7692 §7.2.3.1 and §7.2.3.2.
    let (mut c, mut s, response) = connect(takeover(), takeover());
    assert_eq!(response, "permessage-deflate");
    let (client, server) = hellos(&mut c, &mut s);
    assert_eq!(client, [HELLO, HELLO_AGAIN]);
    assert_eq!(server, [HELLO, HELLO_AGAIN]);
    // `hellos` checked RSV1 on each; the whole first frame (FIN, RSV1, text):
    let first = Message {
        kind: DataKind::Text,
        rsv: Rsv::RSV1,
        data: client[0].clone(),
    };
    assert_eq!(
        frame(&first),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
}

#[test]
fn context_takeover_off_each_way() {
    // X5: each of the four ways to turn context takeover off (RFC 7692 §7.1.1).
    let on = || takeover();
    let cases = [
        (
            on().no_context_takeover(true),
            on(),
            "permessage-deflate; client_no_context_takeover",
            true,
            false,
        ),
        (
            on().request_no_context_takeover(true),
            on(),
            "permessage-deflate; server_no_context_takeover",
            false,
            true,
        ),
        (
            on(),
            on().no_context_takeover(true),
            "permessage-deflate; server_no_context_takeover",
            false,
            true,
        ),
        (
            on(),
            on().request_no_context_takeover(true),
            "permessage-deflate; client_no_context_takeover",
            true,
            false,
        ),
    ];
    for (client, server, expected, client_resets, server_resets) in cases {
        let (mut c, mut s, response) = connect(client, server);
        assert_eq!(response, expected);
        let (from_client, from_server) = hellos(&mut c, &mut s);
        let again = |resets| if resets { HELLO } else { HELLO_AGAIN };
        assert_eq!(from_client, [HELLO, again(client_resets)], "{expected}");
        assert_eq!(from_server, [HELLO, again(server_resets)], "{expected}");
    }
}

#[test]
fn decompression_bomb_is_refused_after_max_length() {
    // X5: 1 MiB of zeros compresses to about 1 KiB; 1024 copies of that stream inflate to 1 GiB.
    let mut z = Compress::new_with_window_bits(Compression::best(), false, 15);
    let mut chunk = Vec::with_capacity(1 << 16);
    z.compress_vec(&vec![0u8; MIB as usize], &mut chunk, FlushCompress::Sync)
        .unwrap();
    assert_eq!(z.total_in(), MIB);
    assert!(chunk.ends_with(&[0, 0, 0xff, 0xff]));
    // The chunk only refers to itself, so copies concatenate: check that two inflate to 2 MiB.
    let mut check = Decompress::new_with_window_bits(false, 15);
    let mut out = vec![0u8; 2 * MIB as usize + 1];
    check
        .decompress(&chunk.repeat(2), &mut out, FlushDecompress::Sync)
        .unwrap();
    assert_eq!(check.total_out(), 2 * MIB);
    let mut bomb = chunk.repeat(1024);
    bomb.truncate(bomb.len() - 4);

    let mut s = server_from(takeover(), "permessage-deflate");
    inflated_counts();
    let err = s
        .process_incoming(compressed(&bomb, DataKind::Binary), MIB)
        .unwrap_err();
    let (inflated, consumed) = inflated_counts();
    println!(
        "bomb: {} compressed bytes ({} per MiB) would inflate to 1 GiB; refused with {err} after inflating {inflated} bytes from {consumed} compressed bytes",
        bomb.len(),
        chunk.len()
    );
    assert_eq!(code(err), CloseCode::TOO_BIG);
    assert!(inflated <= MIB + 1, "inflated {inflated}");
    assert!(inflated > MIB, "inflated {inflated}");
    assert!(consumed < 2 * chunk.len() as u64, "consumed {consumed}");
}

#[test]
fn max_length_is_exact() {
    // X5: a message of exactly max_length bytes inflates; one byte more is 1009.
    for len in [0usize, 1, 100, 4095, 4096, 4097, 70_000, 300_000] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (mut c, mut s, _) = connect(takeover(), takeover());
        let sent = c.process_outgoing(Message::binary(data.clone())).unwrap();
        let received = s.process_incoming(sent, len as u64).unwrap().data;
        assert_eq!(received, data, "{len}");
        // The buffer grows geometrically but never past max_length + 1.
        assert!(
            received.capacity() <= len + 1,
            "{len}: {}",
            received.capacity()
        );
        if len > 0 {
            let (mut c, mut s, _) = connect(takeover(), takeover());
            let sent = c.process_outgoing(Message::binary(data.clone())).unwrap();
            inflated_counts();
            let err = s.process_incoming(sent, len as u64 - 1).unwrap_err();
            assert_eq!(code(err), CloseCode::TOO_BIG, "{len}");
            assert!(inflated_counts().0 <= len as u64);
        }
    }
}

#[test]
fn invalid_utf8_fails_fast_with_1007() {
    // X5: the check runs on each inflated step, not on the whole message.
    let mut data = vec![b'a'; 10];
    data.push(0xff);
    data.extend(std::iter::repeat_n(b'a', 4 * MIB as usize));
    let (mut c, mut s, _) = connect(takeover(), takeover());
    let sent = c.process_outgoing(Message::binary(data)).unwrap();
    inflated_counts();
    let err = s
        .process_incoming(
            Message {
                kind: DataKind::Text,
                ..sent
            },
            8 * MIB,
        )
        .unwrap_err();
    assert_eq!(code(err), CloseCode::INVALID_DATA);
    assert!(inflated_counts().0 <= 4096, "stopped within the first step");

    // A text message ending inside a character, and a surrogate, are 1007 too; binary is not checked.
    for bad in [&b"caf\xc3"[..], b"\xed\xa0\x80", b"ok\xf4\x90\x80\x80"] {
        let (mut c, mut s, _) = connect(takeover(), takeover());
        let sent = c.process_outgoing(Message::binary(bad.to_vec())).unwrap();
        let err = s
            .process_incoming(
                Message {
                    kind: DataKind::Text,
                    ..sent.clone()
                },
                MIB,
            )
            .unwrap_err();
        assert_eq!(code(err), CloseCode::INVALID_DATA);
        let (mut c, mut s, _) = connect(takeover(), takeover());
        let sent = c.process_outgoing(Message::binary(bad.to_vec())).unwrap();
        assert_eq!(s.process_incoming(sent, MIB).unwrap().data, bad);
    }
}

#[test]
fn multibyte_text_across_steps() {
    // X5: characters split between inflate steps are still valid.
    let text = "€𝄞é".repeat(50_000);
    let (mut c, mut s, _) = connect(takeover(), takeover());
    let sent = c.process_outgoing(Message::text(text.clone())).unwrap();
    assert_eq!(s.process_incoming(sent, MIB).unwrap().data, text.as_bytes());
}

#[test]
fn empty_messages_both_ways() {
    // X5: RFC 7692 §7.2.3.6: an empty message is the single octet 00, before and after other messages.
    for options in [takeover(), takeover().no_context_takeover(true)] {
        let (mut c, mut s, _) = connect(options.clone(), options.clone());
        for text in ["", "Hello", "", "", "Hello", ""] {
            let sent = c.process_outgoing(Message::text(text)).unwrap();
            if text.is_empty() {
                assert_eq!(sent.data, [0x00]);
            }
            assert_eq!(s.process_incoming(sent, 10).unwrap(), Message::text(text));
            let sent = s.process_outgoing(Message::binary(text)).unwrap();
            assert_eq!(c.process_incoming(sent, 10).unwrap(), Message::binary(text));
        }
        // The stream the compressor itself makes for an empty message, and an empty payload, inflate too.
        assert_eq!(
            s.process_incoming(compressed(&[0x02, 0x00], DataKind::Text), 0)
                .unwrap(),
            Message::text("")
        );
        assert_eq!(
            s.process_incoming(compressed(&[], DataKind::Text), 0)
                .unwrap(),
            Message::text("")
        );
        let sent = c.process_outgoing(Message::text("Hello")).unwrap();
        assert_eq!(
            s.process_incoming(sent, 10).unwrap(),
            Message::text("Hello")
        );
    }
}

#[test]
fn final_blocks_and_corrupt_data() {
    // X4, X5: RFC 7692 §7.2.3.4 BFINAL messages; corrupt data is 1010.
    let finished = |data: &[u8]| {
        let mut z = Compress::new_with_window_bits(Compression::default(), false, 15);
        let mut out = Vec::with_capacity(data.len() + 64);
        z.compress_vec(data, &mut out, FlushCompress::Finish)
            .unwrap();
        out
    };
    let mut s = server_from(takeover(), "permessage-deflate");
    for _ in 0..2 {
        let msg = s
            .process_incoming(compressed(&finished(b"Hello"), DataKind::Text), 10)
            .unwrap();
        assert_eq!(msg, Message::text("Hello"));
    }
    let mut trailing = finished(b"Hello");
    trailing.push(0);
    assert_eq!(
        code(
            s.process_incoming(compressed(&trailing, DataKind::Text), 10)
                .unwrap_err()
        ),
        CloseCode::MANDATORY_EXTENSION
    );

    let mut s = server_from(takeover(), "permessage-deflate");
    for corrupt in [&[0xffu8, 0xff, 0xff][..], &[0x04, 0x00, 0x05, 0x00, 0xfa]] {
        let err = s
            .process_incoming(compressed(corrupt, DataKind::Binary), MIB)
            .unwrap_err();
        assert_eq!(code(err), CloseCode::MANDATORY_EXTENSION, "{corrupt:?}");
    }
}

#[test]
fn uncompressed_messages_pass_and_close_frees() {
    // X1, X5: RSV1 clear means not compressed (RFC 7692 §6.2); after close nothing is processed.
    let (mut c, mut s, _) = connect(takeover(), takeover());
    let plain = Message::binary(vec![0xff; 10]);
    assert_eq!(s.process_incoming(plain.clone(), 10).unwrap(), plain);
    assert_eq!(c.allowed_rsv(), Rsv::RSV1);
    let msg = Message {
        rsv: Rsv::RSV1.union(Rsv::RSV2),
        ..Message::binary(vec![0])
    };
    assert_eq!(
        code(s.process_incoming(msg, 10).unwrap_err()),
        CloseCode::PROTOCOL_ERROR
    );
    c.close();
    assert_eq!(c.allowed_rsv(), Rsv::NONE);
    assert_eq!(
        c.process_outgoing(Message::text("x")).unwrap(),
        Message::text("x")
    );
}
