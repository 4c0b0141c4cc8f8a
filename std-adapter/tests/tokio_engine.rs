//! The tokio face over loopback TCP: keepalive, split halves from two tasks, close codes both ways, the
//! closing deadline, and 2,000 concurrent connections (RFC 6455 §5.5.2, §7; S4, S5, F13).
#![cfg(feature = "tokio")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver_std::tokio::{Item, accept, connect};
use websocket_driver_std::{CloseEvent, Message, Options};

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Reads a client's request from `socket` and answers it with a 101 carrying the right accept value.
async fn answer_handshake(socket: &mut TcpStream) {
    let head = read_head(socket).await;
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .trim()
        .to_owned();
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        AcceptKey::for_key(key.as_bytes()).as_str()
    );
    socket.write_all(answer.as_bytes()).await.unwrap();
}

/// Reads an HTTP head from `socket`.
async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(socket.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn keepalive_closes_a_silent_peer() {
    // RFC 6455 §5.5.2: a client that answers no ping is closed after ping_interval + pong_timeout and
    // reported with 1006.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(REQUEST).await.unwrap();
        read_head(&mut socket).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    });
    let (socket, _) = listener.accept().await.unwrap();
    let options = Options::new()
        .ping_interval(Some(Duration::from_millis(150)))
        .pong_timeout(Duration::from_millis(150));
    let mut ws = accept(socket, options, |_| {}).await.unwrap();
    let started = std::time::Instant::now();
    let item = tokio::time::timeout(Duration::from_secs(2), ws.next())
        .await
        .expect("closed in time");
    match item {
        Some(Ok(Item::Close(CloseEvent { code: 1006, reason }))) => {
            assert!(reason.contains("ping"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(ws.next().await.is_none());
    silent.abort();
}

#[tokio::test]
async fn keepalive_keeps_a_peer_that_answers() {
    // A client whose stream is polled answers the pings (the core's automatic pongs): it stays open.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let options = Options::new()
            .ping_interval(Some(Duration::from_millis(100)))
            .pong_timeout(Duration::from_millis(100));
        let mut ws = accept(socket, options, |_| {}).await.unwrap();
        let mut pongs = 0;
        while let Some(item) = ws.next().await {
            match item.unwrap() {
                Item::Pong(_) => pongs += 1,
                Item::Message(m) => ws.send(m).await.unwrap(),
                Item::Close(c) => return (pongs, c.code),
                Item::Ping(_) => {}
            }
        }
        (pongs, 0)
    });
    let io = TcpStream::connect(addr).await.unwrap();
    let ws = connect(io, &format!("ws://{addr}/"), Options::new(), |_| {})
        .await
        .unwrap();
    let (mut reader, mut writer) = ws.split();
    // Only the reader is polled for a second: it answers every ping (and sees them).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut pings = 0;
    while let Ok(Some(item)) = tokio::time::timeout_at(deadline, reader.next()).await {
        assert!(matches!(item, Ok(Item::Ping(_))), "{item:?}");
        pings += 1;
    }
    assert!(pings >= 4, "{pings} pings in a second at 100 ms");
    writer
        .send(Item::Message(Message::Text("still here".into())))
        .await
        .unwrap();
    assert_eq!(
        reader.next().await.unwrap().unwrap(),
        Item::Message(Message::Text("still here".into()))
    );
    writer
        .send(Item::Close(CloseEvent {
            code: 1000,
            reason: String::new(),
        }))
        .await
        .unwrap();
    while let Some(item) = reader.next().await {
        if let Ok(Item::Close(c)) = item {
            assert_eq!(c.code, 1000);
        }
    }
    let (pongs, code) = server.await.unwrap();
    assert!(pongs >= 4, "{pongs} pongs in a second at 100 ms");
    assert_eq!(code, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_and_writer_from_two_tasks() {
    // Split halves in two tasks: the writer sends 200 messages and a ping while the reader reads the
    // echoes and the pong.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut ws = accept(socket, Options::new(), |_| {}).await.unwrap();
        while let Some(Ok(item)) = ws.next().await {
            if let Item::Message(m) = item {
                ws.send(m).await.unwrap();
            }
        }
    });
    let io = TcpStream::connect(addr).await.unwrap();
    let ws = connect(io, &format!("ws://{addr}/"), Options::new(), |_| {})
        .await
        .unwrap();
    let (mut reader, mut writer) = ws.split();
    let writing = tokio::spawn(async move {
        for i in 0..200u32 {
            let data = vec![(i % 251) as u8; (i as usize * 97) % 70_000];
            writer
                .send(Item::Message(Message::Binary(data)))
                .await
                .unwrap();
        }
        writer.send(Item::Ping(b"p".to_vec())).await.unwrap();
        writer
    });
    let reading = tokio::spawn(async move {
        let mut seen = 0u32;
        let mut pong = false;
        while seen < 200 || !pong {
            match reader.next().await.unwrap().unwrap() {
                Item::Message(Message::Binary(data)) => {
                    assert_eq!(data.len(), (seen as usize * 97) % 70_000);
                    assert!(data.iter().all(|&b| b == (seen % 251) as u8));
                    seen += 1;
                }
                Item::Pong(p) => {
                    assert_eq!(p, b"p");
                    pong = true;
                }
                other => panic!("{other:?}"),
            }
        }
        reader
    });
    let mut writer = writing.await.unwrap();
    let mut reader = reading.await.unwrap();
    writer.close().await.unwrap();
    while reader.next().await.is_some() {}
    assert_eq!(reader.close_event().map(|c| c.code), Some(1000));
}

#[tokio::test]
async fn close_codes_both_ways() {
    // S4 S5: the server closes with a code and reason; the client sees them, and vice versa.
    for server_closes in [true, false] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut ws = accept(socket, Options::new(), |_| {}).await.unwrap();
            if server_closes {
                ws.close(4002, "server bye").await.unwrap()
            } else {
                loop {
                    if let Some(Ok(Item::Close(c))) = ws.next().await {
                        assert!(ws.next().await.is_none());
                        break c;
                    }
                }
            }
        });
        let io = TcpStream::connect(addr).await.unwrap();
        let mut ws = connect(io, &format!("ws://{addr}/"), Options::new(), |_| {})
            .await
            .unwrap();
        let expected = if server_closes {
            match ws.next().await {
                Some(Ok(Item::Close(c))) => c,
                other => panic!("{other:?}"),
            }
        } else {
            ws.close(4003, "client bye").await.unwrap()
        };
        assert!(ws.next().await.is_none());
        let seen_by_server = server.await.unwrap();
        assert_eq!(expected, seen_by_server);
        assert_eq!(
            (expected.code, expected.reason.as_str()),
            if server_closes {
                (4002, "server bye")
            } else {
                (4003, "client bye")
            }
        );
    }
}

/// A client (close timeout 250 ms) connected to a server that answers the handshake and then says
/// nothing for `hold`.
async fn connected_to_a_silent_server(
    hold: Duration,
) -> (
    websocket_driver_std::tokio::WebSocketStream<TcpStream>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        answer_handshake(&mut socket).await;
        tokio::time::sleep(hold).await;
    });
    let io = TcpStream::connect(addr).await.unwrap();
    let options = Options::new().close_timeout(Duration::from_millis(250));
    let ws = connect(io, &format!("ws://{addr}/"), options, |_| {})
        .await
        .unwrap();
    (ws, silent)
}

#[tokio::test]
async fn graceful_close_gives_up_on_a_silent_peer() {
    // S4: a peer that never answers our close: `close` returns 1006 after close_timeout.
    let (mut ws, silent) = connected_to_a_silent_server(Duration::from_secs(3)).await;
    let started = std::time::Instant::now();
    let closed = ws.close(1000, "").await.unwrap();
    assert_eq!(closed.code, 1006);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
    silent.abort();
}

#[tokio::test]
async fn a_split_writers_close_arms_the_readers_closing_deadline() {
    // S4 with split halves: the writer closes; the reader, waiting on a silent peer, runs the closing
    // deadline and ends with 1006 — it is woken to arm it, rather than waiting for input for good.
    let (ws, silent) = connected_to_a_silent_server(Duration::from_secs(30)).await;
    let (mut reader, mut writer) = ws.split();
    let reading = tokio::spawn(async move {
        let mut last = None;
        while let Some(item) = reader.next().await {
            last = Some(item.unwrap());
        }
        last
    });
    // The reader is parked on the socket before the writer closes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    writer
        .send(Item::Close(CloseEvent {
            code: 1000,
            reason: String::new(),
        }))
        .await
        .unwrap();
    let last = tokio::time::timeout(Duration::from_secs(5), reading)
        .await
        .expect("the reader ends at the closing deadline")
        .unwrap();
    assert!(
        matches!(last, Some(Item::Close(CloseEvent { code: 1006, .. }))),
        "{last:?}"
    );
    silent.abort();
}

#[test]
fn two_thousand_concurrent_connections() {
    // 2,000 connections open at once on a multi-thread runtime: each echoes one message and closes.
    let _ = rlimit::increase_nofile_limit(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let Ok(mut ws) = accept(socket, Options::new(), |_| {}).await else {
                        return;
                    };
                    while let Some(Ok(item)) = ws.next().await {
                        if let Item::Message(m) = item {
                            let _ = ws.send(m).await;
                        }
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for _ in 0..2000 {
            let io = TcpStream::connect(addr).await.unwrap();
            clients.push(
                connect(io, &format!("ws://{addr}/"), Options::new(), |_| {})
                    .await
                    .unwrap(),
            );
        }
        let mut tasks = Vec::new();
        for (i, mut ws) in clients.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let text = format!("client {i}");
                ws.send(Message::Text(text.clone())).await.unwrap();
                assert_eq!(
                    ws.next().await.unwrap().unwrap(),
                    Item::Message(Message::Text(text))
                );
                ws.close(1000, "").await.unwrap().code
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 1000);
        }
    });
}

#[tokio::test]
async fn accept_with_sees_the_request_first() {
    // RFC 6455 §10.2 (tokio): the decision sees Origin and cookies; a foreign origin gets the callback's
    // 403; an allowed one gets the subprotocol it chose.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (socket, _) = listener.accept().await.unwrap();
            let result = websocket_driver_std::tokio::accept_with(
                socket,
                Options::new(),
                |_| {},
                |request| {
                    if request.origin() != Some("https://ok.example") {
                        return websocket_driver_std::engine::Decision::refuse(403, "no");
                    }
                    assert_eq!(request.cookie("id"), Some("7"));
                    websocket_driver_std::engine::Decision::accept_protocol("b")
                },
            )
            .await;
            results.push(
                result
                    .map(|ws| ws.driver().protocol().map(str::to_owned))
                    .map_err(|e| e.kind()),
            );
        }
        results
    });
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 403 Forbidden\r\n") && answer.ends_with("\r\n\r\nno"),
        "{answer}"
    );
    let io = TcpStream::connect(addr).await.unwrap();
    let ws = connect(
        io,
        &format!("ws://{addr}/"),
        Options::new().protocols(["a", "b"]),
        |e| {
            e.set_header("Origin", "https://ok.example");
            e.set_header("Cookie", "id=7");
        },
    )
    .await
    .unwrap();
    assert_eq!(ws.driver().protocol(), Some("b"));
    let results = server.await.unwrap();
    assert_eq!(results[0], Err(std::io::ErrorKind::PermissionDenied));
    assert_eq!(results[1], Ok(Some("b".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_0_bytes_to_16_mib_and_pings_both_ways() {
    // F15 F13 X5 (tokio): each size echoed byte-exact, deflate off and on (really negotiated); a ping
    // each way is answered with its pong.
    for deflate in [false, true] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut ws = accept(socket, Options::new(), |e| {
                if deflate {
                    e.add_extension(Box::new(websocket_driver_std::PermessageDeflate::new()));
                }
            })
            .await
            .unwrap();
            ws.send(Item::Ping(b"from server".to_vec())).await.unwrap();
            let mut pong = false;
            while let Some(item) = ws.next().await {
                match item.unwrap() {
                    Item::Message(m) => ws.send(m).await.unwrap(),
                    Item::Pong(p) => pong = p == b"from server",
                    _ => {}
                }
            }
            pong
        });
        let io = TcpStream::connect(addr).await.unwrap();
        let mut ws = connect(io, &format!("ws://{addr}/"), Options::new(), |e| {
            if deflate {
                e.add_extension(Box::new(websocket_driver_std::PermessageDeflate::new()));
            }
        })
        .await
        .unwrap();
        assert_eq!(
            ws.driver().extensions().active().count(),
            usize::from(deflate)
        );
        let mut saw_ping = false;
        for len in [0usize, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            ws.send(Message::Binary(data.clone())).await.unwrap();
            loop {
                match ws.next().await.unwrap().unwrap() {
                    Item::Message(Message::Binary(echo)) => {
                        assert!(echo == data, "{len} bytes, deflate {deflate}");
                        break;
                    }
                    Item::Ping(p) => saw_ping = p == b"from server",
                    other => panic!("{other:?}"),
                }
            }
        }
        assert!(saw_ping, "the server's ping arrived");
        ws.send(Item::Ping(b"from client".to_vec())).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Item::Pong(b"from client".to_vec())
        );
        assert_eq!(ws.close(1000, "").await.unwrap().code, 1000);
        assert!(
            server.await.unwrap(),
            "the client answered the server's ping"
        );
    }
}

/// A masked client text frame of `payload` (RFC 6455 §5.2, §5.3).
fn masked_text(payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

#[tokio::test]
async fn a_large_text_frame_is_read_on_to_its_end_yet_invalid_utf8_fails_at_once() {
    // The reader goes on reading a frame under way while the socket has its bytes (its text is then
    // checked once) but never waits for the rest before checking what came: F10.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let text = "κόσμε 🙂 ".repeat(4000); // 56,000 bytes
    let whole = masked_text(text.as_bytes());
    let mut bad = text.clone().into_bytes();
    bad[1001] = 0xff;
    let bad = masked_text(&bad);
    let peer = tokio::spawn(async move {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(REQUEST).await.unwrap();
        read_head(&mut socket).await;
        socket.write_all(&whole).await.unwrap();
        // Then a frame whose first 4 KiB hold invalid UTF-8, and its rest never sent.
        socket.write_all(&bad[..4096]).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let (socket, _) = listener.accept().await.unwrap();
    let mut ws = accept(socket, Options::new(), |_| {}).await.unwrap();
    match ws.next().await {
        Some(Ok(Item::Message(Message::Text(got)))) => assert!(got == text),
        other => panic!("{other:?}"),
    }
    let item = tokio::time::timeout(Duration::from_secs(2), ws.next())
        .await
        .expect("failed at once, not after the peer's rest (F10)");
    match item {
        Some(Err(e)) => assert!(format!("{e:?}").contains("InvalidUtf8"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    peer.abort();
}

/// A transport that answers reads from a script, then reports the end of the stream; writes go nowhere.
struct Scripted {
    reads: std::collections::VecDeque<std::io::Result<Vec<u8>>>,
}

impl tokio::io::AsyncRead for Scripted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.reads.pop_front() {
            Some(Ok(bytes)) => {
                assert!(bytes.len() <= buf.remaining(), "the script's chunks fit");
                buf.put_slice(&bytes);
                std::task::Poll::Ready(Ok(()))
            }
            Some(Err(e)) => std::task::Poll::Ready(Err(e)),
            None => std::task::Poll::Ready(Ok(())),
        }
    }
}

impl tokio::io::AsyncWrite for Scripted {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_read_error_while_reading_on_is_reported_not_lost() {
    // The reader reads on into a frame under way; the transport fails on the next read. The bytes
    // already read are handled first, then the error is reported (not turned into a silent end).
    let frame = masked_text("a".repeat(60_000).as_bytes());
    let reads = [
        Ok(REQUEST.to_vec()),
        Ok(frame[..1000].to_vec()),
        Err(std::io::ErrorKind::ConnectionReset.into()),
    ];
    let io = Scripted {
        reads: reads.into_iter().collect(),
    };
    let mut ws = accept(io, Options::new(), |_| {}).await.unwrap();
    match ws.next().await {
        Some(Err(e)) => assert!(format!("{e:?}").contains("ConnectionReset"), "{e:?}"),
        other => panic!("{other:?}"),
    }
}

/// A masked client ping frame with a 125-byte payload (RFC 6455 §5.5.2).
fn masked_ping() -> Vec<u8> {
    let mut frame = vec![0x89, 0x80 | 125, 1, 2, 3, 4];
    frame.extend((0..125u8).map(|i| i ^ [1, 2, 3, 4][usize::from(i) % 4]));
    frame
}

#[tokio::test]
async fn a_peer_that_floods_pings_and_never_reads_is_closed_by_keepalive() {
    // Bounded memory and time under any peer: the client floods pings and never reads a pong. Once our
    // output passes the high-water mark reading stops; the timers still run, so keepalive closes the
    // peer (1006) and the stream ends, its unsent output dropped — rather than a task pinned for good.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let flood = tokio::spawn(async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut socket = socket.connect(addr).await.unwrap();
        socket.write_all(REQUEST).await.unwrap();
        let ping = masked_ping().repeat(256);
        // Until our writes block (the server stopped reading), then silence, never reading.
        while tokio::time::timeout(Duration::from_millis(500), socket.write_all(&ping))
            .await
            .is_ok()
        {}
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let (socket, _) = listener.accept().await.unwrap();
    let options = Options::new()
        .ping_interval(Some(Duration::from_millis(300)))
        .pong_timeout(Duration::from_millis(300));
    let mut ws = accept(socket, options, |_| {}).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        let mut last = None;
        while let Some(item) = ws.next().await {
            last = Some(item.unwrap());
        }
        last
    })
    .await
    .expect("the stream ends although the peer never reads");
    match ended {
        Some(Item::Close(CloseEvent { code: 1006, .. })) => {}
        other => panic!("{other:?}"),
    }
    flood.abort();
}

/// When a [`Flaky`] transport's flush finishes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// On every second call (a TLS stream or a `BufWriter` under backpressure does this).
    EverySecondCall,
    /// Until a frame was written, then never, and its shutdown never either, with no wake asked
    /// for (a TLS stream whose peer stopped reading, seen from the stream's side).
    NeverAfterAFrame,
}

/// A transport whose reads give the request, then wait for good; writes are taken whole, and it
/// counts the bytes written since the last finished flush.
struct Flaky {
    request: Option<Vec<u8>>,
    flush: Flush,
    unflushed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    flushes: u32,
    framed: bool,
}

impl Flaky {
    fn new(flush: Flush) -> Self {
        Flaky {
            request: Some(REQUEST.to_vec()),
            flush,
            unflushed: Default::default(),
            flushes: 0,
            framed: false,
        }
    }
}

impl tokio::io::AsyncRead for Flaky {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.request.take() {
            Some(bytes) => {
                buf.put_slice(&bytes);
                std::task::Poll::Ready(Ok(()))
            }
            None => std::task::Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for Flaky {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        // Frames start with FIN and an opcode; the 101 starts with `H`.
        self.framed |= buf.first().is_some_and(|&b| b & 0x80 != 0);
        self.unflushed
            .fetch_add(buf.len(), std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.flushes += 1;
        let finished = match self.flush {
            Flush::EverySecondCall => self.flushes.is_multiple_of(2),
            Flush::NeverAfterAFrame => !self.framed,
        };
        if !finished {
            if self.flush == Flush::EverySecondCall {
                cx.waker().wake_by_ref();
            }
            return std::task::Poll::Pending;
        }
        self.unflushed.store(0, std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.flush == Flush::NeverAfterAFrame {
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_flush_that_is_pending_is_finished_before_send_returns() {
    // `Sink::poll_flush` is Ready only once the transport's own flush finished: the end of a sent
    // message never sits in a TLS or buffered writer until the next write.
    let io = Flaky::new(Flush::EverySecondCall);
    let unflushed = io.unflushed.clone();
    let mut ws = accept(io, Options::new(), |_| {}).await.unwrap();
    for text in ["one", "two", "three"] {
        ws.send(Message::Text(text.into())).await.unwrap();
        assert_eq!(
            unflushed.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "{text}"
        );
    }
}

#[tokio::test]
async fn split_halves_on_both_ends_send_large_messages_at_once() {
    // Full duplex (RFC 6455 §1.1): both ends split, both writers send 16 MiB in 4 MiB messages at the
    // same time, both readers read. Reading must not stop because our own messages are queued — only
    // replies the peer made us queue (pongs, the close echo) count against the high-water mark —
    // or the two ends wait on each other for good.
    const MESSAGES: usize = 4;
    const SIZE: usize = 4 << 20;
    async fn both_ways<S>(ws: websocket_driver_std::tokio::WebSocketStream<S>, tag: u8) -> usize
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut reader, mut writer) = ws.split();
        let writing = tokio::spawn(async move {
            for i in 0..MESSAGES {
                let data = vec![tag ^ i as u8; SIZE];
                writer
                    .send(Item::Message(Message::Binary(data)))
                    .await
                    .unwrap();
            }
            writer
        });
        let mut got = 0;
        while got < MESSAGES {
            match reader.next().await.unwrap().unwrap() {
                Item::Message(Message::Binary(data)) => {
                    assert_eq!(data.len(), SIZE);
                    got += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        writing.await.unwrap();
        got
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = Options::new().max_length(SIZE as u64);
    let server_options = options.clone();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let ws = accept(socket, server_options, |_| {}).await.unwrap();
        both_ways(ws, 0x55).await
    });
    let io = TcpStream::connect(addr).await.unwrap();
    let ws = connect(io, &format!("ws://{addr}/"), options, |_| {})
        .await
        .unwrap();
    let client = tokio::spawn(both_ways(ws, 0xaa));
    let (server, client) = tokio::time::timeout(Duration::from_secs(60), async {
        (server.await.unwrap(), client.await.unwrap())
    })
    .await
    .expect("neither end waits on the other for good");
    assert_eq!((server, client), (MESSAGES, MESSAGES));
}

#[test]
fn a_stream_whose_transport_never_flushes_again_still_ends() {
    // Keepalive ends a peer that reads nothing; the stream then gives up its output — the pending
    // flush and the shutdown too — and ends, rather than waiting (or spinning) for good.
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let last = runtime.block_on(async {
            let io = Flaky::new(Flush::NeverAfterAFrame);
            let options = Options::new()
                .ping_interval(Some(Duration::from_millis(100)))
                .pong_timeout(Duration::from_millis(100));
            let mut ws = accept(io, options, |_| {}).await.unwrap();
            let mut last = None;
            while let Some(item) = ws.next().await {
                last = Some(item.unwrap());
            }
            last
        });
        let _ = done.send(last);
    });
    let last = ended
        .recv_timeout(Duration::from_secs(10))
        .expect("the stream ends");
    assert!(
        matches!(last, Some(Item::Close(CloseEvent { code: 1006, .. }))),
        "{last:?}"
    );
}
