use proptest::prelude::*;

use super::*;
use crate::wire::CloseCode;
use std::string::ToString;

const DEFAULT_MAX: u64 = (1 << 26) - 1;

fn rules(masking: MaskRule) -> Rules {
    Rules {
        allowed_rsv: Rsv::NONE,
        masking,
        max_length: DEFAULT_MAX,
        open_message: None,
    }
}

fn parsed(bytes: &[u8]) -> (FrameHeader, usize) {
    match FrameHeader::parse(bytes) {
        Status::Complete(h) => h,
        Status::Partial => panic!("partial: {bytes:02x?}"),
    }
}

fn encoded(header: FrameHeader) -> std::vec::Vec<u8> {
    header.to_bytes().as_bytes().to_vec()
}

#[test]
fn minimal_length_encoding_vectors() {
    // F15: "Hello" → 81 05; 125 → 7-bit; 126..65535 → 16-bit; 65536 → 64-bit; 70000 → 82 7f … 01 11 70.
    assert_eq!(encoded(FrameHeader::new(OpCode::Text, 5)), [0x81, 0x05]);
    assert_eq!(encoded(FrameHeader::new(OpCode::Binary, 125)), [0x82, 125]);
    assert_eq!(
        encoded(FrameHeader::new(OpCode::Binary, 126)),
        [0x82, 126, 0x00, 0x7e]
    );
    assert_eq!(
        encoded(FrameHeader::new(OpCode::Binary, 65535)),
        [0x82, 126, 0xff, 0xff]
    );
    assert_eq!(
        encoded(FrameHeader::new(OpCode::Binary, 65536)),
        [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]
    );
    assert_eq!(
        encoded(FrameHeader::new(OpCode::Binary, 70000)),
        [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x70]
    );
    // F15: ping("mic check") → 89 09 …; close with 16 bytes → 88 10 ….
    assert_eq!(encoded(FrameHeader::new(OpCode::Ping, 9)), [0x89, 0x09]);
    assert_eq!(encoded(FrameHeader::new(OpCode::Close, 16)), [0x88, 0x10]);
    // A masked client header carries the key after the length.
    let masked = FrameHeader {
        mask: Some([1, 2, 3, 4]),
        ..FrameHeader::new(OpCode::Text, 300)
    };
    assert_eq!(encoded(masked), [0x81, 0xfe, 0x01, 0x2c, 1, 2, 3, 4]);
    assert_eq!(masked.encoded_len(), 8);
}

#[test]
fn parse_reads_every_field() {
    let (h, n) = parsed(&[0x81, 0x05, b'H']);
    assert_eq!(n, 2);
    assert_eq!(h, FrameHeader::new(OpCode::Text, 5));
    let (h, n) = parsed(&[0x41, 0xfe, 0x01, 0x00, 9, 8, 7, 6, 0xaa]);
    assert_eq!(n, 8);
    assert!(!h.fin);
    assert_eq!(h.rsv, Rsv::RSV1);
    assert_eq!(h.opcode, 1);
    assert_eq!(h.mask, Some([9, 8, 7, 6]));
    assert_eq!(h.payload_len, 256);
    assert_eq!(FrameHeader::parse(&[]), Status::Partial);
    assert_eq!(FrameHeader::parse(&[0x82]), Status::Partial);
    assert_eq!(
        FrameHeader::parse(&[0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]),
        Status::Partial
    );
}

fn any_header() -> impl Strategy<Value = FrameHeader> {
    (
        any::<bool>(),
        0u8..8,
        0u8..16,
        any::<Option<[u8; 4]>>(),
        prop_oneof![0u64..130, 120u64..70000, 0u64..(1 << 63)],
    )
        .prop_map(|(fin, rsv, opcode, mask, payload_len)| FrameHeader {
            fin,
            rsv: Rsv::from_bits(rsv << 4),
            opcode,
            mask,
            payload_len,
        })
}

proptest! {
    #[test]
    fn parse_inverts_encode_and_every_prefix_is_partial(h in any_header(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
        let mut bytes = encoded(h);
        let len = bytes.len();
        prop_assert_eq!(len, h.encoded_len());
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(FrameHeader::parse(&bytes), Status::Complete((h, len)));
        for cut in 0..len {
            prop_assert_eq!(FrameHeader::parse(&bytes[..cut]), Status::Partial);
        }
    }

    #[test]
    fn parse_never_panics_and_reencodes_minimally(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        if let Status::Complete((h, n)) = FrameHeader::parse(&bytes) {
            prop_assert!(n <= bytes.len() && n <= MAX_HEADER_LEN);
            prop_assert!(h.encoded_len() <= n);
        }
    }
}

#[test]
fn rsv_bits_need_an_owner_and_a_message_start() {
    // F1: RSV bits no extension owns → 1002; owned bits only on text/binary, never on control/continuation.
    let frame = |b0: u8| parsed(&[b0, 0x80, 0, 0, 0, 0]).0;
    let plain = rules(MaskRule::Required);
    assert_eq!(
        check(&frame(0xc1), &plain),
        Err(ProtocolError::ReservedBits(Rsv::RSV1))
    );
    assert_eq!(
        check(&frame(0xa2), &plain),
        Err(ProtocolError::ReservedBits(Rsv::RSV2))
    );
    assert_eq!(
        check(&frame(0x91), &plain),
        Err(ProtocolError::ReservedBits(Rsv::RSV3))
    );
    let deflate = Rules {
        allowed_rsv: Rsv::RSV1,
        ..plain
    };
    assert_eq!(check(&frame(0xc1), &deflate), Ok(OpCode::Text));
    assert_eq!(
        check(&frame(0xe1), &deflate),
        Err(ProtocolError::ReservedBits(Rsv::RSV1.union(Rsv::RSV2)))
    );
    assert_eq!(
        check(&frame(0xc9), &deflate),
        Err(ProtocolError::ReservedBits(Rsv::RSV1))
    );
    let in_message = Rules {
        open_message: Some(3),
        ..deflate
    };
    assert_eq!(
        check(&frame(0xc0), &in_message),
        Err(ProtocolError::ReservedBits(Rsv::RSV1))
    );
    assert_eq!(
        ProtocolError::ReservedBits(Rsv::RSV1).to_string(),
        "One or more reserved bits are on: reserved1 = 1, reserved2 = 0, reserved3 = 0"
    );
    assert_eq!(
        ProtocolError::ReservedBits(Rsv::RSV1).close_code(),
        CloseCode::PROTOCOL_ERROR
    );
}

#[test]
fn rsv_set_operations() {
    // RFC 6455 §5.2: the three bits as a set; `difference` is what is left once an extension's bits go.
    let all = Rsv::RSV1.union(Rsv::RSV2).union(Rsv::RSV3);
    assert_eq!(all, Rsv::from_bits(0xff));
    assert_eq!(all.difference(Rsv::RSV1), Rsv::RSV2.union(Rsv::RSV3));
    assert_eq!(all.difference(all), Rsv::NONE);
    assert!(Rsv::RSV1.difference(Rsv::RSV1).is_empty());
    assert_eq!(Rsv::RSV2.difference(Rsv::RSV1), Rsv::RSV2);
    assert_eq!(Rsv::NONE.difference(all), Rsv::NONE);
    for bits in 0..=0xffu8 {
        let (a, b) = (Rsv::from_bits(bits), Rsv::from_bits(bits.rotate_left(1)));
        assert_eq!(a.difference(b).union(a.intersection(b)), a);
        assert!(a.difference(b).intersection(b).is_empty());
    }
}

#[test]
fn reserved_opcodes_fail() {
    // F2: opcodes outside {0,1,2,8,9,10} → 1002, "Unrecognized frame opcode: 3" (F14 vector `83 00`).
    let r = Rules {
        masking: MaskRule::Optional,
        ..rules(MaskRule::Optional)
    };
    for op in [3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
        let err = check(&parsed(&[0x80 | op, 0x00]).0, &r).unwrap_err();
        assert_eq!(err, ProtocolError::UnknownOpcode(op));
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
    assert_eq!(
        ProtocolError::UnknownOpcode(3).to_string(),
        "Unrecognized frame opcode: 3"
    );
}

#[test]
fn control_frames_are_final_and_short() {
    // F3: control frame with FIN=0 → 1002. F4: control payload > 125 → 1002.
    let r = rules(MaskRule::Optional);
    assert_eq!(
        check(&parsed(&[0x09, 0x00]).0, &r),
        Err(ProtocolError::FragmentedControl(9))
    );
    assert_eq!(check(&parsed(&[0x89, 125]).0, &r), Ok(OpCode::Ping));
    assert_eq!(
        check(&parsed(&[0x8a, 126, 0, 126]).0, &r),
        Err(ProtocolError::ControlTooLong(126))
    );
    assert_eq!(
        check(&parsed(&[0x88, 127, 0, 0, 0, 0, 0, 0, 1, 0]).0, &r),
        Err(ProtocolError::ControlTooLong(256))
    );
    // A control frame between fragments is fine (F11).
    let mid = Rules {
        open_message: Some(10),
        ..r
    };
    assert_eq!(check(&parsed(&[0x89, 0x00]).0, &mid), Ok(OpCode::Ping));
}

#[test]
fn fragmentation_sequence() {
    // F5: a new data frame inside an open message → 1002. F6: continuation with none open → 1002.
    let r = rules(MaskRule::Optional);
    let open = Rules {
        open_message: Some(3),
        ..r
    };
    assert_eq!(
        check(&parsed(&[0x81, 0x00]).0, &open),
        Err(ProtocolError::UnfinishedMessage)
    );
    assert_eq!(
        check(&parsed(&[0x02, 0x00]).0, &open),
        Err(ProtocolError::UnfinishedMessage)
    );
    assert_eq!(
        check(&parsed(&[0x80, 0x00]).0, &open),
        Ok(OpCode::Continuation)
    );
    assert_eq!(
        check(&parsed(&[0x80, 0x00]).0, &r),
        Err(ProtocolError::UnexpectedContinuation)
    );
    assert_eq!(
        check(&parsed(&[0x00, 0x00]).0, &r),
        Err(ProtocolError::UnexpectedContinuation)
    );
}

#[test]
fn masking_rules_by_role() {
    // F7: server refuses unmasked frames, client refuses masked frames; `require_masking` off accepts both.
    let unmasked = parsed(&[0x81, 0x00]).0;
    let masked = parsed(&[0x81, 0x80, 1, 2, 3, 4]).0;
    assert_eq!(
        check(&unmasked, &rules(MaskRule::Required)),
        Err(ProtocolError::UnmaskedFrame)
    );
    assert_eq!(check(&masked, &rules(MaskRule::Required)), Ok(OpCode::Text));
    assert_eq!(
        check(&masked, &rules(MaskRule::Forbidden)),
        Err(ProtocolError::MaskedFrame)
    );
    assert_eq!(
        check(&unmasked, &rules(MaskRule::Forbidden)),
        Ok(OpCode::Text)
    );
    assert_eq!(
        check(&unmasked, &rules(MaskRule::Optional)),
        Ok(OpCode::Text)
    );
    assert_eq!(check(&masked, &rules(MaskRule::Optional)), Ok(OpCode::Text));
    assert_eq!(
        ProtocolError::UnmaskedFrame.close_code(),
        CloseCode::PROTOCOL_ERROR
    );
}

#[test]
fn length_rules() {
    // F8: 64-bit length with the top bit set → 1002.
    let r = rules(MaskRule::Optional);
    let top = parsed(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]).0;
    assert_eq!(check(&top, &r), Err(ProtocolError::LengthOverflow));
    // F9: vector `81 7f 00 00 00 00 40 00 00 00` → 1009; equal to the limit is allowed; the running total counts.
    let big = parsed(&[0x81, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00]).0;
    assert_eq!(check(&big, &r), Err(ProtocolError::MessageTooBig));
    assert_eq!(
        ProtocolError::MessageTooBig.close_code(),
        CloseCode::TOO_BIG
    );
    let exact = FrameHeader::new(OpCode::Binary, DEFAULT_MAX);
    assert_eq!(check(&exact, &r), Ok(OpCode::Binary));
    let over = FrameHeader::new(OpCode::Binary, DEFAULT_MAX + 1);
    assert_eq!(check(&over, &r), Err(ProtocolError::MessageTooBig));
    let cont = FrameHeader {
        fin: false,
        ..FrameHeader::new(OpCode::Continuation, 10)
    };
    assert_eq!(
        check(
            &cont,
            &Rules {
                open_message: Some(DEFAULT_MAX - 10),
                ..r
            }
        ),
        Ok(OpCode::Continuation)
    );
    assert_eq!(
        check(
            &cont,
            &Rules {
                open_message: Some(DEFAULT_MAX - 9),
                ..r
            }
        ),
        Err(ProtocolError::MessageTooBig)
    );
    let small = Rules { max_length: 4, ..r };
    assert_eq!(
        check(&parsed(&[0x89, 0x05]).0, &small),
        Ok(OpCode::Ping),
        "control frames are not messages"
    );
}

#[test]
fn checks_run_in_the_fixed_order() {
    // F7 F8: RSV, opcode, control rules, sequence, masking, length — a header breaking several rules reports the first.
    let r = Rules {
        open_message: Some(0),
        ..rules(MaskRule::Required)
    };
    // bad RSV + reserved opcode + unmasked + overflow → RSV
    assert!(matches!(
        check(&parsed(&[0x73, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]).0, &r),
        Err(ProtocolError::ReservedBits(_))
    ));
    // reserved opcode + unmasked → opcode
    assert_eq!(
        check(&parsed(&[0x83, 0x00]).0, &r),
        Err(ProtocolError::UnknownOpcode(3))
    );
    // fragmented control + too long + unmasked → fragmented control
    assert_eq!(
        check(&parsed(&[0x09, 0x7e, 0, 200]).0, &r),
        Err(ProtocolError::FragmentedControl(9))
    );
    // sequence + unmasked → sequence
    assert_eq!(
        check(&parsed(&[0x81, 0x00]).0, &r),
        Err(ProtocolError::UnfinishedMessage)
    );
    // unmasked + overflow → masking
    assert_eq!(
        check(&parsed(&[0x80, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]).0, &r),
        Err(ProtocolError::UnmaskedFrame)
    );
}
