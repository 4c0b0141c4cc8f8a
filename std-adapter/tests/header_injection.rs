//! No header injection through the extension serializer (BEHAVIOUR H1; issue #11 item 5): an extension
//! whose offer or response cannot be written as a `Sec-WebSocket-Extensions` value never reaches the
//! HTTP head.

use std::sync::{Arc, Mutex};

use websocket_driver_std::extensions::{
    ClientSession, Extension, ExtensionError, Message, ParamValue, Params, Rsv, ServerSession,
    Session,
};
use websocket_driver_std::{Driver, Options};

/// An extension that offers and answers `inj; x=<value>`.
struct Injector(&'static str);
struct InjectorSession(&'static str);

impl Extension for Injector {
    fn name(&self) -> &str {
        "inj"
    }
    fn rsv(&self) -> Rsv {
        Rsv::RSV1
    }
    fn client_session(&self) -> Box<dyn ClientSession> {
        Box::new(InjectorSession(self.0))
    }
    fn server_session(&self, _offers: &[&Params]) -> Option<Box<dyn ServerSession>> {
        Some(Box::new(InjectorSession(self.0)))
    }
}

impl InjectorSession {
    fn params(&self) -> Params {
        Params::new().with("x", ParamValue::Value(self.0.to_owned()))
    }
}

impl Session for InjectorSession {
    fn process_incoming(&mut self, msg: Message, _: u64) -> Result<Message, ExtensionError> {
        Ok(msg)
    }
    fn process_outgoing(&mut self, msg: Message) -> Result<Message, ExtensionError> {
        Ok(msg)
    }
    fn close(&mut self) {}
}

impl ClientSession for InjectorSession {
    fn offer(&mut self) -> Vec<Params> {
        vec![self.params()]
    }
    fn activate(&mut self, _: &Params) -> bool {
        true
    }
}

impl ServerSession for InjectorSession {
    fn response(&mut self) -> Params {
        self.params()
    }
}

const EVIL: &str = "1\r\nSet-Cookie: a=b";

#[test]
fn client_offer_that_would_inject_a_header_is_not_sent() {
    // H1: the request is not written; the application gets an error.
    let errors = Arc::new(Mutex::new(Vec::new()));
    let mut client = Driver::client(Vec::new(), "ws://example.com/chat", Options::new()).unwrap();
    client.add_extension(Box::new(Injector(EVIL)));
    let log = errors.clone();
    client.on_error(move |_, e| log.lock().unwrap().push(e.to_string()));
    assert!(!client.start());
    assert!(client.socket().is_empty(), "nothing written");
    let errors = errors.lock().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("control character"), "{errors:?}");
}

#[test]
fn server_response_that_would_inject_a_header_is_not_sent() {
    // H1: the server refuses instead of writing the extension's answer.
    let mut server = Driver::server(Vec::new(), Options::new());
    server.add_extension(Box::new(Injector(EVIL)));
    server.on_connect(|ws, ()| {
        ws.start();
    });
    server.parse(
        b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: inj\r\n\r\n",
    );
    let out = String::from_utf8_lossy(server.socket()).into_owned();
    assert!(!out.contains("Set-Cookie"), "{out}");
    assert!(!out.contains("101"), "{out}");
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
}
