//! Echoes every message, permessage-deflate enabled, many connections at once (a thread each), until
//! killed: `cargo run --release -p websocket-driver-std --example echo_server -- --port 9001 [--host 127.0.0.1]`
use std::net::TcpListener;

use websocket_driver_std::blocking::{Incoming, serve};
use websocket_driver_std::{Options, PermessageDeflate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 9001u16);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("--port needs a number")
            }
            "--host" => host = args.next().expect("--host needs a value"),
            other => panic!("unknown argument {other}; usage: echo_server --port P [--host H]"),
        }
    }
    let listener = TcpListener::bind((host.as_str(), port))?;
    eprintln!("echo server on ws://{}", listener.local_addr()?);
    let options = Options::new().max_length(1 << 26);
    serve(
        listener,
        options,
        |driver| {
            driver.add_extension(Box::new(PermessageDeflate::new()));
        },
        |mut connection| {
            while let Ok(Some(incoming)) = connection.recv() {
                match incoming {
                    Incoming::Message(message) => {
                        let sent = connection.send(message);
                        if sent.is_err() {
                            break;
                        }
                    }
                    Incoming::Close(_) => break,
                    _ => {}
                }
            }
        },
        |_, _, mut stream| {
            use std::io::Write;
            let body = "This is a WebSocket echo server.\n";
            let _ = write!(
                stream,
                "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        },
    )
}
