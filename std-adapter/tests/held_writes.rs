//! A write the transport could not finish is offered again unchanged (F13, RFC 6455 §5.5.3).
//!
//! A TLS layer such as OpenSSL encrypts the first record of a write it cannot finish and requires the
//! retry to offer the same bytes again. Meanwhile the connection reads on, and with pongs piling up
//! behind our own message a newer ping's pong replaces an unsent one: never one in those bytes.
#![cfg(feature = "tokio")]

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use websocket_driver_std::tokio::{Item, accept};
use websocket_driver_std::{Message, Options};

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A TLS record's plaintext: what the transport holds of a write it could not finish.
const RECORD: usize = 16 * 1024;

/// Reads from a script; writes like a congested TLS stream's: once frames flow, the first
/// `waits` writes return `Pending` (waking at once) and take nothing, as TCP's would; the next `stalls`
/// hold the first record of what the first of them was offered, as OpenSSL's do, and every later
/// write must begin with those bytes.
struct RecordHolding {
    reads: VecDeque<Vec<u8>>,
    waits: usize,
    stalls: usize,
    held: Option<Vec<u8>>,
    /// Everything written, for the test to read.
    written: Arc<Mutex<Vec<u8>>>,
}

impl tokio::io::AsyncRead for RecordHolding {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.reads.pop_front() {
            Some(bytes) => {
                buf.put_slice(&bytes);
                Poll::Ready(Ok(()))
            }
            None => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

impl tokio::io::AsyncWrite for RecordHolding {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let frames = !self.written.lock().unwrap().is_empty();
        if let Some(held) = &self.held {
            assert!(
                buf.starts_with(held),
                "a write offered other bytes than the transport holds"
            );
        }
        if frames && self.waits > 0 {
            self.waits -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if frames && self.stalls > 0 {
            self.stalls -= 1;
            if self.held.is_none() {
                self.held = Some(buf[..buf.len().min(RECORD)].to_vec());
            }
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.held = None;
        self.written.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A masked client frame with a short payload.
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9, 8, 7, 6];
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// Ping `i`'s payload: `i`, then `60 + i % 40` bytes of `i` — pongs of several sizes.
fn ping_payload(i: u8) -> Vec<u8> {
    vec![i; 61 + usize::from(i % 40)]
}

#[tokio::test]
async fn a_pong_in_a_write_the_transport_holds_is_never_replaced() {
    let mut reads = VecDeque::from([REQUEST.to_vec()]);
    reads.extend((0..200u8).map(|i| masked(0x9, &ping_payload(i))));
    let written = Arc::new(Mutex::new(Vec::new()));
    let io = RecordHolding {
        reads,
        waits: 100,
        stalls: 100,
        held: None,
        written: written.clone(),
    };
    // A 4 KiB high-water mark: past 2 KiB of pongs behind our message, pongs coalesce, but never in
    // the first record of a write left pending.
    let options = Options {
        transmit_buffer: 4096,
        ..Options::new()
    };
    let mut ws = accept(io, options, |_| {}).await.unwrap();
    ws.feed(Item::Message(Message::Binary(vec![7; 1024])))
        .await
        .unwrap();
    let mut pings = 0;
    while pings < 200 {
        match ws.next().await {
            Some(Ok(Item::Ping(payload))) => {
                assert_eq!(payload, ping_payload(pings as u8));
                pings += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    SinkExt::<Item>::flush(&mut ws).await.unwrap();
    // On the wire: our message, then pongs, each one answering one of the pings, the last one the
    // newest's.
    let written = written.lock().unwrap();
    let written = &written[129..]; // after the 101
    assert_eq!(written[..4], [0x82, 126, 4, 0]);
    let mut rest = &written[4 + 1024..];
    let (mut last, mut pongs) = (None, 0);
    while !rest.is_empty() {
        assert_eq!(rest[0], 0x8a, "a pong");
        let len = usize::from(rest[1]);
        let payload = &rest[2..2 + len];
        assert_eq!(payload, ping_payload(payload[0]));
        last = Some(payload[0]);
        pongs += 1;
        rest = &rest[2 + len..];
    }
    assert_eq!(last, Some(199));
    // The whole output fits in the record a pending write may leave held, so none was replaced.
    assert_eq!(pongs, 200);
}
