//! The permessage-deflate extension (RFC 7692): options, negotiation and sessions.
//!
//! This module holds [`PermessageDeflate`] (the options of the original Ruby/Node `permessage-deflate`
//! extension), the negotiation of RFC 7692 §7.1 for both roles, and the session that compresses outgoing
//! and inflates incoming messages (through `codec`). It must never agree to parameters RFC 7692 forbids
//! (repeated or unknown parameters, window bits outside 8..=15 or with leading zeroes,
//! `client_max_window_bits` without a value in a response), never agree to *compress* with an 8-bit
//! window (zlib cannot; such an offer or response is declined), and never inflate past the caller's
//! `max_length`.
//!
//! # Memory per connection
//!
//! State is created on first use: a connection that never sends (receives) a compressed message holds no
//! compressor (decompressor). Measured with a counting allocator on `flate2` 1.1 / `zlib-rs` 0.6 at the
//! default memory level (zlib's 8; `flate2` exposes no other), the same for every compression level:
//!
//! | window bits | compressor | decompressor | both |
//! |---|---|---|---|
//! | 15 (default) | 380,642 B (≈ 372 KiB) | 48,162 B (≈ 47 KiB) | 428,804 B (≈ 419 KiB) |
//! | 12 | 265,954 B (≈ 260 KiB) | 48,162 B | 314,116 B (≈ 307 KiB) |
//! | 9 | 251,616 B (≈ 246 KiB) | 48,160 B | 299,776 B (≈ 293 KiB) |
//!
//! The compressor is dominated by the window (2 × 2^bits), the hash chains and the pending buffer; the
//! decompressor's is a 32 KiB window plus tables whatever the window bits (`zlib-rs` sizes it for 15).
//! With `*_no_context_takeover` the state is reset after each message, not freed; [`Session::close`] frees
//! it.
//!
//! When the peer takes over context, the decompressor side also keeps a copy of the last 2^bits bytes it
//! inflated (32 KiB at 15 bits, 4 KiB at 12; grown as messages arrive, so less until that much has come):
//! zlib forgets its window when a message ends its stream with a final block (RFC 7692 §7.2.3.4), and the
//! copy gives it back for the next message (§7.2.2). It costs a copy of each message's last 2^bits bytes;
//! without context takeover from the peer it is never allocated.
//!
//! Small windows cost time rather than memory: zlib slides its window (and rescans the whole hash table)
//! every 2^bits bytes, so on text a 9-bit compressor ran at about 64 MB/s where 12 and 15 bits ran at about
//! 200 MB/s (release build, one core); inflating runs at 0.8–3 GB/s.
//!
//! Messages themselves are held whole: an incoming message costs its compressed payload plus at most
//! `max_length + 1` inflated bytes while it is processed; an outgoing one its data plus the compressed copy.

use flate2::Compression;

use super::header::{ParamValue, Params};
use super::{
    ClientSession, CloseCode, DataKind, Extension, ExtensionError, Message, Rsv, ServerSession,
    Session,
};

mod codec;

use codec::{Deflater, Inflater};

/// The extension token (RFC 7692 §6).
const NAME: &str = "permessage-deflate";
const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";
/// The largest LZ77 window, 32 KiB (RFC 7692 §7.1.2).
const MAX_BITS: u8 = 15;
/// The smallest window zlib compresses or inflates with; 8 is inflated with 9 (RFC 7692 §7.1.2 allows 8).
const MIN_ZLIB_BITS: u8 = 9;

/// The permessage-deflate extension (RFC 7692) with the options of the original library; register it with
/// [`Extensions::add`](super::Extensions::add). Client and server use the same options.
///
/// - `level`: DEFLATE compression level, 0..=9 (default 6).
/// - `max_window_bits`: the largest window we compress with, 9..=15 (default 15). A client offers it as
///   `client_max_window_bits` (RFC 7692 §7.1.2.2); a server caps `server_max_window_bits` with it.
/// - `no_context_takeover`: never reuse our compression context between messages (RFC 7692 §7.1.1).
/// - `request_no_context_takeover`: ask the peer not to reuse its context (RFC 7692 §7.1.1).
/// - `request_max_window_bits`: ask the peer to compress with at most this window, 8..=15 (RFC 7692 §7.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermessageDeflate {
    level: u32,
    max_window_bits: Option<u8>,
    /// `None`: the role's default (a server: on; a client: off).
    no_context_takeover: Option<bool>,
    /// `None`: the role's default (a server: on; a client: off).
    request_no_context_takeover: Option<bool>,
    request_max_window_bits: Option<u8>,
}

impl Default for PermessageDeflate {
    fn default() -> Self {
        PermessageDeflate {
            level: Compression::default().level(),
            max_window_bits: None,
            no_context_takeover: None,
            request_no_context_takeover: None,
            request_max_window_bits: None,
        }
    }
}

impl PermessageDeflate {
    /// The extension with default options: level 6, 15-bit windows, context takeover (RFC 7692 §7.1).
    pub fn new() -> Self {
        PermessageDeflate::default()
    }

    /// Sets the DEFLATE compression level (RFC 1951 via zlib; RFC 7692 §7.2.1).
    ///
    /// # Panics
    /// If `level` is over 9.
    pub fn level(mut self, level: u32) -> Self {
        assert!(
            level <= 9,
            "permessage-deflate level must be 0..=9, got {level}"
        );
        self.level = level;
        self
    }

    /// Sets the largest LZ77 window we compress with (RFC 7692 §7.1.2).
    ///
    /// # Panics
    /// If `bits` is outside 9..=15: zlib cannot compress with an 8-bit window.
    pub fn max_window_bits(mut self, bits: u8) -> Self {
        assert!(
            (MIN_ZLIB_BITS..=MAX_BITS).contains(&bits),
            "max_window_bits must be 9..=15, got {bits}"
        );
        self.max_window_bits = Some(bits);
        self
    }

    /// Whether we reset our compression context after every message (RFC 7692 §7.1.1).
    pub fn no_context_takeover(mut self, on: bool) -> Self {
        self.no_context_takeover = Some(on);
        self
    }

    /// Whether to ask the peer to reset its compression context after every message (RFC 7692 §7.1.1).
    pub fn request_no_context_takeover(mut self, on: bool) -> Self {
        self.request_no_context_takeover = Some(on);
        self
    }

    /// Asks the peer to compress with at most a `bits`-bit window (RFC 7692 §7.1.2).
    ///
    /// # Panics
    /// If `bits` is outside 8..=15 (RFC 7692 §7.1.2.1).
    pub fn request_max_window_bits(mut self, bits: u8) -> Self {
        assert!(
            (8..=MAX_BITS).contains(&bits),
            "request_max_window_bits must be 8..=15, got {bits}"
        );
        self.request_max_window_bits = Some(bits);
        self
    }

    /// Client: the offer's parameters (RFC 7692 §5.1, §7.1). `client_max_window_bits` is always sent,
    /// with our limit if we have one, so the server may lower it.
    fn client_offer(&self) -> Params {
        let mut p = Params::new();
        if self.no_context_takeover == Some(true) {
            p.push(CLIENT_NO_CONTEXT_TAKEOVER, ParamValue::True);
        }
        p.push(
            CLIENT_MAX_WINDOW_BITS,
            self.max_window_bits.map_or(ParamValue::True, bits_value),
        );
        if self.request_no_context_takeover == Some(true) {
            p.push(SERVER_NO_CONTEXT_TAKEOVER, ParamValue::True);
        }
        if let Some(bits) = self.request_max_window_bits {
            p.push(SERVER_MAX_WINDOW_BITS, bits_value(bits));
        }
        p
    }

    /// Client: what the server's response means for us, or `None` to fail the handshake (RFC 7692 §5.1,
    /// §7.1).
    fn client_accept(&self, response: &Params) -> Option<Agreed> {
        let r = Negotiation::parse(response, Side::Response)?;
        let own = self.max_window_bits.unwrap_or(MAX_BITS);
        let deflate_bits = match r.client_max_window_bits {
            // We always offered it; the server may only lower our own limit (RFC 7692 §7.1.2.2).
            Some(Some(bits)) if bits <= own && bits >= MIN_ZLIB_BITS => bits,
            Some(_) => return None,
            None => own,
        };
        if self.request_no_context_takeover == Some(true) && !r.server_no_context_takeover {
            return None; // RFC 7692 §7.1.1.1: the server must accept it or decline the offer.
        }
        if let Some(requested) = self.request_max_window_bits {
            // RFC 7692 §7.1.2.1: accepted only with the same or a smaller value.
            if r.server_max_window_bits.is_none_or(|bits| bits > requested) {
                return None;
            }
        }
        Some(Agreed {
            deflate_bits,
            deflate_reset: self.no_context_takeover == Some(true) || r.client_no_context_takeover,
            inflate_bits: r
                .server_max_window_bits
                .unwrap_or(MAX_BITS)
                .max(MIN_ZLIB_BITS),
            inflate_reset: r.server_no_context_takeover,
        })
    }

    /// Server: the response to one offer and what it means for us, or `None` to decline it (RFC 7692
    /// §5.1, §7.1).
    fn server_accept(&self, offer: &Params) -> Option<(Params, Agreed)> {
        let o = Negotiation::parse(offer, Side::Offer)?;
        let mut response = Params::new();
        // RFC 7692 §7.1.1.1: accept the client's request; we may also add it unasked.
        // A server keeps no context by default, neither its own nor the client's, so that no codec
        // state lives between messages (see the memory table above).
        let deflate_reset =
            self.no_context_takeover.unwrap_or(true) || o.server_no_context_takeover;
        if deflate_reset {
            response.push(SERVER_NO_CONTEXT_TAKEOVER, ParamValue::True);
        }
        // RFC 7692 §7.1.1.2: always allowed in a response; echo the client's hint too.
        let inflate_reset =
            self.request_no_context_takeover.unwrap_or(true) || o.client_no_context_takeover;
        if inflate_reset {
            response.push(CLIENT_NO_CONTEXT_TAKEOVER, ParamValue::True);
        }
        let own = self.max_window_bits.unwrap_or(MAX_BITS);
        let deflate_bits = match o.server_max_window_bits {
            // RFC 7692 §7.1.2.1: answer with the same or a smaller value; 8 we cannot honour.
            Some(offered) => {
                let bits = offered.min(own);
                if bits < MIN_ZLIB_BITS {
                    return None;
                }
                response.push(SERVER_MAX_WINDOW_BITS, bits_value(bits));
                bits
            }
            // Not offered: not in the response; a smaller window than 15 needs no announcement.
            None => own,
        };
        let requested = self.request_max_window_bits;
        let inflate_bits = match o.client_max_window_bits {
            // RFC 7692 §7.1.2.2: only if offered, and no larger than an offered value.
            None => MAX_BITS,
            Some(None) if requested.is_none() => MAX_BITS,
            Some(offered) => {
                let bits = offered
                    .unwrap_or(MAX_BITS)
                    .min(requested.unwrap_or(MAX_BITS));
                response.push(CLIENT_MAX_WINDOW_BITS, bits_value(bits));
                bits.max(MIN_ZLIB_BITS)
            }
        };
        Some((
            response,
            Agreed {
                deflate_bits,
                deflate_reset,
                inflate_bits,
                inflate_reset,
            },
        ))
    }
}

fn bits_value(bits: u8) -> ParamValue {
    ParamValue::Value(bits.to_string())
}

/// Window bits from a parameter value: "a decimal integer value without leading zeroes between 8 to 15"
/// (RFC 7692 §7.1.2.1, §7.1.2.2), so `9` but not `09` or `010`. `None` makes the offer declined or the
/// response refused (RFC 7692 §5).
fn parse_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + (d - b'0')),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

/// The four parameters of one offer or response, validated (RFC 7692 §7.1).
#[derive(Default)]
struct Negotiation {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// Present, with its value if any (a value is required in a response).
    client_max_window_bits: Option<Option<u8>>,
}

impl Negotiation {
    /// `None` for an unknown or repeated parameter or an invalid value (RFC 7692 §7.1).
    fn parse(params: &Params, side: Side) -> Option<Self> {
        let mut n = Negotiation::default();
        let mut seen = [false; 4];
        for (name, value) in params.iter() {
            let index = [
                SERVER_NO_CONTEXT_TAKEOVER,
                CLIENT_NO_CONTEXT_TAKEOVER,
                SERVER_MAX_WINDOW_BITS,
                CLIENT_MAX_WINDOW_BITS,
            ]
            .iter()
            .position(|known| *known == name)?;
            if std::mem::replace(&mut seen[index], true) {
                return None;
            }
            match (index, value) {
                (0, ParamValue::True) => n.server_no_context_takeover = true,
                (1, ParamValue::True) => n.client_no_context_takeover = true,
                (2, ParamValue::Value(v)) => n.server_max_window_bits = Some(parse_bits(v)?),
                (3, ParamValue::Value(v)) => n.client_max_window_bits = Some(Some(parse_bits(v)?)),
                (3, ParamValue::True) if side == Side::Offer => {
                    n.client_max_window_bits = Some(None)
                }
                _ => return None,
            }
        }
        Some(n)
    }
}

/// What a negotiation settled for our side of the connection (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Agreed {
    deflate_bits: u8,
    deflate_reset: bool,
    inflate_bits: u8,
    inflate_reset: bool,
}

impl Extension for PermessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn rsv(&self) -> Rsv {
        Rsv::RSV1
    }

    fn client_session(&self) -> Box<dyn ClientSession> {
        Box::new(DeflateSession {
            options: self.clone(),
            response: Params::new(),
            codec: None,
        })
    }

    fn server_session(&self, offers: &[&Params]) -> Option<Box<dyn ServerSession>> {
        let (response, agreed) = offers.iter().find_map(|offer| self.server_accept(offer))?;
        let mut session = DeflateSession {
            options: self.clone(),
            response,
            codec: None,
        };
        session.start(agreed);
        Some(Box::new(session))
    }
}

/// One connection's permessage-deflate state (RFC 7692 §7.2), client or server.
struct DeflateSession {
    options: PermessageDeflate,
    response: Params,
    /// Present between activation and close.
    codec: Option<(Deflater, Inflater)>,
}

impl DeflateSession {
    fn start(&mut self, agreed: Agreed) {
        self.codec = Some((
            Deflater::new(
                self.options.level,
                agreed.deflate_bits,
                agreed.deflate_reset,
            ),
            Inflater::new(agreed.inflate_bits, agreed.inflate_reset),
        ));
    }

    fn codec(&mut self) -> Result<&mut (Deflater, Inflater), ExtensionError> {
        self.codec.as_mut().ok_or_else(|| {
            ExtensionError::processing(
                CloseCode::MANDATORY_EXTENSION,
                "permessage-deflate is not active",
            )
        })
    }
}

impl Session for DeflateSession {
    /// Inflates a message whose first frame had RSV1 (RFC 7692 §6.2, §7.2.2); others pass unchanged.
    fn process_incoming(
        &mut self,
        mut msg: Message,
        max_length: u64,
    ) -> Result<Message, ExtensionError> {
        if !msg.rsv.contains(Rsv::RSV1) {
            return Ok(msg);
        }
        let text = msg.kind == DataKind::Text;
        msg.data = self.codec()?.1.inflate(&msg.data, max_length, text)?;
        msg.rsv = msg.rsv.difference(Rsv::RSV1);
        Ok(msg)
    }

    /// Compresses every message and sets RSV1 (RFC 7692 §6.1, §7.2.1).
    fn process_outgoing(&mut self, mut msg: Message) -> Result<Message, ExtensionError> {
        msg.data = self.codec()?.0.compress(&msg.data)?;
        msg.rsv = msg.rsv.union(Rsv::RSV1);
        Ok(msg)
    }

    fn close(&mut self) {
        if let Some((deflater, inflater)) = &mut self.codec {
            deflater.free();
            inflater.free();
        }
        self.codec = None;
    }
}

impl ClientSession for DeflateSession {
    fn offer(&mut self) -> Vec<Params> {
        vec![self.options.client_offer()]
    }

    fn activate(&mut self, params: &Params) -> bool {
        match self.options.client_accept(params) {
            Some(agreed) => {
                self.start(agreed);
                true
            }
            None => false,
        }
    }
}

impl ServerSession for DeflateSession {
    fn response(&mut self) -> Params {
        self.response.clone()
    }
}

#[cfg(test)]
mod negotiation_tests;
#[cfg(test)]
mod tests;
