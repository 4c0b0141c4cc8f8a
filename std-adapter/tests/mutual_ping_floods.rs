//! Two ends that ping each other hundreds of times while both send large messages, over loopback TCP,
//! split into reader and writer halves (F13, RFC 6455 §5.5.3).
//!
//! Each end's pongs queue behind its own large message, which the other end is not reading yet. Were
//! they counted up to the high-water mark, both ends would stop reading, neither message would
//! drain, and with keepalive off (as here) both would wait for good. Past half the mark each pong
//! replaces the unsent one before it, so both keep reading. A watchdog fails the test instead of
//! hanging.

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use websocket_driver_std::blocking::{Accepted, Connection, Incoming, accept};
use websocket_driver_std::{CloseEvent, Message, Options};

const ROUNDS: usize = 20;
const PINGS: usize = 700;
/// More than loopback's socket buffers hold both ways.
const LARGE: usize = 8 << 20;
const WATCHDOG: Duration = Duration::from_secs(60);

/// Ping `i`'s payload: `i` in two bytes, then `123 - i % 8` bytes of 0xee — pongs of several sizes, so
/// that a pong that changed under a write in progress shows as a broken frame or a payload no ping
/// had, and large, so that 700 of them pass the high-water mark.
fn ping_payload(i: usize) -> Vec<u8> {
    let mut payload = (i as u16).to_be_bytes().to_vec();
    payload.extend(std::iter::repeat_n(0xee, 123 - i % 8));
    payload
}

/// Whether `pong` answers one of our pings.
fn answers_a_ping(pong: &[u8]) -> bool {
    pong.len() >= 2 && pong[2..].iter().all(|&b| b == 0xee) && {
        let i = usize::from(u16::from_be_bytes([pong[0], pong[1]]));
        i < PINGS && pong.len() - 2 == 123 - i % 8
    }
}

/// No keepalive: nothing ends a deadlock but the watchdog.
fn options() -> Options {
    Options::new().ping_interval(None)
}

/// One end: its reader counts the other end's messages and pongs while its writer pings and sends.
fn blocking_end(connection: Connection<TcpStream>) -> (usize, usize) {
    let (mut reader, writer) = connection.split().unwrap();
    let (all_in, wait_all_in) = mpsc::channel();
    let reading = thread::spawn(move || {
        let (mut messages, mut pongs) = (0, 0);
        loop {
            match reader.recv().unwrap() {
                Some(Incoming::Message(Message::Binary(data))) => {
                    assert_eq!(data.len(), LARGE);
                    messages += 1;
                    if messages == ROUNDS {
                        all_in.send(()).unwrap();
                    }
                }
                Some(Incoming::Pong(pong)) => {
                    assert!(answers_a_ping(&pong), "{pong:02x?}");
                    pongs += 1;
                }
                Some(Incoming::Ping(_)) => {}
                Some(Incoming::Close(close)) => {
                    assert_eq!(close.code, 1000);
                    return (messages, pongs);
                }
                other => panic!("{other:?}"),
            }
        }
    });
    for _ in 0..ROUNDS {
        for i in 0..PINGS {
            writer.ping(&ping_payload(i)).unwrap();
        }
        writer.send(Message::Binary(vec![1; LARGE])).unwrap();
    }
    // Closed once the other end's messages are all in; it may have closed first (its close echoed).
    wait_all_in.recv().unwrap();
    let _ = writer.close(1000, "");
    reading.join().unwrap()
}

/// Waits for both ends' results, or fails when the watchdog runs out first.
fn both_finish(done: mpsc::Receiver<(usize, usize)>) {
    for _ in 0..2 {
        let (messages, pongs) = done
            .recv_timeout(WATCHDOG)
            .expect("both ends stopped reading: deadlocked");
        assert_eq!(messages, ROUNDS);
        assert!(pongs > 0);
    }
}

#[test]
fn blocking_split_ends_pinging_each_other_during_large_messages_do_not_deadlock() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, results) = mpsc::channel();
    let server_done = done.clone();
    thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let Accepted::WebSocket(connection) = accept(socket, options(), |_| {}).unwrap() else {
            panic!("the upgrade was not accepted");
        };
        let _ = server_done.send(blocking_end(*connection));
    });
    thread::spawn(move || {
        let connection = Connection::connect(&format!("ws://{addr}/"), options(), |_| {}).unwrap();
        let _ = done.send(blocking_end(connection));
    });
    both_finish(results);
}

#[cfg(feature = "tokio")]
mod on_tokio {
    use futures_util::{SinkExt, StreamExt};
    use websocket_driver_std::tokio::{Item, WebSocketStream};

    use super::*;

    async fn tokio_end(ws: WebSocketStream<tokio::net::TcpStream>) -> (usize, usize) {
        let (mut reader, mut writer) = ws.split();
        let (all_in, wait_all_in) = tokio::sync::oneshot::channel();
        let mut all_in = Some(all_in);
        let reading = tokio::spawn(async move {
            let (mut messages, mut pongs) = (0, 0);
            loop {
                match reader.next().await {
                    Some(Ok(Item::Message(Message::Binary(data)))) => {
                        assert_eq!(data.len(), LARGE);
                        messages += 1;
                        if messages == ROUNDS {
                            all_in.take().unwrap().send(()).unwrap();
                        }
                    }
                    Some(Ok(Item::Pong(pong))) => {
                        assert!(answers_a_ping(&pong), "{pong:02x?}");
                        pongs += 1;
                    }
                    Some(Ok(Item::Ping(_))) => {}
                    Some(Ok(Item::Close(close))) => {
                        assert_eq!(close.code, 1000);
                        return (messages, pongs);
                    }
                    other => panic!("{other:?}"),
                }
            }
        });
        for _ in 0..ROUNDS {
            for i in 0..PINGS {
                writer.send(Item::Ping(ping_payload(i))).await.unwrap();
            }
            writer
                .send(Item::Message(Message::Binary(vec![1; LARGE])))
                .await
                .unwrap();
        }
        let close = CloseEvent {
            code: 1000,
            reason: String::new(),
        };
        wait_all_in.await.unwrap();
        let _ = writer.send(Item::Close(close)).await;
        reading.await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn tokio_split_ends_pinging_each_other_during_large_messages_do_not_deadlock() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (done, results) = mpsc::channel();
        let server_done = done.clone();
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let ws = websocket_driver_std::tokio::accept(socket, options(), |_| {})
                .await
                .unwrap();
            let _ = server_done.send(tokio_end(ws).await);
        });
        tokio::spawn(async move {
            let socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            let url = format!("ws://{addr}/");
            let ws = websocket_driver_std::tokio::connect(socket, &url, options(), |_| {})
                .await
                .unwrap();
            let _ = done.send(tokio_end(ws).await);
        });
        tokio::task::spawn_blocking(move || both_finish(results))
            .await
            .unwrap();
    }
}
