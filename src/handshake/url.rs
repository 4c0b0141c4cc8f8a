//! Allocation-free parsing of `ws:`, `wss:`, `http:` and `https:` URLs (RFC 3986, RFC 6455 §3).
//!
//! This module holds [`Url`], a parsed URL that borrows its input, the views a client handshake and
//! an HTTP proxy `CONNECT` need ([`Resource`], [`HostHeader`], [`Authority`], [`BasicAuth`]), and
//! [`UrlError`]. It must never allocate or copy the input, never panic on any input, and never
//! accept a URL whose host, port or resource could inject anything into an HTTP request line or
//! header (no CR, LF, NUL, space or other control character gets through).

use core::fmt;

use crate::text::{Fmt, Sink, write_base64};

/// A URL scheme this crate can connect to (RFC 6455 §3, RFC 7230 §2.7.1–§2.7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Scheme {
    /// `ws:`, WebSocket over TCP (RFC 6455 §3).
    Ws,
    /// `wss:`, WebSocket over TLS (RFC 6455 §3).
    Wss,
    /// `http:`, e.g. an HTTP proxy (RFC 7230 §2.7.1).
    Http,
    /// `https:`, e.g. an HTTP proxy reached over TLS (RFC 7230 §2.7.2).
    Https,
}

impl Scheme {
    /// Whether the scheme runs over TLS: `wss:` and `https:` (RFC 6455 §3, RFC 7230 §2.7.2).
    pub fn secure(self) -> bool {
        matches!(self, Scheme::Wss | Scheme::Https)
    }

    /// The port used when the URL names none: 80, or 443 for secure schemes (RFC 6455 §3).
    pub fn default_port(self) -> u16 {
        if self.secure() { 443 } else { 80 }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        [
            (Scheme::Ws, "ws"),
            (Scheme::Wss, "wss"),
            (Scheme::Http, "http"),
            (Scheme::Https, "https"),
        ]
        .into_iter()
        .find(|(_, n)| super::eq_ignore_case(n.as_bytes(), name.as_bytes()))
        .map(|(scheme, _)| scheme)
    }
}

/// Why a string is not a URL this crate accepts (RFC 3986 §3, RFC 6455 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme:` at the start (RFC 3986 §3.1).
    MissingScheme,
    /// A scheme other than `ws`/`wss` (or `http`/`https` where allowed) (RFC 6455 §3).
    UnsupportedScheme,
    /// No `//` authority, or an empty host (RFC 6455 §3: a WebSocket URI needs a host).
    MissingHost,
    /// A host that is neither a reg-name/IPv4 nor a bracketed IPv6 literal (RFC 3986 §3.2.2).
    InvalidHost,
    /// A port that is not 1 to 5 digits with a value in 1..=65535 (RFC 3986 §3.2.3).
    InvalidPort,
    /// A space, control or (in the resource) non-ASCII character (RFC 3986 §2).
    InvalidCharacter,
}

/// Only logs show this text (the `display` feature).
#[cfg(feature = "display")]
impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::MissingScheme => "URL has no scheme (expected ws:// or wss://)",
            UrlError::UnsupportedScheme => {
                "unsupported URL scheme (expected ws: or wss:, or http: or https: for a proxy)"
            }
            UrlError::MissingHost => "URL has no host",
            UrlError::InvalidHost => "URL host is not a valid host name or IP literal",
            UrlError::InvalidPort => "URL port is not a number in 1..=65535",
            UrlError::InvalidCharacter => "URL contains a space, control or non-ASCII character",
        })
    }
}

/// An absolute `ws:`, `wss:`, `http:` or `https:` URL, borrowing its input (RFC 3986 §3,
/// RFC 6455 §3). Construct it with [`Url::parse`] or [`Url::parse_ws`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    scheme: Scheme,
    userinfo: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Url<'a> {
    /// Parses an absolute URL of any of the four schemes (scheme is case-insensitive)
    /// (RFC 3986 §3, RFC 6455 §3, RFC 7230 §2.7).
    pub fn parse(input: &'a str) -> Result<Url<'a>, UrlError> {
        // Byte positions of ASCII delimiters, and pieces cut there with `piece`: no slicing that could
        // panic, no `str` searching.
        let bytes = input.as_bytes();
        if bytes.iter().any(|&b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::InvalidCharacter);
        }
        let colon = match position(bytes, 0, |b| matches!(b, b':' | b'/' | b'?' | b'#')) {
            Some(i) if bytes.get(i) == Some(&b':') => i,
            _ => return Err(UrlError::MissingScheme),
        };
        let name = piece(input, 0, colon);
        let mut name_bytes = name.bytes();
        let valid_name = name_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && name_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_name {
            return Err(UrlError::MissingScheme);
        }
        let scheme = Scheme::from_name(name).ok_or(UrlError::UnsupportedScheme)?;
        if bytes.get(colon + 1..colon + 3) != Some(b"//") {
            return Err(UrlError::MissingHost);
        }
        let start = colon + 3;
        let end =
            position(bytes, start, |b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(bytes.len());
        let at = bytes
            .get(start..end)
            .and_then(|authority| authority.iter().rposition(|&b| b == b'@'));
        let (userinfo, host_port) = match at {
            Some(at) => (
                Some(piece(input, start, start + at)),
                piece(input, start + at + 1, end),
            ),
            None => (None, piece(input, start, end)),
        };
        let (host, port) = split_host_port(host_port)?;
        let port = parse_port(port)?;
        let fragment = position(bytes, end, |b| b == b'#').unwrap_or(bytes.len());
        if !bytes.get(end..fragment).unwrap_or_default().is_ascii() {
            return Err(UrlError::InvalidCharacter);
        }
        let (path, query) = match position(bytes, end, |b| b == b'?').filter(|&q| q < fragment) {
            Some(q) => (piece(input, end, q), Some(piece(input, q + 1, fragment))),
            None => (piece(input, end, fragment), None),
        };
        let path = if path.is_empty() { "/" } else { path };
        Ok(Url {
            scheme,
            userinfo,
            host,
            port,
            path,
            query,
        })
    }

    /// Parses a WebSocket URL: like [`Url::parse`] but only `ws:`/`wss:` (RFC 6455 §3, §4.1;
    /// BEHAVIOUR H8: anything else is an error at construction).
    pub fn parse_ws(input: &'a str) -> Result<Url<'a>, UrlError> {
        let url = Url::parse(input)?;
        match url.scheme {
            Scheme::Ws | Scheme::Wss => Ok(url),
            _ => Err(UrlError::UnsupportedScheme),
        }
    }

    /// The scheme (RFC 3986 §3.1).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether the connection must use TLS: `wss:` or `https:` (RFC 6455 §3, §4.1 step 5).
    pub fn is_secure(&self) -> bool {
        self.scheme.secure()
    }

    /// The host as written, IPv6 literals with their brackets (`[::1]`), for Host headers; case is
    /// kept as written (RFC 3986 §3.2.2).
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// The port: explicit, or the scheme's default, 80 for ws/http and 443 for wss/https
    /// (RFC 3986 §3.2.3, RFC 6455 §3).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// Whether the port is the scheme's default; an explicit default port counts as default
    /// (`ws://h:80` → true) (RFC 3986 §6.2.3).
    pub fn is_default_port(&self) -> bool {
        self.port() == self.scheme.default_port()
    }

    /// Path and query for the request line: path `/` when empty, `?query` kept, `#fragment`
    /// dropped (RFC 6455 §3: fragments have no meaning in WebSocket URIs; RFC 7230 §5.3.1).
    ///
    /// A view rather than a `&str`: `ws://h?x=1` has the resource `/?x=1`, which is not a slice of
    /// the input. Write it with `Display`, or [`Resource::path`] then `?` and [`Resource::query`].
    pub fn resource(&self) -> Resource<'a> {
        Resource(self.path, self.query)
    }

    /// The raw userinfo (before the last `@` of the authority), if any, still percent-encoded
    /// (RFC 3986 §3.2.1).
    pub fn userinfo(&self) -> Option<&'a str> {
        self.userinfo
    }

    /// `Host` header value: `host`, or `host:port` when the port is not the default
    /// (RFC 7230 §5.4, RFC 6455 §4.1). An IPv6 zone is left out (RFC 6874 §4: it means something
    /// only on the sending host).
    pub fn host_header(&self) -> HostHeader<'a> {
        HostHeader(
            self.host_off_link(),
            (!self.is_default_port()).then(|| self.port()),
        )
    }

    /// `host:port` with the port always present, for `CONNECT host:port HTTP/1.1`
    /// (RFC 7231 §4.3.6; BEHAVIOUR H11). An IPv6 zone is left out, as in
    /// [`host_header`](Self::host_header).
    pub fn authority(&self) -> Authority<'a> {
        Authority(self.host_off_link(), self.port())
    }

    /// The host as it may leave this machine: an IPv6 literal without its `%25zone` (RFC 6874 §4),
    /// as the text before the zone; the writers close the bracket.
    fn host_off_link(&self) -> &'a str {
        // The first `%` of a bracketed literal starts its zone, `%25…` (`check_ipv6`: the address
        // before it is hex digits, `:` and `.`): `[fe80::1` of `[fe80::1%25eth0]`. (A byte search: a
        // `str` pattern search would link a substring searcher, too big for a firmware.)
        match position(self.host.as_bytes(), 0, |b| b == b'%') {
            Some(at) if self.host.starts_with('[') => piece(self.host, 0, at),
            _ => self.host,
        }
    }

    /// `Basic <base64(user:pass)>` from the percent-decoded userinfo (RFC 7617 §2), or `None` when
    /// the userinfo is absent or empty. A userinfo without `:` is sent as `user:` (empty password).
    pub fn basic_auth(&self) -> Option<BasicAuth<'a>> {
        self.userinfo.filter(|u| !u.is_empty()).map(BasicAuth)
    }
}

/// The position of the first byte from `from` on that `matches`.
fn position(bytes: &[u8], from: usize, matches: impl Fn(u8) -> bool) -> Option<usize> {
    let found = bytes.get(from..)?.iter().position(|&b| matches(b))?;
    Some(from + found)
}

/// `s[start..end]`, cut at ASCII delimiters found by [`position`] (so always on character boundaries).
fn piece(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or_default()
}

/// Splits `host[:port]` and checks both (RFC 3986 §3.2.2, §3.2.3).
fn split_host_port(host_port: &str) -> Result<(&str, Option<&str>), UrlError> {
    let bytes = host_port.as_bytes();
    let len = bytes.len();
    let (host, port) = if bytes.first() == Some(&b'[') {
        let close = position(bytes, 1, |b| b == b']').ok_or(UrlError::InvalidHost)?;
        check_ipv6(bytes.get(1..close).unwrap_or_default())?;
        let port = match bytes.get(close + 1) {
            None => None,
            Some(b':') => Some(piece(host_port, close + 2, len)),
            Some(_) => return Err(UrlError::InvalidHost),
        };
        (piece(host_port, 0, close + 1), port)
    } else {
        let (host, port) = match position(bytes, 0, |b| b == b':') {
            Some(colon) => (
                piece(host_port, 0, colon),
                Some(piece(host_port, colon + 1, len)),
            ),
            None => (host_port, None),
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        check_chars(host.as_bytes(), |b| is_unreserved(b) || is_sub_delim(b))?;
        (host, port)
    };
    Ok((host, port))
}

/// A port: digits (RFC 3986 §3.2.3 `*DIGIT`, leading zeros allowed) with a value in 1..=65535; `None`
/// when empty or absent.
fn parse_port(port: Option<&str>) -> Result<Option<u16>, UrlError> {
    match port {
        None | Some("") => Ok(None),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            let value = p.bytes().fold(0u32, |n, b| {
                n.saturating_mul(10).saturating_add(u32::from(b - b'0'))
            });
            match value {
                n @ 1..=65535 => Ok(Some(n as u16)),
                _ => Err(UrlError::InvalidPort),
            }
        }
        Some(_) => Err(UrlError::InvalidPort),
    }
}

/// An IPv6 literal between brackets: hex digits, `:` and `.`, with an optional `%25zone`
/// (RFC 3986 §3.2.2, RFC 6874 §2).
fn check_ipv6(inner: &[u8]) -> Result<(), UrlError> {
    let (address, zone) = match inner.windows(3).position(|w| w == b"%25") {
        Some(i) => (
            inner.get(..i).unwrap_or_default(),
            Some(inner.get(i + 3..).unwrap_or_default()),
        ),
        None => (inner, None),
    };
    let address_ok = address.contains(&b':')
        && address
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    if !address_ok || zone == Some(b"") {
        return Err(UrlError::InvalidHost);
    }
    check_chars(zone.unwrap_or_default(), is_unreserved)
}

/// Every byte allowed by `allowed` or part of a well-formed `%XX` (RFC 3986 §2.1).
fn check_chars(mut rest: &[u8], allowed: fn(u8) -> bool) -> Result<(), UrlError> {
    loop {
        rest = match rest {
            [] => return Ok(()),
            [b'%', h, l, tail @ ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => tail,
            [b'%', ..] => return Err(UrlError::InvalidHost),
            [b, tail @ ..] if allowed(*b) => tail,
            _ => return Err(UrlError::InvalidHost),
        };
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// The request-target of a URL: path (never empty) and optional query (RFC 7230 §5.3.1,
/// RFC 6455 §3 "resource name"). `Display` writes `path[?query]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Resource<'a>(&'a str, Option<&'a str>);

impl<'a> Resource<'a> {
    /// The path, `/` when the URL has none (RFC 6455 §3, RFC 3986 §3.3).
    pub fn path(&self) -> &'a str {
        self.0
    }

    /// The query without its `?`, if the URL has one (RFC 3986 §3.4).
    pub fn query(&self) -> Option<&'a str> {
        self.1
    }
}

impl Resource<'_> {
    /// Writes `path[?query]`.
    pub(crate) fn write_to(&self, out: &mut impl Sink) {
        out.text(self.0);
        if let Some(query) = self.1 {
            out.text("?");
            out.text(query);
        }
    }
}

impl fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_to(out))
    }
}

/// Compares with the text `Display` would write (RFC 7230 §5.3.1 origin-form).
impl PartialEq<&str> for Resource<'_> {
    fn eq(&self, other: &&str) -> bool {
        match (other.strip_prefix(self.0), self.1) {
            (Some(rest), None) => rest.is_empty(),
            (Some(rest), Some(query)) => rest.strip_prefix('?') == Some(query),
            (None, _) => false,
        }
    }
}

/// A `Host` header value: `host` or `host:port` (RFC 7230 §5.4, RFC 6455 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HostHeader<'a>(&'a str, Option<u16>);

/// Writes a host from [`Url::host_off_link`], closing the bracket it cut.
fn write_host(host: &str, out: &mut impl Sink) {
    out.text(host);
    if host.starts_with('[') && !host.ends_with(']') {
        out.text("]");
    }
}

impl HostHeader<'_> {
    /// Writes `host[:port]`.
    pub(crate) fn write_to(&self, out: &mut impl Sink) {
        write_host(self.0, out);
        if let Some(port) = self.1 {
            out.text(":");
            out.number(port.into());
        }
    }
}

impl fmt::Display for HostHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_to(out))
    }
}

/// `host:port` with the port always present, the authority-form of a `CONNECT` request
/// (RFC 7231 §4.3.6, RFC 7230 §5.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Authority<'a>(&'a str, u16);

impl Authority<'_> {
    /// Writes `host:port`.
    pub(crate) fn write_to(&self, out: &mut impl Sink) {
        write_host(self.0, out);
        out.text(":");
        out.number(self.1.into());
    }
}

impl fmt::Display for Authority<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_to(out))
    }
}

/// An `Authorization`/`Proxy-Authorization` value `Basic <base64(user:pass)>` (RFC 7617 §2,
/// RFC 4648 §4). `Display` streams it: no buffer, no allocation, any length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BasicAuth<'a>(&'a str);

/// Credentials never appear in debug output (logs): the userinfo is shown as `<redacted>`.
impl fmt::Debug for BasicAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuth(<redacted>)")
    }
}

/// Like the derived form, but the userinfo (which may hold a password) is shown as `<redacted>`.
impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Url")
            .field("scheme", &self.scheme)
            .field("userinfo", &self.userinfo.map(|_| "<redacted>"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish()
    }
}

/// As `Debug`: the credentials are not logged.
#[cfg(feature = "defmt")]
impl defmt::Format for BasicAuth<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "BasicAuth(<redacted>)")
    }
}

/// As `Debug`: the userinfo is shown as `<redacted>`.
#[cfg(feature = "defmt")]
impl defmt::Format for Url<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Url {{ scheme: {}, userinfo: {}, host: {=str}, port: {}, path: {=str}, query: {} }}",
            self.scheme,
            self.userinfo.map(|_| "<redacted>"),
            self.host,
            self.port,
            self.path,
            self.query
        )
    }
}

impl BasicAuth<'_> {
    /// Writes `Basic <base64(user:pass)>`.
    pub(crate) fn write_to(&self, out: &mut impl Sink) {
        out.text("Basic ");
        let colon = (!self.0.as_bytes().contains(&b':')).then_some(b':');
        write_base64(out, &mut PercentDecode(self.0.as_bytes()).chain(colon));
    }
}

impl fmt::Display for BasicAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fmt::show(f, |out| self.write_to(out))
    }
}

/// Percent-decodes bytes: `%XX` (two hex digits) becomes one byte, any other `%` stays
/// (RFC 3986 §2.1).
struct PercentDecode<'a>(&'a [u8]);

impl Iterator for PercentDecode<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
        match *self.0 {
            [b'%', h, l, ref rest @ ..] if hex(h).is_some() && hex(l).is_some() => {
                self.0 = rest;
                Some(hex(h)? << 4 | hex(l)?)
            }
            [b, ref rest @ ..] => {
                self.0 = rest;
                Some(b)
            }
            [] => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    #[test]
    fn debug_output_hides_credentials() {
        // H8 H11: userinfo becomes an Authorization header, never a log line.
        let url = Url::parse("ws://user:s3cret@example.com/").unwrap();
        let shown = std::format!("{url:?} {:?}", url.basic_auth().unwrap());
        assert!(
            !shown.contains("s3cret") && !shown.contains("user:"),
            "{shown}"
        );
        assert!(shown.contains("example.com") && shown.contains("<redacted>"));
    }

    /// (input, host, port, is_default_port, resource, Host header, CONNECT authority).
    #[rustfmt::skip]
    const VECTORS: &[(&str, &str, u16, bool, &str, &str, &str)] = &[
        // H8: request target and Host header, port omitted when default (80 for ws, 443 for wss).
        ("ws://www.example.com/socket", "www.example.com", 80, true, "/socket", "www.example.com", "www.example.com:80"),
        ("ws://www.example.com:3000/socket", "www.example.com", 3000, false, "/socket", "www.example.com:3000", "www.example.com:3000"),
        ("wss://example.com", "example.com", 443, true, "/", "example.com", "example.com:443"),
        ("wss://example.com:443/", "example.com", 443, true, "/", "example.com", "example.com:443"),
        ("ws://h:80", "h", 80, true, "/", "h", "h:80"),
        ("wss://h:80", "h", 80, false, "/", "h:80", "h:80"),
        ("ws://h:/", "h", 80, true, "/", "h", "h:80"), // RFC 3986 §3.2.3: empty port is the default
        ("ws://127.0.0.1:1/", "127.0.0.1", 1, false, "/", "127.0.0.1:1", "127.0.0.1:1"),
        ("ws://h:65535/", "h", 65535, false, "/", "h:65535", "h:65535"),
        // RFC 3986 §3.2.3: `port = *DIGIT`, leading zeros included.
        ("ws://h:000080/", "h", 80, true, "/", "h", "h:80"),
        ("ws://h:00000000000000000000008080/", "h", 8080, false, "/", "h:8080", "h:8080"),
        // H8 / H11: IPv6 keeps its brackets; the fragment is dropped (RFC 6455 §3).
        ("ws://[::1]:8080/a?b=c#frag", "[::1]", 8080, false, "/a?b=c", "[::1]:8080", "[::1]:8080"),
        // RFC 6874 §4: the zone stays on this machine (kept in `host()`, left out of what is sent).
        ("wss://[fe80::1%25eth0]", "[fe80::1%25eth0]", 443, true, "/", "[fe80::1]", "[fe80::1]:443"),
        ("ws://[fe80::1%25eth0]:8080", "[fe80::1%25eth0]", 8080, false, "/", "[fe80::1]:8080", "[fe80::1]:8080"),
        ("ws://[::ffff:1.2.3.4]/", "[::ffff:1.2.3.4]", 80, true, "/", "[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]:80"),
        // H8: a query without a path; an empty query is kept; the scheme is case-insensitive.
        ("ws://example.com?x=1", "example.com", 80, true, "/?x=1", "example.com", "example.com:80"),
        ("ws://h/a?#f", "h", 80, true, "/a?", "h", "h:80"),
        ("WSS://Example.COM#f", "Example.COM", 443, true, "/", "Example.COM", "Example.COM:443"),
        // H11: `CONNECT host:port HTTP/1.1`, port defaulted 80/443.
        ("http://proxy.example.com", "proxy.example.com", 80, true, "/", "proxy.example.com", "proxy.example.com:80"),
        ("HTTPS://u:p@proxy:8443", "proxy", 8443, false, "/", "proxy:8443", "proxy:8443"),
        ("https://p", "p", 443, true, "/", "p", "p:443"),
    ];

    #[test]
    fn vectors() {
        for &(input, host, port, default, resource, host_header, authority) in VECTORS {
            let u = Url::parse(input).unwrap();
            let ws = matches!(u.scheme(), Scheme::Ws | Scheme::Wss);
            assert_eq!(Url::parse_ws(input).is_ok(), ws, "{input}"); // H8
            let lower = input.to_ascii_lowercase();
            assert_eq!(
                u.is_secure(),
                lower.starts_with("wss:") || lower.starts_with("https:")
            );
            assert_eq!(
                (u.host(), u.port(), u.is_default_port()),
                (host, port, default)
            );
            assert_eq!(u.resource(), resource, "{input}");
            assert_eq!(u.resource().to_string(), resource);
            assert_eq!(u.host_header().to_string(), host_header, "{input}");
            assert_eq!(u.authority().to_string(), authority, "{input}");
        }
        let r = Url::parse("ws://h/a?b=c").unwrap().resource();
        assert_eq!((r.path(), r.query()), ("/a", Some("b=c")));
        assert_ne!(r, "/a");
        assert_eq!(Url::parse("Ws://h").unwrap().scheme(), Scheme::Ws);
    }

    #[test]
    fn userinfo_and_basic_auth() {
        let auth = |input| {
            Url::parse(input)
                .unwrap()
                .basic_auth()
                .map(|a| a.to_string())
        };
        // H8: `Authorization: Basic` from URL userinfo; H11: `user:pass` → `Basic dXNlcjpwYXNz`.
        assert_eq!(auth("ws://user:pass@host/").unwrap(), "Basic dXNlcjpwYXNz");
        assert_eq!(
            auth("http://user:pass@proxy").unwrap(),
            "Basic dXNlcjpwYXNz"
        );
        let u = Url::parse("ws://us%40er:p%3Ass@host").unwrap();
        assert_eq!((u.userinfo(), u.host()), (Some("us%40er:p%3Ass"), "host"));
        let expected = std::format!("Basic {}", base64(b"us@er:p:ss"));
        assert_eq!(auth("ws://us%40er:p%3Ass@host").unwrap(), expected);
        assert_eq!(expected, "Basic dXNAZXI6cDpzcw==");
        // The userinfo ends at the last '@'; a malformed '%' is kept literally.
        let u = Url::parse("ws://a@b:%zz%4@host:81").unwrap();
        assert_eq!(
            (u.userinfo(), u.host(), u.port()),
            (Some("a@b:%zz%4"), "host", 81)
        );
        let decode = |raw: &str| String::from_utf8(PercentDecode(raw.as_bytes()).collect());
        assert_eq!(decode("a@b:%zz%4%41%4a%").unwrap(), "a@b:%zz%4AJ%");
        // No ':' → empty password (RFC 7617 §2 user-pass); empty or no userinfo → no header.
        assert_eq!(auth("ws://user@h").unwrap(), "Basic dXNlcjo=");
        assert_eq!(Url::parse("ws://@h").unwrap().userinfo(), Some(""));
        assert_eq!((auth("ws://@h"), auth("ws://h")), (None, None));
    }

    #[test]
    fn errors() {
        use UrlError::*;
        // H8: only ws:/wss: with a host, else an error at construction.
        #[rustfmt::skip]
        let cases: &[(UrlError, &[&str])] = &[
            (UnsupportedScheme, &["http://x", "ftp://x", "localhost:80/x"]),
            (MissingHost, &["ws://", "ws:///path", "ws:host", "ws://:80/", "ws://user@/", "ws://?q"]),
            (InvalidPort, &["ws://host:99999", "ws://host:65536", "ws://host:0", "ws://host:00000", "ws://host:99999999999999999999999"]),
            (InvalidPort, &["ws://host:12a", "ws://host:1:2", "ws://[::1]:x"]),
            (InvalidCharacter, &["ws://ho st/", "ws://host/a\r\nb", "ws://host/a\0", "ws://h/\x7f"]),
            (InvalidCharacter, &["ws://host/caf\u{e9}", "ws://u\nx@host/", " ws://host/", "ws://h/#\t"]),
            (InvalidHost, &["ws://h\u{e9}/", "ws://ho<st/", "ws://host%4/", "ws://[::1/", "ws://[]/"]),
            (InvalidHost, &["ws://[1.2.3.4]/", "ws://[::g]/", "ws://[::1%25]/", "ws://[::1]x/", "ws://[v1.x]/"]),
            (MissingScheme, &["example.com/x", "://x", "1ws://x", ""]),
        ];
        for &(error, inputs) in cases {
            for input in inputs {
                assert_eq!(Url::parse_ws(input), Err(error), "{input:?}");
            }
        }
        assert!(Url::parse("http://x").is_ok());
        // The text only logs show (the `display` feature).
        #[cfg(feature = "display")]
        assert_eq!(
            UnsupportedScheme.to_string(),
            "unsupported URL scheme (expected ws: or wss:, or http: or https: for a proxy)"
        );
    }

    /// Reference encoder written differently: a bit accumulator, padding from the length.
    fn reference_base64(bytes: &[u8]) -> String {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let (mut out, mut acc, mut bits) = (String::new(), 0u32, 0);
        for &b in bytes {
            acc = acc << 8 | u32::from(b);
            bits += 8;
            while bits >= 6 {
                bits -= 6;
                out.push(alphabet.as_bytes()[(acc >> bits & 63) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(alphabet.as_bytes()[(acc << (6 - bits) & 63) as usize] as char);
        }
        while out.len() % 4 != 0 {
            out.push('=');
        }
        out
    }

    fn base64(bytes: &[u8]) -> String {
        let mut out = String::new();
        write_base64(&mut out, &mut bytes.iter().copied());
        out
    }

    #[test]
    fn base64_every_length() {
        // RFC 4648 §10 test vectors.
        let rfc = [
            "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
        ];
        for (len, expected) in rfc.into_iter().enumerate() {
            assert_eq!(base64(&b"foobar"[..len]), expected);
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..=20 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            assert_eq!(base64(&bytes), reference_base64(&bytes), "{bytes:?}");
        }
    }

    fn clean(s: &str) -> bool {
        !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0 | b' '))
    }

    proptest! {
        #[test]
        fn base64_matches_reference(bytes in proptest::collection::vec(any::<u8>(), 0..=20)) {
            prop_assert_eq!(base64(&bytes), reference_base64(&bytes));
        }

        #[test]
        fn parse_never_panics_and_output_is_clean(
            input in prop_oneof![
                any::<String>(),
                "(ws|wss|http|HTTPS|ftp)://[a-z0-9@:%\\[\\]/?#. \r\n\0\u{e9}-]{0,30}",
            ]
        ) {
            if let Ok(u) = Url::parse(&input) {
                // H8 / H11: nothing that reaches a request line or header can inject.
                let auth = u.basic_auth().map(|a| a.to_string()).unwrap_or_default();
                let (host, resource) = (u.host_header().to_string(), u.resource().to_string());
                for text in [host, resource, u.authority().to_string()] {
                    prop_assert!(clean(&text), "{:?}", text);
                }
                prop_assert!(clean(auth.strip_prefix("Basic ").unwrap_or(&auth)), "{:?}", auth);
                prop_assert!(!u.host().is_empty() && u.port() != 0);
                prop_assert!(u.resource().path().starts_with('/'));
            }
        }
    }
}
