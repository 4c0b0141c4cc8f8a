//! Data framing of the legacy WebSocket drafts, draft-hixie-thewebsocketprotocol-75 and -76 (§4.2 and
//! §5.3 of each): the incremental frame [`Decoder`], [`encode_text`] and hixie-76's [`CLOSE_FRAME`].
//!
//! This module holds codecs over byte slices the caller owns. It must never allocate or copy payload
//! bytes, never rescan bytes it has already looked at (a frame fed one byte at a time is decoded in
//! linear time), never overflow or panic on any input, and never accept a frame longer than the
//! caller's `max_length`.
//!
//! ## The frames
//! ```text
//! 00 <UTF-8 text> FF              text frame (type 0x00)
//! 01..7F <bytes> FF               another sentinel-terminated type: its bytes are discarded
//! 80..FF <length> <length bytes>  length-prefixed frame: discarded; the length is base 128, most
//!                                 significant group first, high bit set on every byte but the last
//! FF 00                           hixie-76 only: the closing frame (type 0xFF, length 0)
//! ```

use core::fmt;
use core::ops::Range;

use crate::config::DEFAULT_MAX_LENGTH;

/// hixie-76's closing frame (draft-hixie-thewebsocketprotocol-76 §1.4, §4.2, §5.3): type 0xFF, length 0.
///
/// Nothing may be sent after it. hixie-75 has no closing frame: there, these bytes are an empty frame
/// that the receiver discards.
pub const CLOSE_FRAME: [u8; 2] = [0xff, 0x00];

/// One decoded frame (draft-hixie-thewebsocketprotocol-75 / -76 §4.2, §5.3), as positions in the buffer
/// given to [`Decoder::decode`]. The frame occupies `buf[..consumed]`, which the caller consumes.
///
/// Not `Copy`, because `core::ops::Range` is not.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Frame {
    /// A text frame (type 0x00, §5.3): the UTF-8 text is `buf[text]` (already validated); the frame,
    /// with its type byte and its 0xFF terminator, occupies `buf[..consumed]`.
    Text {
        /// Where the text is in the buffer.
        text: Range<usize>,
        /// The length of the whole frame.
        consumed: usize,
    },
    /// A frame the drafts say to discard (§5.3): length-prefixed (type 0x80–0xFF other than hixie-76's
    /// close), or sentinel-terminated with a type other than 0x00. It occupies `buf[..consumed]`.
    Skip {
        /// The length of the whole frame.
        consumed: usize,
    },
    /// hixie-76's closing frame, [`CLOSE_FRAME`] (draft-hixie-thewebsocketprotocol-76 §5.3: type 0xFF,
    /// length 0): `buf[..consumed]`, which is `buf[..2]` unless the peer spelled the zero length with
    /// extra continuation bytes (`FF 80 00`).
    Close {
        /// The length of the whole frame.
        consumed: usize,
    },
}

impl Frame {
    /// How many bytes at the start of the buffer the frame occupies (§5.3): the caller consumes them.
    pub const fn consumed(&self) -> usize {
        match *self {
            Frame::Text { consumed, .. } | Frame::Skip { consumed } | Frame::Close { consumed } => {
                consumed
            }
        }
    }
}

/// Why the bytes are not acceptable legacy frames (draft-hixie-thewebsocketprotocol-75 / -76 §5.3).
/// The connection must be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DraftError {
    /// A frame is longer than `max_length`: its length prefix says so, or a sentinel-terminated frame
    /// has more than `max_length` bytes without its 0xFF terminator.
    TooLong,
    /// A text frame (type 0x00) is not valid UTF-8 (hixie-76 §5.3: its bytes are read as UTF-8).
    InvalidUtf8,
}

impl fmt::Display for DraftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DraftError::TooLong => "legacy frame longer than the maximum length",
            DraftError::InvalidUtf8 => "legacy text frame is not valid UTF-8",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DraftError {}

/// Where the decoder is in the current frame.
#[derive(Clone, Copy, Debug)]
enum State {
    /// At a frame boundary: the type byte comes next.
    Type,
    /// Reading the length of a length-prefixed frame; `close` if its type is hixie-76's 0xFF.
    Length { close: bool, length: u64 },
    /// The length is known: the frame ends at `end`.
    Payload { end: usize, close: bool },
    /// Looking for the 0xFF terminator; for a text frame, `buf[1..valid]` is whole UTF-8 chars.
    Sentinel { text: bool, valid: usize },
    /// An error was reported; it is reported again.
    Failed(DraftError),
}

/// Incremental decoder of hixie-75 / hixie-76 data frames (draft-hixie-thewebsocketprotocol-75 §4.2,
/// §5.3; draft-hixie-thewebsocketprotocol-76 §4.2, §5.3).
///
/// It decodes from a buffer that grows between calls and remembers how far it has looked, so each
/// byte is looked at a bounded number of times however the bytes arrive: a sentinel-terminated
/// frame's bytes are searched for 0xFF once, and a text frame's bytes are validated as UTF-8 as they
/// arrive (an invalid text fails as soon as its first bad byte is seen, not at the terminator).
///
/// A frame is returned only once it is whole in the buffer, so the buffer must be able to hold a frame
/// of `max_length` bytes plus its framing (a few bytes) for the decoder to make progress.
///
/// ```
/// use websocket_driver::draft::framing::{Decoder, Frame};
///
/// let mut decoder = Decoder::new(true, 1 << 20);
/// let mut buf = [0u8; 32];
/// buf[..4].copy_from_slice(b"\x00Hel");
/// assert_eq!(decoder.decode(&buf[..4]), Ok(None)); // not complete yet
/// buf[4..7].copy_from_slice(b"lo\xff");
/// let frame = decoder.decode(&buf[..7]).unwrap().unwrap();
/// assert_eq!(frame, Frame::Text { text: 1..6, consumed: 7 });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    hixie76: bool,
    max_length: u64,
    state: State,
    /// Bytes of the current frame looked at so far, from its type byte.
    scanned: usize,
    /// Bytes looked at since the decoder was made (each search or validation step counts its bytes).
    #[cfg(test)]
    work: usize,
}

impl Default for Decoder {
    /// A hixie-76 decoder (§5.3) with `max_length` [`DEFAULT_MAX_LENGTH`].
    fn default() -> Self {
        Decoder::new(true, DEFAULT_MAX_LENGTH)
    }
}

impl Decoder {
    /// A decoder for hixie-76 (`hixie76`, draft-hixie-thewebsocketprotocol-76 §5.3: `FF 00` closes) or
    /// hixie-75 (draft-hixie-thewebsocketprotocol-75 §5.3: no closing frame), accepting frames of at
    /// most `max_length` bytes of payload (the bytes between the framing, or the length-prefixed bytes).
    pub const fn new(hixie76: bool, max_length: u64) -> Self {
        Decoder {
            hixie76,
            max_length,
            state: State::Type,
            scanned: 0,
            #[cfg(test)]
            work: 0,
        }
    }

    /// Decodes the next frame from `buf` (draft-hixie-thewebsocketprotocol-75 / -76 §5.3).
    ///
    /// `buf` holds the undecoded bytes, starting at a frame boundary: the same bytes as at the previous
    /// call plus any appended since, unless that call returned a frame; then the caller has consumed
    /// the frame's [`consumed`](Frame::consumed) bytes and `buf` starts right after them. Returns
    /// `Ok(None)` while the frame is not complete. A `buf` shorter than the bytes already looked at
    /// breaks that contract; it gets `Ok(None)`, never a panic.
    ///
    /// The length prefix is bounded by `max_length` while it is read: [`DraftError::TooLong`] as soon
    /// as the length so far exceeds it, whatever the number of continuation bytes (behaviour L2). A
    /// sentinel-terminated frame with more than `max_length` bytes and no 0xFF terminator yet is
    /// `TooLong` too. A 0xFF inside a length-prefixed frame is data, not a terminator. The text of a
    /// type-0x00 frame is validated as UTF-8 as its bytes arrive: [`DraftError::InvalidUtf8`] at the
    /// first call that sees an invalid byte, or at the terminator if a char is cut short. The bytes of
    /// other sentinel-terminated types are discarded unchecked (§5.3).
    ///
    /// After an error, the connection must be closed; every later call returns the same error.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Option<Frame>, DraftError> {
        if buf.len() < self.scanned {
            return Ok(None);
        }
        loop {
            match self.state {
                State::Failed(error) => return Err(error),
                State::Type => {
                    let Some(&kind) = buf.first() else {
                        return Ok(None);
                    };
                    self.count(1);
                    self.scanned = 1;
                    self.state = if kind & 0x80 != 0 {
                        let close = self.hixie76 && kind == 0xff;
                        State::Length { close, length: 0 }
                    } else {
                        State::Sentinel {
                            text: kind == 0x00,
                            valid: 1,
                        }
                    };
                }
                State::Length { close, length } => {
                    if !self.length(buf, close, length)? {
                        return Ok(None);
                    }
                }
                State::Payload { end, close } => {
                    if buf.len() < end {
                        return Ok(None);
                    }
                    self.reset();
                    return Ok(Some(if close {
                        Frame::Close { consumed: end }
                    } else {
                        Frame::Skip { consumed: end }
                    }));
                }
                State::Sentinel { text, valid } => return self.sentinel(buf, text, valid),
            }
        }
    }

    /// Reads the length bytes that have arrived; true once the length is complete (state `Payload`).
    fn length(&mut self, buf: &[u8], close: bool, mut length: u64) -> Result<bool, DraftError> {
        for &byte in &buf[self.scanned..] {
            self.count(1);
            self.scanned += 1;
            length = match length
                .checked_mul(128)
                .and_then(|l| l.checked_add(u64::from(byte & 0x7f)))
            {
                Some(l) if l <= self.max_length => l,
                _ => return Err(self.fail(DraftError::TooLong)),
            };
            if byte & 0x80 == 0 {
                let end = usize::try_from(length)
                    .ok()
                    .and_then(|l| l.checked_add(self.scanned));
                let Some(end) = end else {
                    // Fits in `max_length` but not in this machine's address space.
                    return Err(self.fail(DraftError::TooLong));
                };
                self.state = State::Payload {
                    end,
                    close: close && length == 0,
                };
                return Ok(true);
            }
        }
        self.state = State::Length { close, length };
        Ok(false)
    }

    /// Searches the new bytes of a sentinel-terminated frame for its 0xFF terminator.
    fn sentinel(
        &mut self,
        buf: &[u8],
        text: bool,
        mut valid: usize,
    ) -> Result<Option<Frame>, DraftError> {
        // The terminator may be anywhere in buf[1..=1 + max_length].
        let limit = usize::try_from(self.max_length).map_or(usize::MAX, |m| m.saturating_add(2));
        let window = buf.len().min(limit);
        let new = &buf[self.scanned..window];
        match new.iter().position(|&b| b == 0xff) {
            Some(at) => {
                self.count(at + 1);
                let end = self.scanned + at;
                if text {
                    let rest = &buf[valid..end];
                    self.count(rest.len());
                    if whole_chars(rest) != Ok(rest.len()) {
                        return Err(self.fail(DraftError::InvalidUtf8));
                    }
                }
                self.reset();
                let consumed = end + 1;
                Ok(Some(if text {
                    Frame::Text {
                        text: 1..end,
                        consumed,
                    }
                } else {
                    Frame::Skip { consumed }
                }))
            }
            None => {
                self.count(new.len());
                self.scanned = window;
                if text {
                    let rest = &buf[valid..window];
                    self.count(rest.len());
                    match whole_chars(rest) {
                        Ok(n) => valid += n,
                        Err(error) => return Err(self.fail(error)),
                    }
                }
                if window == limit {
                    return Err(self.fail(DraftError::TooLong));
                }
                self.state = State::Sentinel { text, valid };
                Ok(None)
            }
        }
    }

    /// Back at a frame boundary.
    fn reset(&mut self) {
        self.state = State::Type;
        self.scanned = 0;
    }

    /// Remembers `error` for later calls and returns it.
    fn fail(&mut self, error: DraftError) -> DraftError {
        self.state = State::Failed(error);
        error
    }

    /// Counts bytes looked at (tests only: proves the decoder stays linear).
    #[inline(always)]
    fn count(&mut self, _bytes: usize) {
        #[cfg(test)]
        {
            self.work += _bytes;
        }
    }
}

/// The length of the longest prefix of `bytes` made of whole UTF-8 chars, when the rest is the start of
/// a char that may still be completed; `InvalidUtf8` as soon as a byte can never be valid there.
fn whole_chars(bytes: &[u8]) -> Result<usize, DraftError> {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(_) => Ok(bytes.len()),
        Err(e) if e.error_len().is_none() => Ok(e.valid_up_to()),
        Err(_) => Err(DraftError::InvalidUtf8),
    }
}

/// Writes `text` as a hixie-75 / hixie-76 text frame (draft-hixie-thewebsocketprotocol-75 / -76 §4.2,
/// §5.3): `00`, the UTF-8 bytes, `FF`. Returns the frame's length, `text.len() + 2`, or `None` (and
/// writes nothing) when `out` is shorter than that.
///
/// ```
/// use websocket_driver::draft::framing::encode_text;
///
/// let mut out = [0u8; 8];
/// assert_eq!(encode_text("Hello", &mut out), Some(7));
/// assert_eq!(&out[..7], b"\x00Hello\xff");
/// assert_eq!(encode_text("Hello!!", &mut out), None);
/// ```
pub fn encode_text(text: &str, out: &mut [u8]) -> Option<usize> {
    let len = text.len().checked_add(2)?;
    let frame = out.get_mut(..len)?;
    frame[0] = 0x00;
    frame[1..len - 1].copy_from_slice(text.as_bytes());
    frame[len - 1] = 0xff;
    Some(len)
}

#[cfg(test)]
mod tests;
