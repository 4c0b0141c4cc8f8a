//! The DEFLATE side of permessage-deflate (RFC 7692 §7.2): compressing and inflating one message.
//!
//! This module holds the compressor and decompressor of one connection (raw DEFLATE, RFC 1951, through
//! `flate2` on `zlib-rs`); inflated text is checked as it comes out with the core's incremental
//! [`Utf8Validator`] (RFC 6455 §8.1). It must never inflate more than `max_length + 1` bytes of one
//! message, never hold a whole invalid text message before refusing it, and never compress with a window
//! the agreement does not allow (nor an 8-bit one, which zlib cannot make).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use websocket_driver::utf8::Utf8Validator;

use crate::extensions::{CloseCode, ExtensionError};

/// The octets a sync flush ends with, removed when sending and appended when receiving (RFC 7692 §7.2.1,
/// §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The first and the largest output step while inflating, in bytes.
const MIN_STEP: usize = 4 * 1024;
const MAX_STEP: usize = 256 * 1024;

#[cfg(test)]
thread_local! {
    /// Bytes inflated and compressed bytes consumed on this thread, for the bomb test (X5).
    pub(crate) static INFLATED: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

fn extension_error(reason: &str) -> ExtensionError {
    ExtensionError::processing(CloseCode::MANDATORY_EXTENSION, reason)
}

/// Inflated text that is not UTF-8 (RFC 6455 §8.1): 1007.
fn invalid_utf8() -> ExtensionError {
    ExtensionError::processing(CloseCode::INVALID_DATA, "invalid UTF-8 in text message")
}

/// Our compressor (RFC 7692 §7.2.1), created on the first message sent.
#[derive(Debug)]
pub(crate) struct Deflater {
    state: Option<Compress>,
    level: u32,
    /// LZ77 window bits, 9..=15.
    bits: u8,
    /// No context takeover: start every message with an empty window (RFC 7692 §7.1.1).
    reset: bool,
}

impl Deflater {
    pub(crate) fn new(level: u32, bits: u8, reset: bool) -> Self {
        debug_assert!((9..=15).contains(&bits) && level <= 9);
        Deflater {
            state: None,
            level,
            bits,
            reset,
        }
    }

    /// Compresses one message (RFC 7692 §7.2.1): raw DEFLATE, a sync flush, and the trailing
    /// `00 00 ff ff` removed. An empty message becomes the single octet `00` (RFC 7692 §7.2.3.6).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, ExtensionError> {
        if data.is_empty() {
            // An empty stored block, `00 00 00 ff ff`, less its tail. The stream is byte-aligned after
            // every message, so this leaves the compressor's state as it was (zlib itself would emit
            // nothing for a second consecutive flush without input).
            return Ok(vec![0x00]);
        }
        let (level, bits) = (self.level, self.bits);
        let c = self.state.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, bits)
        });
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut consumed = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = c.total_in();
            c.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .map_err(|_| extension_error("compression failed"))?;
            consumed += (c.total_in() - before) as usize;
            // The flush is complete once all input is in and the output was not filled (zlib's rule).
            if consumed == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if self.reset {
            // No context is kept: the state is released until the next message, so an idle
            // connection holds none (it is made again, empty, for the next one).
            self.state = None;
        }
        if !out.ends_with(&TAIL) {
            return Err(extension_error("compressor did not end with a sync flush"));
        }
        out.truncate(out.len() - TAIL.len());
        Ok(out)
    }

    /// Frees the compressor (RFC 7692 §7.2.1 state), e.g. when the connection closes.
    pub(crate) fn free(&mut self) {
        self.state = None;
    }
}

/// Our decompressor (RFC 7692 §7.2.2), created on the first compressed message received.
#[derive(Debug)]
pub(crate) struct Inflater {
    state: Option<Decompress>,
    /// LZ77 window bits, 9..=15 (a peer's 8 is inflated with 9, which reads every 8-bit stream).
    bits: u8,
    /// The peer does not take over context: start every message afresh (RFC 7692 §7.1.1).
    reset: bool,
}

impl Inflater {
    pub(crate) fn new(bits: u8, reset: bool) -> Self {
        debug_assert!((9..=15).contains(&bits));
        Inflater {
            state: None,
            bits,
            reset,
        }
    }

    /// Inflates one message payload with `00 00 ff ff` appended (RFC 7692 §7.2.2). Stops with 1009 once
    /// more than `max_length` bytes come out (having inflated at most `max_length + 1`), with 1007 as soon
    /// as a text message's output is not UTF-8 (RFC 6455 §8.1; checked after each output step of 4 to
    /// 256 KiB), with 1010 on corrupt DEFLATE data. After an error the stream state is unspecified: the
    /// connection is to be failed.
    pub(crate) fn inflate(
        &mut self,
        payload: &[u8],
        max_length: u64,
        text: bool,
    ) -> Result<Vec<u8>, ExtensionError> {
        if payload.is_empty() {
            // Not valid DEFLATE (`00 00 ff ff` alone is a cut stored-block header) but unambiguous: an
            // empty message. Leave the stream untouched rather than strand it mid-block.
            return Ok(Vec::new());
        }
        let bits = self.bits;
        let d = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let limit = max_length.saturating_add(1);
        let mut utf8 = Utf8Validator::new();
        let mut out: Vec<u8> = Vec::new();
        let mut ended = false;
        'inputs: for (input, is_tail) in [(payload, false), (&TAIL[..], true)] {
            let mut pos = 0;
            loop {
                let start = out.len();
                // At least 1: `start > max_length` returned below.
                let remaining = usize::try_from(limit - start as u64).unwrap_or(usize::MAX);
                let room = remaining.min(start.clamp(MIN_STEP, MAX_STEP));
                if out.capacity() - start < room {
                    // Grow geometrically, but never past `max_length + 1` bytes.
                    out.reserve_exact(room.max(start).min(remaining));
                }
                out.resize(start + room, 0);
                let (in0, out0) = (d.total_in(), d.total_out());
                let status = d.decompress(&input[pos..], &mut out[start..], FlushDecompress::Sync);
                let consumed = (d.total_in() - in0) as usize;
                let produced = (d.total_out() - out0) as usize;
                out.truncate(start + produced);
                #[cfg(test)]
                INFLATED.with(|c| {
                    let (o, i) = c.get();
                    c.set((o + produced as u64, i + consumed as u64));
                });
                pos += consumed;
                let status = status.map_err(|_| extension_error("invalid compressed data"))?;
                if text && utf8.feed(&out[start..]).is_err() {
                    return Err(invalid_utf8());
                }
                if out.len() as u64 > max_length {
                    return Err(ExtensionError::processing(
                        CloseCode::TOO_BIG,
                        "message too big",
                    ));
                }
                if status == Status::StreamEnd {
                    // A final block (RFC 7692 §7.2.3.4): the message ends here; nothing of the payload
                    // may follow it, and the next message starts a new stream.
                    if !is_tail && pos < input.len() {
                        return Err(extension_error("data after the final compressed block"));
                    }
                    ended = true;
                    break 'inputs;
                }
                if pos == input.len() && produced < room {
                    break;
                }
                if consumed == 0 && produced == 0 {
                    return Err(extension_error("compressed data made no progress"));
                }
            }
        }
        if text && utf8.finish().is_err() {
            return Err(invalid_utf8());
        }
        if self.reset {
            // The peer keeps no context: release the state until its next message.
            self.state = None;
        } else if ended {
            d.reset(false);
        }
        Ok(out)
    }

    /// Frees the decompressor (RFC 7692 §7.2.2 state), e.g. when the connection closes.
    pub(crate) fn free(&mut self) {
        self.state = None;
    }
}
