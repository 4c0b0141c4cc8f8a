//! permessage-deflate unit tests (checklist X4, X5): vectors, negotiation, limits, UTF-8, bombs.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use super::codec::{INFLATED, Utf8Check};
use super::*;
use crate::extensions::{CLOSE_INVALID_DATA, CLOSE_TOO_BIG, Extensions, RSV2, parse_header};

const MIB: u64 = 1 << 20;

/// Negotiates a client and a server made from `client` and `server` options; returns both and the
/// response header.
fn connect(
    client: PermessageDeflate,
    server: PermessageDeflate,
) -> (Extensions, Extensions, String) {
    let (mut c, mut s) = (Extensions::new(), Extensions::new());
    c.add(Box::new(client)).unwrap();
    s.add(Box::new(server)).unwrap();
    let offer = c.generate_offer().unwrap();
    let response = s
        .generate_response(&offer)
        .unwrap()
        .expect("server accepts");
    c.activate(&response).unwrap();
    (c, s, response)
}

/// A server negotiated from `offer`.
fn server_from(options: PermessageDeflate, offer: &str) -> Extensions {
    let mut s = Extensions::new();
    s.add(Box::new(options)).unwrap();
    s.generate_response(offer).unwrap().expect("server accepts");
    s
}

fn frame(msg: &Message) -> Vec<u8> {
    let opcode = if msg.kind == MessageKind::Text { 1 } else { 2 };
    let mut f = vec![0x80 | msg.rsv | opcode, msg.data.len() as u8];
    f.extend_from_slice(&msg.data);
    f
}

fn compressed(bytes: &[u8], kind: MessageKind) -> Message {
    Message {
        kind,
        rsv: RSV1,
        data: bytes.to_vec(),
    }
}

fn code(err: ExtensionError) -> u16 {
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
            assert_eq!(msg.rsv, RSV1);
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
    let (mut c, mut s, response) = connect(PermessageDeflate::new(), PermessageDeflate::new());
    assert_eq!(response, "permessage-deflate");
    let (client, server) = hellos(&mut c, &mut s);
    assert_eq!(client, [HELLO, HELLO_AGAIN]);
    assert_eq!(server, [HELLO, HELLO_AGAIN]);
    // `hellos` checked RSV1 on each; the whole first frame (FIN, RSV1, text):
    let first = Message {
        kind: MessageKind::Text,
        rsv: RSV1,
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
    let on = || PermessageDeflate::new();
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
fn offers_and_responses() {
    // X5: RFC 7692 §7.1 parameter rules, server side.
    let pd = PermessageDeflate::new;
    let cases: Vec<(PermessageDeflate, &str, Option<&str>)> = vec![
        (
            pd(),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        (pd(), "permessage-deflate", Some("permessage-deflate")),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=10",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; server_max_window_bits=14",
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate",
            Some("permessage-deflate"),
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; client_max_window_bits=11"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate",
            Some("permessage-deflate"),
        ),
        (
            pd().request_max_window_bits(8),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=8",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=010",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=\"9\"",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        // An 8-bit window for our compressor is declined; the next offer is taken.
        (pd(), "permessage-deflate; server_max_window_bits=8", None),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        // Invalid offers are declined.
        (pd(), "permessage-deflate; foo", None),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            None,
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
            None,
        ),
        (pd(), "permessage-deflate; server_max_window_bits", None),
        (pd(), "permessage-deflate; server_max_window_bits=16", None),
        (pd(), "permessage-deflate; server_max_window_bits=7", None),
        (pd(), "permessage-deflate; server_max_window_bits=0x9", None),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=1000000000000000009",
            None,
        ),
        (pd(), "permessage-deflate; client_max_window_bits=abc", None),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover=1",
            None,
        ),
        (
            pd(),
            "permessage-deflate; client_no_context_takeover=x",
            None,
        ),
        (pd(), "x-other", None),
    ];
    for (options, offer, expected) in cases {
        let mut s = Extensions::new();
        s.add(Box::new(options)).unwrap();
        assert_eq!(
            s.generate_response(offer).unwrap().as_deref(),
            expected,
            "{offer}"
        );
    }
}

#[test]
fn client_checks_the_response() {
    // X2, X5: RFC 7692 §7.1 parameter rules, client side.
    let pd = PermessageDeflate::new;
    let cases: Vec<(PermessageDeflate, &str, bool)> = vec![
        (pd(), "permessage-deflate", true),
        (pd(), "permessage-deflate; server_no_context_takeover", true),
        (pd(), "permessage-deflate; client_no_context_takeover", true),
        (pd(), "permessage-deflate; server_max_window_bits=8", true),
        (pd(), "permessage-deflate; client_max_window_bits=9", true),
        (pd(), "permessage-deflate; client_max_window_bits=8", false),
        (pd(), "permessage-deflate; client_max_window_bits", false),
        (pd(), "permessage-deflate; server_max_window_bits", false),
        (pd(), "permessage-deflate; server_max_window_bits=16", false),
        (pd(), "permessage-deflate; foo=1", false),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            false,
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; client_max_window_bits=12",
            true,
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; client_max_window_bits=13",
            false,
        ),
        (
            pd().request_no_context_takeover(true),
            "permessage-deflate",
            false,
        ),
        (
            pd().request_no_context_takeover(true),
            "permessage-deflate; server_no_context_takeover",
            true,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate",
            false,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=11",
            false,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=10",
            true,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=8",
            true,
        ),
    ];
    for (options, response, ok) in cases {
        let mut c = Extensions::new();
        c.add(Box::new(options)).unwrap();
        c.generate_offer().unwrap();
        let result = c.activate(response);
        assert_eq!(result.is_ok(), ok, "{response}: {result:?}");
        if !ok {
            assert_eq!(
                result,
                Err(ExtensionError::RejectedParams("permessage-deflate".into()))
            );
        }
    }
}

#[test]
fn client_offers() {
    // X5
    let offer = |o: PermessageDeflate| {
        let mut c = Extensions::new();
        c.add(Box::new(o)).unwrap();
        c.generate_offer().unwrap()
    };
    assert_eq!(
        offer(PermessageDeflate::new()),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        offer(
            PermessageDeflate::new()
                .no_context_takeover(true)
                .max_window_bits(10)
                .request_no_context_takeover(true)
                .request_max_window_bits(8)
        ),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=10; \
         server_no_context_takeover; server_max_window_bits=8"
    );
}

#[test]
fn eight_bit_windows_inflate_with_nine() {
    // X5: we never compress with 8 bits, but the peer may, and a 9-bit window reads it.
    let pd = PermessageDeflate::new();
    let params = |h: &str| parse_header(h).unwrap().remove(0).params;
    let agreed = pd
        .client_accept(&params("permessage-deflate; server_max_window_bits=8"))
        .unwrap();
    assert_eq!((agreed.inflate_bits, agreed.deflate_bits), (9, 15));
    assert_eq!(
        pd.client_accept(&params("permessage-deflate; client_max_window_bits=8")),
        None
    );
    let (response, agreed) = pd
        .server_accept(&params("permessage-deflate; client_max_window_bits=8"))
        .unwrap();
    assert_eq!(
        response,
        params("permessage-deflate; client_max_window_bits=8")
    );
    assert_eq!((agreed.inflate_bits, agreed.deflate_bits), (9, 15));
    assert!(
        pd.server_accept(&params("permessage-deflate; server_max_window_bits=8"))
            .is_none()
    );

    // The server agreed to an 8-bit client window: data whose distances fit in 256 bytes inflates.
    let mut s = server_from(pd, "permessage-deflate; client_max_window_bits=8");
    let text: Vec<u8> = (0..5000)
        .map(|i| b"abcdefghij"[(i * 7 + i / 300) % 10])
        .collect();
    let mut z = Compress::new_with_window_bits(Compression::default(), false, 9);
    let mut out = Vec::with_capacity(text.len() + 64);
    z.compress_vec(&text, &mut out, FlushCompress::Sync)
        .unwrap();
    out.truncate(out.len() - 4);
    assert_eq!(
        s.process_incoming(compressed(&out, MessageKind::Binary), MIB)
            .unwrap()
            .data,
        text
    );
}

#[test]
fn agreed_window_sizes() {
    // X5
    let params = |h: &str| parse_header(h).unwrap().remove(0).params;
    let server = PermessageDeflate::new()
        .max_window_bits(11)
        .request_max_window_bits(10);
    let (_, a) = server
        .server_accept(&params(
            "permessage-deflate; server_max_window_bits=13; client_max_window_bits",
        ))
        .unwrap();
    assert_eq!(
        a,
        Agreed {
            deflate_bits: 11,
            deflate_reset: false,
            inflate_bits: 10,
            inflate_reset: false
        }
    );
    let client = PermessageDeflate::new().max_window_bits(12);
    let a = client
        .client_accept(&params(
            "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9",
        ))
        .unwrap();
    assert_eq!(
        a,
        Agreed {
            deflate_bits: 10,
            deflate_reset: false,
            inflate_bits: 9,
            inflate_reset: false
        }
    );
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

    let mut s = server_from(PermessageDeflate::new(), "permessage-deflate");
    inflated_counts();
    let err = s
        .process_incoming(compressed(&bomb, MessageKind::Binary), MIB)
        .unwrap_err();
    let (inflated, consumed) = inflated_counts();
    println!(
        "bomb: {} compressed bytes ({} per MiB) would inflate to 1 GiB; refused with {err} after inflating {inflated} bytes from {consumed} compressed bytes",
        bomb.len(),
        chunk.len()
    );
    assert_eq!(code(err), CLOSE_TOO_BIG);
    assert!(inflated <= MIB + 1, "inflated {inflated}");
    assert!(inflated > MIB, "inflated {inflated}");
    assert!(consumed < 2 * chunk.len() as u64, "consumed {consumed}");
}

#[test]
fn max_length_is_exact() {
    // X5: a message of exactly max_length bytes inflates; one byte more is 1009.
    for len in [0usize, 1, 100, 4095, 4096, 4097, 70_000, 300_000] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
        let sent = c.process_outgoing(Message::binary(data.clone())).unwrap();
        inflated_counts();
        assert_eq!(
            s.process_incoming(sent.clone(), len as u64).unwrap().data,
            data,
            "{len}"
        );
        if len > 0 {
            let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
            let sent = c.process_outgoing(Message::binary(data.clone())).unwrap();
            inflated_counts();
            let err = s.process_incoming(sent, len as u64 - 1).unwrap_err();
            assert_eq!(code(err), CLOSE_TOO_BIG, "{len}");
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
    let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
    let sent = c.process_outgoing(Message::binary(data)).unwrap();
    inflated_counts();
    let err = s
        .process_incoming(
            Message {
                kind: MessageKind::Text,
                ..sent
            },
            8 * MIB,
        )
        .unwrap_err();
    assert_eq!(code(err), CLOSE_INVALID_DATA);
    assert!(inflated_counts().0 <= 4096, "stopped within the first step");

    // A text message ending inside a character, and a surrogate, are 1007 too; binary is not checked.
    for bad in [&b"caf\xc3"[..], b"\xed\xa0\x80", b"ok\xf4\x90\x80\x80"] {
        let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
        let sent = c.process_outgoing(Message::binary(bad.to_vec())).unwrap();
        let err = s
            .process_incoming(
                Message {
                    kind: MessageKind::Text,
                    ..sent.clone()
                },
                MIB,
            )
            .unwrap_err();
        assert_eq!(code(err), CLOSE_INVALID_DATA);
        let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
        let sent = c.process_outgoing(Message::binary(bad.to_vec())).unwrap();
        assert_eq!(s.process_incoming(sent, MIB).unwrap().data, bad);
    }
}

#[test]
fn multibyte_text_across_steps() {
    // X5: characters split between inflate steps are still valid.
    let text = "€𝄞é".repeat(50_000);
    let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
    let sent = c.process_outgoing(Message::text(text.clone())).unwrap();
    assert_eq!(s.process_incoming(sent, MIB).unwrap().data, text.as_bytes());
}

#[test]
fn empty_messages_both_ways() {
    // X5: RFC 7692 §7.2.3.6: an empty message is the single octet 00, before and after other messages.
    for options in [
        PermessageDeflate::new(),
        PermessageDeflate::new().no_context_takeover(true),
    ] {
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
            s.process_incoming(compressed(&[0x02, 0x00], MessageKind::Text), 0)
                .unwrap(),
            Message::text("")
        );
        assert_eq!(
            s.process_incoming(compressed(&[], MessageKind::Text), 0)
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
    let mut s = server_from(PermessageDeflate::new(), "permessage-deflate");
    for _ in 0..2 {
        let msg = s
            .process_incoming(compressed(&finished(b"Hello"), MessageKind::Text), 10)
            .unwrap();
        assert_eq!(msg, Message::text("Hello"));
    }
    let mut trailing = finished(b"Hello");
    trailing.push(0);
    assert_eq!(
        code(
            s.process_incoming(compressed(&trailing, MessageKind::Text), 10)
                .unwrap_err()
        ),
        CLOSE_EXTENSION_ERROR
    );

    let mut s = server_from(PermessageDeflate::new(), "permessage-deflate");
    for corrupt in [&[0xffu8, 0xff, 0xff][..], &[0x04, 0x00, 0x05, 0x00, 0xfa]] {
        let err = s
            .process_incoming(compressed(corrupt, MessageKind::Binary), MIB)
            .unwrap_err();
        assert_eq!(code(err), CLOSE_EXTENSION_ERROR, "{corrupt:?}");
    }
}

#[test]
fn uncompressed_messages_pass_and_close_frees() {
    // X1, X5: RSV1 clear means not compressed (RFC 7692 §6.2); after close nothing is processed.
    let (mut c, mut s, _) = connect(PermessageDeflate::new(), PermessageDeflate::new());
    let plain = Message::binary(vec![0xff; 10]);
    assert_eq!(s.process_incoming(plain.clone(), 10).unwrap(), plain);
    assert_eq!(c.allowed_rsv(), RSV1);
    let msg = Message {
        rsv: RSV1 | RSV2,
        ..Message::binary(vec![0])
    };
    assert_eq!(code(s.process_incoming(msg, 10).unwrap_err()), 1002);
    c.close();
    assert_eq!(c.allowed_rsv(), 0);
    assert_eq!(
        c.process_outgoing(Message::text("x")).unwrap(),
        Message::text("x")
    );
}

#[test]
fn utf8_check_matches_std_at_every_split() {
    // X5
    let samples: [&[u8]; 9] = [
        "héllo €𝄞".as_bytes(),
        b"\xc3",
        b"\xe2\x82",
        b"\xf0\x9d\x84",
        b"a\xff",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xf4\x90\x80\x80",
        b"\xe2\x82\xac\xe2\x82",
    ];
    for s in samples {
        let expected = std::str::from_utf8(s).is_ok();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                let mut check = Utf8Check::default();
                let ok = check.feed(&s[..i])
                    && check.feed(&s[i..j])
                    && check.feed(&s[j..])
                    && check.is_complete();
                assert_eq!(ok, expected, "{s:?} split at {i}, {j}");
            }
        }
    }
}

#[test]
#[should_panic(expected = "max_window_bits must be 9..=15")]
fn an_eight_bit_compression_window_is_not_an_option() {
    // X5
    let _ = PermessageDeflate::new().max_window_bits(8);
}

#[test]
#[should_panic(expected = "level must be 0..=9")]
fn levels_above_nine_are_not_options() {
    // X5
    let _ = PermessageDeflate::new().level(10);
}
