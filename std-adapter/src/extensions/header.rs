//! The `Sec-WebSocket-Extensions` header value (RFC 6455 §9.1): parsing into offers and serializing back.
//!
//! This module holds the list grammar of RFC 7230 §7 over the element grammar of RFC 6455 §9.1, with
//! tokens and quoted strings as in RFC 7230 §3.2.6. It must never backtrack or use regular expressions:
//! the original library's regex parser had a ReDoS (CVE-2020-7662/7663). [`parse_header`] is a single
//! left-to-right pass that examines each byte a bounded number of times, and it refuses values longer than
//! [`MAX_HEADER_LEN`] bytes or with more than [`MAX_ELEMENTS`] elements before doing more work.
//!
//! Whitespace (SP, HTAB) is allowed around `,`, `;` and `=` (RFC 6455 §9.1 is written in RFC 2616 ABNF with
//! implied linear whitespace). Empty list elements are ignored (RFC 7230 §7), so `a,` and `, a` are `[a]`
//! and an empty value is an empty list. Values keep their text: `b=1` is the string `"1"`, a parameter
//! without `=` is [`ParamValue::True`], and a repeated parameter keeps each value in order.

use super::ExtensionError;

/// The longest header value [`parse_header`] accepts, in bytes (a bound against hostile peers; RFC 6455 §9.1
/// sets none).
pub const MAX_HEADER_LEN: usize = 16 * 1024;
/// The most list elements [`parse_header`] accepts (RFC 7230 §7 list; empty elements do not count).
pub const MAX_ELEMENTS: usize = 64;

/// The value of an extension parameter (RFC 6455 §9.1 `extension-param`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamValue {
    /// The parameter has no `=value` part.
    True,
    /// The value after `=`: a token, or a quoted string after unescaping (RFC 7230 §3.2.6).
    Value(String),
}

impl ParamValue {
    /// The value as text, or `None` for a parameter without a value (RFC 6455 §9.1).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::True => None,
            ParamValue::Value(value) => Some(value),
        }
    }
}

/// The parameters of one list element, in header order, repeats kept (RFC 6455 §9.1 `extension-param`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Params {
    entries: Vec<(String, ParamValue)>,
}

impl Params {
    /// No parameters (RFC 6455 §9.1).
    pub fn new() -> Self {
        Params::default()
    }

    /// Appends a parameter (RFC 6455 §9.1); a name may repeat.
    pub fn push(&mut self, name: impl Into<String>, value: ParamValue) {
        self.entries.push((name.into(), value));
    }

    /// Appends a parameter and returns `self`, for building offers (RFC 6455 §9.1).
    pub fn with(mut self, name: impl Into<String>, value: ParamValue) -> Self {
        self.push(name, value);
        self
    }

    /// The first value of `name` (RFC 6455 §9.1).
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every value of `name`, in header order (RFC 6455 §9.1).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ParamValue> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// All parameters in header order (RFC 6455 §9.1).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many parameters, repeats included (RFC 6455 §9.1).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no parameters (RFC 6455 §9.1).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl From<Vec<(String, ParamValue)>> for Params {
    fn from(entries: Vec<(String, ParamValue)>) -> Self {
        Params { entries }
    }
}

impl FromIterator<(String, ParamValue)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, ParamValue)>>(iter: I) -> Self {
        Params {
            entries: iter.into_iter().collect(),
        }
    }
}

impl IntoIterator for Params {
    type Item = (String, ParamValue);
    type IntoIter = std::vec::IntoIter<(String, ParamValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// One element of a `Sec-WebSocket-Extensions` list: an extension name and its parameters (RFC 6455 §9.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Offer {
    /// The extension token (RFC 6455 §9.1 `extension-token`).
    pub name: String,
    /// The parameters in header order (RFC 6455 §9.1).
    pub params: Params,
}

impl Offer {
    /// An element with no parameters (RFC 6455 §9.1).
    pub fn new(name: impl Into<String>) -> Self {
        Offer {
            name: name.into(),
            params: Params::new(),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes examined by the parser on this thread, for the linear-work tests (X3).
    pub(crate) static EXAMINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether `b` is a `tchar` (RFC 7230 §3.2.6).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty `token` (RFC 7230 §3.2.6).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// A forward-only reader over the header bytes; every byte look is counted in tests.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        #[cfg(test)]
        EXAMINED.with(|c| c.set(c.get() + 1));
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, reason: &'static str) -> ExtensionError {
        ExtensionError::InvalidHeader {
            offset: self.pos,
            reason,
        }
    }

    /// Skips optional whitespace (RFC 7230 §3.2.3 OWS).
    fn skip_ows(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Reads a token (RFC 7230 §3.2.6) or fails with `what`.
    fn token(&mut self, text: &str, what: &'static str) -> Result<String, ExtensionError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(what));
        }
        Ok(text[start..self.pos].to_owned())
    }

    /// Reads a quoted string after its opening quote (RFC 7230 §3.2.6), unescaping quoted pairs.
    fn quoted(&mut self) -> Result<String, ExtensionError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => {
                            out.push(b);
                            self.pos += 1;
                        }
                        _ => return Err(self.error("invalid quoted pair")),
                    }
                }
                // qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (UTF-8 bytes of a &str).
                Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => {
                    out.push(b);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error("control character in quoted string")),
            }
        }
        // Only ASCII backslashes were removed from valid UTF-8, so this cannot fail; map it anyway.
        String::from_utf8(out).map_err(|_| self.error("quoted string is not UTF-8"))
    }
}

/// Parses a `Sec-WebSocket-Extensions` value into its elements (RFC 6455 §9.1, RFC 7230 §3.2.6, §7).
///
/// Linear in the length of `value`; refuses values over [`MAX_HEADER_LEN`] bytes or with more than
/// [`MAX_ELEMENTS`] elements with [`ExtensionError::InvalidHeader`].
pub fn parse_header(value: &str) -> Result<Vec<Offer>, ExtensionError> {
    parse_with_limits(value, MAX_HEADER_LEN, MAX_ELEMENTS)
}

/// [`parse_header`] with explicit bounds (RFC 6455 §9.1); the tests use larger ones to measure work.
pub(crate) fn parse_with_limits(
    value: &str,
    max_len: usize,
    max_elements: usize,
) -> Result<Vec<Offer>, ExtensionError> {
    if value.len() > max_len {
        return Err(ExtensionError::InvalidHeader {
            offset: max_len,
            reason: "header value too long",
        });
    }
    let mut cur = Cursor {
        bytes: value.as_bytes(),
        pos: 0,
    };
    let mut offers = Vec::new();
    loop {
        // Empty elements and the whitespace around them are ignored (RFC 7230 §7).
        while let Some(b' ' | b'\t' | b',') = cur.peek() {
            cur.pos += 1;
        }
        if cur.peek().is_none() {
            return Ok(offers);
        }
        if offers.len() == max_elements {
            return Err(cur.error("too many extensions in header"));
        }
        let name = cur.token(value, "expected an extension name")?;
        let mut params = Params::new();
        loop {
            cur.skip_ows();
            match cur.peek() {
                None | Some(b',') => break,
                Some(b';') => {
                    cur.pos += 1;
                    cur.skip_ows();
                    let param = cur.token(value, "expected a parameter name")?;
                    cur.skip_ows();
                    if cur.peek() == Some(b'=') {
                        cur.pos += 1;
                        cur.skip_ows();
                        let v = if cur.peek() == Some(b'"') {
                            cur.pos += 1;
                            cur.quoted()?
                        } else {
                            cur.token(value, "expected a parameter value")?
                        };
                        params.push(param, ParamValue::Value(v));
                    } else {
                        params.push(param, ParamValue::True);
                    }
                }
                Some(_) => return Err(cur.error("expected ';' or ','")),
            }
        }
        offers.push(Offer { name, params });
    }
}

/// Whether `b` may appear in a quoted string, escaped or not (RFC 7230 §3.2.6 `qdtext` and `quoted-pair`:
/// HTAB, SP, visible ASCII, obs-text). CR, LF, NUL, the other controls and DEL have no representation.
fn is_quotable(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Writes `value` as a token if it is one, else as a quoted string (RFC 7230 §3.2.6). Fails, writing
/// nothing, when the value has a byte no quoted string can carry.
fn write_value(out: &mut String, value: &str) -> Result<(), ExtensionError> {
    if is_token(value) {
        out.push_str(value);
        return Ok(());
    }
    if let Some(bad) = value.bytes().position(|b| !is_quotable(b)) {
        return Err(ExtensionError::InvalidHeader {
            offset: out.len() + 1 + bad,
            reason: "control character in a parameter value",
        });
    }
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}

/// Appends `name` if it is a token (RFC 7230 §3.2.6), else fails with `reason`.
fn write_token(out: &mut String, name: &str, reason: &'static str) -> Result<(), ExtensionError> {
    if !is_token(name) {
        return Err(ExtensionError::InvalidHeader {
            offset: out.len(),
            reason,
        });
    }
    out.push_str(name);
    Ok(())
}

/// Serializes elements as a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1), quoting values that are not
/// tokens (RFC 7230 §3.2.6); the inverse of [`parse_header`] on what it returns.
///
/// Nothing but the header value can come out (BEHAVIOUR H1, no header injection): an extension name or a
/// parameter name that is not a token, or a value with CR, LF, NUL or another control character than HTAB
/// (which no quoted string can carry), fails with [`ExtensionError::InvalidHeader`], its `offset` where it
/// would have been written.
pub fn serialize(offers: &[Offer]) -> Result<String, ExtensionError> {
    let mut out = String::new();
    for (i, offer) in offers.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_token(&mut out, &offer.name, "extension name is not a token")?;
        for (name, value) in offer.params.iter() {
            out.push_str("; ");
            write_token(&mut out, name, "parameter name is not a token")?;
            if let ParamValue::Value(v) = value {
                out.push('=');
                write_value(&mut out, v)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
