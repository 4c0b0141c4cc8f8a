//! `Sec-WebSocket-Extensions` parsing (checklist X3): arbitrary text never panics, and serializing what
//! parsed gives text that parses to the same list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver_std::extensions::{parse_header, serialize};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offers) = parse_header(text) else {
        return;
    };
    let again = serialize(&offers).expect("what parses can be serialized");
    assert_eq!(
        parse_header(&again).as_ref(),
        Ok(&offers),
        "{text:?} -> {again:?}"
    );
    assert_eq!(serialize(&parse_header(&again).unwrap()), Ok(again));
});
