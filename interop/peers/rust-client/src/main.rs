//! Interop checks of the `websocket-driver-std` blocking client API against an independent echo server
//! (the Python `websockets` and Node `ws` peers in `interop/peers/`), run by `scripts/interop-peers.sh`:
//!
//! ```text
//! interop-rust-client NAME ws://127.0.0.1:PORT
//! ```
//!
//! The server echoes text as text and binary as binary, negotiates permessage-deflate when offered and
//! the subprotocol `chat` when offered, refuses the handshake on `/refuse` with 403, and on the text
//! message `!close CODE REASON` closes with that code and reason. Prints one line per check,
//! `PASS rust-client-vs-NAME/CHECK` or `FAIL rust-client-vs-NAME/CHECK: DETAIL`, and exits 1 if any failed.
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use websocket_driver_std::blocking::{Connection, Incoming};
use websocket_driver_std::{Message, Options, PermessageDeflate};

const SIZES: [usize; 7] = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const TIMEOUT: Duration = Duration::from_secs(15);

type Check = Result<(), String>;

struct Checks {
    prefix: String,
    passed: u32,
    failed: u32,
}

impl Checks {
    fn report(&mut self, name: &str, result: Check) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {}/{name}", self.prefix);
            }
            Err(detail) => {
                self.failed += 1;
                println!("FAIL {}/{name}: {detail}", self.prefix);
            }
        }
    }
}

/// SplitMix64: deterministic data, so a failing size can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;éüßøπжЖ€✓😀";

fn random_text(rng: &mut Rng, n: usize) -> String {
    let chars: Vec<char> = ALPHABET.chars().collect();
    let mut out = String::with_capacity(n);
    loop {
        let ch = chars[(rng.next() % chars.len() as u64) as usize];
        if out.len() + ch.len_utf8() > n {
            break;
        }
        out.push(ch);
    }
    while out.len() < n {
        out.push('a');
    }
    out
}

/// Text of exactly `n` UTF-8 bytes with 1- to 4-byte characters: a random block of at most 4 KiB, repeated.
fn make_text(n: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let block = random_text(&mut rng, n.min(4096));
    if block.is_empty() {
        return block;
    }
    let mut text = block.repeat(n / block.len());
    text.push_str(&random_text(&mut rng, n % block.len()));
    assert_eq!(text.len(), n);
    text
}

/// `n` bytes: a random half and a repetitive half (so deflate has something to do).
fn make_binary(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            if i < n / 2 {
                rng.next() as u8
            } else {
                (i * 7) as u8
            }
        })
        .collect()
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text of {} bytes", text.len()),
        Message::Binary(data) => format!("binary of {} bytes", data.len()),
    }
}

/// Connects over a TCP stream that has a read timeout from the start, so that a server that never
/// answers the handshake fails the check instead of hanging it.
fn connect(url: &str, options: Options, deflate: bool) -> io::Result<Connection<TcpStream>> {
    connect_with(url, options, deflate.then(PermessageDeflate::new))
}

/// [`connect`] with a configured permessage-deflate, or none.
fn connect_with(
    url: &str,
    options: Options,
    deflate: Option<PermessageDeflate>,
) -> io::Result<Connection<TcpStream>> {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("not a ws: URL: {url}"))
        })?;
    let address = authority.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {authority}"),
        )
    })?;
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    Connection::client(stream, url, options, |driver| {
        if let Some(deflate) = deflate {
            driver.add_extension(Box::new(deflate));
        }
    })
    .map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io::Error::new(
            e.kind(),
            format!("no answer to the handshake within {} s", TIMEOUT.as_secs()),
        ),
        _ => e,
    })
}

/// The next event that is not a ping (pings are answered by the driver).
fn next(connection: &mut Connection<TcpStream>, waiting_for: &str) -> Result<Incoming, String> {
    loop {
        match connection.recv() {
            Ok(Some(Incoming::Ping(_))) => continue,
            Ok(Some(incoming)) => return Ok(incoming),
            Ok(None) => return Err(format!("connection ended waiting for {waiting_for}")),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("timed out waiting for {waiting_for}"));
            }
            Err(e) => return Err(format!("I/O error waiting for {waiting_for}: {e}")),
        }
    }
}

fn echo(connection: &mut Connection<TcpStream>, message: Message) -> Check {
    connection
        .send(message.clone())
        .map_err(|e| format!("send failed: {e}"))?;
    match next(connection, "the echo")? {
        Incoming::Message(got) if got == message => Ok(()),
        Incoming::Message(got) => Err(format!(
            "sent {}, got {}{}",
            describe(&message),
            describe(&got),
            if std::mem::discriminant(&got) == std::mem::discriminant(&message) {
                " (different content)"
            } else {
                ""
            }
        )),
        other => Err(format!(
            "sent {}, got {other:?} instead of the echo",
            describe(&message)
        )),
    }
}

fn extension_header(connection: &Connection<TcpStream>) -> Option<String> {
    connection
        .driver()
        .headers()
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.clone())
}

/// Closes with `code` and `reason`, and expects the peer's answer to carry the same.
fn close_round_trip(connection: &mut Connection<TcpStream>, code: u16, reason: &str) -> Check {
    connection
        .close(code, reason)
        .map_err(|e| format!("close failed: {e}"))?;
    match next(connection, "the close")? {
        Incoming::Close(event) if event.code == code && event.reason == reason => {}
        Incoming::Close(event) => {
            return Err(format!(
                "sent close {code} {reason:?}, got close {} {:?}",
                event.code, event.reason
            ));
        }
        other => return Err(format!("sent close {code}, got {other:?}")),
    }
    match connection.recv() {
        Ok(None) => Ok(()),
        other => Err(format!(
            "after the close, recv gave {other:?} instead of the end"
        )),
    }
}

fn mode(checks: &mut Checks, base: &str, deflate: bool) {
    let mode = if deflate { "deflate" } else { "plain" };
    let url = format!("{base}/");
    let mut connection = match connect(&url, Options::new(), deflate) {
        Ok(connection) => connection,
        Err(e) => {
            checks.report(&format!("{mode}/connect"), Err(e.to_string()));
            return;
        }
    };
    let header = extension_header(&connection);
    let result = match (deflate, &header) {
        (true, Some(h)) if h.contains("permessage-deflate") => Ok(()),
        (false, None) => Ok(()),
        _ => Err(format!(
            "deflate {}, response Sec-WebSocket-Extensions {header:?}",
            if deflate { "offered" } else { "not offered" }
        )),
    };
    checks.report(&format!("{mode}/extension"), result);

    for n in SIZES {
        let result = echo(&mut connection, Message::Text(make_text(n, n as u64)));
        checks.report(&format!("{mode}/echo-text-{n}"), result);
        let result = echo(
            &mut connection,
            Message::Binary(make_binary(n, n as u64 + 1)),
        );
        checks.report(&format!("{mode}/echo-binary-{n}"), result);
    }

    let payload: Vec<u8> = b"ping-payload \x00\xff "
        .iter()
        .copied()
        .chain(make_binary(8, 99))
        .collect();
    let result = (|| {
        connection
            .ping(&payload)
            .map_err(|e| format!("ping failed: {e}"))?;
        match next(&mut connection, "the pong")? {
            Incoming::Pong(got) if got == payload => Ok(()),
            Incoming::Pong(got) => Err(format!(
                "pinged with {payload:02x?}, pong carried {got:02x?}"
            )),
            other => Err(format!("pinged, got {other:?} instead of a pong")),
        }
    })();
    checks.report(&format!("{mode}/ping-pong-payload"), result);

    let result = close_round_trip(&mut connection, 4001, "going away — fin ✓");
    checks.report(&format!("{mode}/close-4001-reason"), result);
}

/// Traffic that exercises a compression context: similar small messages, then large ones.
fn context_traffic() -> Vec<Message> {
    let mut messages: Vec<Message> = (0..40)
        .map(|i| {
            Message::Text(format!(
                "message {i}: {}",
                "the same words again ".repeat(i)
            ))
        })
        .collect();
    messages.push(Message::Text(make_text(300_000, 21)));
    messages.push(Message::Binary(make_binary(100_000, 22)));
    messages.push(Message::Text("after the large ones".into()));
    messages
}

/// permessage-deflate options of our client (RFC 7692 §7.1): each variant is one connection that must be
/// accepted (with the requested parameters in the response) and echo the traffic intact; the offer of
/// `server_max_window_bits=8` may also be declined.
fn deflate_params(checks: &mut Checks, base: &str) {
    let variants: [(&str, PermessageDeflate, &[&str]); 7] = [
        (
            "request-no-context-takeover",
            PermessageDeflate::new().request_no_context_takeover(true),
            &["server_no_context_takeover"],
        ),
        (
            "request-max-window-bits-9",
            PermessageDeflate::new().request_max_window_bits(9),
            &["server_max_window_bits=9"],
        ),
        (
            "request-max-window-bits-8",
            PermessageDeflate::new().request_max_window_bits(8),
            &["server_max_window_bits=8"],
        ),
        (
            "no-context-takeover",
            PermessageDeflate::new().no_context_takeover(true),
            &[],
        ),
        (
            "max-window-bits-9",
            PermessageDeflate::new().max_window_bits(9),
            &[],
        ),
        ("level-1", PermessageDeflate::new().level(1), &[]),
        (
            "all-options-10-bits",
            PermessageDeflate::new()
                .no_context_takeover(true)
                .request_no_context_takeover(true)
                .max_window_bits(10)
                .request_max_window_bits(10),
            &["server_no_context_takeover", "server_max_window_bits=10"],
        ),
    ];
    for (name, deflate, expected) in variants {
        let result = (|| {
            let mut connection = connect_with(&format!("{base}/"), Options::new(), Some(deflate))
                .map_err(|e| format!("connect failed: {e}"))?;
            let header = extension_header(&connection).unwrap_or_default();
            let tokens: Vec<&str> = header.split(';').map(str::trim).collect();
            let missing: Vec<&&str> = expected.iter().filter(|t| !tokens.contains(t)).collect();
            // zlib cannot compress with an 8-bit window: a server may decline that offer (Python
            // websockets does), and then the traffic must pass uncompressed.
            let declined = header.is_empty() && name == "request-max-window-bits-8";
            if !declined && (!tokens.contains(&"permessage-deflate") || !missing.is_empty()) {
                return Err(format!(
                    "response Sec-WebSocket-Extensions {header:?} lacks {missing:?}"
                ));
            }
            let traffic = context_traffic();
            for message in &traffic {
                connection
                    .send(message.clone())
                    .map_err(|e| format!("send failed: {e}"))?;
            }
            for (i, message) in traffic.into_iter().enumerate() {
                match next(&mut connection, "an echo")? {
                    Incoming::Message(got) if got == message => {}
                    Incoming::Message(got) => {
                        return Err(format!(
                            "message {i}: sent {}, got {}",
                            describe(&message),
                            describe(&got)
                        ));
                    }
                    other => return Err(format!("message {i}: got {other:?} instead of the echo")),
                }
            }
            close_round_trip(&mut connection, 1000, "")
        })();
        checks.report(&format!("deflate-params/{name}"), result);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(base)) = (args.next(), args.next()) else {
        eprintln!("usage: interop-rust-client NAME ws://127.0.0.1:PORT");
        std::process::exit(2);
    };
    let base = base.trim_end_matches('/').to_owned();
    let mut checks = Checks {
        prefix: format!("rust-client-vs-{name}"),
        passed: 0,
        failed: 0,
    };

    for deflate in [true, false] {
        mode(&mut checks, &base, deflate);
    }

    deflate_params(&mut checks, &base);

    // Subprotocols: offered ["other", "chat"], the server supports only "chat".
    let result = (|| {
        let mut connection = connect(
            &format!("{base}/"),
            Options::new().protocols(["other", "chat"]),
            true,
        )
        .map_err(|e| format!("connect failed: {e}"))?;
        let protocol = connection.driver().protocol().map(str::to_owned);
        let header = connection
            .driver()
            .headers()
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
            .map(|(_, v)| v.clone());
        if protocol.as_deref() != Some("chat") {
            return Err(format!(
                "protocol() is {protocol:?}, response Sec-WebSocket-Protocol {header:?}"
            ));
        }
        echo(&mut connection, Message::Text("chat works".into()))?;
        close_round_trip(&mut connection, 1000, "")
    })();
    checks.report("subprotocol-chat", result);

    let result = (|| {
        let mut connection = connect(&format!("{base}/"), Options::new(), false)
            .map_err(|e| format!("connect failed: {e}"))?;
        match connection.driver().protocol() {
            None => close_round_trip(&mut connection, 1000, ""),
            Some(p) => Err(format!("offered none, protocol() is {p:?}")),
        }
    })();
    checks.report("subprotocol-none-offered", result);

    // The server pings us: the driver answers with the same payload by itself.
    let result = (|| {
        let mut connection = connect(&format!("{base}/"), Options::new(), true)
            .map_err(|e| format!("connect failed: {e}"))?;
        let payload = "are you there? ✓";
        connection
            .send(Message::Text(format!("!ping {payload}")))
            .map_err(|e| format!("send failed: {e}"))?;
        let mut pinged = false;
        loop {
            match connection.recv() {
                Ok(Some(Incoming::Ping(got))) if got == payload.as_bytes() => pinged = true,
                Ok(Some(Incoming::Message(Message::Text(text))))
                    if text == format!("!pong {payload}") =>
                {
                    break;
                }
                Ok(other) => {
                    return Err(format!(
                        "expected the server's ping and its report, got {other:?}"
                    ));
                }
                Err(e) => return Err(format!("waiting for the server's ping: {e}")),
            }
        }
        if !pinged {
            return Err("the server reported our pong, but recv gave no Ping event".into());
        }
        close_round_trip(&mut connection, 1000, "")
    })();
    checks.report("server-ping-auto-pong", result);

    // A close started by the server reaches us with its code and reason.
    let result = (|| {
        let mut connection = connect(&format!("{base}/"), Options::new(), true)
            .map_err(|e| format!("connect failed: {e}"))?;
        connection
            .send(Message::Text("!close 4002 server says bye ✓".into()))
            .map_err(|e| format!("send failed: {e}"))?;
        match next(&mut connection, "the server's close")? {
            Incoming::Close(event) if event.code == 4002 && event.reason == "server says bye ✓" =>
                {}
            other => {
                return Err(format!(
                    "expected close 4002 \"server says bye ✓\", got {other:?}"
                ));
            }
        }
        match connection.recv() {
            Ok(None) => Ok(()),
            other => Err(format!("after the close, recv gave {other:?}")),
        }
    })();
    checks.report("server-close-4002-reason", result);

    // The server refuses the handshake with 403.
    let result = match connect(&format!("{base}/refuse"), Options::new(), true) {
        Ok(_) => Err("the handshake succeeded".to_owned()),
        Err(e) if e.to_string().contains("403") => Ok(()),
        Err(e) => Err(format!("error does not mention 403: {e}")),
    };
    checks.report("refused-handshake-403", result);

    eprintln!(
        "{}: {} passed, {} failed",
        checks.prefix, checks.passed, checks.failed
    );
    std::process::exit(if checks.failed == 0 { 0 } else { 1 });
}
