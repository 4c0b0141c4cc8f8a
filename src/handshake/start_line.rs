//! The first line of a head (RFC 7230 §3.1): a request line or a status line, read by hand; the header
//! lines after it are `httparse`'s (`parse_headers`).
//!
//! Accepts exactly what `httparse`'s `Request::parse` and `Response::parse` accept with their default
//! configuration, and returns the same fields (the differential tests below hold it to that): this
//! module exists for flash, not for different rules. Reading the two lines takes a few hundred bytes of
//! code, where `httparse`'s request and status parsers, with their version, method, URI, code and reason
//! routines and its URI table, took about 1.3 KiB in a Cortex-M firmware.

use super::is_tchar;

/// A start line and the header block after it.
pub(crate) struct Split<'a> {
    /// The line, without its line end.
    pub(crate) line: &'a [u8],
    /// What follows the line end.
    pub(crate) rest: &'a [u8],
}

/// Splits a head into its start line and the rest, after skipping the empty lines before it (RFC 7230
/// §3.5 lets a recipient ignore them; `httparse` does). A line ends with CRLF or a bare LF. A head
/// without any line end is all start line, with nothing after it.
pub(crate) fn split(mut head: &[u8]) -> Split<'_> {
    while let [b'\r', b'\n', rest @ ..] | [b'\n', rest @ ..] = head {
        head = rest;
    }
    let Some(nl) = head.iter().position(|&b| b == b'\n') else {
        return Split {
            line: head,
            rest: &[],
        };
    };
    let (line, rest) = head.split_at(nl);
    Split {
        line: line.strip_suffix(b"\r").unwrap_or(line),
        rest: rest.get(1..).unwrap_or_default(),
    }
}

/// The minor version of `HTTP/1.0` or `HTTP/1.1`, the only versions a head may carry.
fn version(bytes: &[u8]) -> Option<u8> {
    match bytes {
        b"HTTP/1.0" => Some(0),
        b"HTTP/1.1" => Some(1),
        _ => None,
    }
}

/// A request line, `method SP request-target SP HTTP-version` (RFC 7230 §3.1.1): the method (a token),
/// the target (visible ASCII or obs-text bytes that are UTF-8) and the minor version.
pub(crate) fn request(line: &[u8]) -> Option<(&str, &str, u8)> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (method, target, minor) = (parts.next()?, parts.next()?, version(parts.next()?)?);
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    if target.is_empty() || !target.iter().all(|&b| b > b' ' && b != 0x7f) {
        return None;
    }
    let method = core::str::from_utf8(method).ok()?;
    let target = core::str::from_utf8(target).ok()?;
    Some((method, target, minor))
}

/// A status line, `HTTP-version SP status-code SP reason-phrase` (RFC 7230 §3.1.2): the code and the
/// reason. The reason may be missing, with or without its space (BEHAVIOUR H9); one holding obs-text
/// is given as empty.
pub(crate) fn status(line: &[u8]) -> Option<(u16, &str)> {
    let (v, rest) = line.split_at_checked(8)?;
    version(v)?;
    let [b' ', digits @ ..] = rest else {
        return None;
    };
    let (code, reason) = digits.split_at_checked(3)?;
    let mut value = 0u16;
    for &d in code {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u16::from(d - b'0');
    }
    let reason = match reason {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return None,
    };
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    if !reason
        .iter()
        .all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f))
    {
        return None;
    }
    // As `httparse`: a reason with obs-text is opaque (RFC 7230 §3.1.2), given as "".
    let reason = match reason.is_ascii() {
        true => core::str::from_utf8(reason).unwrap_or(""),
        false => "",
    };
    Some((value, reason))
}

#[cfg(test)]
mod tests {
    //! Differential: every head, whole, through the core's parser and through `httparse`'s request and
    //! response parsers (the rules before this module existed) must give the same fields or the same
    //! error.
    extern crate std;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::super::HandshakeError;
    use super::super::fuzz::heads as check;
    use super::super::head::{MAX_HEADERS, parse_request, parse_response};

    /// One of `options`, for a position in a head.
    fn one(options: &[&'static [u8]]) -> impl Strategy<Value = &'static [u8]> + use<> {
        proptest::sample::select(options.to_vec())
    }

    /// A separator: mostly the one space the grammar wants.
    fn sep() -> impl Strategy<Value = &'static [u8]> {
        one(&[b" ", b" ", b" ", b" ", b"  ", b"\t", b""])
    }

    /// A line end: mostly CRLF or LF.
    fn eol() -> impl Strategy<Value = &'static [u8]> {
        one(&[b"\r\n", b"\r\n", b"\n", b"\r", b"\r\r\n", b""])
    }

    fn version() -> impl Strategy<Value = &'static [u8]> {
        one(&[
            b"HTTP/1.1",
            b"HTTP/1.1",
            b"HTTP/1.0",
            b"HTTP/1.2",
            b"HTTP/2.0",
            b"http/1.1",
            b"HTTP/1.",
            b"HTTP/1.1 ",
        ])
    }

    /// Header lines, good and bad.
    fn lines() -> impl Strategy<Value = Vec<&'static [u8]>> {
        proptest::collection::vec(
            one(&[
                b"Host: a\r\n",
                b"Upgrade:websocket  \n",
                b"X: \xff\r\n",
                b"Bad Name: x\r\n",
                b" Folded: x\r\n",
                b"NoColon\r\n",
                b": empty name\r\n",
                b"X-Empty:\r\n",
                b"X: a\rb\r\n",
            ]),
            0..4,
        )
    }

    /// A request head: empty lines, `method SP target SP version`, header lines, the blank line (or
    /// not), each part mostly well-formed.
    fn request_head() -> impl Strategy<Value = Vec<u8>> {
        let method = one(&[
            b"GET",
            b"GET",
            b"POST",
            b"M-SEARCH",
            b"get",
            b"G@T",
            b"G\xc3\xa9T",
            b"",
            b"G\x7fT",
        ]);
        let target = one(&[
            b"/",
            b"/chat?x=1",
            b"*",
            b"/caf\xc3\xa9",
            b"/\xc3",
            b"/\x7f",
            b"/\x01",
            b"",
            b"/\xff",
            b"/a\"<>",
        ]);
        (
            one(&[b"", b"", b"\r\n", b"\n", b"\r"]),
            (method, sep(), target, sep(), version(), eol()),
            lines(),
            one(&[b"\r\n", b"\r\n", b"\n", b""]),
        )
            .prop_map(|(lead, (m, s1, t, s2, v, e), lines, end)| {
                [&[lead, m, s1, t, s2, v, e][..], &lines, &[end]]
                    .concat()
                    .concat()
            })
    }

    /// A response head: empty lines, `version SP code [SP reason]`, header lines, the blank line (or
    /// not), each part mostly well-formed.
    fn response_head() -> impl Strategy<Value = Vec<u8>> {
        let code = one(&[b"101", b"101", b"200", b"099", b"99", b"1011", b"1x1", b""]);
        let reason = one(&[
            b"",
            b" Switching Protocols",
            b" Switching Protocols",
            b" ",
            b" caf\xc3\xa9",
            b" \xff",
            b" a\x7fb",
            b" a\tb",
            b" a\x01b",
            b"x",
        ]);
        (
            one(&[b"", b"", b"\r\n", b"\n", b"\r"]),
            (version(), sep(), code, reason, eol()),
            lines(),
            one(&[b"\r\n", b"\r\n", b"\n", b""]),
        )
            .prop_map(|(lead, (v, s, c, r, e), lines, end)| {
                [&[lead, v, s, c, r, e][..], &lines, &[end]]
                    .concat()
                    .concat()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// H1, H9: request and response heads, through both parsers each, with few or many header
        /// slots.
        #[test]
        fn matches_httparse(
            request in request_head(),
            response in response_head(),
            max in proptest::sample::select(std::vec![0usize, 1, 2, MAX_HEADERS]),
        ) {
            check(&request, max);
            check(&response, max);
        }

        /// The same for well-formed start lines with random parts.
        #[test]
        fn matches_httparse_on_lines(
            first in proptest::collection::vec(any::<u8>(), 0..8),
            second in proptest::collection::vec(any::<u8>(), 0..8),
            version in proptest::sample::select(std::vec![&b"HTTP/1.1"[..], b"HTTP/1.0"]),
            request in any::<bool>(),
        ) {
            let mut head = Vec::new();
            if request {
                head.extend_from_slice(&first);
                head.push(b' ');
                head.extend_from_slice(&second);
                head.push(b' ');
                head.extend_from_slice(version);
            } else {
                head.extend_from_slice(version);
                head.push(b' ');
                head.extend_from_slice(&first);
                head.push(b' ');
                head.extend_from_slice(&second);
            }
            head.extend_from_slice(b"\r\nHost: a\r\n\r\n");
            check(&head, MAX_HEADERS);
        }
    }

    #[test]
    fn known_lines() {
        // H9: a status line without a reason phrase, with and without its space.
        for head in [&b"HTTP/1.1 101\r\n\r\n"[..], b"HTTP/1.1 101 \r\n\r\n"] {
            assert_eq!(parse_response(head, 4).unwrap().reason(), "");
            check(head, 4);
        }
        let head = b"\r\n\nGET /chat HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(parse_request(head, 4).unwrap().target(), "/chat");
        check(head, 4);
        // obs-text in a reason: accepted, given as "" (as httparse does).
        let head = b"HTTP/1.1 101 caf\xc3\xa9\r\n\r\n";
        assert_eq!(parse_response(head, 4).unwrap().reason(), "");
        check(head, 4);
        // Too many header lines.
        let head = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(
            parse_request(head, 1).err(),
            Some(HandshakeError::TooManyHeaders)
        );
        check(head, 1);
    }
}
