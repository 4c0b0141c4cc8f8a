//! The DEFLATE side of permessage-deflate (RFC 7692 §7.2): compressing and inflating one message.
//!
//! This module holds the compressor and decompressor of one connection (raw DEFLATE, RFC 1951, through
//! `flate2` on `zlib-rs`); inflated text is checked as it comes out with the core's incremental
//! [`Utf8Validator`] (RFC 6455 §8.1). It must never inflate more than `max_length + 1` bytes of one
//! message, never hold a whole invalid text message before refusing it, never compress with a window
//! the agreement does not allow (nor an 8-bit one, which zlib cannot make), and never lose the peer's
//! window when a final block (RFC 7692 §7.2.3.4) ends zlib's stream.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use websocket_driver::utf8::Utf8Validator;

use crate::extensions::{CloseCode, ExtensionError};

/// The octets a sync flush ends with, removed when sending and appended when receiving (RFC 7692 §7.2.1,
/// §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The first and the largest output step while inflating, in bytes.
const MIN_STEP: usize = 4 * 1024;
const MAX_STEP: usize = 256 * 1024;

/// A message may end a DEFLATE stream (a final block, RFC 7692 §7.2.3.4) with more payload after it
/// twice, and once more per this many bytes it inflates: each such end costs a window restore of up to
/// 32 KiB.
const STREAM_OUTPUT: usize = 4 * 1024;

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
    /// Under context takeover: the last 2^bits bytes inflated, to restore the window after a final
    /// block. Unused (never allocated) otherwise.
    history: History,
}

impl Inflater {
    pub(crate) fn new(bits: u8, reset: bool) -> Self {
        debug_assert!((9..=15).contains(&bits));
        Inflater {
            state: None,
            bits,
            reset,
            history: History::new(1 << bits),
        }
    }

    /// Inflates one message payload with `00 00 ff ff` appended (RFC 7692 §7.2.2). Stops with 1009 once
    /// more than `max_length` bytes come out (having inflated at most `max_length + 1`), with 1007 as soon
    /// as a text message's output is not UTF-8 (RFC 6455 §8.1; checked after each output step of 4 to
    /// 256 KiB), with 1010 on corrupt DEFLATE data.
    ///
    /// A final block (BFINAL, RFC 7692 §7.2.3.4) ends zlib's stream. Payload after it is inflated as a
    /// new stream that starts with the same window (RFC 7692 §7.2.2), e.g. the `00` that, with the
    /// appended octets, makes an empty stored block; a message that ends with a final block leaves the
    /// decompressor ready for the next message with that window, unless the peer takes over no context.
    /// Beyond two, a message may hold one final block followed by more payload per [`STREAM_OUTPUT`]
    /// bytes it inflates (else 1010), which keeps the cost of restoring windows in proportion to the
    /// output. After an error the stream state is unspecified: the connection is to be failed.
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
        // Under context takeover the window spans messages; otherwise it is this message's output.
        let mut history = (!self.reset).then_some(&mut self.history);
        let mut run = Run::new(max_length, text);
        let mut restarts = 0;
        let mut ended = false;
        'inputs: for (mut input, is_tail) in [(payload, false), (&TAIL[..], true)] {
            while let Some(pos) = run.feed(d, input)? {
                let rest = &input[pos..];
                if is_tail || rest.is_empty() {
                    // Only our `00 00 ff ff` follows the final block: the message ends with it.
                    ended = true;
                    break 'inputs;
                }
                if pos == 0 {
                    // A stream cannot end without reading a block header: no restart loop.
                    return Err(extension_error("compressed data made no progress"));
                }
                if restarts > 1 + run.out.len() / STREAM_OUTPUT {
                    return Err(extension_error("too many final blocks in one message"));
                }
                restarts += 1;
                run.restart(d, history.as_deref_mut(), bits)?;
                input = rest;
            }
        }
        run.finish()?;
        if self.reset {
            // The peer keeps no context: release the state until its next message.
            self.state = None;
        } else if ended {
            // The next message goes on with this window (RFC 7692 §7.2.2).
            run.restart(d, history, bits)?;
        } else if let Some(history) = history {
            history.push(&run.out[run.kept..]);
        }
        Ok(run.out)
    }

    /// Frees the decompressor (RFC 7692 §7.2.2 state) and the kept window, e.g. when the connection
    /// closes.
    pub(crate) fn free(&mut self) {
        self.state = None;
        self.history = History::new(1 << self.bits);
    }
}

/// One message being inflated: its output so far, bounded by `limit`, and the UTF-8 check of a text
/// message (RFC 6455 §8.1).
struct Run {
    out: Vec<u8>,
    /// `max_length + 1`: the most that may be inflated.
    limit: u64,
    utf8: Option<Utf8Validator>,
    /// `out[..kept]` is in the connection's [`History`] already.
    kept: usize,
}

impl Run {
    fn new(max_length: u64, text: bool) -> Self {
        Run {
            out: Vec::new(),
            limit: max_length.saturating_add(1),
            utf8: text.then(Utf8Validator::new),
            kept: 0,
        }
    }

    /// Inflates `input` in output steps of 4 to 256 KiB. `Some(pos)` when a final block ended the
    /// stream after `pos` bytes of `input` (RFC 7692 §7.2.3.4), `None` when all of it went in; 1009, 1007
    /// and 1010 as for [`Inflater::inflate`].
    fn feed(&mut self, d: &mut Decompress, input: &[u8]) -> Result<Option<usize>, ExtensionError> {
        let mut pos = 0;
        loop {
            let start = self.out.len();
            // At least 1: `start >= limit` returned below.
            let remaining = usize::try_from(self.limit - start as u64).unwrap_or(usize::MAX);
            let room = remaining.min(start.clamp(MIN_STEP, MAX_STEP));
            if self.out.capacity() - start < room {
                // Grow geometrically, but never past `max_length + 1` bytes.
                self.out.reserve_exact(room.max(start).min(remaining));
            }
            self.out.resize(start + room, 0);
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d.decompress(&input[pos..], &mut self.out[start..], FlushDecompress::Sync);
            let consumed = (d.total_in() - in0) as usize;
            let produced = (d.total_out() - out0) as usize;
            self.out.truncate(start + produced);
            #[cfg(test)]
            INFLATED.with(|c| {
                let (o, i) = c.get();
                c.set((o + produced as u64, i + consumed as u64));
            });
            pos += consumed;
            let status = status.map_err(|_| extension_error("invalid compressed data"))?;
            if let Some(utf8) = &mut self.utf8 {
                utf8.feed(&self.out[start..]).map_err(|_| invalid_utf8())?;
            }
            if self.out.len() as u64 >= self.limit {
                return Err(ExtensionError::processing(
                    CloseCode::TOO_BIG,
                    "message too big",
                ));
            }
            if status == Status::StreamEnd {
                return Ok(Some(pos));
            }
            if pos == input.len() && produced < room {
                return Ok(None);
            }
            if consumed == 0 && produced == 0 {
                return Err(extension_error("compressed data made no progress"));
            }
        }
    }

    /// Starts a new stream after a final block with the window the peer compresses against (RFC 7692
    /// §7.2.2, §7.2.3.4): the last 2^bits bytes inflated, from this message's output and, under context
    /// takeover (`history`), the earlier messages'. zlib forgets its window when its stream ends and
    /// `flate2` cannot read it out, so it is given back as a preset dictionary (raw inflate takes one at
    /// any time).
    fn restart(
        &mut self,
        d: &mut Decompress,
        history: Option<&mut History>,
        bits: u8,
    ) -> Result<(), ExtensionError> {
        d.reset(false);
        let window = match history {
            Some(history) => {
                history.push(&self.out[self.kept..]);
                self.kept = self.out.len();
                history.contiguous()
            }
            None => &self.out[self.out.len().saturating_sub(1 << bits)..],
        };
        if !window.is_empty() {
            d.set_dictionary(window)
                .map_err(|_| extension_error("could not restore the compression window"))?;
        }
        Ok(())
    }

    /// The end of a text message must not cut a character (RFC 6455 §8.1).
    fn finish(&mut self) -> Result<(), ExtensionError> {
        match &mut self.utf8 {
            Some(utf8) => utf8.finish().map_err(|_| invalid_utf8()),
            None => Ok(()),
        }
    }
}

/// The last up to `cap` (2^bits) bytes inflated on a connection, kept under context takeover to
/// restore the window after a final block (RFC 7692 §7.2.2). A ring, allocated on first use and grown
/// geometrically up to `cap` bytes as output arrives (at most 32 KiB), then overwritten oldest first;
/// bytes are never shifted except to line the ring up when a window is restored.
#[derive(Debug)]
struct History {
    buf: Vec<u8>,
    /// Where the oldest byte is once `buf` is full (0 before).
    start: usize,
    cap: usize,
}

impl History {
    fn new(cap: usize) -> Self {
        History {
            buf: Vec::new(),
            start: 0,
            cap,
        }
    }

    /// Appends `data`, keeping the last `cap` bytes; copies at most `cap` bytes.
    fn push(&mut self, mut data: &[u8]) {
        if data.len() >= self.cap {
            data = &data[data.len() - self.cap..];
            self.buf.clear();
            self.start = 0;
        }
        let free = (self.cap - self.buf.len()).min(data.len());
        if free > 0 {
            let wanted = self.buf.len() + free;
            if wanted > self.buf.capacity() {
                let grown = wanted.max(2 * self.buf.capacity()).min(self.cap);
                self.buf.reserve_exact(grown - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..free]);
            data = &data[free..];
        }
        // Full now if anything is left: overwrite the oldest bytes, wrapping at most once.
        while !data.is_empty() {
            let n = (self.buf.len() - self.start).min(data.len());
            self.buf[self.start..self.start + n].copy_from_slice(&data[..n]);
            self.start = (self.start + n) % self.buf.len();
            data = &data[n..];
        }
    }

    /// The kept bytes, oldest first.
    fn contiguous(&mut self) -> &[u8] {
        self.buf.rotate_left(self.start);
        self.start = 0;
        &self.buf
    }
}

#[cfg(test)]
mod history_tests {
    use super::History;

    #[test]
    fn the_ring_keeps_the_last_bytes() {
        // X5: the window kept for RFC 7692 §7.2.2 is the last `cap` bytes pushed, in order, whatever the
        // split of the pushes, and never takes more than `cap` bytes of memory.
        for cap in [1usize, 5, 16, 512] {
            let mut ring = History::new(cap);
            let mut all = Vec::new();
            let mut x = cap as u32;
            for step in 0..400 {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let len = (x >> 16) as usize % (3 * cap + 2);
                let data: Vec<u8> = (0..len).map(|i| (step * 7 + i) as u8).collect();
                ring.push(&data);
                all.extend_from_slice(&data);
                if step % 3 == 0 {
                    let expected = &all[all.len().saturating_sub(cap)..];
                    assert_eq!(ring.contiguous(), expected, "cap {cap}, step {step}");
                }
                assert!(ring.buf.capacity() <= cap, "cap {cap}");
            }
        }
    }
}
