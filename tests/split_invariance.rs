//! Split invariance (DESIGN §6): for a given receive-buffer size every split of the input gives the same
//! events; across buffer sizes the messages (chunks joined), their order and all output bytes are the same.

mod support;

use proptest::prelude::*;
use support::{Conn, Ev, frame, masked};
use websocket_driver::{Config, Driver, MIN_RX_CAPACITY};

#[derive(Clone, Debug)]
enum Item {
    Text(String),
    Binary(Vec<u8>),
    /// A message in fragments, cut at byte positions (text may be cut inside a code point), with a ping
    /// after some fragments.
    Fragmented {
        text: bool,
        bytes: Vec<u8>,
        cuts: Vec<usize>,
        pings: Vec<bool>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn item() -> impl Strategy<Value = Item> {
    let text = "(\\PC|[\u{80}-\u{7ff}]|[\u{800}-\u{ffff}]|[\u{10000}-\u{10ffff}]){0,300}";
    prop_oneof![
        text.prop_map(Item::Text),
        prop::collection::vec(any::<u8>(), 0..400).prop_map(Item::Binary),
        (
            any::<bool>(),
            text,
            prop::collection::vec(0usize..400, 0..4),
            prop::collection::vec(any::<bool>(), 0..5)
        )
            .prop_map(|(text, s, mut cuts, pings)| {
                let bytes = if text {
                    s.into_bytes()
                } else {
                    s.into_bytes().iter().map(|b| b ^ 0x5a).collect()
                };
                cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
                cuts.sort_unstable();
                Item::Fragmented {
                    text,
                    bytes,
                    cuts,
                    pings,
                }
            }),
        prop::collection::vec(any::<u8>(), 0..126).prop_map(Item::Ping),
        prop::collection::vec(any::<u8>(), 0..126).prop_map(Item::Pong),
    ]
}

/// The length encodings a sender may pick: the minimal one (RFC 6455 §5.2 says it MUST, F15) or, as
/// senders that break that rule do and we accept, always the 16-bit or the 64-bit one.
#[derive(Clone, Copy, Debug)]
enum Width {
    Minimal,
    Sixteen,
    SixtyFour,
}

/// An unmasked frame with its length in `width`'s encoding (16-bit falls back to 64-bit above 65535).
fn widened(b0: u8, payload: &[u8], width: Width) -> Vec<u8> {
    let n = payload.len() as u64;
    let mut out = match width {
        Width::Minimal => return frame(b0, payload),
        Width::Sixteen if n <= 0xffff => [&[b0, 126][..], &(n as u16).to_be_bytes()].concat(),
        _ => [&[b0, 127][..], &n.to_be_bytes()].concat(),
    };
    out.extend_from_slice(payload);
    out
}

fn width() -> impl Strategy<Value = Width> {
    prop_oneof![
        Just(Width::Minimal),
        Just(Width::Sixteen),
        Just(Width::SixtyFour)
    ]
}

/// The client's bytes for `items`, masked with keys from `seed`, lengths in `width`'s encoding, then a
/// close.
fn wire(items: &[Item], seed: u8, width: Width) -> Vec<u8> {
    let mut key = [seed, seed.wrapping_mul(7), 0x55, seed ^ 0xa5];
    let mut out = Vec::new();
    let mut push = |b0: u8, payload: &[u8]| {
        key = key.map(|k| k.wrapping_add(1));
        out.extend(masked(&widened(b0, payload, width), key));
    };
    for item in items {
        match item {
            Item::Text(s) => push(0x81, s.as_bytes()),
            Item::Binary(b) => push(0x82, b),
            Item::Ping(p) => push(0x89, p),
            Item::Pong(p) => push(0x8a, p),
            Item::Fragmented {
                text,
                bytes,
                cuts,
                pings,
            } => {
                let mut from = 0;
                let ends: Vec<usize> = cuts.iter().copied().chain([bytes.len()]).collect();
                for (i, &end) in ends.iter().enumerate() {
                    let last = i + 1 == ends.len();
                    let opcode = if i > 0 {
                        0
                    } else if *text {
                        1
                    } else {
                        2
                    };
                    push(if last { 0x80 | opcode } else { opcode }, &bytes[from..end]);
                    from = end;
                    if !last && pings.get(i).copied().unwrap_or(false) {
                        push(0x89, b"between");
                    }
                }
            }
        }
    }
    push(0x88, b"\x03\xe8bye");
    out
}

fn run(bytes: &[u8], rx_cap: usize, reassemble: bool, cuts: &[usize]) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Conn::new(
        Driver::server_upgraded(Config::default().reassemble(reassemble)),
        rx_cap,
        1 << 16,
    );
    conn.feed_split(bytes, cuts);
    (conn.take_events(), conn.take_out())
}

/// Joins chunks into whole messages, keeping the order in which messages end and control events come
/// (a ping between fragments comes before the message it interrupts, in every mode and buffer size).
fn joined(events: &[Ev]) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut binary = Vec::new();
    for ev in events {
        match ev {
            Ev::Text(s, fin) => {
                text.push_str(s);
                if *fin {
                    out.push(Ev::text(&std::mem::take(&mut text)));
                }
            }
            Ev::Binary(b, fin) => {
                binary.extend_from_slice(b);
                if *fin {
                    out.push(Ev::binary(&std::mem::take(&mut binary)));
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

fn expected(items: &[Item]) -> Vec<Ev> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Text(s) => out.push(Ev::text(s)),
            Item::Binary(b) => out.push(Ev::binary(b)),
            Item::Ping(p) => out.push(Ev::Ping(p.clone())),
            Item::Pong(p) => out.push(Ev::Pong(p.clone())),
            Item::Fragmented {
                text,
                bytes,
                cuts,
                pings,
            } => {
                let between = cuts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| pings.get(*i).copied().unwrap_or(false))
                    .count();
                out.extend((0..between).map(|_| Ev::Ping(b"between".to_vec())));
                out.push(if *text {
                    Ev::text(std::str::from_utf8(bytes).unwrap())
                } else {
                    Ev::binary(bytes)
                });
            }
        }
    }
    out.push(Ev::Close(1000, "bye".into()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    // F11 (control frames between fragments), F13, and any length encoding at the smallest buffer.
    #[test]
    fn every_split_gives_the_same_events(items in prop::collection::vec(item(), 1..6), seed in any::<u8>(),
                                         cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
                                         cap_pick in 0usize..4, reassemble in any::<bool>(),
                                         width in width()) {
        let bytes = wire(&items, seed, width);
        let cap = [MIN_RX_CAPACITY, 200, 1024, 1 << 16][cap_pick];
        let (events, out) = run(&bytes, cap, reassemble, &[]);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(&run(&bytes, cap, reassemble, &cuts), &(events.clone(), out.clone()));
        let single: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(&run(&bytes, cap, reassemble, &single), &(events, out));
    }

    #[test]
    fn buffer_sizes_give_the_same_messages(items in prop::collection::vec(item(), 1..6), seed in any::<u8>(),
                                           reassemble in any::<bool>(), width in width()) {
        let bytes = wire(&items, seed, width);
        let (big_events, big_out) = run(&bytes, 1 << 16, reassemble, &[]);
        let reference = joined(&big_events);
        prop_assert_eq!(&reference, &expected(&items));
        for cap in [MIN_RX_CAPACITY, 135, 150, 256, 1000] {
            let (events, out) = run(&bytes, cap, reassemble, &[]);
            prop_assert_eq!(&joined(&events), &reference, "buffer {}", cap);
            prop_assert_eq!(&out, &big_out);
            for ev in &events {
                let len = match ev { Ev::Text(s, _) => s.len(), Ev::Binary(b, _) => b.len(), _ => 0 };
                prop_assert!(len <= cap, "a chunk larger than the buffer");
            }
        }
    }
}
