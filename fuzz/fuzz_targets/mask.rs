//! Fuzzes `wire::mask` against the byte-loop definition of RFC 6455 §5.3.
//!
//! Input: 4 key bytes, a phase byte, a split-point byte, then the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::wire::mask::{apply, copy_masked};

fuzz_target!(|data: &[u8]| {
    let Some((head, payload)) = data.split_first_chunk::<6>() else {
        return;
    };
    let key = [head[0], head[1], head[2], head[3]];
    let phase = usize::from(head[4]);
    let cut = usize::from(head[5]) % (payload.len() + 1);
    let next = (phase + payload.len()) % 4;

    let mut want = payload.to_vec();
    for (i, b) in want.iter_mut().enumerate() {
        *b ^= key[(phase + i) % 4];
    }

    let mut got = payload.to_vec();
    assert_eq!(apply(&mut got, key, phase), next);
    assert_eq!(got, want);

    let mut copied = vec![0; payload.len()];
    assert_eq!(copy_masked(&mut copied, payload, key, phase), next);
    assert_eq!(copied, got);

    // Two calls with the carried phase equal one call.
    let mut split = payload.to_vec();
    let (a, b) = split.split_at_mut(cut);
    let mid = apply(a, key, phase);
    assert_eq!(apply(b, key, mid), next);
    assert_eq!(split, want);
});
