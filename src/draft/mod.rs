//! The legacy hixie-75/76 drafts' data framing (BEHAVIOUR L1–L3), behind the `drafts` feature.
//!
//! Only text travels on the drafts; binary, ping and pong do not exist there. Nothing here knows about
//! connection state: the driver decides what a decoded frame means.

pub mod framing;
