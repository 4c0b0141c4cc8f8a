//! Frame header: parsing arbitrary bytes never panics, and parse ∘ emit is the identity on what parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::wire::header::{FrameHeader, Rules, Status, check};
use websocket_driver::wire::{MaskRule, Rsv};

fuzz_target!(|data: &[u8]| {
    let Status::Complete((header, len)) = FrameHeader::parse(data) else {
        assert!(
            data.len() < 14,
            "a 14-byte input always holds a whole header"
        );
        return;
    };
    assert!(len <= data.len());
    // Re-encoding uses the minimal length encoding, so it may be shorter, never longer, and parses back.
    let bytes = header.to_bytes();
    assert!(bytes.as_bytes().len() <= len);
    assert_eq!(
        FrameHeader::parse(bytes.as_bytes()),
        Status::Complete((header, bytes.as_bytes().len()))
    );
    // The checks are total: every header gets an answer, for every role.
    for masking in [MaskRule::Required, MaskRule::Forbidden, MaskRule::Optional] {
        for open_message in [None, Some(0), Some(u64::MAX)] {
            let rules = Rules {
                allowed_rsv: Rsv::RSV1,
                masking,
                max_length: 1 << 20,
                open_message,
            };
            if let Ok(op) = check(&header, &rules) {
                assert_eq!(Some(op), header.opcode());
            }
        }
    }
});
