//! Measures the stack's peak use, to report RAM honestly: `.data` and `.bss` are known after linking,
//! the stack only at run time.
//!
//! [`paint`] fills the unused part of the stack (between the end of the statics and the current stack
//! pointer) with a pattern; [`peak`] later finds the lowest word that no longer holds it.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The pattern painted on unused stack.
const PAINT: u32 = 0xC0DE_CAFE;

// Symbols of cortex-m-rt's `link.x`: the stack grows down from `_stack_start` (the top of RAM) to at
// most `_stack_end` (just past `.bss`/`.uninit`). Only their addresses mean anything.
unsafe extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    (
        addr_of!(_stack_end) as usize,
        addr_of!(_stack_start) as usize,
    )
}

/// Paints the stack below the current frame. Call once, early in `main`.
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    // Leave a margin below the stack pointer for this function's own calls.
    let sp = cortex_m::register::msp::read() as usize - 64;
    let mut word = bottom;
    while word < sp {
        // SAFETY: `[bottom, sp)` is RAM between the statics and the live stack: no Rust object is
        // there, and nothing runs below the stack pointer while this loop does (no interrupt handler
        // is enabled yet).
        unsafe { write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// The most stack used since [`paint`], in bytes.
pub fn peak() -> usize {
    let (bottom, top) = bounds();
    let mut word = bottom;
    // SAFETY: reads of RAM inside the stack region, word aligned; whatever is there is a plain u32.
    while word < top && unsafe { read_volatile(word as *const u32) } == PAINT {
        word += 4;
    }
    top - word
}

/// The stack's room: from the end of the statics to the top of RAM, in bytes (the M0 firmware, which
/// includes this file, reports it).
#[allow(
    dead_code,
    reason = "used by embedded-example/m0, which includes this file"
)]
pub fn room() -> usize {
    let (bottom, top) = bounds();
    top - bottom
}
