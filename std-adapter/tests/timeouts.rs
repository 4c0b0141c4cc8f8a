//! The blocking helpers honour the driver's deadlines over real sockets: a client stops waiting for a
//! server that never closes the transport after the closing handshake (S8, RFC 6455 §7.1.1), and a
//! handshake that does not complete in time fails, on the client and on the server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use websocket_driver::handshake::accept::AcceptKey;
use websocket_driver_std::Message;
use websocket_driver_std::Options;
use websocket_driver_std::blocking::{Connection, Incoming, accept, serve};

/// How long the misbehaving peers below hold a connection open: far longer than the timeouts.
const HOLD: Duration = Duration::from_secs(4);
const TIMEOUT: Duration = Duration::from_millis(200);
/// Generous, for a loaded machine, and still well under `HOLD`.
const WITHIN: Duration = Duration::from_millis(2500);

/// Reads a request head from `socket` and answers it with a 101 carrying the right accept value.
fn answer_handshake(socket: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = AcceptKey::for_key(key.trim().as_bytes());
    write!(
        socket,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept.as_str()
    )
    .unwrap();
}

/// Whether `e` is a read or write that timed out.
fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// A client over a stream whose read timeout (`TIMEOUT`) the application set before handing it over,
/// connected to a server that answers the handshake, sends `then` 600 ms later (if any), and waits
/// for the client to go.
fn client_with_read_timeout(
    then: Option<&'static [u8]>,
) -> (Connection<TcpStream>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        answer_handshake(&mut socket);
        if let Some(bytes) = then {
            thread::sleep(Duration::from_millis(600));
            socket.write_all(bytes).unwrap();
        }
        let _ = socket.read(&mut [0u8; 1]); // until the client goes
    });
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let url = format!("ws://127.0.0.1:{port}/");
    let ws = Connection::client(stream, &url, Options::new(), |_| {}).unwrap();
    (ws, server)
}

// S8
#[test]
fn client_stops_waiting_for_a_server_that_never_closes_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        answer_handshake(&mut socket);
        // The client's close frame (masked, 2-byte payload: 2 + 4 + 2 bytes), answered with 1000,
        // and then the transport is left open.
        let mut frame = [0u8; 8];
        socket.read_exact(&mut frame).unwrap();
        assert_eq!(frame[0], 0x88);
        socket.write_all(&[0x88, 0x02, 0x03, 0xe8]).unwrap();
        thread::sleep(HOLD);
    });
    let url = format!("ws://127.0.0.1:{port}/");
    let mut ws = Connection::connect(&url, Options::new().close_timeout(TIMEOUT), |_| {}).unwrap();
    ws.close(1000, "").unwrap();
    let started = Instant::now();
    match ws.recv().unwrap() {
        Some(Incoming::Close(close)) => assert_eq!(close.code, 1000),
        other => panic!("expected the close event, got {other:?}"),
    }
    assert_eq!(ws.recv().unwrap(), None);
    assert!(
        started.elapsed() < WITHIN,
        "the client waited {:?} for the server to close",
        started.elapsed()
    );
    assert!(ws.driver().should_close());
    drop(ws);
    server.join().unwrap();
}

#[test]
fn client_handshake_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (_socket, _) = listener.accept().unwrap();
        thread::sleep(HOLD); // never answers
    });
    let started = Instant::now();
    let url = format!("ws://127.0.0.1:{port}/");
    let options = Options::new().handshake_timeout(Some(TIMEOUT));
    let result = Connection::connect(&url, options, |_| {});
    let error = result.err().expect("the handshake cannot complete");
    assert!(
        started.elapsed() < WITHIN,
        "gave up after {:?}",
        started.elapsed()
    );
    assert!(
        error.to_string().to_lowercase().contains("time"),
        "the error says why: {error}"
    );
    server.join().unwrap();
}

#[test]
fn server_drops_a_connection_whose_request_never_completes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = Options::new().handshake_timeout(Some(TIMEOUT));
    thread::spawn(move || {
        let _ = serve(
            listener,
            options,
            |_| {},
            |_: Connection<TcpStream>| panic!("no WebSocket connection opens"),
            |_, _, _: TcpStream| panic!("no request completes"),
        );
    });
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(); // and no more
    socket.set_read_timeout(Some(HOLD)).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest); // the server closes: end of stream (or a reset)
    assert!(
        started.elapsed() < WITHIN,
        "the server held the connection for {:?}",
        started.elapsed()
    );
}

#[test]
fn accept_on_a_tcp_stream_runs_the_handshake_deadline() {
    // Safe defaults outside `serve` too: `accept` on a `TcpStream` gives up on a request that never
    // completes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = thread::spawn(move || {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(); // and no more
        thread::sleep(HOLD);
    });
    let (stream, _) = listener.accept().unwrap();
    let started = Instant::now();
    let result = accept(
        stream,
        Options::new().handshake_timeout(Some(TIMEOUT)),
        |_| {},
    );
    assert!(result.is_err());
    assert!(
        started.elapsed() < WITHIN,
        "gave up after {:?}",
        started.elapsed()
    );
    client.join().unwrap();
}

#[test]
fn the_applications_read_timeout_still_applies() {
    // A read timeout set on the stream before it is handed over surfaces as an error from `recv`
    // (the connection's own, longer deadline — keepalive — does not replace it), and recv goes on.
    let (mut ws, server) = client_with_read_timeout(Some(&[0x81, 0x02, b'h', b'i']));
    let started = Instant::now();
    let e = ws.recv().unwrap_err();
    assert!(timed_out(&e), "{e}");
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    let message = loop {
        match ws.recv() {
            Ok(item) => break item,
            Err(e) if timed_out(&e) => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(message, Some(Incoming::Message(Message::Text("hi".into()))));
    drop(ws);
    server.join().unwrap();
}

#[test]
fn a_peer_that_never_reads_cannot_hold_a_write_for_good() {
    // A peer that takes nothing we write: a blocking send fails once it has waited as long as
    // keepalive would (`ping_interval + pong_timeout`), instead of holding the thread for good.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        answer_handshake(&mut socket);
        let _ = wait.recv_timeout(HOLD); // never reads
    });
    let url = format!("ws://127.0.0.1:{port}/");
    let options = Options::new()
        .ping_interval(Some(TIMEOUT))
        .pong_timeout(TIMEOUT);
    let mut ws = Connection::connect(&url, options, |_| {}).unwrap();
    let started = Instant::now();
    let chunk = vec![0u8; 1 << 20];
    let failed = (0..256).find_map(|_| ws.send(Message::Binary(chunk.clone())).err());
    let e = failed.expect("a send fails: the peer reads nothing");
    assert!(timed_out(&e), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    drop(ws);
    let _ = done.send(());
    peer.join().unwrap();
}

#[test]
fn a_split_reader_keeps_the_applications_read_timeout() {
    // After `split`, a read timeout set on the stream before it was handed over still surfaces from
    // the reader as an error.
    let (ws, server) = client_with_read_timeout(None);
    let (mut reader, writer) = ws.split().unwrap();
    let started = Instant::now();
    let e = reader.recv().unwrap_err();
    assert!(timed_out(&e), "{e}");
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    drop((reader, writer));
    server.join().unwrap();
}

#[test]
fn a_split_writers_close_runs_the_closing_deadline_without_keepalive() {
    // S4 with split halves and keepalive off: the writer closes, the peer never answers; the reader,
    // blocked in a read with no deadline of its own when the close was sent, still ends with 1006
    // about close_timeout later.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        answer_handshake(&mut socket);
        let _ = socket.read(&mut [0u8; 64]); // the close frame, then silence until the client goes
        let _ = socket.read(&mut [0u8; 1]);
    });
    let url = format!("ws://127.0.0.1:{port}/");
    let options = Options::new().ping_interval(None).close_timeout(TIMEOUT);
    let ws = Connection::connect(&url, options, |_| {}).unwrap();
    let (mut reader, writer) = ws.split().unwrap();
    let reading = thread::spawn(move || (reader.recv(), Instant::now()));
    thread::sleep(Duration::from_millis(100)); // the reader is blocked in its read
    writer.close(1000, "").unwrap();
    let closed = Instant::now();
    let (got, at) = reading.join().unwrap();
    assert!(
        matches!(got, Ok(Some(Incoming::Close(ref c))) if c.code == 1006),
        "{got:?}"
    );
    assert!(
        at.duration_since(closed) < WITHIN,
        "{:?}",
        at.duration_since(closed)
    );
    drop(writer);
    server.join().unwrap();
}

#[test]
fn a_read_timeout_set_on_the_connection_applies_with_keepalive_on() {
    // `Connection::set_read_timeout` after connecting (what the client example does): `recv` returns
    // WouldBlock/TimedOut within it although keepalive's deadline (30 s) is much later.
    let (mut ws, server) = client_with_read_timeout(None);
    ws.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let e = ws.recv().unwrap_err();
        assert!(timed_out(&e), "{e}");
        assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
    }
    drop(ws);
    server.join().unwrap();
}
