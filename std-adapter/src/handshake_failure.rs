//! Why an opening handshake failed, as the blocking and tokio faces return it: an `io::Error` whose
//! kind says what happened and whose inner error, a [`HandshakeFailure`], keeps the reason and the
//! server's response (RFC 6455 §4.1, H9: the status and headers stay readable after a failure); and
//! how long a server lingers after refusing one.

use std::fmt;
use std::io;
use std::time::Duration;

use websocket_driver::Role;

use crate::CloseEvent;
use crate::engine::Engine;

/// The inner error of a failed handshake's `io::Error`: the reason, and for a client the server's
/// response when one arrived — a redirect's `Location`, a 401's `WWW-Authenticate`.
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use websocket_driver_std::{HandshakeFailure, Options, blocking::Connection};
///
/// match Connection::connect("ws://127.0.0.1:9001/", Options::new(), |_| {}) {
///     Ok(_connection) => {}
///     Err(e) => match HandshakeFailure::of(&e) {
///         Some(failure) if failure.status == Some(401) => {
///             println!("log in first: {:?}", failure.header("WWW-Authenticate"));
///         }
///         _ => return Err(e),
///     },
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeFailure {
    /// What went wrong, as the driver's error event says it.
    pub reason: String,
    /// Client: the response's status, when a response head arrived.
    pub status: Option<u16>,
    /// Client: the response's headers, in order (empty when none arrived).
    pub headers: Vec<(String, String)>,
}

impl HandshakeFailure {
    /// The failure inside `error`, when `error` is a failed handshake's.
    pub fn of(error: &io::Error) -> Option<&HandshakeFailure> {
        error.get_ref()?.downcast_ref()
    }

    /// The first response header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for HandshakeFailure {}

/// How long a server reads (and drops) what a refused client still sends before it closes
/// (RFC 9112 §9.6: closing with unread input resets the connection, and the client may lose the
/// refusal), and how much it reads at most.
pub(crate) const LINGER: Duration = Duration::from_secs(2);
/// See [`LINGER`].
pub(crate) const LINGER_BYTES: usize = 1 << 20;

/// What a handshake under way has reported so far, turned into its error when it closes.
#[derive(Debug, Default)]
pub(crate) struct Failing {
    /// The first error event's text: the reason.
    reason: Option<String>,
}

impl Failing {
    /// An error event of the handshake: the first one is the reason.
    pub(crate) fn error(&mut self, e: &impl fmt::Display) {
        self.reason.get_or_insert_with(|| e.to_string());
    }

    /// The error for a handshake that ended with `close`. Its kind: `TimedOut` when the handshake
    /// timeout ran out, `InvalidData` for a request the server could not accept, `ConnectionRefused`
    /// for a response the client could not. (A request the application refused is returned as
    /// `PermissionDenied` where it is refused.)
    pub(crate) fn into_error(self, engine: &Engine, close: CloseEvent) -> io::Error {
        let kind = if engine.handshake_timed_out() {
            io::ErrorKind::TimedOut
        } else if engine.role() == Role::Client {
            io::ErrorKind::ConnectionRefused
        } else {
            io::ErrorKind::InvalidData
        };
        let reason = match self.reason {
            Some(reason) => reason,
            None if close.reason.is_empty() => "the opening handshake failed".into(),
            None => close.reason,
        };
        io::Error::new(
            kind,
            HandshakeFailure {
                reason,
                status: engine.status(),
                headers: engine.headers().to_vec(),
            },
        )
    }
}

/// The error for a connection that ended during its handshake.
pub(crate) fn ended_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the connection closed during the opening handshake",
    )
}
