//! permessage-deflate inflation (checklist X5): a server session receiving arbitrary compressed messages
//! (RSV1 set) with `max_length` 16 KiB never panics and never returns more than `max_length` bytes.
//!
//! The first input byte is a control byte: bit 0 text or binary, bit 1 which fixed offer is negotiated
//! (context takeover or not), bits 2..=4 how many messages (1 to 8) the rest is cut into, so sequences
//! exercise the kept LZ77 window. Bit 5 clear: the rest is the compressed payloads, as they come. Bit 5
//! set: the rest is plain text, repeated up to the length bits 6..=7 pick (up to 17 kB) and compressed by
//! our own client first, so valid streams past `max_length` are common; then the results are checked
//! exactly (equal to what was sent, or 1009 for a message over `max_length`, 1007 for bad UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver_std::extensions::{
    CloseCode, DataKind, ExtensionError, Extensions, Message, PermessageDeflate, Rsv,
};

/// Small enough that an input is quick (the inflater's output still grows in several steps), large
/// enough that messages past it are common.
const MAX_LENGTH: u64 = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let offer = if control & 2 == 0 {
        "permessage-deflate; client_max_window_bits"
    } else {
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"
    };
    let mut server = Extensions::new();
    server.add(Box::new(PermessageDeflate::new())).unwrap();
    let response = server
        .generate_response(offer)
        .unwrap()
        .expect("the fixed offer is accepted");
    let kind = if control & 1 == 0 {
        DataKind::Binary
    } else {
        DataKind::Text
    };
    let count = usize::from((control >> 2) & 7) + 1;

    // (payload, the plain message when we compressed it ourselves)
    let messages: Vec<(Vec<u8>, Option<Vec<u8>>)> = if control & 0x20 == 0 {
        let size = rest.len().div_ceil(count).max(1);
        rest.chunks(size).map(|p| (p.to_vec(), None)).collect()
    } else {
        let mut client = Extensions::new();
        client.add(Box::new(PermessageDeflate::new())).unwrap();
        client.generate_offer().unwrap();
        client.activate(&response).unwrap();
        let len = [0, 1_000, 6_000, 17_000][usize::from(control >> 6)].max(rest.len());
        let plain: Vec<u8> = rest.iter().copied().cycle().take(len).collect();
        let size = plain.len().div_ceil(count).max(1);
        plain
            .chunks(size)
            .map(|m| {
                let sent = client.process_outgoing(Message {
                    kind,
                    rsv: Rsv::NONE,
                    data: m.to_vec(),
                });
                (sent.unwrap().data, Some(m.to_vec()))
            })
            .collect()
    };

    for (payload, plain) in messages {
        let msg = Message {
            kind,
            rsv: Rsv::RSV1,
            data: payload,
        };
        let result = server.process_incoming(msg, MAX_LENGTH);
        if let Ok(msg) = &result {
            assert!(msg.data.len() as u64 <= MAX_LENGTH);
            assert_eq!(msg.rsv, Rsv::NONE);
            if kind == DataKind::Text {
                assert!(std::str::from_utf8(&msg.data).is_ok());
            }
        }
        if let Some(plain) = plain {
            let utf8_ok = kind == DataKind::Binary || std::str::from_utf8(&plain).is_ok();
            match &result {
                Ok(msg) => assert!(msg.data == plain && utf8_ok),
                Err(ExtensionError::Processing {
                    code: CloseCode::TOO_BIG,
                    ..
                }) => {
                    assert!(plain.len() as u64 > MAX_LENGTH)
                }
                Err(ExtensionError::Processing {
                    code: CloseCode::INVALID_DATA,
                    ..
                }) => assert!(!utf8_ok),
                Err(e) => panic!("our own stream refused: {e}"),
            }
        }
        if result.is_err() {
            break; // the connection is failed; its state is not used again
        }
    }
    server.close();
});
