//! An adapter client and an adapter server over real loopback TCP (blocking helpers), with and without
//! permessage-deflate.

use std::net::TcpListener;
use std::thread;

use websocket_driver_std::blocking::{Connection, Incoming, serve};
use websocket_driver_std::engine::Engine;
use websocket_driver_std::{Message, Options, PermessageDeflate};

fn echo_server(deflate: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    let setup: fn(&mut Engine) = if deflate {
        |d| {
            d.add_extension(Box::new(PermessageDeflate::new()));
        }
    } else {
        |_| {}
    };
    thread::spawn(move || {
        serve(
            listener,
            Options::new().protocols(["echo"]),
            setup,
            |mut connection| {
                while let Ok(Some(incoming)) = connection.recv() {
                    match incoming {
                        Incoming::Message(m) => {
                            let sent = connection.send(m);
                            if sent.is_err() {
                                break;
                            }
                        }
                        Incoming::Close(_) => break,
                        _ => {}
                    }
                }
            },
            |_, _, _| {},
        )
    });
    url
}

fn conversation(deflate: bool) {
    let url = echo_server(deflate);
    let mut client = Connection::connect(&url, Options::new().protocols(["other", "echo"]), |d| {
        if deflate {
            d.add_extension(Box::new(PermessageDeflate::new()));
        }
    })
    .unwrap();
    assert_eq!(client.driver().protocol(), Some("echo"));
    assert_eq!(client.driver().status(), Some(101));
    let extensions = client
        .driver()
        .headers()
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"));
    assert_eq!(extensions, deflate);
    let mut messages: Vec<Message> = vec![
        Message::Text("Hello".into()),
        Message::Text(String::new()),
        Message::Text("κόσμε".repeat(1000)),
    ];
    for size in [0usize, 1, 125, 126, 65535, 65536, 200_000] {
        messages.push(Message::Binary(
            (0..size).map(|i| (i * 7 % 251) as u8).collect(),
        ));
    }
    for message in &messages {
        client.send(message.clone()).unwrap();
    }
    for message in &messages {
        match client.recv().unwrap() {
            Some(Incoming::Message(echo)) => assert_eq!(&echo, message),
            other => panic!("{other:?}"),
        }
    }
    client.ping(b"are you there").unwrap();
    assert_eq!(
        client.recv().unwrap(),
        Some(Incoming::Pong(b"are you there".to_vec()))
    );
    client.close(4000, "done").unwrap();
    match client.recv().unwrap() {
        Some(Incoming::Close(event)) => {
            assert_eq!((event.code, event.reason.as_str()), (4000, "done"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn loopback_without_deflate() {
    conversation(false);
}

#[test]
fn loopback_with_deflate() {
    // X5: permessage-deflate negotiated between an adapter client and server, messages round-trip.
    conversation(true);
}

#[test]
fn max_length_both_ways_with_deflate() {
    // F9 X5: a message of exactly max_length (2^26 − 1 by default) goes both ways compressed; one byte
    // more is refused with 1009.
    let url = echo_server(true);
    let max = (1usize << 26) - 1;
    let mut client = Connection::connect(&url, Options::new(), |d| {
        d.add_extension(Box::new(PermessageDeflate::new()));
    })
    .unwrap();
    let big: Vec<u8> = (0..max).map(|i| (i % 253) as u8).collect();
    client.send(Message::Binary(big.clone())).unwrap();
    match client.recv().unwrap() {
        Some(Incoming::Message(Message::Binary(echo))) => assert!(echo == big, "echo differs"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let mut over = big;
    over.push(0);
    client.send(Message::Binary(over)).unwrap();
    loop {
        match client.recv().unwrap() {
            Some(Incoming::Close(event)) => {
                assert_eq!(event.code, 1009);
                break;
            }
            Some(Incoming::Error(_)) => {}
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
