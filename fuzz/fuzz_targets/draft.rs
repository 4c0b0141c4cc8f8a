//! Fuzzes `draft::framing::Decoder`, the hixie-75/76 frame decoder (draft-hixie-thewebsocketprotocol-75 /
//! -76 §5.3, behaviour L1–L3), with hixie-76 and hixie-75 rules and `max_length` 4096.
//!
//! Input: one byte `count` (taken `% 16`), then `count` step bytes, then the stream. The stream is fed
//! as a growing buffer whose end advances by each step in turn (then to the end of the stream). No
//! panic; every frame lies within the buffer it was decoded from and is well formed; and the frames
//! and the first error are the same as when the whole stream is decoded in one piece.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::draft::framing::{Decoder, DraftError, Frame};

const MAX_LENGTH: u64 = 4096;

/// Decodes `stream` fed up to each of `ends` in turn, then whole; returns each frame with the offset
/// of its first byte in `stream`, and the first error.
fn decode(
    hixie76: bool,
    stream: &[u8],
    ends: &[usize],
) -> (Vec<(usize, Frame)>, Option<DraftError>) {
    let mut decoder = Decoder::new(hixie76, MAX_LENGTH);
    let mut frames = Vec::new();
    let mut start = 0; // where the undecoded bytes start
    for &fed in ends.iter().chain([&stream.len()]) {
        loop {
            let buf = &stream[start..fed];
            match decoder.decode(buf) {
                Ok(Some(frame)) => {
                    let consumed = frame.consumed();
                    assert!(
                        consumed >= 2 && consumed <= buf.len(),
                        "{frame:?} in {buf:?}"
                    );
                    match &frame {
                        Frame::Text { text, consumed } => {
                            assert_eq!((buf[0], buf[consumed - 1]), (0x00, 0xff));
                            assert_eq!(*text, 1..consumed - 1);
                            assert!(core::str::from_utf8(&buf[text.clone()]).is_ok());
                            assert!(text.len() as u64 <= MAX_LENGTH);
                        }
                        Frame::Close { .. } => {
                            assert!(hixie76 && buf[0] == 0xff);
                            assert!(buf[1..consumed].iter().all(|&b| b & 0x7f == 0));
                        }
                        Frame::Skip { .. } => assert_ne!(buf[0], 0x00),
                        _ => {}
                    }
                    frames.push((start, frame));
                    start += consumed;
                }
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(decoder.decode(buf), Err(error)); // errors are sticky
                    return (frames, Some(error));
                }
            }
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, data)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 16).min(data.len());
    let (steps, stream) = data.split_at(count);
    let mut ends = Vec::with_capacity(count);
    let mut end = 0;
    for &step in steps {
        end = (end + usize::from(step)).min(stream.len());
        ends.push(end);
    }
    for hixie76 in [true, false] {
        let whole = decode(hixie76, stream, &[]);
        let split = decode(hixie76, stream, &ends);
        assert_eq!(whole, split);
        // Byte by byte, too, for short inputs.
        if stream.len() <= 64 {
            let each: Vec<usize> = (0..stream.len()).collect();
            assert_eq!(whole, decode(hixie76, stream, &each));
        }
    }
});
