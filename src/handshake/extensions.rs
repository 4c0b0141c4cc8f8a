//! The `Sec-WebSocket-Extensions` value the application hands to the handshake (RFC 6455 §9.1): a check
//! that it is a well-formed extension list, so that nothing else rides along in the HTTP head (BEHAVIOUR H1).
//!
//! This module holds one linear-time validator. It must never allocate, backtrack or interpret an
//! extension's parameters (negotiation lives in the std crate's `websocket_driver_std::extensions`).

/// RFC 6455 §9.1 (over RFC 7230 §3.2.6 tokens and quoted strings, §7 lists): whether `value` is an
/// `extension-list`, `1#extension` with `extension = token *( ";" param )` and
/// `param = token [ "=" (token | quoted-string) ]`, optional white space (SP, HTAB) around `,`, `;` and
/// `=`. Empty list elements are tolerated (RFC 7230 §7) but at least one extension must be present.
/// CR, LF, NUL and every other control character except HTAB are refused, so a value that passes cannot
/// end the header line (BEHAVIOUR H1). Each byte is looked at once.
pub(crate) fn is_valid_extension_list(value: &str) -> bool {
    extension_count(value.as_bytes()).is_some_and(|n| n > 0)
}

/// The number of extensions in an RFC 6455 §9.1 list, or `None` if the list is malformed.
fn extension_count(mut rest: &[u8]) -> Option<usize> {
    let mut count = 0;
    loop {
        // Empty elements and the white space around them (RFC 7230 §7).
        while let [b' ' | b'\t' | b',', tail @ ..] = rest {
            rest = tail;
        }
        if rest.is_empty() {
            return Some(count);
        }
        rest = token(rest)?;
        count += 1;
        loop {
            rest = ows(rest);
            match rest {
                [] => break,
                [b',', ..] => break,
                [b';', tail @ ..] => rest = param(ows(tail))?,
                _ => return None,
            }
        }
    }
}

/// RFC 6455 §9.1 `extension-param`: a token, then optionally `=` and a token or a quoted string.
fn param(rest: &[u8]) -> Option<&[u8]> {
    let rest = ows(token(rest)?);
    match rest {
        [b'=', tail @ ..] => match ows(tail) {
            [b'"', tail @ ..] => quoted_string(tail),
            value => token(value),
        },
        _ => Some(rest),
    }
}

/// RFC 7230 §3.2.6 `token`: one or more `tchar`; returns what follows it.
fn token(rest: &[u8]) -> Option<&[u8]> {
    let len = rest
        .iter()
        .position(|&b| !super::is_tchar(b))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[len..])
}

/// RFC 7230 §3.2.6 `quoted-string` after its opening quote; returns what follows the closing quote.
fn quoted_string(mut rest: &[u8]) -> Option<&[u8]> {
    loop {
        match rest {
            [b'"', tail @ ..] => return Some(tail),
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            [b'\\', b, tail @ ..] if is_qtext(*b) || *b == b'"' || *b == b'\\' => rest = tail,
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            [b, tail @ ..] if is_qtext(*b) => rest = tail,
            _ => return None,
        }
    }
}

/// RFC 7230 §3.2.6 `qdtext`: HTAB, SP, visible ASCII but `"` and `\`, and obs-text (non-ASCII bytes).
const fn is_qtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

/// RFC 7230 §3.2.3 `OWS`: skips SP and HTAB.
fn ows(mut rest: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', tail @ ..] = rest {
        rest = tail;
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::is_valid_extension_list as valid;

    #[test]
    fn well_formed_extension_lists_pass() {
        // H1, X3: the RFC 6455 §9.1 grammar with optional white space and quoted strings.
        for value in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
            "permessage-deflate;client_max_window_bits = 15 ,\tx-webkit-deflate-frame",
            r#"a; b="hi, \"there""#,
            r#"a; b="""#,
            r#"a; b="x \\ y""#,
            "a; b=1, c, b; d, c; e=\"hi, there\"; e, a; b",
            "a,",
            ", a",
            " a , , b ",
        ] {
            assert!(valid(value), "{value:?} should be valid");
        }
        assert!(valid("a; b=\"caf\u{e9}\""), "obs-text in a quoted string");
    }

    #[test]
    fn header_injection_through_extensions_is_refused() {
        // H1: CR, LF, NUL or any control character cannot reach the head, inside quotes or out.
        for value in [
            "x\r\nInjected: 1",
            "permessage-deflate\r\nX-Evil: 1",
            "a\nb",
            "a\rb",
            "a\0",
            "a; b=\"x\0y\"",
            "a; b=\"x\r\ny\"",
            "a; b=\"x\\\ny\"",
            "a; b=\"\x7f\"",
            "a; b=\x01",
            "\x0ba",
        ] {
            assert!(!valid(value), "{value:?} should be refused");
        }
    }

    #[test]
    fn malformed_extension_lists_are_refused() {
        // X3: `a; b=` is an error; names and parameter names must be tokens.
        for value in [
            "",
            " ",
            ",",
            " , ,\t",
            "a; b=",
            "a b",
            "a;",
            "a; ;b",
            "a;=1",
            "a; b==1",
            "a; b=c d",
            "a; b=\"unterminated",
            "a; b=\"x\"y",
            "a; b=\"x\\",
            "a=1",
            "\"a\"",
            "a; b=\"x\"; ",
            "caf\u{e9}",
            "a; b=caf\u{e9}",
            "x-webkit- -frame",
        ] {
            assert!(!valid(value), "{value:?} should be refused");
        }
    }

    #[test]
    fn long_lists_are_checked_in_one_pass() {
        // X3 (linear time): large inputs of the shapes a backtracking parser struggles with.
        let mut list = std::string::String::new();
        for _ in 0..20_000 {
            list.push_str("a; b=\"x\\\"y\", ");
        }
        assert!(valid(&list));
        list.push(';');
        assert!(!valid(&list));
        let spaces = " ".repeat(200_000);
        assert!(!valid(&spaces));
        assert!(valid(&std::format!("a;{spaces}b")));
    }
}
