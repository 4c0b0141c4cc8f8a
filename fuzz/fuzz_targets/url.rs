//! URLs: parsing arbitrary text never panics, and what a parsed URL writes into a request line or
//! header (Host, CONNECT authority, Basic credentials) never holds CR, LF or NUL (BEHAVIOUR H8, H11).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fmt::Write;
use websocket_driver::handshake::url::Url;

fn assert_clean(text: &str) {
    assert!(
        !text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)),
        "{text:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = Url::parse(input) else { return };
    let mut out = String::new();
    write!(out, "{}", url.host_header()).unwrap();
    assert_clean(&out);
    // The host as sent: an IPv6 literal without its zone (RFC 6874 §4).
    let sent = match (url.host().starts_with('['), url.host().find('%')) {
        (true, Some(zone)) => format!("{}]", &url.host()[..zone]),
        _ => url.host().to_owned(),
    };
    assert!(out.starts_with(&sent), "{out:?} {sent:?}");
    assert!(!out.contains('%') || !url.host().starts_with('['));
    out.clear();
    write!(out, "{}", url.authority()).unwrap();
    assert_clean(&out);
    assert!(out.ends_with(&format!(":{}", url.port())));
    out.clear();
    write!(out, "{}", url.resource()).unwrap();
    assert_clean(&out);
    assert!(out.starts_with('/') && !out.contains(' '));
    if let Some(auth) = url.basic_auth() {
        out.clear();
        write!(out, "{auth}").unwrap();
        assert_clean(&out);
        let encoded = out.strip_prefix("Basic ").unwrap();
        assert!(encoded.len() % 4 == 0 && !encoded.is_empty());
    }
    assert!(url.port() != 0 && !url.host().is_empty());
});
