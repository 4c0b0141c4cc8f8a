//! No header injection through the extension strings the application hands to the handshake
//! (BEHAVIOUR H1; issue #11 item 5): `ClientRequest::extensions` and `Accept::extensions` are refused with
//! `SendError::InvalidHeader` when they are not an RFC 6455 §9.1 extension list, and nothing is queued.

mod support;

use support::{Conn, Ev};
use websocket_driver::mask_source::FixedSequence;
use websocket_driver::{
    Accept, ClientRequest, Config, Driver, HandshakeCallError, Header, Request, SendError, State,
    Url,
};

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn client_extension_offer_with_crlf_is_refused() {
    // H1: a CR/LF in the extension offer would start a header of its own; `start` refuses it and
    // writes nothing.
    let mut conn = Conn::new(Driver::client(Config::default()), 16 * 1024, 16 * 1024);
    let url = Url::parse_ws("ws://example.com/").unwrap();
    let request = ClientRequest {
        url: &url,
        protocols: &[],
        headers: &[],
        extensions: Some("permessage-deflate\r\nX-Evil: 1"),
    };
    assert_eq!(
        conn.driver
            .start(&mut conn.tx, &mut FixedSequence::new(&[7; 16]), &request),
        Err(HandshakeCallError::Send(SendError::InvalidHeader))
    );
    assert!(conn.tx.is_empty(), "nothing queued: {:?}", conn.tx);
    assert_eq!(conn.tx.ready(), 0);
}

#[test]
fn server_extension_answer_with_crlf_is_refused() {
    // H1: the same on the server: `accept` refuses an extension answer with CR/LF, writes nothing,
    // and the request is still there to be answered properly.
    let mut conn = Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024);
    conn.feed(REQUEST);
    assert!(matches!(conn.take_events().first(), Some(Ev::Connect(m, _)) if m == "GET"));
    let bad = Accept {
        extensions: Some("x\r\nSet-Cookie: a=b"),
        ..Accept::default()
    };
    assert_eq!(
        conn.driver.accept(&mut conn.rx, &mut conn.tx, &bad),
        Err(HandshakeCallError::Send(SendError::InvalidHeader))
    );
    assert!(conn.tx.is_empty(), "nothing queued: {:?}", conn.tx);
    assert!(conn.take_out().is_empty());
    let good = Accept {
        extensions: Some("permessage-deflate"),
        ..Accept::default()
    };
    assert_eq!(
        conn.driver.accept(&mut conn.rx, &mut conn.tx, &good),
        Ok(None),
        "the request is still there"
    );
    assert_eq!(conn.driver.state(), State::Open);
}

#[test]
fn pre_parsed_request_extension_answer_with_crlf_is_refused() {
    // H1 (with H6b): `accept_request` checks the extension answer as `accept` does.
    let headers = [
        Header {
            name: "Host",
            value: b"server.example.com",
        },
        Header {
            name: "Upgrade",
            value: b"websocket",
        },
        Header {
            name: "Connection",
            value: b"Upgrade",
        },
        Header {
            name: "Sec-WebSocket-Key",
            value: b"dGhlIHNhbXBsZSBub25jZQ==",
        },
        Header {
            name: "Sec-WebSocket-Version",
            value: b"13",
        },
    ];
    let request = Request::new("GET", "/chat", 1, &headers);
    let mut conn = Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024);
    let bad = Accept {
        extensions: Some("x; y=1\r\nSet-Cookie: a=b"),
        ..Accept::default()
    };
    assert_eq!(
        conn.driver.accept_request(&mut conn.tx, &request, &bad),
        Err(HandshakeCallError::Send(SendError::InvalidHeader))
    );
    assert!(conn.tx.is_empty(), "nothing queued: {:?}", conn.tx);
}

#[test]
fn malformed_extension_strings_are_refused_on_both_sides() {
    // H1, X3: a NUL, a name that is not a token, or an empty list is refused too.
    for extensions in ["a\0", "a b", "a; b=", "a;", "", "x; y=\"\n\""] {
        let mut client = Conn::new(Driver::client(Config::default()), 16 * 1024, 16 * 1024);
        let url = Url::parse_ws("ws://example.com/").unwrap();
        let request = ClientRequest {
            url: &url,
            protocols: &[],
            headers: &[],
            extensions: Some(extensions),
        };
        assert_eq!(
            client
                .driver
                .start(&mut client.tx, &mut FixedSequence::new(&[7; 16]), &request),
            Err(HandshakeCallError::Send(SendError::InvalidHeader)),
            "client offer {extensions:?}"
        );
        assert!(client.tx.is_empty());

        let mut server = Conn::new(Driver::server(Config::default()), 16 * 1024, 16 * 1024);
        server.feed(REQUEST);
        server.take_events();
        let accept = Accept {
            extensions: Some(extensions),
            ..Accept::default()
        };
        assert_eq!(
            server
                .driver
                .accept(&mut server.rx, &mut server.tx, &accept),
            Err(HandshakeCallError::Send(SendError::InvalidHeader)),
            "server answer {extensions:?}"
        );
        assert!(server.tx.is_empty());
    }
}
