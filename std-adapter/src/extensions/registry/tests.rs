//! Registry and pipeline tests (checklist X1, X2, X4) with fake extensions that log what they do.

use std::sync::{Arc, Mutex};

use super::*;
use crate::extensions::{ParamValue, ServerSession};

const RSV1: Rsv = Rsv::RSV1;
const RSV2: Rsv = Rsv::RSV2;
const RSV3: Rsv = Rsv::RSV3;

type Log = Arc<Mutex<Vec<String>>>;

/// A fake extension: tags messages with its name and owns `rsv`.
struct Fake {
    name: &'static str,
    rsv: Rsv,
    log: Log,
}

struct FakeSession {
    name: &'static str,
    rsv: Rsv,
    log: Log,
    response: Params,
}

impl Fake {
    fn boxed(name: &'static str, rsv: Rsv, log: &Log) -> Box<dyn Extension> {
        Box::new(Fake {
            name,
            rsv,
            log: log.clone(),
        })
    }
    fn session(&self) -> FakeSession {
        FakeSession {
            name: self.name,
            rsv: self.rsv,
            log: self.log.clone(),
            response: Params::new(),
        }
    }
}

impl Extension for Fake {
    fn name(&self) -> &str {
        self.name
    }
    fn rsv(&self) -> Rsv {
        self.rsv
    }
    fn client_session(&self) -> Box<dyn ClientSession> {
        Box::new(self.session())
    }
    fn server_session(&self, offers: &[&Params]) -> Option<Box<dyn ServerSession>> {
        let accepted = offers.iter().find(|p| p.get("decline").is_none())?;
        let mut session = self.session();
        session.response = (*accepted).clone();
        self.log
            .lock()
            .unwrap()
            .push(format!("accept:{}", self.name));
        Some(Box::new(session))
    }
}

impl Session for FakeSession {
    fn process_incoming(
        &mut self,
        mut msg: Message,
        _max_length: u64,
    ) -> Result<Message, ExtensionError> {
        self.log.lock().unwrap().push(format!("in:{}", self.name));
        if msg.rsv.contains(self.rsv) {
            msg.rsv = msg.rsv.difference(self.rsv);
            let tag = format!("+{}", self.name);
            assert!(msg.data.ends_with(tag.as_bytes()), "incoming order");
            msg.data.truncate(msg.data.len() - tag.len());
        }
        if msg.data.as_slice() == b"fail" {
            return Err(ExtensionError::processing(
                CloseCode::MANDATORY_EXTENSION,
                "fake failure",
            ));
        }
        Ok(msg)
    }
    fn process_outgoing(&mut self, mut msg: Message) -> Result<Message, ExtensionError> {
        self.log.lock().unwrap().push(format!("out:{}", self.name));
        msg.rsv = msg.rsv.union(self.rsv);
        msg.data
            .extend_from_slice(format!("+{}", self.name).as_bytes());
        Ok(msg)
    }
    fn close(&mut self) {
        self.log
            .lock()
            .unwrap()
            .push(format!("close:{}", self.name));
    }
}

impl ClientSession for FakeSession {
    fn offer(&mut self) -> Vec<Params> {
        vec![Params::new().with("mode", ParamValue::Value(self.name.to_owned()))]
    }
    fn activate(&mut self, params: &Params) -> bool {
        self.log
            .lock()
            .unwrap()
            .push(format!("activate:{}", self.name));
        params.get("reject").is_none()
    }
}

impl ServerSession for FakeSession {
    fn response(&mut self) -> Params {
        self.response.clone()
    }
}

fn setup(exts: &[(&'static str, Rsv)]) -> (Extensions, Log) {
    let log = Log::default();
    let mut e = Extensions::new();
    for &(name, rsv) in exts {
        e.add(Fake::boxed(name, rsv, &log)).unwrap();
    }
    (e, log)
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn registration_rules() {
    // X1
    let (mut e, log) = setup(&[("a", RSV2)]);
    assert!(!e.is_empty());
    assert!(Extensions::new().is_empty());
    assert_eq!(
        e.add(Fake::boxed("a", RSV3, &log)),
        Err(ExtensionError::DuplicateExtension("a".into()))
    );
    // An extension can only claim RSV1–RSV3 (RFC 6455 §5.2): `Rsv` holds nothing else.
    assert_eq!(Rsv::from_bits(0x8f), Rsv::NONE);
    assert_eq!(Extensions::new().generate_offer(), Ok(None));
}

#[test]
fn client_offers_in_registration_order_and_activates_in_server_order() {
    // X1, X2
    let (mut e, log) = setup(&[("a", RSV2), ("b", RSV3)]);
    assert_eq!(
        e.generate_offer().unwrap().as_deref(),
        Some("a; mode=a, b; mode=b")
    );
    e.activate("b, a").unwrap();
    assert_eq!(e.active().collect::<Vec<_>>(), ["b", "a"]);
    assert_eq!(e.allowed_rsv(), RSV2.union(RSV3));
    assert_eq!(take(&log), ["activate:b", "activate:a"]);

    // Outgoing in the pipeline order (b then a), incoming in reverse (a then b).
    let out = e.process_outgoing(Message::text("x")).unwrap();
    assert_eq!(out.data, b"x+b+a");
    assert_eq!(out.rsv, RSV2.union(RSV3));
    assert_eq!(take(&log), ["out:b", "out:a"]);
    let back = e.process_incoming(out, 1 << 20).unwrap();
    assert_eq!(back, Message::text("x"));
    assert_eq!(take(&log), ["in:a", "in:b"]);

    e.close();
    assert_eq!(take(&log), ["close:b", "close:a"]);
    assert_eq!(e.allowed_rsv(), Rsv::NONE);
}

#[test]
fn client_activates_a_subset_and_closes_the_rest() {
    // X1, X2
    let (mut e, log) = setup(&[("a", RSV2), ("b", RSV3)]);
    e.generate_offer().unwrap().unwrap();
    e.activate("b").unwrap();
    assert_eq!(e.active().collect::<Vec<_>>(), ["b"]);
    assert_eq!(take(&log), ["activate:b", "close:a"]);
    e.generate_offer().unwrap().unwrap();
    e.activate("").unwrap();
    assert_eq!(e.active().count(), 0);
}

#[test]
fn client_handshake_errors() {
    // X2
    let cases: [(&str, ExtensionError); 5] = [
        ("a, c", ExtensionError::UnknownExtension("c".into())),
        ("a, a", ExtensionError::DuplicateExtension("a".into())),
        ("a, b; reject", ExtensionError::RejectedParams("b".into())),
        (
            "a; b=",
            ExtensionError::InvalidHeader {
                offset: 5,
                reason: "expected a parameter value",
            },
        ),
        ("a, z", ExtensionError::RsvConflict("z".into())),
    ];
    for (response, expected) in cases {
        let (mut e, _log) = setup(&[("a", RSV2), ("b", RSV3), ("z", RSV2)]);
        e.generate_offer().unwrap().unwrap();
        assert_eq!(e.activate(response), Err(expected), "{response}");
        assert_eq!(
            e.active().count(),
            0,
            "nothing stays active after a failed handshake"
        );
        assert_eq!(e.allowed_rsv(), Rsv::NONE);
    }
    // Activation without an offer: every name is unknown.
    let (mut e, _log) = setup(&[("a", RSV2)]);
    assert_eq!(
        e.activate("a"),
        Err(ExtensionError::UnknownExtension("a".into()))
    );
}

#[test]
fn server_answers_in_registration_order_and_skips_rsv_conflicts() {
    // X2
    let (mut e, log) = setup(&[("a", RSV2), ("b", RSV3), ("c", RSV2)]);
    let response = e
        .generate_response("c; x=1, b; decline, b; y, a, zzz; q")
        .unwrap();
    // a and b answer in registration order; c is skipped because a took RSV2; zzz is unknown.
    assert_eq!(response.as_deref(), Some("a, b; y"));
    assert_eq!(e.active().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(e.allowed_rsv(), RSV2.union(RSV3));
    assert_eq!(take(&log), ["accept:a", "accept:b"]);

    // Without a, c gets RSV2.
    let response = e.generate_response("c; x=1, b; decline").unwrap();
    assert_eq!(response.as_deref(), Some("c; x=1"));
    assert_eq!(take(&log), ["close:a", "close:b", "accept:c"]);

    assert_eq!(e.generate_response("zzz").unwrap(), None);
    assert_eq!(e.generate_response("").unwrap(), None);
    assert!(matches!(
        e.generate_response("a;"),
        Err(ExtensionError::InvalidHeader { .. })
    ));
}

#[test]
fn client_and_server_pipelines_agree() {
    // X1, X2
    let (mut client, _) = setup(&[("a", RSV2), ("b", RSV3)]);
    let (mut server, _) = setup(&[("b", RSV3), ("a", RSV2)]);
    let response = server
        .generate_response(&client.generate_offer().unwrap().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(response, "b; mode=b, a; mode=a");
    client.activate(&response).unwrap();
    for msg in [
        Message::text("hello"),
        Message::binary(vec![0, 1, 2]),
        Message::binary(vec![]),
    ] {
        let sent = client.process_outgoing(msg.clone()).unwrap();
        assert_eq!(server.process_incoming(sent, 100).unwrap(), msg);
        let sent = server.process_outgoing(msg.clone()).unwrap();
        assert_eq!(client.process_incoming(sent, 100).unwrap(), msg);
    }
}

#[test]
fn incoming_rsv_checks_and_errors() {
    // X1, X4
    let (mut e, _log) = setup(&[("a", RSV2)]);
    e.generate_offer().unwrap().unwrap();
    e.activate("a").unwrap();
    // RSV1 is owned by no active session: a protocol error.
    let msg = Message {
        rsv: RSV1,
        ..Message::text("x")
    };
    assert_eq!(
        e.process_incoming(msg, 10).unwrap_err(),
        ExtensionError::processing(
            CloseCode::PROTOCOL_ERROR,
            "RSV bits set without a negotiated extension"
        )
    );
    // A session failing gives its error (1010 here).
    let err = e
        .process_incoming(Message::binary(b"fail".to_vec()), 10)
        .unwrap_err();
    assert!(matches!(
        err,
        ExtensionError::Processing {
            code: CloseCode::MANDATORY_EXTENSION,
            ..
        }
    ));
    // Results over max_length are refused with 1009.
    let err = e
        .process_incoming(Message::binary(vec![0; 11]), 10)
        .unwrap_err();
    assert!(matches!(
        err,
        ExtensionError::Processing {
            code: CloseCode::TOO_BIG,
            ..
        }
    ));
    assert_eq!(
        e.process_incoming(Message::binary(vec![0; 10]), 10)
            .unwrap()
            .data
            .len(),
        10
    );
}

/// An extension whose session forgets to clear its bit.
struct Sloppy;
struct SloppySession;
impl Extension for Sloppy {
    fn name(&self) -> &str {
        "sloppy"
    }
    fn rsv(&self) -> Rsv {
        RSV3
    }
    fn client_session(&self) -> Box<dyn ClientSession> {
        Box::new(SloppySession)
    }
    fn server_session(&self, _offers: &[&Params]) -> Option<Box<dyn ServerSession>> {
        Some(Box::new(SloppySession))
    }
}
impl Session for SloppySession {
    fn process_incoming(&mut self, msg: Message, _: u64) -> Result<Message, ExtensionError> {
        Ok(msg)
    }
    fn process_outgoing(&mut self, msg: Message) -> Result<Message, ExtensionError> {
        Ok(msg)
    }
    fn close(&mut self) {}
}
impl ClientSession for SloppySession {
    fn offer(&mut self) -> Vec<Params> {
        vec![]
    }
    fn activate(&mut self, _: &Params) -> bool {
        true
    }
}
impl ServerSession for SloppySession {
    fn response(&mut self) -> Params {
        Params::new()
    }
}

#[test]
fn bits_left_set_by_their_owner_are_an_extension_error() {
    // X1, X4
    let mut e = Extensions::new();
    e.add(Box::new(Sloppy)).unwrap();
    assert_eq!(
        e.generate_offer(),
        Ok(None),
        "a session with no offers is not offered"
    );
    assert_eq!(
        e.generate_response("sloppy").unwrap().as_deref(),
        Some("sloppy")
    );
    let msg = Message {
        rsv: RSV3,
        ..Message::binary(vec![1])
    };
    assert_eq!(
        e.process_incoming(msg, 10).unwrap_err(),
        ExtensionError::processing(CloseCode::MANDATORY_EXTENSION, "RSV bits left unprocessed")
    );
}

#[test]
fn errors_display() {
    // X4
    let e = ExtensionError::processing(CloseCode::TOO_BIG, "message too big");
    assert_eq!(e.to_string(), "extension error (1009): message too big");
    let boxed: Box<dyn std::error::Error> = Box::new(ExtensionError::UnknownExtension("x".into()));
    assert!(boxed.to_string().contains('x'));
}

/// An extension whose sessions offer and answer with the parameters it was built with.
struct Injector(Params);
struct InjectorSession(Params);
impl Extension for Injector {
    fn name(&self) -> &str {
        "inj"
    }
    fn rsv(&self) -> Rsv {
        RSV1
    }
    fn client_session(&self) -> Box<dyn ClientSession> {
        Box::new(InjectorSession(self.0.clone()))
    }
    fn server_session(&self, _offers: &[&Params]) -> Option<Box<dyn ServerSession>> {
        Some(Box::new(InjectorSession(self.0.clone())))
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
        vec![self.0.clone()]
    }
    fn activate(&mut self, _: &Params) -> bool {
        true
    }
}
impl ServerSession for InjectorSession {
    fn response(&mut self) -> Params {
        self.0.clone()
    }
}

#[test]
fn offers_and_responses_that_would_inject_headers_are_refused() {
    // H1: a parameter value with CR/LF/NUL or a name that is not a token never reaches the head; the
    // negotiation fails and no session stays.
    let bad = [
        Params::new().with("x", ParamValue::Value("1\r\nSet-Cookie: a=b".into())),
        Params::new().with("x", ParamValue::Value("\0".into())),
        Params::new().with("x\r\nX-Evil: 1", ParamValue::True),
        Params::new().with("a b", ParamValue::Value("1".into())),
    ];
    for params in bad {
        let mut client = Extensions::new();
        client.add(Box::new(Injector(params.clone()))).unwrap();
        assert!(
            matches!(
                client.generate_offer(),
                Err(ExtensionError::InvalidHeader { .. })
            ),
            "offer {params:?}"
        );
        assert_eq!(
            client.activate("inj"),
            Err(ExtensionError::UnknownExtension("inj".into())),
            "no offered session is kept"
        );

        let mut server = Extensions::new();
        server.add(Box::new(Injector(params.clone()))).unwrap();
        assert!(
            matches!(
                server.generate_response("inj"),
                Err(ExtensionError::InvalidHeader { .. })
            ),
            "response {params:?}"
        );
        assert_eq!(server.active().count(), 0, "no session stays active");
        assert_eq!(server.allowed_rsv(), Rsv::NONE);
    }
    // An extension whose name is not a token cannot be offered either; its session is closed.
    let (mut e, log) = setup(&[("a", RSV2), ("b\r\nX-Evil: 1", RSV3)]);
    assert!(matches!(
        e.generate_offer(),
        Err(ExtensionError::InvalidHeader {
            offset: 11,
            reason: "extension name is not a token"
        })
    ));
    assert_eq!(take(&log), ["close:a", "close:b\r\nX-Evil: 1"]);
    // Values that are not tokens but can be quoted still go through.
    let mut client = Extensions::new();
    let fine = Params::new().with("x", ParamValue::Value("tab\there, \"q\" é".into()));
    client.add(Box::new(Injector(fine))).unwrap();
    assert_eq!(
        client.generate_offer().unwrap().as_deref(),
        Some("inj; x=\"tab\there, \\\"q\\\" é\"")
    );
}
