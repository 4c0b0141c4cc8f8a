//! websocket-driver: a sans-IO WebSocket protocol driver (skeleton, being filled in).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod error;
pub mod mask_source;
pub mod time;
pub mod wire;
