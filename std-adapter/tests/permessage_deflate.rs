//! permessage-deflate between our own client and server (checklist X2, X5): every combination of options
//! negotiates what RFC 7692 §7.1 says, and messages round-trip both ways through the agreed windows.

use proptest::prelude::*;
use websocket_driver_std::extensions::{DataKind, Extensions, Message, PermessageDeflate, Rsv};

/// Our options as plain values, to build both an extension and the expected negotiation.
#[derive(Clone, Copy, Debug)]
struct Opts {
    level: u32,
    no_context_takeover: bool,
    max_window_bits: Option<u8>,
    request_no_context_takeover: bool,
    request_max_window_bits: Option<u8>,
}

impl Opts {
    fn build(self) -> PermessageDeflate {
        let mut pd = PermessageDeflate::new()
            .level(self.level)
            .no_context_takeover(self.no_context_takeover)
            .request_no_context_takeover(self.request_no_context_takeover);
        if let Some(bits) = self.max_window_bits {
            pd = pd.max_window_bits(bits);
        }
        if let Some(bits) = self.request_max_window_bits {
            pd = pd.request_max_window_bits(bits);
        }
        pd
    }
}

/// What RFC 7692 §7.1 makes of our client's offer and our server's options, written from the RFC's
/// rules rather than from the implementation: (offer, response or None if declined, client accepts).
fn expected(client: Opts, server: Opts) -> (String, Option<String>, bool) {
    let mut offer = String::from("permessage-deflate");
    if client.no_context_takeover {
        offer += "; client_no_context_takeover";
    }
    match client.max_window_bits {
        Some(bits) => offer += &format!("; client_max_window_bits={bits}"),
        None => offer += "; client_max_window_bits",
    }
    if client.request_no_context_takeover {
        offer += "; server_no_context_takeover";
    }
    if let Some(bits) = client.request_max_window_bits {
        offer += &format!("; server_max_window_bits={bits}");
    }

    let mut response = String::from("permessage-deflate");
    // §7.1.1.1: a requested server_no_context_takeover must be accepted; the server may add it.
    if client.request_no_context_takeover || server.no_context_takeover {
        response += "; server_no_context_takeover";
    }
    // §7.1.1.2: the server may always ask; our server also echoes the client's hint.
    if server.request_no_context_takeover || client.no_context_takeover {
        response += "; client_no_context_takeover";
    }
    // §7.1.2.1: only if offered, no larger than offered; 8 is declined (we cannot compress with it).
    if let Some(requested) = client.request_max_window_bits {
        let bits = requested.min(server.max_window_bits.unwrap_or(15));
        if bits == 8 {
            return (offer, None, false);
        }
        response += &format!("; server_max_window_bits={bits}");
    }
    // §7.1.2.2: our client always offers it; the server answers when either side has a value.
    if client.max_window_bits.is_some() || server.request_max_window_bits.is_some() {
        let bits = client
            .max_window_bits
            .unwrap_or(15)
            .min(server.request_max_window_bits.unwrap_or(15));
        response += &format!("; client_max_window_bits={bits}");
        if bits == 8 {
            // Our client declines compressing with an 8-bit window.
            return (offer, Some(response), false);
        }
    }
    (offer, Some(response), true)
}

/// Negotiates as `expected` predicts; returns the connected pair if the client accepted.
fn negotiate(client: Opts, server: Opts) -> Option<(Extensions, Extensions)> {
    let (offer, response, accepts) = expected(client, server);
    let (mut c, mut s) = (Extensions::new(), Extensions::new());
    c.add(Box::new(client.build())).unwrap();
    s.add(Box::new(server.build())).unwrap();
    assert_eq!(c.generate_offer().unwrap().as_deref(), Some(offer.as_str()));
    let actual = s.generate_response(&offer).unwrap();
    assert_eq!(actual, response, "{client:?} {server:?}");
    let response = actual?;
    let activated = c.activate(&response);
    assert_eq!(activated.is_ok(), accepts, "{response}: {activated:?}");
    assert_eq!(s.allowed_rsv(), Rsv::RSV1);
    assert_eq!(c.allowed_rsv(), if accepts { Rsv::RSV1 } else { Rsv::NONE });
    accepts.then_some((c, s))
}

/// Sends each message from `from` to `to` and checks it arrives unchanged.
fn round_trip(from: &mut Extensions, to: &mut Extensions, messages: &[Message]) {
    for msg in messages {
        let sent = from.process_outgoing(msg.clone()).unwrap();
        assert_eq!(sent.rsv, Rsv::RSV1);
        let received = to.process_incoming(sent, msg.data.len() as u64).unwrap();
        assert_eq!(&received, msg);
    }
}

/// Deterministic bytes with no long repeats.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Messages whose matches reach back 300 B, 600 B and 5,000 B (past 9- and 12-bit windows), within and
/// across messages.
fn table_messages() -> Vec<Message> {
    let block = |len, seed| noise(len, seed).repeat(2);
    vec![
        Message::text(""),
        Message::text("Hello"),
        Message::binary(block(300, 1)),
        Message::binary(block(600, 2)),
        Message::binary(block(600, 2)),
        Message::binary(block(5_000, 3)),
        Message::text("héllo €𝄞 ".repeat(100)),
        Message::binary(Vec::new()),
    ]
}

#[test]
fn negotiation_table() {
    // X2, X5: all combinations of our options on both sides, then round trips both ways.
    let bits = [None, Some(9), Some(12)];
    let requests = [None, Some(8), Some(9), Some(15)];
    let mut all = Vec::new();
    for no_context_takeover in [false, true] {
        for max_window_bits in bits {
            for request_no_context_takeover in [false, true] {
                for request_max_window_bits in requests {
                    all.push(Opts {
                        level: 6,
                        no_context_takeover,
                        max_window_bits,
                        request_no_context_takeover,
                        request_max_window_bits,
                    });
                }
            }
        }
    }
    let messages = table_messages();
    let (mut accepted, mut declined, mut rejected) = (0, 0, 0);
    for (i, &client) in all.iter().enumerate() {
        for (j, &server) in all.iter().enumerate() {
            match negotiate(client, server) {
                // Round-trip the full set on a spread of the pairs, a short one on the rest.
                Some((mut c, mut s)) => {
                    accepted += 1;
                    let set = if (i + j) % 9 == 0 {
                        &messages[..]
                    } else {
                        &messages[..3]
                    };
                    round_trip(&mut c, &mut s, set);
                    round_trip(&mut s, &mut c, set);
                }
                None if expected(client, server).1.is_none() => declined += 1,
                None => rejected += 1,
            }
        }
    }
    println!(
        "{accepted} accepted, {declined} declined by the server, {rejected} rejected by the client"
    );
    assert_eq!(accepted + declined + rejected, all.len() * all.len());
    assert!(declined > 0 && rejected > 0);
}

fn opts() -> impl Strategy<Value = Opts> {
    (
        0u32..=9,
        any::<bool>(),
        prop::option::of(9u8..=15),
        any::<bool>(),
        prop::option::of(9u8..=15),
    )
        .prop_map(
            |(
                level,
                no_context_takeover,
                max_window_bits,
                request_no_context_takeover,
                request_max_window_bits,
            )| Opts {
                level,
                no_context_takeover,
                max_window_bits,
                request_no_context_takeover,
                request_max_window_bits,
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..=65_536),
        prop::collection::vec(prop::sample::select(b"ab c\n".to_vec()), 0..=65_536),
    ];
    let text = prop::collection::vec(
        prop::sample::select(vec!['a', 'b', ' ', 'é', '€', '𝄞']),
        0..=16_384,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>());
    prop_oneof![
        bytes.prop_map(|data| Message {
            kind: DataKind::Binary,
            rsv: Rsv::NONE,
            data
        }),
        text.prop_map(|s| Message {
            kind: DataKind::Text,
            rsv: Rsv::NONE,
            data: s.into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_messages_round_trip(
        client in opts(),
        server in opts(),
        messages in prop::collection::vec(message(), 1..4),
    ) {
        // X5
        let (mut c, mut s) = negotiate(client, server).expect("9..=15 windows always agree");
        round_trip(&mut c, &mut s, &messages);
        round_trip(&mut s, &mut c, &messages);
    }
}
