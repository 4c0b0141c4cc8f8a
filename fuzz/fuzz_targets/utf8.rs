//! Fuzzes `utf8::Utf8Validator` against `core::str::from_utf8` (RFC 6455 §8.1, checklist F10).
//!
//! Input: one byte `count` (taken `% 8`), then `count` piece lengths, then the text. The text is fed
//! in those pieces (the last piece takes what is left).
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::utf8::Utf8Validator;

/// True if `bytes` can never become valid UTF-8 however it continues.
fn doomed(bytes: &[u8]) -> bool {
    matches!(core::str::from_utf8(bytes), Err(e) if e.error_len().is_some())
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, data)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 8).min(data.len());
    let (lens, text) = data.split_at(count);

    let mut v = Utf8Validator::new();
    let mut fed = 0; // bytes of `text` fed so far
    let mut boundary = 0; // bytes of `text` known to end on a char boundary
    let mut ok = true;
    for i in 0..=count {
        let rest = text.len() - fed;
        let len = lens.get(i).map_or(rest, |&l| usize::from(l).min(rest));
        let piece = &text[fed..fed + len];
        match v.feed(piece) {
            Ok(n) => {
                assert!(n <= piece.len());
                fed += len;
                // Fail-fast: a feed succeeds only while the text can still become valid.
                assert!(!doomed(&text[..fed]));
                if n > 0 {
                    // The held bytes plus `piece[..n]` are whole chars.
                    let end = fed - len + n;
                    assert!(core::str::from_utf8(&text[boundary..end]).is_ok());
                    boundary = end;
                }
                assert_eq!(fed - boundary, v.pending());
            }
            Err(_) => {
                // Fail-fast: the failing piece brought the first offending byte.
                assert!(!doomed(&text[..fed]));
                assert!(doomed(&text[..fed + len]));
                ok = false;
                break;
            }
        }
    }
    if ok {
        ok = v.finish().is_ok();
        if ok {
            assert_eq!(boundary, text.len());
        }
    }
    assert_eq!(ok, core::str::from_utf8(text).is_ok());
});
