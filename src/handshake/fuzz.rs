//! The head parser's fuzz check (private feature `__fuzz`, not public API; also the unit tests'):
//! a head through the core's parser and through `httparse`'s request and response parsers must give
//! the same fields or the same error (`start_line` reads the first line by hand, for flash).

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::HandshakeError;
use super::head::{MAX_HEADERS, parse_request, parse_response};

/// What a parse gives: the method or reason, the target, the minor version or status, the headers.
type Fields = (String, String, u16, Vec<(String, Vec<u8>)>);

fn trim(v: &[u8]) -> Vec<u8> {
    let start = v
        .iter()
        .position(|b| !b" \t".contains(b))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b" \t".contains(b))
        .map_or(start, |e| e + 1);
    v[start..end].to_vec()
}

fn error(e: httparse::Error) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders,
        _ => HandshakeError::MalformedHead,
    }
}

fn headers(list: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|h| (h.name.to_string(), trim(h.value)))
        .collect()
}

fn reference_request(head: &[u8], max: usize) -> Result<Fields, HandshakeError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut storage[..max]);
    match req.parse(head).map_err(error)? {
        httparse::Status::Complete(n) if n == head.len() => Ok((
            req.method.unwrap().to_string(),
            req.path.unwrap().to_string(),
            req.version.unwrap().into(),
            headers(req.headers),
        )),
        _ => Err(HandshakeError::MalformedHead),
    }
}

fn reference_response(head: &[u8], max: usize) -> Result<Fields, HandshakeError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut storage[..max]);
    match res.parse(head).map_err(error)? {
        httparse::Status::Complete(n) if n == head.len() => Ok((
            res.reason.unwrap().to_string(),
            String::new(),
            res.code.unwrap(),
            headers(res.headers),
        )),
        _ => Err(HandshakeError::MalformedHead),
    }
}

fn ours_request(head: &[u8], max: usize) -> Result<Fields, HandshakeError> {
    let req = parse_request(head, max)?;
    Ok((
        req.method().to_string(),
        req.target().to_string(),
        req.minor_version().into(),
        req.headers()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect(),
    ))
}

fn ours_response(head: &[u8], max: usize) -> Result<Fields, HandshakeError> {
    let res = parse_response(head, max)?;
    Ok((
        res.reason().to_string(),
        String::new(),
        res.status(),
        res.headers()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect(),
    ))
}

/// Panics unless both parsers agree on `head` as a request and as a response, with `max` header slots
/// (at most [`MAX_HEADERS`]).
pub fn heads(head: &[u8], max: usize) {
    let max = max.min(MAX_HEADERS);
    assert_eq!(
        ours_request(head, max),
        reference_request(head, max),
        "request {:?}",
        String::from_utf8_lossy(head)
    );
    assert_eq!(
        ours_response(head, max),
        reference_response(head, max),
        "response {:?}",
        String::from_utf8_lossy(head)
    );
}
