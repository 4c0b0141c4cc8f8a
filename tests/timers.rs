//! The driver's timers: the closing deadline (S4, S8) in both roles and keepalive (RFC 6455 §5.5.2),
//! driven by `poll_timeout` / `handle_timeout` and by the `now` every `poll` passes.

mod support;

use support::{Conn, Ev, Pair, frame, lenient, masked};
use websocket_driver::{CloseCode, Config, Duration, Instant, State, Timeout};

/// An open connection in `role`, its clock at 1 s.
fn open(server: bool, config: Config) -> Conn {
    let mut conn = if server {
        Conn::server(config)
    } else {
        Conn::client(config)
    };
    conn.now = Instant::from_secs(1);
    conn.pump();
    conn
}

#[test]
fn a_silent_peer_does_not_keep_us_closing_forever() {
    // S4: close() arms close_timeout from the next poll's now; a peer that never answers is closed at
    // the deadline with one close event (1006) and the transport may close — in both roles.
    for server in [true, false] {
        let config = lenient().with_close_timeout(Duration::from_secs(3));
        let mut conn = open(server, config);
        conn.driver
            .close(&mut conn.tx, &mut conn.rng, Some(CloseCode::NORMAL), "")
            .unwrap();
        assert_eq!(conn.driver.state(), State::Closing);
        // Due now: the deadline is counted from the next time the driver is told.
        assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(1)));
        conn.pump();
        assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(4)));
        conn.now = Instant::from_millis(3999);
        conn.pump();
        assert_eq!(
            conn.driver.state(),
            State::Closing,
            "not before the deadline"
        );
        assert!(!conn.driver.should_close_transport());
        conn.now = Instant::from_secs(4);
        conn.pump();
        assert_eq!(
            conn.take_events(),
            [Ev::Close(
                1006,
                "The peer did not answer the close frame in time".into()
            )]
        );
        assert_eq!(conn.driver.state(), State::Closed);
        assert_eq!(conn.driver.timeout(), Some(Timeout::Closing));
        assert!(conn.driver.should_close_transport());
        assert_eq!(conn.driver.poll_timeout(), None);
        // One close event only, and no close frame with 1006 on the wire.
        conn.now = Instant::from_secs(60);
        conn.pump();
        assert!(conn.take_events().is_empty());
        let out = conn.take_out();
        assert_eq!(out.iter().filter(|&&b| b == 0x88).count(), 1, "{out:x?}");
    }
}

#[test]
fn handle_timeout_alone_ends_the_closing() {
    // S4: handle_timeout at the deadline closes; the close event comes at the next poll.
    let mut conn = open(true, lenient());
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, None, "")
        .unwrap();
    // Due at once (the latest now): handle_timeout then arms the deadline from its own now.
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(1)));
    conn.driver.handle_timeout(Instant::from_secs(2));
    assert_eq!(conn.driver.state(), State::Closing);
    let deadline = conn.driver.poll_timeout().unwrap();
    assert_eq!(deadline, Instant::from_secs(2) + Duration::from_secs(5));
    conn.driver.handle_timeout(deadline);
    assert!(conn.driver.should_close_transport());
    conn.pump();
    assert_eq!(conn.take_events()[0], Ev::Close(1006, conn_reason()));
}

fn conn_reason() -> String {
    Timeout::Closing.to_string()
}

#[test]
fn close_after_a_long_silence_counts_from_the_next_poll() {
    // S4 in both roles: an application that closes long after its latest poll (a client sending
    // without reading, say) still gets the peer's close, and what came before it, not a 1006 for a
    // deadline counted from that old poll.
    for server in [true, false] {
        let mut conn = open(server, lenient());
        conn.driver
            .close(&mut conn.tx, &mut conn.rng, Some(CloseCode::NORMAL), "")
            .unwrap();
        conn.now = Instant::from_secs(100);
        for sent in [frame(0x81, b"last"), frame(0x88, &[0x03, 0xe8])] {
            conn.rx.write(&if server {
                masked(&sent, [1, 2, 3, 4])
            } else {
                sent
            });
        }
        conn.pump();
        assert_eq!(
            conn.take_events(),
            [
                Ev::Text("last".into(), true),
                Ev::Close(1000, String::new())
            ]
        );
        assert_eq!(conn.driver.timeout(), None);
    }
}

#[test]
fn close_before_the_first_poll_counts_from_the_first_poll() {
    // S4: with no poll yet the driver knows no time; the deadline starts at the first poll's now.
    let mut conn = Conn::server(lenient().with_close_timeout(Duration::from_secs(2)));
    conn.driver
        .close(&mut conn.tx, &mut conn.rng, None, "")
        .unwrap();
    assert_eq!(conn.driver.poll_timeout(), None);
    conn.now = Instant::from_secs(100);
    conn.pump();
    assert_eq!(conn.driver.state(), State::Closing);
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(102)));
}

#[test]
fn keepalive_closes_a_silent_peer() {
    // RFC 6455 §5.5.2 keepalive: after ping_interval of silence a ping goes out; a peer silent for
    // pong_timeout after that is closed (1006, no close frame) and reported.
    for server in [true, false] {
        let config = lenient()
            .with_ping_interval(Some(Duration::from_secs(10)))
            .with_pong_timeout(Duration::from_secs(4));
        let mut conn = open(server, config);
        assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(11)));
        conn.now = Instant::from_secs(11);
        conn.pump();
        let ping = conn.take_out();
        assert_eq!(ping[0], 0x89, "a keepalive ping: {ping:x?}");
        assert_eq!(ping[1] & 0x7f, 0, "empty payload");
        assert_eq!(ping[1] & 0x80 != 0, !server, "masked by a client only");
        assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(15)));
        conn.now = Instant::from_secs(15);
        conn.pump();
        assert_eq!(
            conn.take_events(),
            [Ev::Close(1006, Timeout::Keepalive.to_string())]
        );
        assert_eq!(conn.driver.timeout(), Some(Timeout::Keepalive));
        assert!(conn.driver.should_close_transport());
        assert!(conn.take_out().is_empty(), "no close frame for a dead peer");
    }
}

#[test]
fn keepalive_keeps_a_peer_that_answers() {
    // RFC 6455 §5.5.2: a peer that answers the ping (or sends anything) stays; pings repeat.
    let config = Config::default()
        .with_ping_interval(Some(Duration::from_secs(10)))
        .with_pong_timeout(Duration::from_secs(4));
    let mut pair = Pair::new(config, config);
    for conn in [&mut pair.client, &mut pair.server] {
        conn.now = Instant::from_secs(1);
        conn.pump();
    }
    for round in 1..=5u64 {
        let at = Instant::from_secs(1 + 10 * round);
        pair.client.now = at;
        pair.server.now = at;
        pair.client.pump();
        pair.drive();
        assert_eq!(pair.client.driver.state(), State::Open, "round {round}");
        assert_eq!(pair.server.driver.state(), State::Open, "round {round}");
    }
    let events = pair.client.take_events();
    assert!(
        events.iter().filter(|e| **e == Ev::Pong(vec![])).count() >= 4,
        "{events:?}"
    );
    // Anything from the peer counts: data resets the interval.
    let mut conn = open(
        true,
        lenient().with_ping_interval(Some(Duration::from_secs(10))),
    );
    conn.now = Instant::from_secs(9);
    conn.feed(&frame(0x81, b"hi"));
    assert_eq!(conn.driver.poll_timeout(), Some(Instant::from_secs(19)));
}

#[test]
fn keepalive_ping_waits_for_room_but_the_clock_runs() {
    // A keepalive ping that does not fit waits for room; the pong timeout still counts from when it fell
    // due, so a peer that reads nothing is closed all the same.
    let config = lenient()
        .with_ping_interval(Some(Duration::from_secs(10)))
        .with_pong_timeout(Duration::from_secs(4));
    let mut conn = Conn::new(websocket_driver::Driver::server_upgraded(config), 4096, 140);
    conn.now = Instant::from_secs(1);
    conn.pump();
    conn.driver
        .binary(&mut conn.tx, &mut conn.rng, &[0; 136])
        .unwrap();
    conn.now = Instant::from_secs(11);
    conn.driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        .unwrap();
    assert_eq!(conn.tx.len(), 140, "the ping did not fit");
    conn.now = Instant::from_secs(15);
    conn.driver
        .poll(&mut conn.rx, &mut conn.tx, &mut conn.rng, conn.now)
        .unwrap();
    assert_eq!(conn.driver.timeout(), Some(Timeout::Keepalive));
}

#[test]
fn keepalive_is_off_by_default() {
    let mut conn = open(true, lenient());
    assert_eq!(conn.driver.poll_timeout(), None);
    conn.now = Instant::from_secs(1_000_000);
    conn.feed(&masked(&frame(0x81, b"x"), [1, 2, 3, 4]));
    assert_eq!(conn.driver.state(), State::Open);
    assert!(conn.take_out().is_empty());
}
