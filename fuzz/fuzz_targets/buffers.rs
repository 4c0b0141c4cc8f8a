//! Runs an operation sequence against `RxBuf` and `TxRing` and `VecDeque<u8>` models, asserting
//! that the bytes read back equal the model's (the check lives in the crate: the buffers' driver side
//! is crate-private).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| websocket_driver::buffer::fuzz::buffers(data));
