//! HTTP/1.1 heads (RFC 7230 §3): the incremental end-of-head scan, the one pass that checks a complete
//! head (its start line by `start_line`, its header lines by `httparse`), and the borrowed [`Request`]
//! and [`Response`] views over the head bytes.
//!
//! A view keeps only slices of the head (method, target, the block of header lines) and walks the header
//! lines again when asked: no header array outlives the parse, nothing is copied or allocated.

use core::fmt;

use super::{HandshakeError, eq_ignore_case, has_token, start_line, trim};

/// The most header lines a head may have; [`Config::max_headers`](crate::Config::max_headers) may
/// lower it.
pub const MAX_HEADERS: usize = 64;

/// One header line: its name and its value with surrounding white space removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'a> {
    /// The field name as sent (compare case-insensitively).
    pub name: &'a str,
    /// The field value (RFC 7230 §3.2: may hold obs-text, so bytes).
    pub value: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lines<'a> {
    /// Header lines as they are in a head that `httparse` accepted.
    Raw(&'a [u8]),
    /// Headers an application's HTTP server already parsed.
    Parsed(&'a [Header<'a>]),
}

/// The header lines of a head, in order.
///
/// Its `Debug` output redacts credentials as [`Request`]'s and [`Response`]'s does.
#[derive(Clone)]
pub struct Headers<'a> {
    lines: Lines<'a>,
}

/// Shows the remaining header lines (RFC 7230 §3.2), credentials as `<redacted>`.
impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Headers")
            .field(&Shown {
                lines: self.lines,
                secrets: ALL_SECRETS,
            })
            .finish()
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        match &mut self.lines {
            Lines::Parsed(list) => {
                let (first, rest) = list.split_first()?;
                *list = rest;
                Some(*first)
            }
            Lines::Raw(bytes) => loop {
                if bytes.is_empty() {
                    return None;
                }
                let end = bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(bytes.len());
                let line = &bytes[..end];
                *bytes = &bytes[(end + 1).min(bytes.len())..];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    continue;
                };
                // httparse checked that names are tokens, hence ASCII.
                let Ok(name) = core::str::from_utf8(&line[..colon]) else {
                    continue;
                };
                return Some(Header {
                    name,
                    value: trim(&line[colon + 1..]),
                });
            },
        }
    }
}

fn first<'a>(lines: Lines<'a>, name: &str) -> Option<&'a [u8]> {
    Headers { lines }
        .find(|h| eq_ignore_case(h.name.as_bytes(), name.as_bytes()))
        .map(|h| h.value)
}

/// The value of the only header named `name`; `None` when there is none or more than one. For the
/// headers RFC 6455 §11.3 allows once (the key, the version, the accept value, the subprotocol a server
/// chose, `Upgrade`) and `Host` (RFC 9112 §3.2): repeated, their combined value (RFC 9110 §5.3) is
/// never a valid one.
fn sole<'a>(lines: Lines<'a>, name: &str) -> Option<&'a [u8]> {
    let mut values = Headers { lines }
        .filter(|h| eq_ignore_case(h.name.as_bytes(), name.as_bytes()))
        .map(|h| h.value);
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

fn any_has_token(lines: Lines<'_>, name: &str, token: &str) -> bool {
    Headers { lines }
        .filter(|h| eq_ignore_case(h.name.as_bytes(), name.as_bytes()))
        .any(|h| has_token(h.value, token))
}

/// An HTTP request head, borrowed (RFC 7230 §3.1.1).
///
/// Its `Debug` (and, with the `defmt` feature, `defmt::Format`) output shows the values of `Cookie`,
/// `Authorization` and `Proxy-Authorization` as `<redacted>`, so logging a request leaks no credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    method: &'a str,
    target: &'a str,
    minor_version: u8,
    lines: Lines<'a>,
}

impl<'a> Request<'a> {
    /// A request an application's HTTP server already parsed (BEHAVIOUR H6b): method, target, the minor
    /// version of HTTP/1.x and the headers.
    pub const fn new(
        method: &'a str,
        target: &'a str,
        minor_version: u8,
        headers: &'a [Header<'a>],
    ) -> Self {
        Request {
            method,
            target,
            minor_version,
            lines: Lines::Parsed(headers),
        }
    }

    /// The method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request target (path and query).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The minor version of HTTP/1.x.
    pub fn minor_version(&self) -> u8 {
        self.minor_version
    }

    /// The header lines, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers { lines: self.lines }
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        first(self.lines, name)
    }

    /// BEHAVIOUR V4: method GET, a `Connection` header whose comma-separated tokens include `upgrade`,
    /// and `Upgrade` equal to `websocket` (both case-insensitive; one `Upgrade` line, as two combine
    /// into a list that is not equal to it).
    pub fn is_websocket(&self) -> bool {
        self.method == "GET"
            && any_has_token(self.lines, "connection", "upgrade")
            && self
                .sole_header("upgrade")
                .is_some_and(|v| eq_ignore_case(v, b"websocket"))
    }

    /// The value of the only header named `name`: `None` when it is absent or repeated.
    pub(crate) fn sole_header(&self, name: &str) -> Option<&'a [u8]> {
        sole(self.lines, name)
    }

    /// Whether any `name` header holds `token` in its comma-separated list.
    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        any_has_token(self.lines, name, token)
    }
}

/// An HTTP response head, borrowed (RFC 7230 §3.1.2).
///
/// Its `Debug` (and, with the `defmt` feature, `defmt::Format`) output shows `Set-Cookie` values as
/// `<redacted>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    status: u16,
    reason: &'a str,
    lines: Lines<'a>,
}

impl<'a> Response<'a> {
    /// A response an application's HTTP client already parsed (RFC 7230 §3.1.2): its status, reason
    /// phrase and headers, for [`Offer::check_head`](crate::handshake::client::Offer::check_head).
    pub const fn new(status: u16, reason: &'a str, headers: &'a [Header<'a>]) -> Self {
        Response {
            status,
            reason,
            lines: Lines::Parsed(headers),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (possibly empty).
    pub fn reason(&self) -> &'a str {
        self.reason
    }

    /// The header lines, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers { lines: self.lines }
    }

    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        first(self.lines, name)
    }

    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        any_has_token(self.lines, name, token)
    }

    /// The value of the only header named `name`: `None` when it is absent or repeated.
    pub(crate) fn sole_header(&self, name: &str) -> Option<&'a [u8]> {
        sole(self.lines, name)
    }
}

/// Request headers whose values are credentials (RFC 6265 §5.4 `Cookie`, RFC 7235 §4.2 `Authorization`,
/// §4.4 `Proxy-Authorization`): never shown in logs.
const REQUEST_SECRETS: &[&str] = &["cookie", "authorization", "proxy-authorization"];

/// Response headers whose values are credentials (RFC 6265 §4.1 `Set-Cookie`): never shown in logs.
const RESPONSE_SECRETS: &[&str] = &["set-cookie"];

/// Every header whose value is never shown: a [`Headers`] iterator does not know its head.
const ALL_SECRETS: &[&str] = &[
    "cookie",
    "authorization",
    "proxy-authorization",
    "set-cookie",
];

/// The header lines of a head as logs show them: in order, with the values of `secrets` redacted.
struct Shown<'a> {
    lines: Lines<'a>,
    secrets: &'static [&'static str],
}

impl<'a> Shown<'a> {
    /// Each header's name and its value, or `None` for a redacted value.
    fn each(&self) -> impl Iterator<Item = (&'a str, Option<&'a [u8]>)> + use<'a> {
        let secrets = self.secrets;
        Headers { lines: self.lines }.map(move |h| {
            let secret = secrets.iter().any(|s| h.name.eq_ignore_ascii_case(s));
            (h.name, (!secret).then_some(h.value))
        })
    }
}

/// A header value in `Debug` output: quoted, with non-printable bytes escaped.
struct Value<'a>(Option<&'a [u8]>);

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, "\"{}\"", value.escape_ascii()),
            None => f.write_str("<redacted>"),
        }
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.each().map(|(name, value)| (name, Value(value))))
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Shown<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{{");
        for (i, (name, value)) in self.each().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            match value {
                Some(value) => defmt::write!(f, "{=str}{=str}: {=[u8]:a}", sep, name, value),
                None => defmt::write!(f, "{=str}{=str}: <redacted>", sep, name),
            }
        }
        defmt::write!(f, "}}");
    }
}

/// Like the derived form, but the values of `Cookie`, `Authorization` and `Proxy-Authorization` are shown
/// as `<redacted>` (RFC 7230 §3.2 header fields; as [`Url`](super::url::Url) redacts userinfo).
impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("minor_version", &self.minor_version)
            .field(
                "headers",
                &Shown {
                    lines: self.lines,
                    secrets: REQUEST_SECRETS,
                },
            )
            .finish()
    }
}

/// As `Debug` (RFC 7230 §3.1.1): credentials are shown as `<redacted>`.
#[cfg(feature = "defmt")]
impl defmt::Format for Request<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Request {{ method: {=str}, target: {=str}, minor_version: {=u8}, headers: {} }}",
            self.method,
            self.target,
            self.minor_version,
            Shown {
                lines: self.lines,
                secrets: REQUEST_SECRETS,
            }
        );
    }
}

/// Like the derived form, but `Set-Cookie` values are shown as `<redacted>` (RFC 7230 §3.2 header
/// fields).
impl fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field(
                "headers",
                &Shown {
                    lines: self.lines,
                    secrets: RESPONSE_SECRETS,
                },
            )
            .finish()
    }
}

/// As `Debug` (RFC 7230 §3.1.2): `Set-Cookie` values are shown as `<redacted>`.
#[cfg(feature = "defmt")]
impl defmt::Format for Response<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Response {{ status: {=u16}, reason: {=str}, headers: {} }}",
            self.status,
            self.reason,
            Shown {
                lines: self.lines,
                secrets: RESPONSE_SECRETS,
            }
        );
    }
}

/// Finds the end of a head: the position just after its blank line. `scanned` is how far an earlier
/// call got, so that a head arriving a byte at a time is scanned once (RUSTSEC-2023-0065). Returns
/// `Err(new_scanned)` while the blank line has not arrived.
pub(crate) fn find_end(buf: &[u8], scanned: usize) -> Result<usize, usize> {
    let mut at = scanned.saturating_sub(2).min(buf.len());
    #[cfg(test)]
    WORK.with(|w| w.set(w.get() + (buf.len() - at)));
    while let Some(offset) = buf[at..].iter().position(|&b| b == b'\n') {
        let nl = at + offset;
        match buf.get(nl + 1..) {
            Some([b'\n', ..]) => return Ok(nl + 2),
            Some([b'\r', b'\n', ..]) => return Ok(nl + 3),
            _ => at = nl + 1,
        }
    }
    Err(buf.len())
}

#[cfg(test)]
std::thread_local! {
    /// Bytes examined by `find_end` on this thread: the work the linear-time test counts.
    pub(crate) static WORK: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

fn status_of(e: httparse::Error) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders,
        _ => HandshakeError::MalformedHead,
    }
}

/// The header lines after a start line, checked by `httparse` (`parse_headers`, the rules its request
/// and response parsers apply to them): all of `block` must be those lines and the blank line.
fn check_headers(block: &[u8], max_headers: usize) -> Result<(), HandshakeError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let storage = storage
        .get_mut(..max_headers.min(MAX_HEADERS))
        .unwrap_or_default();
    match httparse::parse_headers(block, storage).map_err(status_of)? {
        httparse::Status::Complete((n, _)) if n == block.len() => Ok(()),
        _ => Err(HandshakeError::MalformedHead),
    }
}

/// Parses a complete request head (as found by [`find_end`]) with at most `max_headers` lines.
pub(crate) fn parse_request(
    head: &[u8],
    max_headers: usize,
) -> Result<Request<'_>, HandshakeError> {
    let start_line::Split { line, rest } = start_line::split(head);
    let (method, target, minor_version) =
        start_line::request(line).ok_or(HandshakeError::MalformedHead)?;
    check_headers(rest, max_headers)?;
    Ok(Request {
        method,
        target,
        minor_version,
        lines: Lines::Raw(rest),
    })
}

/// Parses a complete response head with at most `max_headers` lines. A status line without a reason
/// phrase is accepted (BEHAVIOUR H9).
pub(crate) fn parse_response(
    head: &[u8],
    max_headers: usize,
) -> Result<Response<'_>, HandshakeError> {
    let start_line::Split { line, rest } = start_line::split(head);
    let (status, reason) = start_line::status(line).ok_or(HandshakeError::MalformedHead)?;
    check_headers(rest, max_headers)?;
    Ok(Response {
        status,
        reason,
        lines: Lines::Raw(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_blank_line_in_any_split() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        assert_eq!(find_end(head, 0), Ok(27));
        for cut in 0..head.len() {
            let mut scanned = 0;
            let first = find_end(&head[..cut], scanned);
            if let Err(s) = first {
                scanned = s;
            }
            let found = first.or_else(|_| find_end(head, scanned));
            assert_eq!(found, Ok(27), "cut at {cut}");
        }
        assert_eq!(find_end(b"GET / HTTP/1.1\n\nx", 0), Ok(16));
        assert_eq!(find_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), Err(25));
    }

    #[test]
    fn request_view() {
        let head = b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: WebSocket\r\n\
Connection: keep-alive,  Upgrade\r\nX-Empty:\r\n\r\n";
        let req = parse_request(head, MAX_HEADERS).unwrap();
        assert_eq!(
            (req.method(), req.target(), req.minor_version()),
            ("GET", "/chat?x=1", 1)
        );
        assert_eq!(req.header("HOST"), Some(&b"server.example.com"[..]));
        assert_eq!(req.header("x-empty"), Some(&b""[..]));
        assert_eq!(req.headers().count(), 4);
        assert!(req.is_websocket());
    }

    #[test]
    fn is_websocket_rules() {
        // V4: GET, Connection tokens include upgrade, Upgrade is websocket (case-insensitive).
        let check = |head: &[u8]| parse_request(head, MAX_HEADERS).unwrap().is_websocket();
        assert!(check(
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        ));
        assert!(check(b"GET / HTTP/1.1\r\nconnection: Keep-Alive\r\nConnection: UPGRADE\r\nupgrade: WebSocket\r\n\r\n"));
        assert!(!check(
            b"POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        ));
        assert!(!check(
            b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n"
        ));
        assert!(!check(
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"
        ));
        assert!(!check(b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n"));
        let headers = [
            Header {
                name: "Connection",
                value: b"Upgrade",
            },
            Header {
                name: "Upgrade",
                value: b"websocket",
            },
        ];
        assert!(Request::new("GET", "/", 1, &headers).is_websocket());
    }

    #[test]
    fn debug_output_redacts_credentials() {
        // Issue #11 item 9: Cookie, Authorization and Proxy-Authorization values (Set-Cookie in a
        // response) never reach a log; other headers and the request line still do.
        use std::format;
        let head = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nCookie: session=s3cr3t\r\n\
authorization: Basic dXNlcjpwYXNz\r\nProxy-Authorization: Bearer t0ken\r\nX-Trace: 7\r\n\r\n";
        let req = parse_request(head, MAX_HEADERS).unwrap();
        let shown = format!("{req:?}");
        for secret in ["s3cr3t", "dXNlcjpwYXNz", "t0ken"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"Cookie\": <redacted>"), "{shown}");
        assert!(shown.contains("\"authorization\": <redacted>"), "{shown}");
        assert!(
            shown.contains("\"Proxy-Authorization\": <redacted>"),
            "{shown}"
        );
        assert!(shown.contains("\"/chat\"") && shown.contains("\"Host\": \"example.com\""));
        assert!(shown.contains("\"X-Trace\": \"7\""), "{shown}");
        assert!(!format!("{:?}", req.headers()).contains("s3cr3t"));
        assert!(!format!("{:?}", crate::Event::Connect(req)).contains("s3cr3t"));
        // The application's own parse (H6b) is redacted as well.
        let headers = [Header {
            name: "Cookie",
            value: b"id=s3cr3t",
        }];
        let shown = format!("{:?}", Request::new("GET", "/", 1, &headers));
        assert!(
            !shown.contains("s3cr3t") && shown.contains("<redacted>"),
            "{shown}"
        );

        let head = b"HTTP/1.1 101 Switching Protocols\r\nSet-Cookie: id=s3cr3t; HttpOnly\r\n\
Upgrade: websocket\r\n\r\n";
        let res = parse_response(head, MAX_HEADERS).unwrap();
        let shown = format!("{res:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("\"Set-Cookie\": <redacted>"), "{shown}");
        assert!(shown.contains("\"Upgrade\": \"websocket\"") && shown.contains("101"));
        let event = crate::Event::ProxyConnected(res);
        assert!(!format!("{event:?}").contains("s3cr3t"));
    }

    #[test]
    fn response_without_reason_phrase() {
        // H9: a status line without a reason phrase is fine.
        let res =
            parse_response(b"HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\n", MAX_HEADERS).unwrap();
        assert_eq!(res.status(), 101);
        assert_eq!(res.reason(), "");
        assert_eq!(res.header("upgrade"), Some(&b"websocket"[..]));
    }

    #[test]
    fn limits_and_garbage() {
        // H7: too many headers → TooManyHeaders (431); not HTTP → MalformedHead (400).
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..5 {
            head.extend_from_slice(std::format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(parse_request(&head, 4), Err(HandshakeError::TooManyHeaders));
        assert_eq!(HandshakeError::TooManyHeaders.status(), 431);
        assert!(parse_request(&head, 5).is_ok());
        assert_eq!(
            parse_request(b"\x16\x03\x01\x02\x00\x01\r\n\r\n", 8),
            Err(HandshakeError::MalformedHead)
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nHost\r\n\r\n", 8),
            Err(HandshakeError::MalformedHead)
        );
        assert_eq!(HandshakeError::MalformedHead.status(), 400);
    }
}
