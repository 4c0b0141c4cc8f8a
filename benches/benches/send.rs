//! Send path, client role: one binary message at a time is framed and masked into each
//! implementation's output, which is then handed to a discarding sink (`black_box`; ours: `TxRing::peek`
//! then `consume`). One iteration = `n` messages; throughput counts payload bytes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use websocket_driver::mask_source::{MaskSource, RandCore, SplitMix};
use websocket_driver::{Config, Driver, TxRing};
use websocket_driver_benches::{
    BINARY, CycleStream, MemStream, SEND, SplitMix06, check_client_frame, random_bytes, runtime,
};

fn label(size: usize) -> String {
    if size >= 1024 {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

fn ours<R: MaskSource>(b: &mut criterion::Bencher<'_>, payload: &[u8], n: usize, mut rng: R) {
    let mut tx = TxRing::new(vec![0u8; payload.len() + 14]);
    let mut ws = Driver::client_upgraded(Config::default());
    ws.binary(&mut tx, &mut rng, payload).unwrap();
    check_client_frame(tx.peek(), BINARY, payload);
    let len = tx.peek().len();
    tx.consume(len);
    b.iter(|| {
        for _ in 0..n {
            ws.binary(&mut tx, &mut rng, payload).unwrap();
            let out = tx.peek();
            let len = out.len();
            black_box(out);
            tx.consume(len);
        }
    });
}

fn send(c: &mut Criterion) {
    for &(size, n) in SEND {
        let payload = random_bytes(size, size as u64);
        let mut group = c.benchmark_group(format!("send/binary/{}", label(size)));
        group.throughput(Throughput::Bytes((size * n) as u64));

        // Ours, with the deterministic SplitMix mask source (the same generator feeds
        // embedded-websocket below).
        group.bench_function("ours", |b| ours(b, &payload, n, SplitMix::new(1)));
        // Ours as a server: unmasked frames (RFC 6455 §5.1).
        group.bench_function("ours (server)", |b| {
            let mut tx = TxRing::new(vec![0u8; payload.len() + 14]);
            let mut ws = Driver::server_upgraded(Config::default());
            let mut rng = SplitMix::new(1);
            b.iter(|| {
                for _ in 0..n {
                    ws.binary(&mut tx, &mut rng, &payload).unwrap();
                    let out = tx.peek();
                    let len = out.len();
                    black_box(out);
                    tx.consume(len);
                }
            });
        });
        // The floors: a server frame is its header encoded in place plus one copy of the payload; a
        // client frame the header, a fresh key, and one masking copy.
        group.bench_function("floor (server)", |b| {
            use websocket_driver::wire::{FrameHeader, OpCode};
            let mut out = vec![0u8; payload.len() + 14];
            b.iter(|| {
                for _ in 0..n {
                    let h = FrameHeader::new(OpCode::Binary, payload.len() as u64).encode(&mut out);
                    out[h..h + payload.len()].copy_from_slice(&payload);
                    black_box(&out[..h + payload.len()]);
                }
            });
        });
        group.bench_function("floor (client)", |b| {
            use websocket_driver::MaskSource;
            use websocket_driver::wire::{FrameHeader, OpCode, mask};
            let mut out = vec![0u8; payload.len() + 14];
            let mut rng = SplitMix::new(1);
            b.iter(|| {
                for _ in 0..n {
                    let key = rng.mask_key();
                    let h = FrameHeader {
                        mask: Some(key),
                        ..FrameHeader::new(OpCode::Binary, payload.len() as u64)
                    }
                    .encode(&mut out);
                    mask::copy_masked(&mut out[h..h + payload.len()], &payload, key, 0);
                    black_box(&out[..h + payload.len()]);
                }
            });
        });
        // Ours with rand's ThreadRng (ChaCha12), the kind of RNG tungstenite and fastwebsockets use.
        group.bench_function("ours (ThreadRng)", |b| {
            ours(b, &payload, n, RandCore(rand::rng()))
        });

        // tungstenite: `send` (write + flush) of a Message::Binary whose Bytes are shared, not copied.
        group.bench_function("tungstenite", |b| {
            use tungstenite::Message;
            use tungstenite::protocol::{Role, WebSocket};
            let shared = bytes::Bytes::from(payload.clone());
            let mut ws = WebSocket::from_raw_socket(MemStream::new(Vec::new()), Role::Client, None);
            b.iter(|| {
                for _ in 0..n {
                    ws.send(Message::Binary(shared.clone())).unwrap();
                }
            });
        });

        // fastwebsockets with a borrowed payload: the client masks a copy (`Payload::to_mut`).
        group.bench_function("fastwebsockets", |b| {
            use fastwebsockets::{Frame, Payload, Role, WebSocket};
            let rt = runtime();
            let mut ws = WebSocket::after_handshake(CycleStream::new(Vec::new()), Role::Client);
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..n {
                        let frame = Frame::binary(Payload::Borrowed(&payload));
                        ws.write_frame(frame).await.unwrap();
                    }
                })
            });
        });

        // fastwebsockets masking the caller's buffer in place (no copy; the caller's data is lost).
        group.bench_function("fastwebsockets (in place)", |b| {
            use fastwebsockets::{Frame, Payload, Role, WebSocket};
            let rt = runtime();
            let mut scratch = payload.clone();
            let mut ws = WebSocket::after_handshake(CycleStream::new(Vec::new()), Role::Client);
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..n {
                        let frame = Frame::binary(Payload::BorrowedMut(&mut scratch));
                        ws.write_frame(frame).await.unwrap();
                    }
                })
            });
        });

        // tokio-websockets: a client WebSocketStream (no handshake) sending a Message whose Bytes are
        // shared, not copied; it masks into its own write buffer.
        group.bench_function("tokio-websockets", |b| {
            use futures_util::SinkExt;
            let rt = runtime();
            let shared = bytes::Bytes::from(payload.clone());
            let mut ws =
                tokio_websockets::ClientBuilder::new().take_over(CycleStream::new(Vec::new()));
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..n {
                        ws.send(tokio_websockets::Message::binary(shared.clone()))
                            .await
                            .unwrap();
                    }
                })
            });
        });

        // embedded-websocket: `write(type, fin, from, to)` frames and masks into `to`.
        group.bench_function("embedded-websocket", |b| {
            use embedded_websocket::{WebSocketClient, WebSocketSendMessageType, WebSocketState};
            let mut ws = WebSocketClient::new_client(SplitMix06::new(1));
            ws.state = WebSocketState::Open;
            let mut out = vec![0u8; size + 14];
            let len = ws
                .write(WebSocketSendMessageType::Binary, true, &payload, &mut out)
                .unwrap();
            check_client_frame(&out[..len], BINARY, &payload);
            b.iter(|| {
                for _ in 0..n {
                    let len = ws
                        .write(WebSocketSendMessageType::Binary, true, &payload, &mut out)
                        .unwrap();
                    black_box(&out[..len]);
                }
            });
        });

        group.finish();
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
    targets = send
}
criterion_main!(benches);
