//! Tests of the legacy framing (BEHAVIOUR L1–L3): vectors, every split, bounds, and linear work.

use super::{CLOSE_FRAME, Decoder, DraftError, Frame, encode_text};
use proptest::prelude::*;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

/// A decoded frame, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Text(String),
    Skip(usize),
    Close(usize),
}

/// Feeds `stream` in pieces ending at `cuts` (then the rest), as a growing buffer the caller consumes
/// from; returns the frames and the first error, and checks the contract on every frame.
fn run(mut decoder: Decoder, stream: &[u8], cuts: &[usize]) -> (Vec<Ev>, Option<DraftError>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    let mut fed = 0;
    for end in cuts.iter().copied().chain([stream.len()]) {
        let end = end.clamp(fed, stream.len());
        pending.extend_from_slice(&stream[fed..end]);
        fed = end;
        loop {
            match decoder.decode(&pending) {
                Ok(Some(frame)) => {
                    let consumed = frame.consumed();
                    assert!(consumed > 0 && consumed <= pending.len());
                    events.push(match frame {
                        Frame::Text { text, .. } => {
                            assert!(text.end < consumed);
                            Ev::Text(core::str::from_utf8(&pending[text]).unwrap().to_string())
                        }
                        Frame::Skip { consumed } => Ev::Skip(consumed),
                        Frame::Close { consumed } => Ev::Close(consumed),
                    });
                    pending.drain(..consumed);
                }
                Ok(None) => break,
                Err(error) => {
                    // Sticky: the same error again.
                    assert_eq!(decoder.decode(&pending), Err(error));
                    return (events, Some(error));
                }
            }
        }
    }
    (events, None)
}

fn whole(hixie76: bool, max: u64, stream: &[u8]) -> (Vec<Ev>, Option<DraftError>) {
    run(Decoder::new(hixie76, max), stream, &[])
}

fn text(s: &str) -> Ev {
    Ev::Text(s.to_string())
}

// L1
#[test]
fn hello() {
    let stream = [0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0xff];
    let mut decoder = Decoder::new(true, 1 << 20);
    assert_eq!(
        decoder.decode(&stream),
        Ok(Some(Frame::Text {
            text: 1..6,
            consumed: 7
        }))
    );
    assert_eq!(decoder.decode(&[]), Ok(None));
    assert_eq!(whole(false, 1 << 20, &stream), (vec![text("Hello")], None));
}

// L1
#[test]
fn two_frames_in_one_buffer() {
    let stream = b"\x00Hello\xff\x00\xff\x00w\xc3\xb6rld\xff";
    let expected = vec![text("Hello"), text(""), text("wörld")];
    assert_eq!(whole(true, 1 << 20, stream), (expected, None));
}

// L1: every split of a multi-frame stream gives the same frames.
#[test]
fn every_split() {
    let stream = b"\x00Hi\xff\x81\x03\xff\x00a\x00\xe2\x82\xac!\xff\x05junk\xff\xff\x00";
    let expected = vec![
        text("Hi"),
        Ev::Skip(5),
        text("€!"),
        Ev::Skip(6),
        Ev::Close(2),
    ];
    assert_eq!(whole(true, 1 << 20, stream), (expected.clone(), None));
    for a in 0..=stream.len() {
        for b in a..=stream.len() {
            assert_eq!(
                run(Decoder::new(true, 1 << 20), stream, &[a, b]),
                (expected.clone(), None)
            );
        }
    }
    // One byte at a time.
    let cuts: Vec<usize> = (0..stream.len()).collect();
    assert_eq!(
        run(Decoder::new(true, 1 << 20), stream, &cuts),
        (expected, None)
    );
}

// L1: the length-prefixed frame is skipped.
#[test]
fn length_prefixed_frame_is_skipped() {
    let stream = [
        0x80, 0x02, 0x48, 0x65, 0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0xff,
    ];
    let mut decoder = Decoder::new(true, 1 << 20);
    assert_eq!(
        decoder.decode(&stream),
        Ok(Some(Frame::Skip { consumed: 4 }))
    );
    assert_eq!(
        decoder.decode(&stream[4..]),
        Ok(Some(Frame::Text {
            text: 1..6,
            consumed: 7
        }))
    );
    // A two-byte length: 0x81 0x00 is 128.
    let mut long = vec![0x80, 0x81, 0x00];
    long.extend([0xab; 128]);
    assert_eq!(whole(true, 1 << 20, &long), (vec![Ev::Skip(131)], None));
}

// L2: the length prefix is bounded while it is read.
#[test]
fn huge_length_prefix() {
    let mut stream = vec![0x80];
    stream.extend([0xff; 11]);
    stream.push(0x7f);
    assert_eq!(
        whole(true, 1 << 20, &stream),
        (vec![], Some(DraftError::TooLong))
    );
    // Fails at the byte that crosses max_length (2^20 < 127·128² + … after three bytes), not later.
    let mut decoder = Decoder::new(true, 1 << 20);
    assert_eq!(decoder.decode(&stream[..3]), Ok(None));
    assert_eq!(decoder.decode(&stream[..4]), Err(DraftError::TooLong));
    // Even with no bound at all, the accumulator never overflows.
    assert_eq!(
        whole(true, u64::MAX, &stream),
        (vec![], Some(DraftError::TooLong))
    );
}

// L2: 10,000 continuation bytes, whole and one at a time.
#[test]
fn long_run_of_continuation_bytes() {
    let mut stream = vec![0xff];
    stream.extend([0xff; 10_000]);
    for max in [1 << 20, u64::MAX] {
        assert_eq!(
            whole(true, max, &stream),
            (vec![], Some(DraftError::TooLong))
        );
        let cuts: Vec<usize> = (0..stream.len()).collect();
        assert_eq!(
            run(Decoder::new(false, max), &stream, &cuts),
            (vec![], Some(DraftError::TooLong))
        );
    }
    // Leading zero groups (0x80) keep the length at 0: waiting for more, not an error.
    let mut zeros = vec![0x80];
    zeros.extend([0x80; 10_000]);
    let mut decoder = Decoder::new(true, 16);
    assert_eq!(decoder.decode(&zeros), Ok(None));
}

// L2: the length bound is inclusive.
#[test]
fn length_at_max() {
    let stream = [0x80, 0x03, 1, 2, 3];
    assert_eq!(whole(true, 3, &stream), (vec![Ev::Skip(5)], None));
    assert_eq!(whole(true, 2, &stream), (vec![], Some(DraftError::TooLong)));
}

// L2: a 0xff inside a skipped frame is data, not a terminator.
#[test]
fn ff_inside_skipped_frame_is_data() {
    let stream = [0x81, 0x03, 0xff, 0xff, 0xff, 0x00, 0x41, 0xff];
    assert_eq!(
        whole(true, 1 << 20, &stream),
        (vec![Ev::Skip(5), text("A")], None)
    );
}

// L2: a sentinel frame longer than max_length without a terminator.
#[test]
fn sentinel_frame_too_long() {
    let mut stream = vec![0x00];
    stream.extend([b'a'; 100]);
    assert_eq!(
        whole(true, 64, &stream),
        (vec![], Some(DraftError::TooLong))
    );
    // Byte by byte: fails at the byte after the 64th, without waiting for more.
    let mut decoder = Decoder::new(true, 64);
    assert_eq!(decoder.decode(&stream[..65]), Ok(None));
    assert_eq!(decoder.decode(&stream[..66]), Err(DraftError::TooLong));
    // Exactly max_length bytes, then the terminator: accepted.
    stream.truncate(65);
    stream.push(0xff);
    assert_eq!(whole(true, 64, &stream).0, vec![Ev::Text("a".repeat(64))]);
    // The same for a discarded type, and with max_length 0.
    stream[0] = 0x01;
    assert_eq!(whole(true, 64, &stream), (vec![Ev::Skip(66)], None));
    assert_eq!(
        whole(true, 0, b"\x00\xff\x00a\xff"),
        (vec![text("")], Some(DraftError::TooLong))
    );
}

// L3: hixie-76 closes with FF 00; hixie-75 has no closing frame.
#[test]
fn close_frame() {
    assert_eq!(
        Decoder::new(true, 16).decode(&CLOSE_FRAME),
        Ok(Some(Frame::Close { consumed: 2 }))
    );
    assert_eq!(
        Decoder::new(false, 16).decode(&CLOSE_FRAME),
        Ok(Some(Frame::Skip { consumed: 2 }))
    );
    // The length 0 spelled with a continuation byte is still 0.
    assert_eq!(
        whole(true, 16, &[0xff, 0x80, 0x00]),
        (vec![Ev::Close(3)], None)
    );
    // Other types of length 0, and 0xFF with a length, are skipped.
    assert_eq!(
        whole(true, 16, &[0xfe, 0x00, 0xff, 0x01, 0x00]),
        (vec![Ev::Skip(2), Ev::Skip(3)], None)
    );
    // A close after text, fed byte by byte.
    let stream = b"\x00bye\xff\xff\x00";
    let cuts: Vec<usize> = (0..stream.len()).collect();
    let expected = vec![text("bye"), Ev::Close(2)];
    assert_eq!(run(Decoder::new(true, 16), stream, &cuts), (expected, None));
}

// L1: invalid UTF-8 in text.
#[test]
fn invalid_utf8() {
    for bad in [
        &b"\x00\xc3\x28\xff"[..],
        b"\x00\xed\xa0\x80\xff",
        b"\x00\xf8\xff",
        b"\x00\xe2\x82\xff",
    ] {
        assert_eq!(
            whole(true, 64, bad),
            (vec![], Some(DraftError::InvalidUtf8))
        );
    }
    // Fail fast: before the terminator has arrived.
    assert_eq!(
        Decoder::new(true, 64).decode(b"\x00ok\xc3\x28"),
        Err(DraftError::InvalidUtf8)
    );
    // A char split across calls is fine.
    let mut decoder = Decoder::new(true, 64);
    assert_eq!(decoder.decode(b"\x00\xe2"), Ok(None));
    assert_eq!(decoder.decode(b"\x00\xe2\x82"), Ok(None));
    assert_eq!(
        decoder.decode(b"\x00\xe2\x82\xac\xff"),
        Ok(Some(Frame::Text {
            text: 1..4,
            consumed: 5
        }))
    );
    // Discarded types are not checked.
    assert_eq!(
        whole(true, 64, b"\x01\xc3\x28\xff"),
        (vec![Ev::Skip(4)], None)
    );
}

#[test]
fn encode() {
    let mut out = [0u8; 16];
    let n = encode_text("héllo", &mut out).unwrap();
    assert_eq!(&out[..n], b"\x00h\xc3\xa9llo\xff");
    assert_eq!(whole(true, 16, &out[..n]), (vec![text("héllo")], None));
    assert_eq!(encode_text("", &mut out[..2]), Some(2));
    assert_eq!(encode_text("", &mut out[..1]), None);
    assert_eq!(encode_text("abc", &mut out[..4]), None);
    assert_eq!(
        DraftError::TooLong.to_string(),
        "legacy frame longer than the maximum length"
    );
}

// L1 / F10: a 64 KiB text frame fed one byte at a time is decoded in linear work.
#[test]
fn linear_work_byte_at_a_time() {
    let body = "€".repeat(64 * 1024 / 3);
    let mut stream = vec![0x00];
    stream.extend_from_slice(body.as_bytes());
    stream.push(0xff);
    let mut decoder = Decoder::new(true, 1 << 20);
    for end in 1..stream.len() {
        assert_eq!(decoder.decode(&stream[..end]), Ok(None));
    }
    let frame = decoder.decode(&stream).unwrap().unwrap();
    assert_eq!(frame.consumed(), stream.len());
    // Each byte is searched once and validated at most 1 + 3 times (a split char's bytes wait).
    let (work, len) = (decoder.work, stream.len());
    assert!(
        len <= work && work <= 5 * len,
        "work {work} for {len} bytes"
    );

    // A length-prefixed frame and ASCII text: each byte looked at about once.
    let mut stream = vec![0x80, 0x84, 0x80, 0x00]; // length 65536
    stream.extend([0xff; 65536]);
    stream.push(0x00);
    stream.extend([b'x'; 65536]);
    stream.push(0xff);
    let cuts: Vec<usize> = (0..stream.len()).collect();
    let mut decoder = Decoder::new(true, 1 << 20);
    let mut start = 0;
    for end in cuts.iter().map(|c| c + 1) {
        if let Some(frame) = decoder.decode(&stream[start..end]).unwrap() {
            start += frame.consumed();
        }
    }
    assert_eq!(start, stream.len());
    let (work, len) = (decoder.work, stream.len());
    assert!(
        len <= work && work <= 2 * len,
        "work {work} for {len} bytes"
    );
}

/// One frame of a valid stream, and its encoding.
fn frame() -> impl Strategy<Value = (Vec<u8>, Ev)> {
    prop_oneof![
        any::<String>().prop_map(|s| {
            let mut bytes = vec![0x00];
            bytes.extend_from_slice(s.as_bytes());
            bytes.push(0xff);
            (bytes, Ev::Text(s))
        }),
        (
            0x80u8..=0xfe,
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(kind, data)| {
                let mut bytes = vec![kind];
                let len = data.len();
                if len >= 128 {
                    bytes.push(0x80 | (len >> 7) as u8);
                }
                bytes.push((len & 0x7f) as u8);
                bytes.extend_from_slice(&data);
                let consumed = bytes.len();
                (bytes, Ev::Skip(consumed))
            }),
        (0x01u8..=0x7f, proptest::collection::vec(0u8..0xff, 0..40)).prop_map(|(kind, data)| {
            let mut bytes = vec![kind];
            bytes.extend_from_slice(&data);
            bytes.push(0xff);
            let consumed = bytes.len();
            (bytes, Ev::Skip(consumed))
        }),
    ]
}

proptest! {
    // L1 / L2: random valid streams in random splits decode as in one piece.
    #[test]
    fn random_splits(
        frames in proptest::collection::vec(frame(), 0..12),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..16),
        hixie76 in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (bytes, ev) in frames {
            stream.extend_from_slice(&bytes);
            expected.push(ev);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(whole(hixie76, 1 << 20, &stream), (expected.clone(), None));
        prop_assert_eq!(run(Decoder::new(hixie76, 1 << 20), &stream, &cuts), (expected, None));
    }

    // Any bytes in any splits: no panic, and the same frames and error as in one piece.
    #[test]
    fn arbitrary_bytes(
        stream in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..16),
        max in 0u64..64,
        hixie76 in any::<bool>(),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(run(Decoder::new(hixie76, max), &stream, &cuts), whole(hixie76, max, &stream));
    }
}
