//! permessage-deflate unit tests (checklist X4, X5): vectors, context takeover, limits, UTF-8, bombs,
//! final blocks; the negotiation tests are in `negotiation_tests.rs`.

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

/// "Hello" as a final block (RFC 7692 §7.2.3.4), and one `00` octet that makes the appended `00 00 ff ff`
/// an empty stored block; without it, as zlib's `Finish` makes it.
const FINAL_HELLO: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
const FINAL_HELLO_SHORT: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

/// What a sender that keeps its context makes of `data` after sending `before`: a raw compressor with
/// the last 2^bits bytes of `before` as its window, ending with a final block (`Finish`, RFC 7692
/// §7.2.3.4) or a sync flush whose `00 00 ff ff` is removed (§7.2.1).
fn compressed_after(before: &[u8], data: &[u8], bits: u8, finish: bool) -> Vec<u8> {
    let mut z = Compress::new_with_window_bits(Compression::best(), false, bits);
    let window = &before[before.len().saturating_sub(1 << bits)..];
    if !window.is_empty() {
        z.set_dictionary(window).unwrap();
    }
    let mut out = Vec::with_capacity(data.len() + 64);
    let flush = if finish {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    z.compress_vec(data, &mut out, flush).unwrap();
    assert_eq!(z.total_in(), data.len() as u64);
    if !finish {
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
    }
    out
}

/// `len` letters with little repetition, so that a copy of a part of them is a back-reference.
fn letters(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            b'a' + (x >> 24) as u8 % 26
        })
        .collect()
}

#[test]
fn rfc_final_block_example() {
    // X5: RFC 7692 §7.2.3.4, frame `c1 08 f3 48 cd c9 c9 07 00 00` is "Hello" (the final block, then the
    // empty stored block the appended octets complete), with and without context takeover.
    for options in [takeover(), PermessageDeflate::new()] {
        let mut s = server_from(options, "permessage-deflate");
        let msg = compressed(FINAL_HELLO, DataKind::Text);
        assert_eq!(
            frame(&msg),
            [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]
        );
        for _ in 0..2 {
            assert_eq!(
                s.process_incoming(msg.clone(), 10).unwrap(),
                Message::text("Hello")
            );
        }
    }
}

#[test]
fn final_block_keeps_the_window() {
    // X5: RFC 7692 §7.2.2, §7.2.3.4: after a message that ends with a final block, the next one may
    // refer back into it (`f2 00 11 00 00`, the second "Hello" of §7.2.3.2).
    for first in [FINAL_HELLO_SHORT, FINAL_HELLO] {
        let mut s = server_from(takeover(), "permessage-deflate");
        let msg = compressed(first, DataKind::Text);
        assert_eq!(s.process_incoming(msg, 10).unwrap(), Message::text("Hello"));
        for _ in 0..2 {
            let again = compressed(HELLO_AGAIN, DataKind::Text);
            assert_eq!(
                s.process_incoming(again, 10).unwrap(),
                Message::text("Hello"),
                "{first:02x?}"
            );
        }
    }
}

#[test]
fn data_after_a_final_block_in_one_message() {
    // X5: RFC 7692 §7.2.3.4: payload after a final block is a new stream over the same window, also when
    // the peer takes over no context (which only starts each *message* afresh, §7.1.1).
    let payload = [FINAL_HELLO_SHORT, HELLO_AGAIN].concat();
    for keeps in [true, false] {
        let options = if keeps {
            takeover()
        } else {
            PermessageDeflate::new()
        };
        let mut s = server_from(options, "permessage-deflate");
        let msg = compressed(&payload, DataKind::Text);
        assert_eq!(
            s.process_incoming(msg, 10).unwrap(),
            Message::text("HelloHello")
        );
        let again = s.process_incoming(compressed(HELLO_AGAIN, DataKind::Text), 10);
        if keeps {
            assert_eq!(again.unwrap(), Message::text("Hello"));
        } else {
            // X4: a reference to before the message's start is corrupt data there.
            assert_eq!(code(again.unwrap_err()), CloseCode::MANDATORY_EXTENSION);
        }
    }
}

#[test]
fn windows_across_final_blocks_and_messages() {
    // X5: RFC 7692 §7.2.2: the window restored after a final block holds the last 2^bits bytes of all
    // messages, here a message larger than the window, a short final one, and one that refers back past
    // the short one into the first; then the same after a final message larger than the window.
    for bits in [15u8, 10] {
        let w = 1usize << bits;
        let offer = format!("permessage-deflate; client_max_window_bits={bits}");
        let mut s = server_from(takeover().request_max_window_bits(bits), &offer);
        let m1 = letters(w + w / 4, 1);
        let m3 = m1[3 * w / 4..3 * w / 4 + 100].to_vec();
        let m4 = letters(w + w / 4, 2);
        let m5 = m4[3 * w / 4..3 * w / 4 + 100].to_vec();
        let messages = [
            (m1, false),
            (b"Hello, world".to_vec(), true),
            (m3, false),
            (m4, true),
            (m5, false),
        ];
        let mut sent = Vec::new();
        for (i, (data, finish)) in messages.iter().enumerate() {
            let payload = compressed_after(&sent, data, bits, *finish);
            if i == 2 || i == 4 {
                assert!(payload.len() < 20, "{bits}, {i}: a back-reference");
            }
            let got = s.process_incoming(compressed(&payload, DataKind::Binary), MIB);
            assert_eq!(got.unwrap().data, *data, "{bits}, message {i}");
            sent.extend_from_slice(data);
        }
    }
}

#[test]
fn final_blocks_stay_bounded() {
    // X4, X5: many final blocks in one message: output is still capped at max_length + 1 (1009), and
    // streams that inflate next to nothing are refused after a few (1010), each costing a window restore.
    let zeros = compressed_after(&[], &vec![0u8; MIB as usize], 15, true);
    let bomb = zeros.repeat(64);
    let mut s = server_from(takeover(), "permessage-deflate");
    inflated_counts();
    let err = s
        .process_incoming(compressed(&bomb, DataKind::Binary), 4 * MIB)
        .unwrap_err();
    assert_eq!(code(err), CloseCode::TOO_BIG);
    assert!(inflated_counts().0 <= 4 * MIB + 1);

    // `03 00`: an empty final block. Three streams with more payload after two of them are allowed.
    let empty_final = [0x03, 0x00];
    let mut s = server_from(takeover(), "permessage-deflate");
    let msg = compressed(&empty_final.repeat(3), DataKind::Binary);
    assert_eq!(s.process_incoming(msg, 10).unwrap(), Message::binary(""));
    let msg = compressed(&empty_final.repeat(1000), DataKind::Binary);
    assert_eq!(
        code(s.process_incoming(msg, 10).unwrap_err()),
        CloseCode::MANDATORY_EXTENSION
    );
}

#[test]
fn final_blocks_and_corrupt_data() {
    // X4, X5: RFC 7692 §7.2.3.4 BFINAL messages; corrupt data is 1010, also after a final block.
    let finished = |data: &[u8]| compressed_after(&[], data, 15, true);
    assert_eq!(finished(b"Hello"), FINAL_HELLO_SHORT);
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
        s.process_incoming(compressed(&trailing, DataKind::Text), 10)
            .unwrap(),
        Message::text("Hello")
    );

    for corrupt in [&[0xffu8, 0xff, 0xff][..], &[0x04, 0x00, 0x05, 0x00, 0xfa]] {
        let mut s = server_from(takeover(), "permessage-deflate");
        let err = s
            .process_incoming(compressed(corrupt, DataKind::Binary), MIB)
            .unwrap_err();
        assert_eq!(code(err), CloseCode::MANDATORY_EXTENSION, "{corrupt:?}");
        // The same after a final block: `ff` is a block of the reserved type 11.
        let mut s = server_from(takeover(), "permessage-deflate");
        let after_final = [FINAL_HELLO_SHORT, corrupt].concat();
        let err = s
            .process_incoming(compressed(&after_final, DataKind::Binary), MIB)
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
