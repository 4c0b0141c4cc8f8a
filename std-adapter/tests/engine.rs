//! The connection engine in memory: a client and a server engine back to back, deflate on and off
//! (S2, S4, S5, F13, X4, X5, H11, and bounded memory under a peer that never reads).

use websocket_driver::Instant;
use websocket_driver_std::engine::{Engine, Event};
use websocket_driver_std::{CloseEvent, Message, Options, PermessageDeflate};

/// Moves `from`'s output into `to`, all of it (as much as `to` reads at a time).
fn pipe(from: &mut Engine, to: &mut Engine, now: Instant, events: &mut Vec<Event>) -> bool {
    let mut moved = false;
    loop {
        let out = from.output().to_vec();
        if out.is_empty() {
            return moved;
        }
        moved = true;
        let mut rest = &out[..];
        while !rest.is_empty() {
            let n = to.receive(rest);
            rest = &rest[n..];
            while let Some(event) = to.next_event(now) {
                events.push(event);
            }
        }
        from.consume_output(out.len());
    }
}

struct Pair {
    client: Engine,
    server: Engine,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    now: Instant,
}

impl Pair {
    fn new(deflate: bool) -> Pair {
        let mut server = Engine::server(Options::new().protocols(["chat"]));
        let mut client = Engine::client(
            "ws://example.com/chat",
            Options::new().protocols(["x", "chat"]),
        )
        .unwrap();
        if deflate {
            assert!(server.add_extension(Box::new(PermessageDeflate::new())));
            assert!(client.add_extension(Box::new(PermessageDeflate::new())));
        }
        client.start().unwrap();
        let mut pair = Pair {
            client,
            server,
            client_events: Vec::new(),
            server_events: Vec::new(),
            now: Instant::from_secs(1),
        };
        pair.drive();
        assert!(matches!(pair.server_events.remove(0), Event::Connect(head) if head.websocket));
        pair.server.accept().unwrap();
        pair.drive();
        assert_eq!(pair.take_server(), [Event::Open]);
        assert_eq!(pair.take_client(), [Event::Open]);
        let active: Vec<_> = pair
            .client
            .extensions()
            .active()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            active.len(),
            usize::from(deflate),
            "deflate negotiated: {active:?}"
        );
        assert_eq!(pair.client.protocol(), Some("chat"));
        assert_eq!(pair.server.protocol(), Some("chat"));
        pair
    }

    fn drive(&mut self) {
        for _ in 0..1000 {
            let a = pipe(
                &mut self.client,
                &mut self.server,
                self.now,
                &mut self.server_events,
            );
            let b = pipe(
                &mut self.server,
                &mut self.client,
                self.now,
                &mut self.client_events,
            );
            while let Some(e) = self.server.next_event(self.now) {
                self.server_events.push(e);
            }
            while let Some(e) = self.client.next_event(self.now) {
                self.client_events.push(e);
            }
            if !a && !b && self.client.output().is_empty() && self.server.output().is_empty() {
                return;
            }
        }
        panic!("the pair never settled");
    }

    fn take_client(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    fn take_server(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn messages_from_0_bytes_to_16_mib_both_ways() {
    // F14 F15 X5: whole messages both ways, deflate off and on.
    for deflate in [false, true] {
        let mut pair = Pair::new(deflate);
        for len in [0, 1, 125, 126, 4096, 65535, 65536, 1 << 20, 16 << 20] {
            let data = payload(len);
            pair.client.send(Message::Binary(data.clone())).unwrap();
            pair.drive();
            assert_eq!(
                pair.take_server(),
                [Event::Message(Message::Binary(data.clone()))],
                "{len} bytes, deflate {deflate}"
            );
            pair.server.send(Message::Binary(data.clone())).unwrap();
            pair.drive();
            assert_eq!(pair.take_client(), [Event::Message(Message::Binary(data))]);
        }
        let text = "héllo ✓ ".repeat(5000);
        pair.client.send(Message::Text(text.clone())).unwrap();
        pair.drive();
        assert_eq!(pair.take_server(), [Event::Message(Message::Text(text))]);
        // After a large message the buffers shrink back (no 16 MiB ring kept).
        pair.server.idle();
        pair.client.idle();
        assert_eq!(pair.server.buffer_capacity(), 0);
        assert_eq!(pair.client.buffer_capacity(), 0);
    }
}

#[test]
fn ping_pong_and_close_codes_both_ways() {
    // F13 S4 S5: a ping is answered; close codes go both ways.
    for (client_closes, code) in [(true, 1000), (false, 4000), (true, 1001)] {
        let mut pair = Pair::new(false);
        pair.client.ping(b"are you there").unwrap();
        pair.drive();
        assert_eq!(pair.take_server(), [Event::Ping(b"are you there".to_vec())]);
        assert_eq!(pair.take_client(), [Event::Pong(b"are you there".to_vec())]);
        let (closer, other) = if client_closes {
            (&mut pair.client, "server")
        } else {
            (&mut pair.server, "client")
        };
        closer.close(Some(code), "bye").unwrap();
        pair.drive();
        let close = Event::Close(CloseEvent {
            code,
            reason: "bye".into(),
        });
        assert_eq!(pair.take_server(), std::slice::from_ref(&close), "{other}");
        assert_eq!(pair.take_client(), [close]);
        assert!(pair.server.should_close());
    }
}

#[test]
fn sends_before_open_are_queued() {
    // S2: a client's sends before the handshake completed go out after it, in order.
    let mut server = Engine::server(Options::new());
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    client.start().unwrap();
    client.send(Message::Text("first".into())).unwrap();
    client.ping(b"p").unwrap();
    let now = Instant::ZERO;
    let mut server_events = Vec::new();
    let mut client_events = Vec::new();
    pipe(&mut client, &mut server, now, &mut server_events);
    server.accept().unwrap();
    pipe(&mut server, &mut client, now, &mut client_events);
    pipe(&mut client, &mut server, now, &mut server_events);
    assert!(matches!(server_events[0], Event::Connect(_)));
    assert_eq!(
        server_events[1..],
        [
            Event::Open,
            Event::Message(Message::Text("first".into())),
            Event::Ping(b"p".to_vec())
        ]
    );
    assert_eq!(client_events, [Event::Open]);
}

#[test]
fn a_silent_peer_is_closed_at_the_close_deadline() {
    // S4: our close is not answered: 1006 after close_timeout, and the transport may close.
    let mut pair = Pair::new(false);
    pair.server.close(None, "").unwrap();
    // Due at once: the deadline is counted from the next time the engine is told (1 s here).
    assert_eq!(pair.server.poll_timeout(), Some(Instant::from_secs(1)));
    assert!(pair.server.next_event(Instant::from_secs(1)).is_none());
    let deadline = pair.server.poll_timeout().unwrap();
    assert_eq!(deadline, Instant::from_secs(6));
    assert!(pair.server.next_event(Instant::from_millis(5999)).is_none());
    match pair.server.next_event(deadline) {
        Some(Event::Close(CloseEvent { code: 1006, .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(pair.server.should_close());
}

#[test]
fn a_ping_flood_from_a_peer_that_never_reads_stays_bounded() {
    // Bounded memory: 64 MiB of pings from a client that reads nothing; the server stops reading once
    // its output passes the high-water mark, and its buffers stay under a fixed bound.
    let options = Options::new();
    // The stated bound: the largest receive buffer, the high-water mark, and one frame's slack.
    let bound = options.receive_buffer + options.transmit_buffer + 1024;
    let mut server = Engine::server(options);
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    client.start().unwrap();
    let mut ignored = Vec::new();
    pipe(&mut client, &mut server, Instant::ZERO, &mut ignored);
    server.accept().unwrap();
    assert_eq!(server.next_event(Instant::ZERO), Some(Event::Open));
    pipe(&mut server, &mut client, Instant::ZERO, &mut ignored);
    // A masked ping with 125 bytes of payload, 131 bytes on the wire.
    let mut ping = vec![0x89, 0xfd, 1, 2, 3, 4];
    ping.extend(std::iter::repeat_n(0u8, 125));
    let flood: Vec<u8> = ping.repeat(4096); // 536 KB per round
    let mut offered = 0usize;
    let mut taken = 0usize;
    let mut pings = 0usize;
    let mut rest: &[u8] = &flood;
    while offered < 64 << 20 {
        if rest.is_empty() {
            rest = &flood;
        }
        let n = server.receive(rest);
        rest = &rest[n..];
        taken += n;
        offered += n;
        while let Some(event) = server.next_event(Instant::ZERO) {
            assert!(matches!(event, Event::Ping(_)), "{event:?}");
            pings += 1;
        }
        assert!(
            server.buffer_capacity() <= bound,
            "{} bytes of buffers",
            server.buffer_capacity()
        );
        if n == 0 {
            assert!(
                !server.wants_read(),
                "the server asks its caller to stop reading"
            );
            break;
        }
    }
    assert!(taken < 2 * bound, "{taken} bytes taken in");
    assert!(pings > 100, "{pings}");
    // Once the peer reads, the flow resumes.
    let out = server.output().len();
    server.consume_output(out);
    while server.buffered_amount() > 0 {
        let n = server.output().len();
        server.consume_output(n);
    }
    assert!(server.wants_read());
    assert!(server.next_event(Instant::ZERO).is_some());
}

/// A server and a client engine with the default options, open.
fn opened() -> (Engine, Engine) {
    let mut server = Engine::server(Options::new());
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    client.start().unwrap();
    pipe(&mut client, &mut server, Instant::ZERO, &mut Vec::new());
    server.accept().unwrap();
    assert_eq!(server.next_event(Instant::ZERO), Some(Event::Open));
    pipe(&mut server, &mut client, Instant::ZERO, &mut Vec::new());
    (server, client)
}

#[test]
fn pings_behind_our_own_large_message_do_not_stop_reading() {
    // F13 (RFC 6455 §5.5.3): the server has 4 MiB of its own queued that the client is not reading
    // yet, and the client pings on. Past half the high-water mark each pong replaces the unsent one
    // before it instead of piling up, so the server reads every ping (two ends doing this to each
    // other would otherwise both stop reading, each with its pongs behind its own message, and
    // neither message would drain). When the client reads, it gets the message, then pongs ending
    // with the newest ping's.
    let high_water = Options::new().transmit_buffer;
    let (mut server, mut client) = opened();
    let mut client_events = Vec::new();
    let message = vec![7u8; 4 << 20];
    server.send(Message::Binary(message.clone())).unwrap();
    let queued = server.buffered_amount();
    // 20,000 masked pings of 100 bytes (106 on the wire), each payload its number: 2 MiB of pongs.
    let mut pings = 0u32;
    for i in 0..20_000u32 {
        let mut payload = [0u8; 100];
        payload[..4].copy_from_slice(&i.to_be_bytes());
        let mut ping = vec![0x89, 0x80 | 100, 0, 0, 0, 0];
        ping.extend_from_slice(&payload);
        let mut rest = &ping[..];
        while !rest.is_empty() {
            let n = server.receive(rest);
            assert!(
                n > 0 && server.wants_read(),
                "the server stopped reading at ping {i}"
            );
            rest = &rest[n..];
            while let Some(event) = server.next_event(Instant::ZERO) {
                assert_eq!(event, Event::Ping(payload.to_vec()));
                pings += 1;
            }
        }
        assert!(
            server.buffered_amount() <= queued + high_water / 2 + 2 * 106,
            "{} bytes queued at ping {i}",
            server.buffered_amount()
        );
    }
    assert_eq!(pings, 20_000);
    client_events.clear();
    pipe(&mut server, &mut client, Instant::ZERO, &mut client_events);
    assert_eq!(
        client_events.first(),
        Some(&Event::Message(Message::Binary(message)))
    );
    let pongs: Vec<u32> = client_events[1..]
        .iter()
        .map(|e| match e {
            Event::Pong(p) => u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pongs.last(), Some(&19_999), "the newest ping is answered");
    assert!(pongs.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(pongs.len() < 20_000 && pongs.len() * 106 > high_water / 2);
}

#[test]
fn a_lent_pong_is_never_replaced() {
    // F13: output lent out for writing elsewhere (a writer thread's copy) stays as it is: past half
    // the high-water mark behind our own message, a newer ping's pong replaces an unsent one only
    // outside what was lent.
    let high_water = Options::new().transmit_buffer;
    let (mut server, _client) = opened();
    server.send(Message::Binary(vec![7; 1024])).unwrap();
    let ping = |server: &mut Engine, i: u8| {
        let mut frame = vec![0x89, 0x80 | (1 + i % 100), 0, 0, 0, 0];
        frame.extend(std::iter::repeat_n(i, usize::from(1 + i % 100)));
        assert_eq!(server.receive(&frame), frame.len());
        assert!(matches!(
            server.next_event(Instant::ZERO),
            Some(Event::Ping(_))
        ));
    };
    // 1,000 pongs of 52 bytes on average: past half the mark, where a pong replaces the one before.
    for i in 0..1000 {
        ping(&mut server, i as u8);
    }
    assert!(server.buffered_amount() < 1024 + high_water / 2 + 131);
    let before = server.buffered_amount();
    ping(&mut server, 42);
    assert!(
        server.buffered_amount() < before + 45,
        "the last pong was replaced"
    );
    // Lent: every pong in the copy stays; newer ones queue behind it.
    let lent = server.lend_output(usize::MAX).to_vec();
    assert_eq!(lent.len(), server.buffered_amount());
    for k in 0..50 {
        ping(&mut server, k);
        assert_eq!(&server.output()[..lent.len()], &lent[..]);
    }
    // Beyond the copy they coalesce again: the newest ping's pong is last, and the queue stays short.
    let mut last = vec![0x8a, 50];
    last.extend([49; 50]);
    let output = server.lend_output(usize::MAX).to_vec();
    assert!(output.ends_with(&last));
    assert!(output.len() < lent.len() + 131 + 2 * 52, "{}", output.len());
}

#[test]
fn a_refused_proxy_reports_status_headers_and_the_reason() {
    // H11: a proxy's 407 → error "Can't establish a connection to the server at <url>", with the status
    // and headers readable.
    let mut client = Engine::client("ws://example.com/chat", Options::new()).unwrap();
    client
        .connect_proxy("http://proxy.local:3128", &[])
        .unwrap();
    assert!(
        client
            .output()
            .starts_with(b"CONNECT example.com:80 HTTP/1.1\r\n")
    );
    let n = client.output().len();
    client.consume_output(n);
    client.receive(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
    );
    let error = match client.next_event(Instant::ZERO) {
        Some(Event::Error(e)) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        error,
        "Can't establish a connection to the server at ws://example.com/chat"
    );
    assert_eq!(client.status(), Some(407));
    assert!(
        client
            .headers()
            .iter()
            .any(|(n, v)| n == "Proxy-Authenticate" && v == "Basic")
    );
}

/// An extension on RSV2 whose incoming processing always fails (X4).
/// A test extension type `$ext` named `$name` that claims `$rsv` and makes `$session`s, offering
/// and accepting anything.
macro_rules! test_extension {
    ($ext:ident, $session:ident, $name:literal, $rsv:expr) => {
        impl websocket_driver_std::Extension for $ext {
            fn name(&self) -> &str {
                $name
            }
            fn rsv(&self) -> websocket_driver_std::extensions::Rsv {
                $rsv
            }
            fn client_session(&self) -> Box<dyn websocket_driver_std::extensions::ClientSession> {
                Box::new($session)
            }
            fn server_session(
                &self,
                _offers: &[&websocket_driver_std::extensions::Params],
            ) -> Option<Box<dyn websocket_driver_std::extensions::ServerSession>> {
                Some(Box::new($session))
            }
        }
    };
}

/// The client and server sides of a test extension's session that offers and answers no parameters.
macro_rules! plain_sessions {
    ($session:ty) => {
        impl websocket_driver_std::extensions::ClientSession for $session {
            fn offer(&mut self) -> Vec<websocket_driver_std::extensions::Params> {
                vec![websocket_driver_std::extensions::Params::new()]
            }
            fn activate(&mut self, _: &websocket_driver_std::extensions::Params) -> bool {
                true
            }
        }

        impl websocket_driver_std::extensions::ServerSession for $session {
            fn response(&mut self) -> websocket_driver_std::extensions::Params {
                websocket_driver_std::extensions::Params::new()
            }
        }
    };
}

/// A server and a client engine, each with the extension `make` gives, through the handshake; the
/// events each saw.
fn open_with(
    make: fn() -> Box<dyn websocket_driver_std::Extension>,
) -> (Engine, Engine, Vec<Event>, Vec<Event>) {
    let mut server = Engine::server(Options::new());
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    assert!(server.add_extension(make()));
    assert!(client.add_extension(make()));
    client.start().unwrap();
    let (mut server_events, mut client_events) = (Vec::new(), Vec::new());
    pipe(&mut client, &mut server, Instant::ZERO, &mut server_events);
    server.accept().unwrap();
    pipe(&mut server, &mut client, Instant::ZERO, &mut client_events);
    (server, client, server_events, client_events)
}

struct Breaks;
struct BreaksSession;

test_extension!(
    Breaks,
    BreaksSession,
    "x-breaks",
    websocket_driver_std::extensions::Rsv::RSV2
);

impl websocket_driver_std::extensions::Session for BreaksSession {
    fn process_incoming(
        &mut self,
        _msg: websocket_driver_std::extensions::Message,
        _max_length: u64,
    ) -> Result<
        websocket_driver_std::extensions::Message,
        websocket_driver_std::extensions::ExtensionError,
    > {
        Err(websocket_driver_std::extensions::ExtensionError::RejectedParams("x-breaks".into()))
    }
    fn process_outgoing(
        &mut self,
        mut msg: websocket_driver_std::extensions::Message,
    ) -> Result<
        websocket_driver_std::extensions::Message,
        websocket_driver_std::extensions::ExtensionError,
    > {
        msg.rsv = msg.rsv.union(websocket_driver_std::extensions::Rsv::RSV2);
        Ok(msg)
    }
    fn close(&mut self) {}
}

plain_sessions!(BreaksSession);

#[test]
fn an_extension_failing_on_a_message_closes_with_1010() {
    // X4 end to end: the server's session fails on an incoming message; the engine sends a close frame
    // with 1010, reports the error, then the close; the client sees 1010.
    let (mut server, mut client, mut server_events, mut client_events) =
        open_with(|| Box::new(Breaks));
    assert_eq!(client_events, [Event::Open]);
    assert_eq!(
        client.extensions().active().collect::<Vec<_>>(),
        ["x-breaks"]
    );
    client.send(Message::Text("hi".into())).unwrap();
    server_events.clear();
    pipe(&mut client, &mut server, Instant::ZERO, &mut server_events);
    match &server_events[..] {
        [Event::Open, Event::Error(e), Event::Close(close)] => {
            assert!(
                matches!(
                    e,
                    websocket_driver_std::engine::Error::Extension { code: 1010, .. }
                ),
                "{e:?}"
            );
            assert_eq!(close.code, 1010);
        }
        other => panic!("{other:?}"),
    }
    client_events.clear();
    pipe(&mut server, &mut client, Instant::ZERO, &mut client_events);
    match &client_events[..] {
        [Event::Close(close)] => assert_eq!(close.code, 1010),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reads_end_where_a_large_frame_ends() {
    // The receive buffer grows once to hold the rest of a large frame, and `read_buf` offers exactly
    // that rest, so the next message starts at the buffer's front (no compaction).
    let mut pair = Pair::new(false);
    let big = payload(60 * 1024);
    pair.client.send(Message::Binary(big.clone())).unwrap();
    pair.client.send(Message::Text("after".into())).unwrap();
    let wire = pair.client.output().to_vec();
    pair.client.consume_output(wire.len());
    let frame_len = 2 + 2 + 4 + big.len();
    let (mut at, mut offered, mut events) = (0, Vec::new(), Vec::new());
    while at < wire.len() {
        let buf = pair.server.read_buf();
        offered.push(buf.len());
        let n = buf.len().min(wire.len() - at);
        buf[..n].copy_from_slice(&wire[at..at + n]);
        pair.server.commit(n);
        at += n;
        while let Some(event) = pair.server.next_event(pair.now) {
            events.push(event);
        }
    }
    assert_eq!(offered[0], 4096, "the usual first read: {offered:?}");
    assert_eq!(
        offered[1],
        frame_len - 4096,
        "the rest of the frame, at once"
    );
    assert_eq!(
        events,
        [
            Event::Message(Message::Binary(big)),
            Event::Message(Message::Text("after".into()))
        ]
    );
}

#[test]
fn timers_are_on_by_default() {
    // Safe defaults (DESIGN §4) on every face, from `Options`: a 10 s handshake deadline, then
    // keepalive — a ping after 30 s of silence, and 1006 if the peer stays silent 20 s more.
    let mut server = Engine::server(Options::new());
    assert!(server.next_event(Instant::from_secs(1)).is_none());
    assert_eq!(server.poll_timeout(), Some(Instant::from_secs(11)));
    let mut pair = Pair::new(false);
    assert_eq!(pair.server.poll_timeout(), Some(Instant::from_secs(31)));
    assert!(pair.server.next_event(Instant::from_secs(31)).is_none());
    assert_eq!(
        &pair.server.output()[..2],
        [0x89, 0x00],
        "the keepalive ping"
    );
    assert_eq!(pair.server.poll_timeout(), Some(Instant::from_secs(51)));
    match pair.server.next_event(Instant::from_secs(51)) {
        Some(Event::Close(CloseEvent { code: 1006, .. })) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_close_queued_before_open_is_checked_at_once() {
    // S2, F17: a client's close before open is queued, but one that could never be sent is refused
    // now rather than lost at open.
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    client.start().unwrap();
    assert!(client.close(Some(1006), "").is_err());
    assert!(client.close(Some(1000), &"x".repeat(124)).is_err());
    assert!(client.close(Some(4000), "later").is_ok());
}

#[test]
fn a_response_with_extensions_the_client_cannot_activate_fails_the_handshake_with_1002() {
    // X2 and H9: an answer naming an extension we did not offer, or parameters our extension rejects,
    // fails the handshake like every response check — an error, then close 1002 "Error during
    // WebSocket handshake: …", and no close frame (the connection never opened).
    for answer in [
        "permessage-deflate; x=1",
        "permessage-deflate; client_max_window_bits=09",
        "x-unknown",
    ] {
        let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
        assert!(client.add_extension(Box::new(PermessageDeflate::new())));
        client.start().unwrap();
        let request = String::from_utf8(client.output().to_vec()).unwrap();
        let n = client.output().len();
        client.consume_output(n);
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let accept = websocket_driver::handshake::accept::AcceptKey::for_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n",
            accept.as_str()
        );
        assert_eq!(client.receive(response.as_bytes()), response.len());
        let mut events = Vec::new();
        while let Some(event) = client.next_event(Instant::from_secs(1)) {
            events.push(event);
        }
        assert!(matches!(events[0], Event::Error(_)), "{answer}: {events:?}");
        match events.last() {
            Some(Event::Close(CloseEvent { code: 1002, reason })) => {
                assert!(
                    reason.starts_with("Error during WebSocket handshake: "),
                    "{reason}"
                )
            }
            other => panic!("{answer}: {other:?}"),
        }
        assert!(client.output().is_empty(), "{answer}: no close frame");
    }
}

/// An extension that claims no RSV bit (X1): it appends `!` to every message it sends and takes it off
/// every message it receives, failing one that lacks it.
struct Bang;

struct BangSession;

test_extension!(Bang, BangSession, "x-bang", websocket_driver::Rsv::NONE);

impl websocket_driver_std::extensions::Session for BangSession {
    fn process_incoming(
        &mut self,
        mut msg: websocket_driver_std::extensions::Message,
        _max_length: u64,
    ) -> Result<
        websocket_driver_std::extensions::Message,
        websocket_driver_std::extensions::ExtensionError,
    > {
        if msg.data.pop() != Some(b'!') {
            return Err(
                websocket_driver_std::extensions::ExtensionError::processing(
                    websocket_driver::CloseCode::MANDATORY_EXTENSION,
                    "no bang",
                ),
            );
        }
        Ok(msg)
    }
    fn process_outgoing(
        &mut self,
        mut msg: websocket_driver_std::extensions::Message,
    ) -> Result<
        websocket_driver_std::extensions::Message,
        websocket_driver_std::extensions::ExtensionError,
    > {
        msg.data.push(b'!');
        Ok(msg)
    }
    fn close(&mut self) {}
}

plain_sessions!(BangSession);

#[test]
fn every_message_goes_through_an_extension_that_claims_no_rsv_bit() {
    // X1: received messages go through the sessions (in reverse order), whatever RSV bits they carry
    // — not only those with the extension's bits — as sent ones do.
    let (mut server, mut client, mut server_events, mut client_events) =
        open_with(|| Box::new(Bang));
    let now = Instant::from_secs(1);
    assert_eq!(client.extensions().active().collect::<Vec<_>>(), ["x-bang"]);
    client.send(Message::Text("hi".into())).unwrap();
    client.send(Message::Binary(vec![1, 2])).unwrap();
    pipe(&mut client, &mut server, now, &mut server_events);
    assert_eq!(
        server_events[2..],
        [
            Event::Message(Message::Text("hi".into())),
            Event::Message(Message::Binary(vec![1, 2]))
        ]
    );
    server.send(Message::Text("back".into())).unwrap();
    pipe(&mut server, &mut client, now, &mut client_events);
    assert_eq!(
        client_events.last(),
        Some(&Event::Message(Message::Text("back".into())))
    );
}

/// A masked client frame (RFC 6455 §5.2, §5.3) with a 16- or 64-bit length as needed.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [7, 1, 9, 3];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend((n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend((n as u64).to_be_bytes());
        }
    }
    frame.extend(key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

#[test]
fn a_pre_parsed_request_keeps_all_the_bytes_read_past_its_head() {
    // H5, H6b: an HTTP server read frames past the head — here 150 KiB, more than the receive buffer
    // holds (64 KiB): every byte is kept, every message arrives.
    let headers: [(&str, &[u8]); 5] = [
        ("Host", b"a"),
        ("Upgrade", b"websocket"),
        ("Connection", b"Upgrade"),
        ("Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", b"13"),
    ];
    let sizes = [50_000usize, 70_000, 30_000];
    let body: Vec<u8> = sizes
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| masked_frame(0x2, &vec![i as u8; n]))
        .collect();
    assert!(body.len() > Options::new().receive_buffer);
    let mut server =
        Engine::for_request(Options::new(), "GET", "/", headers, &body, Vec::new(), &[]);
    let mut messages = Vec::new();
    while let Some(event) = server.next_event(Instant::from_secs(1)) {
        if let Event::Message(Message::Binary(data)) = event {
            messages.push((data.len(), data[0]));
        }
    }
    assert_eq!(messages, [(50_000, 0), (70_000, 1), (30_000, 2)]);
}

#[test]
fn a_draft_answer_has_room_for_a_long_target() {
    // H12 (drafts on): the 101 names the location, request target included; a 3,000-byte target
    // still gets its answer.
    let target = format!("/{}", "p".repeat(3000));
    let request = format!(
        "GET {target} HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\nOrigin: http://example.com\r\n\r\n"
    );
    let mut server = Engine::server(Options::new().allow_drafts(true));
    assert_eq!(server.receive(request.as_bytes()), request.len());
    assert!(matches!(
        server.next_event(Instant::from_secs(1)),
        Some(Event::Connect(_))
    ));
    server.accept().unwrap();
    let answer = String::from_utf8_lossy(server.output()).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 101 Web Socket Protocol Handshake\r\n"),
        "{answer}"
    );
    assert!(answer.contains(&format!("WebSocket-Location: ws://example.com{target}\r\n")));
}
