//! Writes a seed corpus for every fuzz target of this crate into `DIR/<target>/` (default `seeds`).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- fuzz/seeds`
//!
//! Each seed is laid out the way its target reads its input (the targets' doc comments say how), and
//! holds the vectors of BEHAVIOUR.md and RFC 6455 the target's code paths are about: valid and broken
//! frame headers, UTF-8 edge cases, fragmented messages with interleaved control frames, close frames
//! with good and bad codes, RFC 6455 §1.2/§4 handshakes (and hixie-75/76 ones), proxy answers and
//! URLs with userinfo, IPv6 hosts and bad ports. libFuzzer starts from these instead of from nothing.

use std::fs;
use std::path::{Path, PathBuf};

use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{ClientRequest, Config, Driver, Event, Instant, RxBuf, TxRing, Url};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xa;
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One frame (RFC 6455 §5.2), masked with `mask` when given, minimal length encoding.
fn frame(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(bit | n as u8),
        n @ 126..=0xffff => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// Frame sequences a peer may send, masked (`mask`) as a client would or not as a server would.
fn streams(mask: Option<[u8; 4]>) -> Vec<Vec<u8>> {
    let f = |fin, opcode, payload: &[u8]| frame(fin, 0, opcode, mask, payload);
    let big = vec![b'a'; 300];
    let huge = vec![0x5a; 70_000];
    let mut out = vec![
        f(true, TEXT, b"Hello"),
        f(true, TEXT, "κόσμε € 𝄞".as_bytes()),
        f(true, TEXT, b""),
        f(true, BINARY, &[0, 1, 2, 0xff]),
        f(true, BINARY, &big),
        f(true, BINARY, &huge),
        [f(false, TEXT, b"Hel"), f(true, CONT, b"lo")].concat(),
        [
            f(false, TEXT, b"He"),
            f(true, PING, b"p"),
            f(false, CONT, b"l"),
            f(true, CONT, b"lo"),
        ]
        .concat(),
        [f(false, TEXT, &[0xce]), f(true, CONT, &[0xba])].concat(),
        [f(false, BINARY, b""), f(true, CONT, b"")].concat(),
        f(true, PING, b"ping payload"),
        f(true, PING, &[7; 125]),
        f(true, PONG, b""),
        f(true, CLOSE, b""),
        f(true, CLOSE, &close_payload(1000, b"bye")),
        f(true, CLOSE, &close_payload(4000, "κ".as_bytes())),
        [
            f(true, TEXT, b"a"),
            f(true, CLOSE, &close_payload(1001, b"")),
            f(true, TEXT, b"after"),
        ]
        .concat(),
        // Protocol errors (BEHAVIOUR F-items): each ends the connection with its close code.
        f(
            true,
            TEXT,
            &[
                0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
            ],
        ),
        f(true, TEXT, &[0xf4, 0x90, 0x80, 0x80]),
        f(true, TEXT, &[0xc0, 0xaf]),
        f(true, CLOSE, &[0x03]),
        f(true, CLOSE, &close_payload(1005, b"")),
        f(true, CLOSE, &close_payload(999, b"")),
        f(true, CLOSE, &close_payload(1000, &[0xff])),
        f(true, PING, &[7; 126]),
        f(false, PING, b""),
        f(true, CONT, b"orphan"),
        [f(false, TEXT, b"a"), f(true, TEXT, b"b")].concat(),
        frame(true, 4, TEXT, mask, b"rsv1"),
        frame(true, 2, BINARY, mask, b"rsv2"),
        f(true, 0x3, b""),
        f(true, 0xb, b""),
    ];
    // A 64-bit length with the top bit set, and a non-minimal 16-bit length.
    let mut bad = vec![0x82, 127 | if mask.is_some() { 0x80 } else { 0 }];
    bad.extend_from_slice(&u64::MAX.to_be_bytes());
    out.push(bad);
    let mut long = vec![0x81, 126 | if mask.is_some() { 0x80 } else { 0 }, 0, 5];
    if let Some(key) = mask {
        long.extend_from_slice(&key);
    }
    long.extend_from_slice(b"Hello");
    out.push(long);
    // A maximal ping with a 64-bit length (139 bytes, more than the smallest receive buffer) between
    // the fragments of a text cut inside a code point.
    let mut ping = vec![0x89, 127 | if mask.is_some() { 0x80 } else { 0 }];
    ping.extend_from_slice(&125u64.to_be_bytes());
    if let Some(key) = mask {
        ping.extend_from_slice(&key);
        ping.extend((0..125).map(|i| 7 ^ key[i % 4]));
    } else {
        ping.extend_from_slice(&[7; 125]);
    }
    let text = "a\u{10348}".as_bytes();
    out.push([f(false, TEXT, &text[..3]), ping, f(true, CONT, &text[3..])].concat());
    out
}

const SPLITS: [[u8; 8]; 4] = [
    [255; 8],
    [1; 8],
    [3, 7, 1, 64, 2, 130, 5, 9],
    [0, 0, 0, 0, 0, 0, 0, 0],
];

fn driver(out: &mut Vec<Vec<u8>>) {
    for (i, stream) in streams(Some(KEY))
        .into_iter()
        .chain(streams(None))
        .enumerate()
    {
        let flags = (i % 4) as u8;
        let splits = &SPLITS[i % SPLITS.len()];
        out.push([&[flags][..], splits, &stream].concat());
    }
}

fn header(out: &mut Vec<Vec<u8>>) {
    for opcode in [TEXT, BINARY, CONT, CLOSE, PING, PONG, 0x3, 0xf] {
        for len in [0usize, 125, 126, 65_535, 65_536] {
            for mask in [None, Some(KEY)] {
                let mut f = frame(opcode != CONT, 0, opcode, mask, &vec![0; len]);
                f.truncate(14);
                out.push(f);
            }
        }
    }
    out.push(vec![0xf1, 0x85, 1, 2, 3, 4]);
    out.push(vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    out.push(vec![0x81, 0x7e, 0, 1]);
}

fn utf8(out: &mut Vec<Vec<u8>>) {
    let texts: [&[u8]; 12] = [
        b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
        "κόσμε".as_bytes(),
        "𝄞 € ĳ 日本語".as_bytes(),
        &[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
            0x65, 0x64,
        ],
        &[0xf4, 0x8f, 0xbf, 0xbf],
        &[0xf4, 0x90, 0x80, 0x80],
        &[0xed, 0x9f, 0xbf, 0xed, 0xa0, 0x80],
        &[0xc0, 0xaf, 0xe0, 0x80, 0xaf],
        &[0xe2, 0x82],
        &[0xf0, 0x9d, 0x84],
        &[0xff, 0xfe],
        &[0x80],
    ];
    let cuts: [&[u8]; 4] = [&[], &[1], &[1, 1, 1, 1], &[3, 2, 5]];
    for (i, text) in texts.iter().enumerate() {
        for cut in cuts.iter().take(if i < 3 { 4 } else { 2 }) {
            out.push([&[cut.len() as u8][..], cut, text].concat());
        }
    }
    let long: Vec<u8> = "ascii then κόσμε ".repeat(40).into_bytes();
    out.push([&[2u8, 200, 13][..], &long].concat());
}

fn mask(out: &mut Vec<Vec<u8>>) {
    for (i, len) in [0usize, 1, 3, 4, 7, 31, 32, 33, 100, 1000]
        .into_iter()
        .enumerate()
    {
        let payload: Vec<u8> = (0..len).map(|b| (b * 7) as u8).collect();
        let head = [KEY[0], KEY[1], KEY[2], KEY[3], i as u8, (len / 2) as u8];
        out.push([&head[..], &payload].concat());
    }
}

fn buffers(out: &mut Vec<Vec<u8>>) {
    // The operations are decoded by `arbitrary`: pseudo-random bytes of several lengths reach them all.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for len in [8, 32, 64, 128, 256, 512, 1024, 2048] {
        let seed: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                (z ^ (z >> 31)) as u8
            })
            .collect();
        out.push(seed);
    }
}

fn url(out: &mut Vec<Vec<u8>>) {
    for text in [
        "ws://example.com/",
        "ws://example.com",
        "wss://example.com:8443/chat?room=1&x=%20y",
        "ws://user:pass@example.com/path",
        "ws://user%3Aname:p%40ss@example.com:80/",
        "wss://[::1]:9001/",
        "ws://[fe80::1%25eth0]/",
        "ws://127.0.0.1:9001/runCase?case=1&agent=x",
        "http://proxy.example.com:3128",
        "https://u:p@proxy.example.com",
        "ws://example.com:0/",
        "ws://example.com:65536/",
        "ws://example.com:/",
        "ws://exa mple.com/",
        "ws://example.com/a b",
        "ws://example.com/\r\nHost: evil",
        "ws://@/",
        "ws://例え.jp/",
        "ftp://example.com/",
        "ws://example.com/#fragment",
    ] {
        out.push(text.as_bytes().to_vec());
    }
}

fn draft(out: &mut Vec<Vec<u8>>) {
    let streams: [&[u8]; 9] = [
        b"\x00Hello\xff",
        b"\x00\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xff\x00\xff",
        b"\x80\x05Hello",
        b"\x81\x00\x00",
        b"\xff\x00",
        b"\x00bad \xc0\xaf\xff",
        b"\x00no end",
        b"\x81\x81\x81\x81\x81\x81\x81\x81\x81\x81\x81\x01x",
        b"\x01stray",
    ];
    for (i, stream) in streams.iter().enumerate() {
        let steps: &[u8] = if i % 2 == 0 { &[1, 1, 2] } else { &[] };
        out.push([&[steps.len() as u8][..], steps, stream].concat());
    }
}

const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn handshake_server(out: &mut Vec<Vec<u8>>) {
    let requests: [&[u8]; 8] = [
        RFC_REQUEST.as_bytes(),
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 12\r\n\r\n",
        // hixie-76 (its 8-byte body is the key3 of the draft's example).
        b"GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\n\
Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n^n:ds[4U",
        // hixie-75.
        b"GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\n\
Origin: http://example.com\r\n\r\n",
        b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
    ];
    for (i, request) in requests.iter().enumerate() {
        let flags = (i % 4) as u8 | 1; // drafts allowed
        let frames: Vec<u8> = if i == 3 || i == 4 {
            b"\x00Hello\xff\xff\x00".to_vec()
        } else {
            streams(Some(KEY))[i].clone()
        };
        for splits in [[64u8, 64, 64, 64], [1, 2, 3, 200]] {
            out.push([&[flags][..], &splits, request, &frames].concat());
        }
    }
}

/// A client set up as the `handshake_client` target sets it up (its nonce comes from
/// `SplitMix::new(flags)`), its request queued in `tx`.
fn client(flags: u8, tx: &mut TxRing<Vec<u8>>) -> (Driver, SplitMix) {
    let mut driver = Driver::client(Config::default().head_limit(1024));
    let mut rng = SplitMix::new(u64::from(flags));
    let url = Url::parse_ws("ws://user:pw@example.com:8080/chat?x=1").unwrap();
    let request = ClientRequest {
        url: &url,
        protocols: &["chat", "superchat"],
        headers: &[],
        extensions: None,
    };
    driver.start(tx, &mut rng, &request).unwrap();
    (driver, rng)
}

/// The `Sec-WebSocket-Key` of that client's request, so a seed can carry the matching accept value.
fn client_key(flags: u8) -> String {
    let mut tx = TxRing::new(vec![0u8; 2048]);
    client(flags, &mut tx);
    let text = String::from_utf8(tx.peek().to_vec()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Sec-WebSocket-Key:"))
        .unwrap();
    line["Sec-WebSocket-Key:".len()..].trim().to_string()
}

/// Asserts that `response` opens that client's connection: the seeds meant to get past the handshake do.
fn assert_opens(flags: u8, response: &[u8]) {
    let mut tx = TxRing::new(vec![0u8; 2048]);
    let (mut driver, mut rng) = client(flags, &mut tx);
    let mut rx = RxBuf::new(vec![0u8; 1024]);
    assert_eq!(rx.write(response), response.len());
    loop {
        match driver.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO) {
            Ok(Some(Event::Open)) => return,
            Ok(Some(Event::Response(_))) => {
                driver
                    .check_response(&mut rx, &mut tx, &["chat", "superchat"])
                    .unwrap();
            }
            Ok(Some(_)) => {}
            other => panic!("seed response for flags {flags} did not open: {other:?}"),
        }
    }
}

fn handshake_client(out: &mut Vec<Vec<u8>>) {
    for flags in [0u8, 1, 2, 3] {
        let key = client_key(flags);
        let accept = AcceptKey::for_key(key.as_bytes());
        let good = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
            accept.as_str()
        );
        assert_opens(flags, good.as_bytes());
        let proxy: &[u8] = if flags & 1 == 1 {
            b"HTTP/1.1 200 Connection established\r\n\r\n"
        } else {
            b""
        };
        let frames = streams(None);
        for (i, tail) in [&frames[0], &frames[7], &frames[14], &frames[20]]
            .into_iter()
            .enumerate()
        {
            let splits = if i % 2 == 0 {
                [64u8; 4]
            } else {
                [1, 5, 9, 255]
            };
            out.push([&[flags][..], &splits, proxy, good.as_bytes(), tail].concat());
        }
        let bad = [
            good.replace("chat\r\n", "other\r\n"),
            good.replace(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno".to_string(),
            "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n".to_string(),
        ];
        for response in bad {
            out.push([&[flags][..], &[64u8; 4], proxy, response.as_bytes()].concat());
        }
    }
}

/// Request and response heads, well-formed and not, each after a header-slot count.
fn heads(out: &mut Vec<Vec<u8>>) {
    for head in [
        &b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"[..],
        b"\r\nGET * HTTP/1.0\nHost: a\n\n",
        b"POST /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.2\r\n\r\n",
        b"G@T /\x7f HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 101\r\n\r\n",
        b"HTTP/1.1 101 caf\xc3\xa9\r\nX: \xff\r\n\r\n",
        b"HTTP/1.0 1011 x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    ] {
        for max in [0u8, 1, 64] {
            out.push([&[max][..], head].concat());
        }
    }
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
    let targets: [(&str, Make); 10] = [
        ("driver", driver),
        ("header", header),
        ("utf8", utf8),
        ("mask", mask),
        ("buffers", buffers),
        ("url", url),
        ("draft", draft),
        ("handshake_server", handshake_server),
        ("handshake_client", handshake_client),
        ("heads", heads),
    ];
    for (target, make) in targets {
        let mut seeds = Vec::new();
        make(&mut seeds);
        write(&dir, target, &seeds);
    }
}
