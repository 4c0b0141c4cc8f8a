//! Streams whose blocking reads and writes can be bounded in time: what lets a blocking connection run
//! its timers — the handshake deadline, keepalive (RFC 6455 §5.5.2), the closing deadline (§7.1.1) — and
//! keeps a peer that stops reading from holding a thread for good.
//!
//! Nothing here reads or writes a byte; it sets the socket options `SO_RCVTIMEO` and `SO_SNDTIMEO`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A stream whose reads and writes can be bounded in time. A blocking [`Connection`](super::Connection)
/// sets its read timeout to wake for the next deadline (keeping a shorter one the application set
/// before handing it the stream, which then surfaces as an error), and, unless one is set, a write
/// timeout of `ping_interval + pong_timeout`: a peer that takes nothing we write for that long is
/// gone, as keepalive would find.
///
/// Implemented for `TcpStream` (and `UnixStream` on Unix), references to them and boxes. A TLS stream
/// over a `TcpStream`: wrap it with [`WithSocket`]. A stream without timeouts (a pipe in a test) can
/// implement this with the default methods, which say `Unsupported`: its connection then handles its
/// timers only when a read returns.
pub trait Timeouts {
    /// The read timeout set now (`None`: reads block for ever).
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Bounds every read to `timeout` (`None`: no bound).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The write timeout set now (`None`: writes block for ever).
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Bounds every write to `timeout` (`None`: no bound).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Shuts down the write half (a TCP FIN): a server that refused a handshake then reads what the
    /// client still sends for a moment before closing (RFC 9112 §9.6). Without it (the default), the
    /// refusal is followed by the close at once.
    fn shutdown_write(&self) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Forwards every method to the socket type's own.
macro_rules! socket_timeouts {
    ($ty:ty) => {
        impl Timeouts for $ty {
            fn read_timeout(&self) -> io::Result<Option<Duration>> {
                <$ty>::read_timeout(self)
            }
            fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                <$ty>::set_read_timeout(self, timeout)
            }
            fn write_timeout(&self) -> io::Result<Option<Duration>> {
                <$ty>::write_timeout(self)
            }
            fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                <$ty>::set_write_timeout(self, timeout)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                <$ty>::shutdown(self, std::net::Shutdown::Write)
            }
        }
    };
}

socket_timeouts!(TcpStream);
#[cfg(unix)]
socket_timeouts!(std::os::unix::net::UnixStream);

/// Forwards every method to the referenced stream's.
macro_rules! forward_timeouts {
    ($($ty:ty),*) => {$(
        impl<T: Timeouts + ?Sized> Timeouts for $ty {
            fn read_timeout(&self) -> io::Result<Option<Duration>> {
                (**self).read_timeout()
            }
            fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                (**self).set_read_timeout(timeout)
            }
            fn write_timeout(&self) -> io::Result<Option<Duration>> {
                (**self).write_timeout()
            }
            fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                (**self).set_write_timeout(timeout)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                (**self).shutdown_write()
            }
        }
    )*};
}

forward_timeouts!(&T, &mut T, Box<T>);

/// A stream that reads and writes through `stream` (a TLS stream, say) and takes its timeouts from
/// `socket`, the TCP connection under it (a `try_clone` of it: the options are the socket's).
#[derive(Debug)]
pub struct WithSocket<S> {
    /// Reads and writes go here.
    pub stream: S,
    /// Timeouts are set here.
    pub socket: TcpStream,
}

impl<S> WithSocket<S> {
    /// `stream`, timed through `socket`.
    pub fn new(stream: S, socket: TcpStream) -> Self {
        WithSocket { stream, socket }
    }
}

impl<S: Read> Read for WithSocket<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl<S: Write> Write for WithSocket<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl<S> Timeouts for WithSocket<S> {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.socket.read_timeout()
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.socket.set_read_timeout(timeout)
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.socket.write_timeout()
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.socket.set_write_timeout(timeout)
    }
}
