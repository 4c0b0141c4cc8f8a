//! HTTP heads: the core's parser (its start-line reader and `httparse`'s header lines) against
//! `httparse`'s own request and response parsers: the same fields or the same error, for any bytes and
//! any header-slot count (BEHAVIOUR H1, H9). The check lives in the crate: the parser is crate-private.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&max, head)) = data.split_first() else {
        return;
    };
    websocket_driver::handshake::fuzz::heads(head, usize::from(max % 70));
});
