//! `serve`: a listener with a thread per connection, safe by default — a handshake timeout, keepalive, and a
//! cap on concurrent connections — and an optional decision on each request before it is accepted.
//!
//! Nothing here reads frames or decides protocol: each connection runs on the engine through
//! [`accept_timed`](super::accept_timed).

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{Accepted, Connection, accept_timed};
use crate::Options;
use crate::engine::{Decision, Engine, RequestHead};

/// What [`serve_with`] applies beyond each connection's [`Options`]: the defaults are safe for a server
/// facing the Internet (each is documented in the crate's security notes).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Each connection's options (subprotocols, limits, …).
    pub options: Options,
    /// A handshake not completed within this is dropped (default: the options', 10 s unless changed):
    /// a slowloris peer holds a thread for at most this long. Overrides `options.handshake_timeout`.
    pub handshake_timeout: Option<Duration>,
    /// Keepalive (RFC 6455 §5.5.2): after this much silence a ping is sent (default: the options',
    /// 30 s unless changed) …
    pub ping_interval: Option<Duration>,
    /// … and a peer silent this long after it is closed with 1006 (default: the options' 20 s).
    pub pong_timeout: Duration,
    /// At most this many connections at once (default 1024): one more is answered
    /// `503 Service Unavailable` and closed, before its request is read.
    pub max_connections: usize,
}

impl ServeOptions {
    /// The safe defaults around `options`: its handshake timeout and keepalive (on by default in
    /// [`Options`]), and a cap of 1024 connections.
    pub fn new(options: Options) -> Self {
        ServeOptions {
            handshake_timeout: options.handshake_timeout,
            ping_interval: options.ping_interval,
            pong_timeout: options.pong_timeout,
            max_connections: 1024,
            options,
        }
    }

    /// Sets `max_connections`.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets `handshake_timeout`.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets `ping_interval` and `pong_timeout`.
    pub fn keepalive(mut self, interval: Option<Duration>, pong_timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.pong_timeout = pong_timeout;
        self
    }

    fn connection_options(&self) -> Options {
        self.options
            .clone()
            .handshake_timeout(self.handshake_timeout)
            .ping_interval(self.ping_interval)
            .pong_timeout(self.pong_timeout)
    }
}

/// Serves `listener` with a thread per connection and the safe defaults of [`ServeOptions::new`]: each
/// WebSocket connection goes to `handler`, plain HTTP requests to `http` with their head and the body
/// bytes that came with them (it writes its own answer). Returns only for a socket that is not
/// listening: an error accepting one connection (out of file descriptors, say) pauses accepting for
/// 250 ms, and a thread that cannot be made drops its connection.
pub fn serve<H, P>(
    listener: TcpListener,
    options: Options,
    setup: fn(&mut Engine),
    handler: H,
    http: P,
) -> io::Result<()>
where
    H: Fn(Connection<TcpStream>) + Send + Sync + 'static,
    P: Fn(RequestHead, Vec<u8>, TcpStream) + Send + Sync + 'static,
{
    serve_with(
        listener,
        ServeOptions::new(options),
        setup,
        |_| None,
        handler,
        http,
    )
}

/// As [`serve`], with the limits of `serve` and `decide` answering each WebSocket request after looking
/// at it (`None`: accept it with the options' subprotocols) — for `Origin` checks and authentication.
pub fn serve_with<D, H, P>(
    listener: TcpListener,
    serve: ServeOptions,
    setup: fn(&mut Engine),
    decide: D,
    handler: H,
    http: P,
) -> io::Result<()>
where
    D: Fn(&RequestHead) -> Option<Decision> + Send + Sync + 'static,
    H: Fn(Connection<TcpStream>) + Send + Sync + 'static,
    P: Fn(RequestHead, Vec<u8>, TcpStream) + Send + Sync + 'static,
{
    let shared = Arc::new((decide, handler, http));
    let active = Arc::new(AtomicUsize::new(0));
    let options = serve.connection_options();
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            // A connection gone before it was accepted, or an interruption: the next one.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            // A socket that is not listening.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => return Err(e),
            // Out of file descriptors (EMFILE) or memory: serving goes on once connections end,
            // rather than stopping for good (a burst of connections would otherwise end the server).
            Err(_) => {
                std::thread::sleep(ACCEPT_BACKOFF);
                continue;
            }
        };
        if active.load(Ordering::Acquire) >= serve.max_connections {
            refuse_over_cap(stream);
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(active.clone());
        let (shared, options) = (shared.clone(), options.clone());
        // A thread that cannot be made (a process or memory limit) drops its connection, not the
        // server.
        let _ = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            let (decide, handler, http) = &*shared;
            let _ = stream.set_nodelay(true);
            match accept_timed(stream, options, setup, decide) {
                Ok(Accepted::WebSocket(connection)) => handler(*connection),
                Ok(Accepted::Http {
                    request,
                    body,
                    stream,
                }) => http(request, body, stream),
                Err(_) => {}
            }
        });
    }
    Ok(())
}

/// How long the accept loop waits after an error that is not the connection's own (out of file
/// descriptors, say) before it accepts again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(250);

/// A connection counted against `max_connections` until its thread ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Over the cap: `503 Service Unavailable`, written without blocking the accept loop, then closed.
fn refuse_over_cap(mut stream: TcpStream) {
    let body = "Too many connections; try again later.\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.set_nonblocking(true);
    let _ = stream.write(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}
