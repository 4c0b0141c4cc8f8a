//! Split invariance of the handshakes (DESIGN §6): a request or response head byte by byte, head and
//! first frames in one read, or any other split, gives the same events and the same output.

mod support;

use proptest::prelude::*;
use support::{Conn, Ev, frame, masked};
use websocket_driver::mask_source::FixedSequence;
use websocket_driver::{ClientRequest, Config, Driver, Url};

const REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a, chat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

fn server_run(bytes: &[u8], cuts: &[usize], reassemble: bool) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Conn::new(
        Driver::server(Config::default().reassemble(reassemble)),
        8192,
        1 << 16,
    );
    conn.auto_accept = Some(&["chat"]);
    conn.feed_split(bytes, cuts);
    (conn.take_events(), conn.take_out())
}

fn client_run(bytes: &[u8], cuts: &[usize]) -> (Vec<Ev>, Vec<u8>) {
    let mut conn = Conn::new(Driver::client(Config::default()), 8192, 1 << 16);
    let url = Url::parse_ws("ws://example.com/").unwrap();
    let request = ClientRequest {
        url: &url,
        protocols: &["chat"],
        headers: &[],
        extensions: None,
    };
    let nonce = [
        218, 240, 85, 90, 14, 16, 202, 77, 217, 160, 207, 249, 119, 116, 3, 245,
    ];
    conn.driver
        .start(&mut conn.tx, &mut FixedSequence::new(&nonce), &request)
        .unwrap();
    conn.offered = vec!["chat".into()];
    conn.feed_split(bytes, cuts);
    (conn.take_events(), conn.take_out())
}

fn sorted(cuts: Vec<prop::sample::Index>, len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn server_handshake_in_any_split(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
                                     payload in prop::collection::vec(any::<u8>(), 0..300), reassemble in any::<bool>()) {
        // H5 H7 S2: the head and the frames after it, in every split, one byte at a time included.
        let mut bytes = REQUEST.to_vec();
        bytes.extend(masked(&frame(0x82, &payload), [1, 2, 3, 4]));
        bytes.extend(masked(&frame(0x89, b"ping"), [5, 6, 7, 8]));
        let whole = server_run(&bytes, &[], reassemble);
        prop_assert_eq!(&whole.0[..3], &[Ev::Connect("GET".into(), "/chat?room=1".into()), Ev::Open(None), Ev::binary(&payload)][..]);
        prop_assert_eq!(&server_run(&bytes, &sorted(cuts, bytes.len()), reassemble), &whole);
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(&server_run(&bytes, &every, reassemble), &whole);
    }

    #[test]
    fn client_handshake_in_any_split(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
                                     text in "\\PC{0,100}") {
        // H9 H10: the response head and the first frames, in every split.
        let mut bytes = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: QV3I5XUXU2CdhtjixE7QCkCcMZM=\r\nSec-WebSocket-Protocol: chat\r\n\r\n".to_vec();
        bytes.extend(frame(0x81, text.as_bytes()));
        let whole = client_run(&bytes, &[]);
        prop_assert_eq!(&whole.0, &vec![Ev::Open(Some(101)), Ev::text(&text)]);
        prop_assert_eq!(&client_run(&bytes, &sorted(cuts, bytes.len())), &whole);
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(&client_run(&bytes, &every), &whole);
    }
}
