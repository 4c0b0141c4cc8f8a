//! The short path for the most common input: a whole, unfragmented text or binary frame at the front of
//! the receive buffer while nothing else is in progress (RFC 6455 §5.2, §5.6).
//!
//! It takes only frames that the full path (`recv.rs`) would deliver as one message event with the same
//! checks passing — FIN set, no RSV bit, opcode 1 or 2, masking as the role requires (F7), length within
//! `max_length` (F8, F9), all of it buffered — and declines everything else, which the full path then
//! handles from the same bytes. The split property tests feed every frame both ways and demand identical
//! events.
//!
//! Not built for bare-metal targets (`target_os = "none"`): there the 650 bytes of flash it costs on a
//! Cortex-M count for more than the speed it buys, and every frame takes the full path.

use super::state::{Keepalive, Link, Ping};
use super::{Driver, Role};
use crate::event::DataKind;
use crate::wire::{FrameHeader, Status};

/// A whole data frame the short path takes: its kind, where its payload lies in the readable bytes, and
/// its masking key.
pub(super) struct WholeFrame {
    pub(super) kind: DataKind,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) mask: Option<[u8; 4]>,
}

impl Driver {
    /// The whole frame at the front of `bytes`, when the short path may take it.
    #[inline]
    pub(super) fn whole_frame(&self, bytes: &[u8]) -> Option<WholeFrame> {
        // Open and announced, no keepalive ping owed, no message or frame under way, nothing kept.
        let Link::Open {
            announced: true,
            keepalive: Keepalive {
                ping: Ping::Quiet, ..
            },
        } = self.link
        else {
            return None;
        };
        let recv = &self.recv;
        if recv.frame.is_some() || recv.message.is_some() || (recv.held | recv.cursor) != 0 {
            return None;
        }
        if self.on_draft() {
            return None;
        }
        let kind = match bytes.first() {
            Some(0x81) => DataKind::Text,
            Some(0x82) => DataKind::Binary,
            // Not FIN, an RSV bit, another opcode, nothing: the full path decides.
            _ => return None,
        };
        let Status::Complete((header, start)) = FrameHeader::parse(bytes) else {
            return None;
        };
        let masked_ok = match (self.role, header.mask.is_some()) {
            (Role::Client, masked) => !masked,
            (Role::Server, masked) => masked || !self.config.require_masking,
        };
        // F8 (the top bit) and F9; the buffered length bounds the rest.
        let fits = header.payload_len <= self.config.max_length
            && header.payload_len <= (bytes.len() - start) as u64;
        if !masked_ok || !fits {
            return None;
        }
        Some(WholeFrame {
            kind,
            start,
            end: start + header.payload_len as usize,
            mask: header.mask,
        })
    }
}
