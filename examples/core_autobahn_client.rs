//! The core alone as an Autobahn fuzzingserver client: blocking `std::net` sockets, a 64 KiB receive
//! buffer and a 128 KiB transmit ring per connection, masking keys from the OS through the `rand_core`
//! adapter (RFC 6455 §5.3, §10.3). Messages larger than the buffer are echoed chunk by chunk as
//! fragments, as `core_echo_server` does.
//! `cargo run --release --features rand_core --example core_autobahn_client -- ws://127.0.0.1:9001 AGENT`
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rand_core::{OsRng, TryRngCore};
use websocket_driver::mask_source::RandCore;
use websocket_driver::{
    ClientRequest, Config, DataKind, Driver, Event, Instant, Rsv, RxBuf, State, TxRing, Url,
};

const RX: usize = 64 * 1024;
const TX: usize = 128 * 1024;

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Opens `url`, echoes every message until the server closes; returns the text of the first message.
fn session(url: &str) -> io::Result<String> {
    let url = Url::parse_ws(url).map_err(other)?;
    let mut socket = TcpStream::connect((url.host(), url.port()))?;
    socket.set_nodelay(true)?;
    // The server closes the TCP connection first (RFC 6455 §7.1.1); we give it 5 s.
    socket.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut rng = RandCore(OsRng.unwrap_err());
    let mut ws = Driver::client(Config::default());
    let (mut rx, mut tx) = (RxBuf::new(vec![0; RX]), TxRing::new(vec![0; TX]));
    let request = ClientRequest {
        url: &url,
        protocols: &[],
        headers: &[],
        extensions: None,
    };
    ws.start(&mut tx, &mut rng, &request).map_err(other)?;
    // The first message's text (the case count), kept until it is complete.
    let (mut first, mut first_done) = (String::new(), false);
    loop {
        while tx.ready() > 0 {
            let n = socket.write(tx.peek())?;
            tx.consume(n);
        }
        let echoed = match ws.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO) {
            Ok(Some(Event::Text { data, fin })) => {
                if !first_done {
                    first.push_str(data);
                    first_done = fin;
                }
                let bytes = data.as_bytes();
                ws.send_fragment(&mut tx, &mut rng, DataKind::Text, Rsv::NONE, bytes, fin)
            }
            Ok(Some(Event::Binary { data, fin })) => {
                first_done = true;
                ws.send_fragment(&mut tx, &mut rng, DataKind::Binary, Rsv::NONE, data, fin)
            }
            // The offered subprotocols (none) go back to the driver, which checks the server's choice.
            Ok(Some(Event::Response(_))) => {
                ws.check_response(&mut rx, &mut tx, &[]).map_err(other)?;
                continue;
            }
            Ok(Some(_)) | Err(_) => continue, // a failure is followed by its close event
            Ok(None) => {
                if ws.state() == State::Closed && ws.should_close_transport() {
                    break;
                }
                match socket.read(rx.free_space()) {
                    Ok(0) => break,
                    Ok(n) => rx.commit(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if ws.state() == State::Closed => {
                        eprintln!("server did not close the connection: {e}");
                        break;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
        };
        // The ring is drained before every poll and holds a whole buffer's chunk, so this only fails
        // once the connection is closing, when an echo is no longer wanted.
        let _ = echoed;
    }
    Ok(first)
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args
        .next()
        .unwrap_or_else(|| "websocket-driver-core".into());
    let count: u32 = session(&format!("{base}/getCaseCount"))?
        .trim()
        .parse()
        .map_err(other)?;
    eprintln!("{count} cases");
    for case in 1..=count {
        if let Err(e) = session(&format!("{base}/runCase?case={case}&agent={agent}")) {
            eprintln!("case {case}: {e}");
        }
    }
    session(&format!("{base}/updateReports?agent={agent}"))?;
    Ok(())
}
