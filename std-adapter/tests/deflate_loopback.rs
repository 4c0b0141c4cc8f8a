//! permessage-deflate over real loopback TCP with the parameter combinations RFC 7692 allows between
//! our own client and server options (X5): context takeover on and off on each side, window bits
//! requested and limited, and a client that declines to compress with small windows.

use std::net::TcpListener;
use std::thread;

use websocket_driver_std::blocking::{Connection, Incoming, accept};
use websocket_driver_std::{Message, Options, PermessageDeflate};

#[derive(Clone, Copy, Debug)]
struct Side {
    no_context_takeover: bool,
    request_no_context_takeover: bool,
    max_window_bits: Option<u8>,
    request_max_window_bits: Option<u8>,
}

fn extension(side: Side) -> PermessageDeflate {
    let mut ext = PermessageDeflate::new()
        .no_context_takeover(side.no_context_takeover)
        .request_no_context_takeover(side.request_no_context_takeover);
    if let Some(bits) = side.max_window_bits {
        ext = ext.max_window_bits(bits);
    }
    if let Some(bits) = side.request_max_window_bits {
        ext = ext.request_max_window_bits(bits);
    }
    ext
}

fn round_trip(client: Side, server: Side) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let Ok(websocket_driver_std::blocking::Accepted::WebSocket(mut connection)) =
            accept(stream, Options::new(), |d| {
                d.add_extension(Box::new(extension(server)));
            })
        else {
            panic!("not a WebSocket");
        };
        while let Ok(Some(incoming)) = connection.recv() {
            match incoming {
                Incoming::Message(m) => connection.send(m).unwrap(),
                Incoming::Close(_) => break,
                _ => {}
            }
        }
    });
    let mut connection = Connection::connect(&url, Options::new(), |d| {
        d.add_extension(Box::new(extension(client)));
    })
    .unwrap();
    let negotiated = connection
        .driver()
        .headers()
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, v)| v.clone());
    // X5: deflate is really negotiated, unless the client asked the server for an 8-bit window, which
    // zlib cannot compress with (the server declines that offer).
    let declined = client.request_max_window_bits == Some(8);
    assert_eq!(
        negotiated.is_some(),
        !declined,
        "{client:?} / {server:?} / {negotiated:?}"
    );
    assert_eq!(
        connection.driver().extensions().active().count(),
        usize::from(!declined)
    );
    let text = "the quick brown fox jumps over the lazy dog; ".repeat(300);
    let messages = [
        Message::Text(text.clone()),
        Message::Text(text),
        Message::Binary((0..70_000u32).map(|i| (i * 31 % 256) as u8).collect()),
        Message::Binary(Vec::new()),
        Message::Text("κόσμε".into()),
    ];
    for m in &messages {
        connection.send(m.clone()).unwrap();
        match connection.recv().unwrap() {
            Some(Incoming::Message(echo)) => {
                assert_eq!(&echo, m, "{client:?} / {server:?} / {negotiated:?}")
            }
            other => panic!("{other:?} with {client:?} / {server:?} / {negotiated:?}"),
        }
    }
    connection.close(1000, "").unwrap();
    while let Ok(Some(incoming)) = connection.recv() {
        if let Incoming::Close(_) = incoming {
            break;
        }
    }
    handle.join().unwrap();
}

#[test]
fn parameter_combinations_over_tcp() {
    // X5: every combination of the options on both ends round-trips messages.
    let mut sides = Vec::new();
    for no_context_takeover in [false, true] {
        for request_no_context_takeover in [false, true] {
            for max_window_bits in [None, Some(9), Some(12)] {
                for request_max_window_bits in [None, Some(8), Some(10)] {
                    sides.push(Side {
                        no_context_takeover,
                        request_no_context_takeover,
                        max_window_bits,
                        request_max_window_bits,
                    });
                }
            }
        }
    }
    // Pair each client option set with a spread of server option sets (every server set is used).
    for (i, client) in sides.iter().enumerate() {
        for server in [
            sides[i],
            sides[(i * 7 + 3) % sides.len()],
            sides[(i * 11 + 5) % sides.len()],
        ] {
            round_trip(*client, server);
        }
    }
}
