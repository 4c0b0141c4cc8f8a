//! Receive path, server role: a buffer of `n` masked client frames (random keys) is copied into each
//! implementation's receive buffer, parsed, unmasked (and, for text, validated as UTF-8), and every
//! payload is handed to a no-op consumer (`black_box`). One iteration = the whole buffer = `n` messages;
//! throughput counts payload bytes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{Config, Driver, Event, Instant, RxBuf, TxRing};
use websocket_driver_benches::{
    BINARY, CycleStream, MemStream, RECV_BINARY, RECV_TEXT, TEXT, greek_text, masked_frames,
    random_bytes, runtime,
};

fn label(size: usize) -> String {
    if size >= 1024 {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

/// Compares the first payload an implementation delivers with the one sent (checks the harness; a
/// predictable branch afterwards, the same for every implementation).
#[inline(always)]
fn check_payload(check: &mut bool, got: &[u8], want: &[u8]) {
    if *check {
        assert!(got == want, "payload differs");
        *check = false;
    }
}

/// The read size of the "sized reads" row between frames.
const READ_SIZE: usize = 4 * 1024;

/// Polls ours until it needs input, checking each event is a whole message of the expected kind;
/// returns the number of messages.
#[inline(always)]
fn poll_all(
    ws: &mut Driver,
    rx: &mut RxBuf<Vec<u8>>,
    tx: &mut TxRing<Vec<u8>>,
    rng: &mut SplitMix,
    text: bool,
    check: &mut bool,
    payload: &[u8],
) -> usize {
    let mut count = 0;
    while let Some(event) = ws.poll(rx, tx, rng, Instant::ZERO).unwrap() {
        match event {
            Event::Binary { data, fin: true } if !text => {
                check_payload(check, data, payload);
                black_box(data);
            }
            Event::Text { data, fin: true } if text => {
                check_payload(check, data.as_bytes(), payload);
                black_box(data);
            }
            other => panic!("unexpected event {other:?}"),
        }
        count += 1;
    }
    count
}

/// Ours reading `input` through a 128 KiB receive buffer: as much as fits at each read, or (`sized`)
/// up to the end of the frame under way, else READ_SIZE, reading on to the frame's end before polling.
fn ours_streamed(
    b: &mut criterion::Bencher<'_>,
    input: &[u8],
    text: bool,
    payload: &[u8],
    n: usize,
    sized: bool,
) {
    let mut rx = RxBuf::new(vec![0u8; (128 * 1024).min(input.len())]);
    let mut tx = TxRing::new(vec![0u8; 4096]);
    let mut rng = SplitMix::new(1);
    let mut ws = Driver::server_upgraded(Config::default());
    let mut check = true;
    b.iter(|| {
        let mut offset = 0;
        let mut count = 0;
        while offset < input.len() {
            let end = match ws.frame_remaining(&rx) as usize {
                _ if !sized => input.len(),
                0 => input.len().min(offset + READ_SIZE),
                remaining => input.len().min(offset + remaining),
            };
            offset += rx.write(&input[offset..end]);
            // Sized reads go on to the end of a frame under way before polling, as a server reads
            // what its socket has at hand (here: everything) before handling it.
            if sized && offset < input.len() && ws.frame_remaining(&rx) > 0 && rx.room() > 0 {
                continue;
            }
            count += poll_all(
                &mut ws, &mut rx, &mut tx, &mut rng, text, &mut check, payload,
            );
        }
        assert_eq!(count, n);
    });
}

fn bench_case(c: &mut Criterion, kind: &str, opcode: u8, payload: &[u8], n: usize) {
    let input = masked_frames(opcode, payload, n, 0x5eed ^ payload.len() as u64);
    let text = opcode == TEXT;
    let mut group = c.benchmark_group(format!("receive/{kind}/{}", label(payload.len())));
    group.throughput(Throughput::Bytes((payload.len() * n) as u64));

    // Ours: RxBuf over a Vec holding the whole input; refilled with `write` (a copy) every iteration.
    group.bench_function("ours", |b| {
        let mut rx = RxBuf::new(vec![0u8; input.len()]);
        let mut tx = TxRing::new(vec![0u8; 4096]);
        let mut rng = SplitMix::new(1);
        let mut ws = Driver::server_upgraded(Config::default());
        let mut check = true;
        b.iter(|| {
            let written = rx.write(&input);
            assert_eq!(written, input.len());
            let count = poll_all(
                &mut ws, &mut rx, &mut tx, &mut rng, text, &mut check, payload,
            );
            assert_eq!(count, n);
        });
    });

    // Ours the way a server reads a socket: a 128 KiB RxBuf (tungstenite's default read buffer size)
    // fed as much of the input as fits, polled until `None`, and so on; a frame cut at the end of the
    // buffer is moved to its front by the next `write` (compaction). With the whole input in one buffer
    // (above) the 64 KiB case walks 1 MiB, more than the L2 cache; here the working set stays small.
    group.bench_function("ours (128KiB rx)", |b| {
        ours_streamed(b, &input, text, payload, n, false)
    });

    // The same 128 KiB buffer with reads sized by the driver: while a frame is under way a read ends
    // where that frame ends (`frame_remaining`), otherwise it takes at most READ_SIZE (4 KiB, the std
    // engine's first read); the buffer then empties after each frame that crossed a read, and no frame
    // is ever moved to its front. The reads go on to the end of a frame under way before the next poll
    // (`frame_remaining` reads a header not yet polled), so each text byte is validated once.
    group.bench_function("ours (128KiB rx, sized reads)", |b| {
        ours_streamed(b, &input, text, payload, n, true)
    });

    // tungstenite: blocking WebSocket over an in-memory reader, rewound every iteration.
    group.bench_function("tungstenite", |b| {
        use tungstenite::Message;
        use tungstenite::protocol::{Role, WebSocket};
        let mut ws = WebSocket::from_raw_socket(MemStream::new(input.clone()), Role::Server, None);
        let mut check = true;
        b.iter(|| {
            ws.get_mut().rewind();
            for _ in 0..n {
                match ws.read().unwrap() {
                    Message::Binary(data) if !text => {
                        check_payload(&mut check, &data, payload);
                        black_box(data);
                    }
                    Message::Text(data) if text => {
                        check_payload(&mut check, data.as_bytes(), payload);
                        black_box(data);
                    }
                    other => panic!("unexpected message {other:?}"),
                }
            }
        });
    });

    // fastwebsockets: async WebSocket over an in-memory reader that cycles through the input, driven
    // by a current-thread runtime (one block_on per iteration; the stream never returns Pending).
    group.bench_function("fastwebsockets", |b| {
        use fastwebsockets::{OpCode, Role, WebSocket};
        let rt = runtime();
        let mut ws = WebSocket::after_handshake(CycleStream::new(input.clone()), Role::Server);
        ws.set_auto_close(false);
        ws.set_auto_pong(false);
        ws.set_writev(false);
        let want = if text { OpCode::Text } else { OpCode::Binary };
        let mut check = true;
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..n {
                    let frame = ws.read_frame().await.unwrap();
                    assert!(frame.fin && frame.opcode == want);
                    check_payload(&mut check, &frame.payload, payload);
                    black_box(&frame.payload[..]);
                }
            })
        });
    });

    // tokio-websockets: a server WebSocketStream (no handshake) over the same cycling reader, polled as a
    // Stream on a current-thread runtime.
    group.bench_function("tokio-websockets", |b| {
        use futures_util::StreamExt;
        let rt = runtime();
        let mut ws = tokio_websockets::ServerBuilder::new().serve(CycleStream::new(input.clone()));
        let mut check = true;
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..n {
                    let message = ws.next().await.unwrap().unwrap();
                    assert!(message.is_text() == text && message.is_binary() != text);
                    check_payload(&mut check, message.as_payload(), payload);
                    black_box(message);
                }
            })
        });
    });

    // The floor: what no implementation can avoid — one copy of the input into a receive buffer, the
    // frame header parsed (the core's stateless parser), the payload unmasked in place, and for text one
    // UTF-8 check (simdutf8). No state machine, no events.
    group.bench_function("floor", |b| {
        use websocket_driver::wire::{FrameHeader, Status, mask};
        let mut buf = vec![0u8; input.len()];
        let mut check = true;
        b.iter(|| {
            buf.copy_from_slice(&input);
            let mut pos = 0;
            let mut count = 0;
            while pos < buf.len() {
                let Status::Complete((header, len)) = FrameHeader::parse(&buf[pos..]) else {
                    panic!("a whole frame is buffered");
                };
                let body = pos + len..pos + len + header.payload_len as usize;
                let data = &mut buf[body.clone()];
                if let Some(key) = header.mask {
                    mask::apply(data, key, 0);
                }
                let data = &buf[body.clone()];
                check_payload(&mut check, data, payload);
                if text {
                    black_box(simdutf8::basic::from_utf8(data).unwrap());
                } else {
                    black_box(data);
                }
                pos = body.end;
                count += 1;
            }
            assert_eq!(count, n);
        });
    });

    // embedded-websocket: `read(from, to)` unmasks while copying into `to`; the input is first copied
    // into a receive buffer, like the others. Its core API does not validate UTF-8 (its framer does, with
    // core::str::from_utf8), so the text rows do that here.
    group.bench_function("embedded-websocket", |b| {
        use embedded_websocket::{WebSocketReceiveMessageType, WebSocketServer, WebSocketState};
        let mut ws = WebSocketServer::new_server();
        ws.state = WebSocketState::Open;
        let mut buf = vec![0u8; input.len()];
        let mut out = vec![0u8; payload.len()];
        let mut check = true;
        b.iter(|| {
            buf.copy_from_slice(&input);
            let mut pos = 0;
            let mut count = 0;
            while pos < buf.len() {
                let r = ws.read(&buf[pos..], &mut out).unwrap();
                assert!(r.end_of_message);
                pos += r.len_from;
                let data = &out[..r.len_to];
                check_payload(&mut check, data, payload);
                match r.message_type {
                    WebSocketReceiveMessageType::Binary if !text => {
                        black_box(data);
                    }
                    WebSocketReceiveMessageType::Text if text => {
                        black_box(core::str::from_utf8(data).unwrap());
                    }
                    other => panic!("unexpected message {other:?}"),
                }
                count += 1;
            }
            assert_eq!(count, n);
        });
    });

    group.finish();
}

fn receive(c: &mut Criterion) {
    for &(size, n) in RECV_BINARY {
        bench_case(c, "binary", BINARY, &random_bytes(size, size as u64), n);
    }
    for &(size, n) in RECV_TEXT {
        bench_case(c, "text", TEXT, greek_text(size).as_bytes(), n);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = receive
}
criterion_main!(benches);
