//! Header grammar tests (checklist X3): vectors, round trips, bounds and linear work.

use super::*;

fn v(s: &str) -> ParamValue {
    ParamValue::Value(s.to_owned())
}

fn offer(name: &str, params: &[(&str, ParamValue)]) -> Offer {
    Offer {
        name: name.to_owned(),
        params: params
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
    }
}

/// Runs the parser on `value` with large bounds and returns (result, bytes examined).
fn measured(value: &str) -> (Result<Vec<Offer>, ExtensionError>, u64) {
    EXAMINED.with(|c| c.set(0));
    let result = parse_with_limits(value, usize::MAX, usize::MAX);
    (result, EXAMINED.with(|c| c.get()))
}

#[test]
fn the_checklist_vector() {
    // X3
    let parsed = parse_header(r#"a; b=1, c, b; d, c; e="hi, there"; e, a; b"#).unwrap();
    assert_eq!(
        parsed,
        vec![
            offer("a", &[("b", v("1"))]),
            offer("c", &[]),
            offer("b", &[("d", ParamValue::True)]),
            offer("c", &[("e", v("hi, there")), ("e", ParamValue::True)]),
            offer("a", &[("b", ParamValue::True)]),
        ]
    );
    let e: Vec<_> = parsed[3].params.get_all("e").cloned().collect();
    assert_eq!(e, vec![v("hi, there"), ParamValue::True]);
    assert_eq!(
        parsed[0].params.get("b").and_then(ParamValue::as_str),
        Some("1")
    );
}

#[test]
fn escaped_quote_in_a_quoted_string() {
    // X3
    assert_eq!(
        parse_header(r#"a; b="hi, \"there""#).unwrap(),
        vec![offer("a", &[("b", v(r#"hi, "there"#))])]
    );
}

#[test]
fn empty_list_elements_are_ignored() {
    // X3: RFC 7230 §7 (the original raised an error for `a,`).
    assert_eq!(parse_header("a,").unwrap(), vec![offer("a", &[])]);
    assert_eq!(
        parse_header(", a ,, b ,").unwrap(),
        vec![offer("a", &[]), offer("b", &[])]
    );
    assert_eq!(parse_header("").unwrap(), vec![]);
    assert_eq!(parse_header(" , ,").unwrap(), vec![]);
}

#[test]
fn malformed_values_are_errors() {
    // X3
    for bad in [
        "a; b=",
        "a;",
        "a; ;",
        "a b",
        "a; b=c d",
        "a; b=\"unterminated",
        "a; b=\"bad\\\u{1}\"",
        "a; b=\"ctl\u{1}\"",
        "a; =1",
        ";a",
        "a=1",
        "a; b=\"x\"y",
        "a; b==1",
        "é",
        "a; b=é",
    ] {
        assert!(
            matches!(parse_header(bad), Err(ExtensionError::InvalidHeader { .. })),
            "{bad:?} should be refused"
        );
    }
    assert_eq!(
        parse_header("a; b=").unwrap_err(),
        ExtensionError::InvalidHeader {
            offset: 5,
            reason: "expected a parameter value"
        }
    );
}

#[test]
fn whitespace_around_separators() {
    // X3
    assert_eq!(
        parse_header("a ;\tb = 1 ; c=\"x\" ,d").unwrap(),
        vec![offer("a", &[("b", v("1")), ("c", v("x"))]), offer("d", &[])]
    );
}

#[test]
fn quoted_strings_keep_non_ascii_and_escapes() {
    // X3
    assert_eq!(
        parse_header("a; b=\"é\\é \\\\ \t\"").unwrap(),
        vec![offer("a", &[("b", v("éé \\ \t"))])]
    );
    assert_eq!(
        parse_header("a; b=\"\"").unwrap(),
        vec![offer("a", &[("b", v(""))])]
    );
}

#[test]
fn serialize_quotes_non_tokens_and_round_trips() {
    // X3
    let offers = vec![
        offer(
            "permessage-deflate",
            &[("client_max_window_bits", ParamValue::True), ("x", v("15"))],
        ),
        offer(
            "c",
            &[
                ("e", v("hi, there")),
                ("e", ParamValue::True),
                ("q", v("a\"b\\c")),
                ("z", v("")),
            ],
        ),
    ];
    let text = serialize(&offers).unwrap();
    assert_eq!(
        text,
        r#"permessage-deflate; client_max_window_bits; x=15, c; e="hi, there"; e; q="a\"b\\c"; z="""#
    );
    assert_eq!(parse_header(&text).unwrap(), offers);
    let vector = r#"a; b=1, c, b; d, c; e="hi, there"; e, a; b"#;
    assert_eq!(serialize(&parse_header(vector).unwrap()).unwrap(), vector);
}

#[test]
fn serialize_refuses_what_would_inject_headers() {
    // H1: names must be tokens; values must not carry CR, LF, NUL or another control character than
    // HTAB, which no quoted string can hold. The offset is where the bad text would have gone.
    let refused = |offers: &[Offer]| match serialize(offers) {
        Err(ExtensionError::InvalidHeader { offset, reason }) => (offset, reason),
        other => panic!("{offers:?} gave {other:?}"),
    };
    assert_eq!(
        refused(&[offer("permessage-deflate\r\nX-Evil: 1", &[])]),
        (0, "extension name is not a token")
    );
    assert_eq!(
        refused(&[offer("a", &[]), offer("", &[])]),
        (3, "extension name is not a token")
    );
    assert_eq!(
        refused(&[offer("a", &[("b c", ParamValue::True)])]),
        (3, "parameter name is not a token")
    );
    assert_eq!(
        refused(&[offer("a", &[("b\n", v("1"))])]),
        (3, "parameter name is not a token")
    );
    assert_eq!(
        refused(&[offer("a", &[("b", v("x\ny"))])]),
        (7, "control character in a parameter value")
    );
    for value in [
        "1\r\nSet-Cookie: a=b",
        "\0",
        "a\rb",
        "\x7f",
        "\x01",
        "\x1b[31m",
    ] {
        assert_eq!(
            refused(&[offer("a", &[("b", v(value))])]).1,
            "control character in a parameter value",
            "{value:?}"
        );
    }
    // HTAB, quotes, backslashes and non-ASCII text are quoted and parse back.
    let fine = [offer("a", &[("b", v("tab\there \"q\" \\ café"))])];
    let text = serialize(&fine).unwrap();
    assert_eq!(text, "a; b=\"tab\there \\\"q\\\" \\\\ café\"");
    assert_eq!(parse_header(&text).unwrap(), fine);
}

#[test]
fn size_and_element_bounds() {
    // X3: refuse before doing the work.
    let long = format!("a; b=\"{}\"", "x".repeat(MAX_HEADER_LEN));
    EXAMINED.with(|c| c.set(0));
    assert!(matches!(
        parse_header(&long),
        Err(ExtensionError::InvalidHeader {
            reason: "header value too long",
            ..
        })
    ));
    assert_eq!(
        EXAMINED.with(|c| c.get()),
        0,
        "an oversized header is refused without being scanned"
    );
    let exactly = format!("a; b=\"{}\"", "x".repeat(MAX_HEADER_LEN - 7));
    assert_eq!(exactly.len(), MAX_HEADER_LEN);
    assert!(parse_header(&exactly).is_ok());

    let many = vec!["a"; MAX_ELEMENTS].join(",");
    assert_eq!(parse_header(&many).unwrap().len(), MAX_ELEMENTS);
    let too_many = vec!["a"; MAX_ELEMENTS + 1].join(",");
    assert!(matches!(
        parse_header(&too_many),
        Err(ExtensionError::InvalidHeader {
            reason: "too many extensions in header",
            ..
        })
    ));
    // Empty elements do not count against the element bound.
    let commas = format!("a{}b", ",".repeat(1000));
    assert_eq!(parse_header(&commas).unwrap().len(), 2);
}

#[test]
fn adversarial_headers_take_linear_work() {
    // X3: CVE-2020-7662/7663 were regex backtracking on inputs like these; count bytes examined.
    let n = 50_000;
    let cases: Vec<(String, bool)> = vec![
        (format!("a;{}", "b;".repeat(n)), false),
        (format!("a;{}", " b;".repeat(n)), false),
        (format!("a; b=\"{}", "\\\"".repeat(n)), false),
        (format!("a; b=\"{}\"", "\\\"".repeat(n)), true),
        (format!("a{}", " ".repeat(n)), true),
        (format!("a{}b", " ".repeat(n)), false),
        (",".repeat(n), true),
        (format!("a{}", ", a".repeat(n)), true),
        (format!("a{}", "; b".repeat(n)), true),
        (format!("a{}", "; b=\"c\"".repeat(n)), true),
        (format!("a; b={}", "1".repeat(n)), true),
        (format!("a; b={} c", "1".repeat(n)), false),
        (format!("a{}", ";b=1".repeat(n) + "="), false),
        ("\"\\".repeat(n), false),
        (format!("a; b=\"{}", "\\".repeat(n)), false),
    ];
    for (header, ok) in cases {
        let (result, work) = measured(&header);
        assert_eq!(result.is_ok(), ok, "{}", &header[..40]);
        let len = header.len() as u64;
        assert!(
            work <= 6 * len + 8,
            "work {work} for {len} bytes: {}",
            &header[..40]
        );
    }
    // The same shapes through the public bounds are refused or parsed quickly too.
    assert!(parse_header(&format!("a;{}", "b;".repeat(n))).is_err());
}

#[test]
fn work_grows_linearly() {
    // X3: doubling the input at most doubles the work (no quadratic term).
    for unit in ["b;", "\\\"", " ", ";b=\"x\"", ", a"] {
        let work = |reps: usize| {
            measured(&format!("a; b=\"{}", unit.repeat(reps)))
                .1
                .max(measured(&format!("a{}", unit.repeat(reps))).1)
        };
        let (w1, w2) = (work(10_000), work(20_000));
        assert!(w2 <= 2 * w1 + 16, "{unit:?}: {w1} then {w2}");
    }
}
