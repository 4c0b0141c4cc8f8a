//! permessage-deflate negotiation tests (checklist X2, X5): RFC 7692 §7.1 parameter rules for offers,
//! responses and window sizes, including the 8-bit window rules.

use flate2::{Compress, Compression, FlushCompress};

use super::tests::{MIB, compressed, server_from};
use super::*;
use crate::extensions::{Extensions, parse_header};

/// The original's defaults: context takeover both ways, also on a server (whose default keeps none).
fn takeover() -> PermessageDeflate {
    PermessageDeflate::new()
        .no_context_takeover(false)
        .request_no_context_takeover(false)
}

#[test]
fn offers_and_responses() {
    // X5: RFC 7692 §7.1 parameter rules, server side.
    let pd = takeover;
    let cases: Vec<(PermessageDeflate, &str, Option<&str>)> = vec![
        (
            pd(),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        (pd(), "permessage-deflate", Some("permessage-deflate")),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=10",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; server_max_window_bits=14",
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate",
            Some("permessage-deflate"),
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; client_max_window_bits=11"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            pd().request_max_window_bits(11),
            "permessage-deflate",
            Some("permessage-deflate"),
        ),
        (
            pd().request_max_window_bits(8),
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=8",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        // X5: "a decimal integer value without leading zeroes" (RFC 7692 §7.1.2.1, §7.1.2.2); an offer
        // with another spelling is declined (§5) and the next offer is taken.
        (pd(), "permessage-deflate; server_max_window_bits=010", None),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=\"010\"",
            None,
        ),
        (pd(), "permessage-deflate; client_max_window_bits=09", None),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=\"09\"",
            None,
        ),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=010, permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=\"9\"",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        // An 8-bit window for our compressor is declined; the next offer is taken.
        (pd(), "permessage-deflate; server_max_window_bits=8", None),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        // Invalid offers are declined.
        (pd(), "permessage-deflate; foo", None),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            None,
        ),
        (
            pd(),
            "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
            None,
        ),
        (pd(), "permessage-deflate; server_max_window_bits", None),
        (pd(), "permessage-deflate; server_max_window_bits=16", None),
        (pd(), "permessage-deflate; server_max_window_bits=7", None),
        (pd(), "permessage-deflate; server_max_window_bits=0x9", None),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=1000000000000000009",
            None,
        ),
        (pd(), "permessage-deflate; client_max_window_bits=abc", None),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover=1",
            None,
        ),
        (
            pd(),
            "permessage-deflate; client_no_context_takeover=x",
            None,
        ),
        (pd(), "x-other", None),
    ];
    for (options, offer, expected) in cases {
        let mut s = Extensions::new();
        s.add(Box::new(options)).unwrap();
        assert_eq!(
            s.generate_response(offer).unwrap().as_deref(),
            expected,
            "{offer}"
        );
    }
}

#[test]
fn client_checks_the_response() {
    // X2, X5: RFC 7692 §7.1 parameter rules, client side.
    let pd = takeover;
    let cases: Vec<(PermessageDeflate, &str, bool)> = vec![
        (pd(), "permessage-deflate", true),
        (pd(), "permessage-deflate; server_no_context_takeover", true),
        (pd(), "permessage-deflate; client_no_context_takeover", true),
        (pd(), "permessage-deflate; server_max_window_bits=8", true),
        (pd(), "permessage-deflate; client_max_window_bits=9", true),
        (pd(), "permessage-deflate; client_max_window_bits=8", false),
        (pd(), "permessage-deflate; client_max_window_bits", false),
        (pd(), "permessage-deflate; server_max_window_bits", false),
        (pd(), "permessage-deflate; server_max_window_bits=16", false),
        // X5: a value with leading zeroes is invalid (RFC 7692 §7.1.2.1, §7.1.2.2): the client fails
        // the connection (§5).
        (pd(), "permessage-deflate; client_max_window_bits=09", false),
        (
            pd(),
            "permessage-deflate; client_max_window_bits=\"09\"",
            false,
        ),
        (
            pd(),
            "permessage-deflate; server_max_window_bits=010",
            false,
        ),
        (pd(), "permessage-deflate; foo=1", false),
        (
            pd(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            false,
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; client_max_window_bits=12",
            true,
        ),
        (
            pd().max_window_bits(12),
            "permessage-deflate; client_max_window_bits=13",
            false,
        ),
        (
            pd().request_no_context_takeover(true),
            "permessage-deflate",
            false,
        ),
        (
            pd().request_no_context_takeover(true),
            "permessage-deflate; server_no_context_takeover",
            true,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate",
            false,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=11",
            false,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=10",
            true,
        ),
        (
            pd().request_max_window_bits(10),
            "permessage-deflate; server_max_window_bits=8",
            true,
        ),
    ];
    for (options, response, ok) in cases {
        let mut c = Extensions::new();
        c.add(Box::new(options)).unwrap();
        c.generate_offer().unwrap().unwrap();
        let result = c.activate(response);
        assert_eq!(result.is_ok(), ok, "{response}: {result:?}");
        if !ok {
            assert_eq!(
                result,
                Err(ExtensionError::RejectedParams("permessage-deflate".into()))
            );
        }
    }
}

#[test]
fn client_offers() {
    // X5
    let offer = |o: PermessageDeflate| {
        let mut c = Extensions::new();
        c.add(Box::new(o)).unwrap();
        c.generate_offer().unwrap().unwrap()
    };
    assert_eq!(
        offer(takeover()),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        offer(
            takeover()
                .no_context_takeover(true)
                .max_window_bits(10)
                .request_no_context_takeover(true)
                .request_max_window_bits(8)
        ),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=10; \
         server_no_context_takeover; server_max_window_bits=8"
    );
}

#[test]
fn eight_bit_windows_inflate_with_nine() {
    // X5: we never compress with 8 bits, but the peer may, and a 9-bit window reads it.
    let pd = takeover();
    let params = |h: &str| parse_header(h).unwrap().remove(0).params;
    let agreed = pd
        .client_accept(&params("permessage-deflate; server_max_window_bits=8"))
        .unwrap();
    assert_eq!((agreed.inflate_bits, agreed.deflate_bits), (9, 15));
    assert_eq!(
        pd.client_accept(&params("permessage-deflate; client_max_window_bits=8")),
        None
    );
    let (response, agreed) = pd
        .server_accept(&params("permessage-deflate; client_max_window_bits=8"))
        .unwrap();
    assert_eq!(
        response,
        params("permessage-deflate; client_max_window_bits=8")
    );
    assert_eq!((agreed.inflate_bits, agreed.deflate_bits), (9, 15));
    assert!(
        pd.server_accept(&params("permessage-deflate; server_max_window_bits=8"))
            .is_none()
    );

    // The server agreed to an 8-bit client window: data whose distances fit in 256 bytes inflates.
    let mut s = server_from(pd, "permessage-deflate; client_max_window_bits=8");
    let text: Vec<u8> = (0..5000)
        .map(|i| b"abcdefghij"[(i * 7 + i / 300) % 10])
        .collect();
    let mut z = Compress::new_with_window_bits(Compression::default(), false, 9);
    let mut out = Vec::with_capacity(text.len() + 64);
    z.compress_vec(&text, &mut out, FlushCompress::Sync)
        .unwrap();
    out.truncate(out.len() - 4);
    assert_eq!(
        s.process_incoming(compressed(&out, DataKind::Binary), MIB)
            .unwrap()
            .data,
        text
    );
}

#[test]
fn agreed_window_sizes() {
    // X5
    let params = |h: &str| parse_header(h).unwrap().remove(0).params;
    let server = takeover().max_window_bits(11).request_max_window_bits(10);
    let (_, a) = server
        .server_accept(&params(
            "permessage-deflate; server_max_window_bits=13; client_max_window_bits",
        ))
        .unwrap();
    assert_eq!(
        a,
        Agreed {
            deflate_bits: 11,
            deflate_reset: false,
            inflate_bits: 10,
            inflate_reset: false
        }
    );
    let client = takeover().max_window_bits(12);
    let a = client
        .client_accept(&params(
            "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9",
        ))
        .unwrap();
    assert_eq!(
        a,
        Agreed {
            deflate_bits: 10,
            deflate_reset: false,
            inflate_bits: 9,
            inflate_reset: false
        }
    );
}

#[test]
#[should_panic(expected = "max_window_bits must be 9..=15")]
fn an_eight_bit_compression_window_is_not_an_option() {
    // X5
    let _ = takeover().max_window_bits(8);
}

#[test]
#[should_panic(expected = "level must be 0..=9")]
fn levels_above_nine_are_not_options() {
    // X5
    let _ = takeover().level(10);
}
