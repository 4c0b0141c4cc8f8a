//! Writes a seed corpus for this crate's fuzz targets into `DIR/<target>/` (default `seeds`).
//!
//! `cargo run --manifest-path std-adapter/fuzz/Cargo.toml --example seeds -- std-adapter/fuzz/seeds`
//!
//! `extension_header` gets `Sec-WebSocket-Extensions` values (RFC 6455 §9.1 grammar, RFC 7692 §7.1
//! parameters, quoted strings, bad tokens); `inflate` gets, in its control-byte layout, the RFC 7692
//! §7.2.3 example payloads, streams our own compressor made (so the fuzzer starts from valid
//! multi-message DEFLATE with and without context takeover), and plain texts for it to compress;
//! `engine` gets what a real peer engine sends (messages, one past `max_length`, a ping flood, a close).

#[path = "../common/pair.rs"]
mod pair;

use std::fs;
use std::path::{Path, PathBuf};

use websocket_driver_std::engine::Engine;
use websocket_driver_std::extensions::{DataKind, Extensions, Message, PermessageDeflate, Rsv};

fn extension_header(out: &mut Vec<Vec<u8>>) {
    for text in [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=10; server_max_window_bits=\"12\"",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; client_max_window_bits, permessage-deflate",
        "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8",
        "foo; bar=\"quoted \\\"value\\\"\", baz",
        "a;b=1;c=\"\";d",
        "  spaced ;  p = 1 , q ",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=0x9",
        "permessage-deflate;;",
        ", ,",
        "bad token; x=\"unterminated",
        "ext; p=\"\u{e9}\"",
    ] {
        out.push(text.as_bytes().to_vec());
    }
}

/// The payloads our client compressor sends for `messages` (RFC 7692 §7.2.1), context taken over
/// when `offer` allows it.
fn compressed(offer: &str, messages: &[&[u8]]) -> Vec<u8> {
    let mut server = Extensions::new();
    server.add(Box::new(PermessageDeflate::new())).unwrap();
    let response = server.generate_response(offer).unwrap().unwrap();
    let mut client = Extensions::new();
    client.add(Box::new(PermessageDeflate::new())).unwrap();
    client.generate_offer().unwrap();
    client.activate(&response).unwrap();
    let mut out = Vec::new();
    for m in messages {
        let sent = client
            .process_outgoing(Message {
                kind: DataKind::Text,
                rsv: Rsv::NONE,
                data: m.to_vec(),
            })
            .unwrap();
        out.extend_from_slice(&sent.data);
    }
    out
}

fn inflate(out: &mut Vec<Vec<u8>>) {
    const TAKEOVER: &str = "permessage-deflate; client_max_window_bits";
    const RESET: &str = "permessage-deflate; client_no_context_takeover; client_max_window_bits=10";
    // Control byte: bit 0 text, bit 1 the RESET offer, bits 2..=4 messages - 1, bit 5 compress first.
    let rfc: [&[u8]; 5] = [
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], // "Hello" (§7.2.3.1)
        &[
            0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00,
        ], // twice, shared window
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ], // stored block (§7.2.3.3)
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00], // BFINAL set (§7.2.3.4)
        &[0x00],                                     // an empty message (§7.2.3.6)
    ];
    for (i, payload) in rfc.iter().enumerate() {
        let count = if i == 1 { 1 << 2 } else { 0 };
        out.push([&[0x01 | count][..], payload].concat());
    }
    let words: &[u8] = b"the quick brown fox jumps over the lazy dog; ";
    let greek = "κόσμε ".repeat(30);
    let messages: [&[u8]; 3] = [words, greek.as_bytes(), &[0xce, 0xba, 0xff]];
    for (bit, offer) in [(0, TAKEOVER), (2, RESET)] {
        for m in messages {
            out.push([&[0x01 | bit][..], &compressed(offer, &[m])].concat());
            out.push([&[bit][..], &compressed(offer, &[m])].concat());
        }
        for len_bits in 0..4u8 {
            out.push(
                [
                    &[0x21 | bit | (3 << 2) | (len_bits << 6)][..],
                    greek.as_bytes(),
                ]
                .concat(),
            );
        }
        out.push([&[0x20 | bit | (7 << 2)][..], &[0u8, 255, 7, 128][..]].concat());
    }
}

/// What the peer of the engine under test sends, recorded from a real engine: messages around and
/// past `max_length`, a ping flood, a close; with the control byte of the `engine` target (bit 0 the
/// server under test, bit 1 deflate, bit 2 drained, bits 3..=7 the split).
fn engine(out: &mut Vec<Vec<u8>>) {
    use websocket_driver_std::Message as Sent;
    let long = "κόσμε ".repeat(2000); // 16 KiB of text: past max_length
    for server in [true, false] {
        for deflate in [false, true] {
            let (mut s, mut c) = pair::open_pair(deflate);
            let peer = if server { &mut c } else { &mut s };
            let mut bytes = Vec::new();
            peer.send(Sent::Text("Hello".into())).unwrap();
            peer.send(Sent::Binary(vec![0x5a; 300])).unwrap();
            record(peer, &mut bytes);
            peer.send(Sent::Text(long[..8 * 1024].into())).unwrap();
            record(peer, &mut bytes);
            for _ in 0..64 {
                peer.ping(&[7; 125]).unwrap();
                record(peer, &mut bytes);
            }
            let flood = bytes.clone();
            peer.send(Sent::Text(long.clone())).unwrap();
            record(peer, &mut bytes);
            peer.close(Some(1000), "bye").unwrap();
            record(peer, &mut bytes);
            let role = u8::from(server) | (u8::from(deflate) << 1);
            for drained in [0, 4] {
                for split in [0u8, 7 << 3, 31 << 3] {
                    out.push([&[role | drained | split][..], &bytes].concat());
                }
                out.push([&[role | drained][..], &flood].concat());
            }
        }
    }
}

/// Moves `peer`'s output to the end of `bytes`.
fn record(peer: &mut Engine, bytes: &mut Vec<u8>) {
    bytes.extend_from_slice(peer.output());
    let n = peer.output().len();
    peer.consume_output(n);
}

/// Appends a target's seeds to the list.
type Make = fn(&mut Vec<Vec<u8>>);

fn write(dir: &Path, target: &str, seeds: &[Vec<u8>]) {
    let dir = dir.join(target);
    fs::create_dir_all(&dir).unwrap();
    for (i, seed) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("seed-{i:03}")), seed).unwrap();
    }
    println!("{target}: {} seeds", seeds.len());
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    let targets: [(&str, Make); 3] = [
        ("extension_header", extension_header),
        ("inflate", inflate),
        ("engine", engine),
    ];
    for (target, make) in targets {
        let mut seeds = Vec::new();
        make(&mut seeds);
        write(&dir, target, &seeds);
    }
}
