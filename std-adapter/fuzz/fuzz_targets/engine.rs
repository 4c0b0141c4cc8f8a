//! Arbitrary peer bytes into an open engine (the connection engine of `websocket-driver-std`): server or
//! client, permessage-deflate negotiated or not, fed in arbitrary splits, by an application that drains
//! its output after every event or never does (a peer that does not read). Nothing panics; the receive
//! buffer stays within `receive_buffer` and the output ring within `transmit_buffer` plus one frame's
//! slack (reading stops above the high-water mark); no message is longer than `max_length`; a failure
//! is reported once and followed by the close event; nothing comes after the close event; and an engine
//! that wants to read always takes bytes.
//!
//! The first byte is a control byte: bit 0 the server (else the client), bit 1 permessage-deflate,
//! bit 2 the output is drained, bits 3..=7 the split (0: as much as the engine takes, else 1 to 31
//! bytes).
#![no_main]

#[path = "../common/pair.rs"]
mod pair;

use libfuzzer_sys::fuzz_target;
use pair::{MAX_LENGTH, RECEIVE_BUFFER, TRANSMIT_BUFFER, open_pair};
use websocket_driver::Instant;
use websocket_driver_std::Message;
use websocket_driver_std::engine::Event;

/// The engine's room past the high-water mark for the frame that crosses it.
const TX_SLACK: usize = 1024;

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let (server, client) = open_pair(control & 2 != 0);
    let mut engine = if control & 1 != 0 { server } else { client };
    assert_eq!(
        engine.extensions().active().count(),
        usize::from(control & 2 != 0)
    );
    let drain = control & 4 != 0;
    let split = usize::from(control >> 3);
    let (mut errors, mut closed, mut rest) = (0, false, data);
    while !rest.is_empty() && engine.wants_read() {
        let want = if split == 0 {
            rest.len()
        } else {
            split.min(rest.len())
        };
        let n = engine.receive(&rest[..want]);
        assert!(n > 0, "the engine wants to read but takes nothing");
        rest = &rest[n..];
        while let Some(event) = engine.next_event(Instant::ZERO) {
            assert!(!closed, "an event after the close event: {event:?}");
            match event {
                Event::Message(Message::Text(text)) => assert!(text.len() as u64 <= MAX_LENGTH),
                Event::Message(Message::Binary(bytes)) => {
                    assert!(bytes.len() as u64 <= MAX_LENGTH)
                }
                Event::Error(_) => errors += 1,
                Event::Close(_) => closed = true,
                _ => {}
            }
            assert!(errors <= 1, "a second failure reported");
            if drain {
                let n = engine.output().len();
                engine.consume_output(n);
            }
        }
        assert!(engine.buffer_capacity() <= RECEIVE_BUFFER + TRANSMIT_BUFFER + TX_SLACK);
        assert!(engine.buffered_amount() <= TRANSMIT_BUFFER + TX_SLACK);
    }
    assert!(
        errors == 0 || closed,
        "a failure is followed by the close event"
    );
});
