//! # websocket-driver
//!
//! A sans-IO WebSocket protocol driver (RFC 6455) for three kinds of user at once: firmware with no heap,
//! servers that must not copy or allocate per message, and ordinary applications (through the
//! `websocket-driver-std` crate). The driver never reads a socket, a clock or a random generator: bytes
//! come in through a receive buffer the caller owns, events come out as borrowed views into it, and
//! frames go out through a transmit ring the caller owns and drains.
//!
//! `#![no_std]`, no allocator, `#![forbid(unsafe_code)]`.
//!
//! ## Layers
//! ```text
//!  application ── events (borrowed views) ──▲        ▼── text / binary / ping / close
//!  ┌────────────────────────────────────────┴────────┴───────────────────────────┐
//!  │ driver      state machine: fragmentation, control frames, closing handshake │
//!  ├──────────────────────────┬───────────────────────┬──────────────────────────┤
//!  │ wire  header, opcode,    │ utf8  incremental     │ mask_source  keys and    │
//!  │       close, mask        │       validator       │ time         Instant     │
//!  ├──────────────────────────┴───────────────────────┴──────────────────────────┤
//!  │ buffer      RxBuf (contiguous, in place)      TxRing (whole frames or none) │
//!  └──────────────────────────────────────────────────────────────────────────────┘
//!  I/O layer (yours): read → RxBuf::free_space/commit; TxRing::peek/consume → write
//! ```
//!
//! ## Call order
//! read into [`RxBuf::free_space`] and [`RxBuf::commit`] → [`Driver::poll`] until `Ok(None)` → write out
//! [`TxRing::peek`] and [`TxRing::consume`] → repeat. An event borrows the receive buffer, not the
//! driver, so the application can answer while it holds the data:
//!
//! ```
//! use websocket_driver::{Config, Driver, Event, Instant, RxBuf, TxRing};
//! use websocket_driver::mask_source::SplitMix;
//!
//! let mut rx = RxBuf::new([0u8; 512]);
//! let mut tx = TxRing::new([0u8; 512]);
//! let mut rng = SplitMix::new(1); // a server never masks; clients need a real RNG (rand_core feature)
//! let mut ws = Driver::server_upgraded(Config::default());
//!
//! // What a client sent: a masked "Hello" (RFC 6455 §5.7).
//! let n = rx.write(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//! assert_eq!(n, 11);
//! while let Some(event) = ws.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO).unwrap() {
//!     match event {
//!         Event::Text { data, fin: true } => ws.text(&mut tx, &mut rng, data).unwrap(), // echo
//!         Event::Binary { data, fin: true } => ws.binary(&mut tx, &mut rng, data).unwrap(),
//!         _ => {}
//!     }
//! }
//! assert_eq!(tx.peek(), b"\x81\x05Hello");
//! let sent = tx.peek().len();
//! tx.consume(sent); // after writing them to the socket
//! ```
//!
//! ## RFC sections and where they live
//! | RFC 6455 | module |
//! |---|---|
//! | §1.3, §4.2.2 `Sec-WebSocket-Accept` (the accept key) | [`handshake::accept`] |
//! | §4 opening handshake | [`handshake`]; the driver runs it ([`Driver::accept`], [`Driver::start`]) |
//! | §4.1 client handshake, and the HTTP proxy's `CONNECT` tunnel before it | [`handshake::client`] |
//! | §4.2 server handshake | [`handshake::server`] |
//! | §4.1, §4.2.1 the HTTP heads both sides read | [`handshake::head`] |
//! | §5.2 base framing | [`wire::header`], [`wire::opcode`] |
//! | §5.3 client-to-server masking | [`wire::mask`], [`mask_source`] |
//! | §5.4 fragmentation, §5.5 control frames, §5.6 data frames | [`driver`](Driver) |
//! | §5.5.1 close payload, §7.4 status codes | [`wire::close`] |
//! | §7 closing the connection | [`driver`](Driver) |
//! | §8.1 UTF-8 handling | [`utf8`] |
//! | §9 extensions | negotiation and header grammar in the std crate (`websocket_driver_std::extensions`); here the RSV bits an extension owns ([`Rsv`], [`Driver::set_allowed_rsv`]) and the §9.1 check of the `Sec-WebSocket-Extensions` values the handshake writes (crate-private `handshake::extensions`) |
//! | §10.3 masking (unpredictable keys) | [`mask_source`] |
//! | §10.4 implementation-specific limits (message, frame and head sizes) | [`config`] |
//!
//! | Other RFCs | module |
//! |---|---|
//! | RFC 7692 permessage-deflate | in the std crate, `websocket_driver_std::extensions::PermessageDeflate` |
//! | RFC 7230 §3 HTTP/1.1 heads, §3.2 header fields, §3.2.6 tokens, §7 lists | [`handshake::head`], [`handshake::is_valid_header`] |
//! | RFC 6585 §5 `431 Request Header Fields Too Large` | [`HandshakeError::status`] for [`HandshakeError::HeadTooLarge`] and [`HandshakeError::TooManyHeaders`] |
//! | RFC 7617 Basic authentication from a URL's userinfo | [`handshake::url`] ([`Url`]) |
//!
//! ## Sizes
//! A [`Driver`] is a few dozen bytes (see its docs); buffers are the caller's and may be any size from
//! [`MIN_RX_CAPACITY`] / [`MIN_TX_CAPACITY`] up. A message that fits in the receive buffer arrives as one
//! view; a larger one arrives in chunks.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod buffer;
pub mod config;
#[cfg(feature = "drafts")]
pub mod draft;
mod driver;
pub mod error;
pub mod event;
pub mod handshake;
pub mod mask_source;
mod text;
pub mod time;
pub mod utf8;
pub mod wire;

pub use buffer::{RxBuf, TxError, TxRing};
pub use config::{Config, DEFAULT_MAX_LENGTH};
pub use driver::{Driver, HandshakeCallError, MIN_RX_CAPACITY, MIN_TX_CAPACITY, Role, State};
pub use error::{Error, ProtocolError, SendError, Timeout};
pub use event::{DataKind, Event};
pub use handshake::client::ClientRequest;
pub use handshake::server::{Accept, Refusal};
pub use handshake::url::Url;
pub use handshake::{HandshakeError, Header, Request, Response, Version};
pub use mask_source::MaskSource;
pub use time::{Duration, Instant};
pub use wire::{CloseCode, Rsv};
