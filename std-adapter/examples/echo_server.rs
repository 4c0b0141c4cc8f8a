//! Echoes every message, permessage-deflate enabled, many connections at once on a tokio multi-thread
//! runtime, until killed:
//! `cargo run --release -p websocket-driver-std --example echo_server -- --port 9001 [--host 127.0.0.1] [--threads N]`
//! (`--threads` defaults to the number of cores).
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use websocket_driver_std::tokio::{Item, accept};
use websocket_driver_std::{Options, PermessageDeflate};

fn usage(problem: &str) -> ! {
    eprintln!("{problem}; usage: echo_server --port P [--host H] [--threads N]");
    std::process::exit(2)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port) = ("127.0.0.1".to_owned(), 9001u16);
    let mut threads = std::thread::available_parallelism().map_or(1, usize::from);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--port" => {
                port = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--port needs a number"))
            }
            "--host" => host = value(),
            "--threads" => {
                threads = value()
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage("--threads needs a positive number"))
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
        // Scripts read the port from this exact line (scripts/interop-peers.sh).
        eprintln!("echo server on ws://{}", listener.local_addr()?);
        eprintln!("worker threads: {threads}");
        let options = Options::new()
            .max_length(1 << 26)
            .handshake_timeout(Some(Duration::from_secs(10)));
        loop {
            // An error accepting (out of file descriptors, say) pauses accepting; it does not end
            // the server.
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            };
            let options = options.clone();
            tokio::spawn(async move {
                let _ = socket.set_nodelay(true);
                let Ok(mut ws) = accept(socket, options, |engine| {
                    engine.add_extension(Box::new(PermessageDeflate::new()));
                })
                .await
                else {
                    return;
                };
                while let Some(Ok(item)) = ws.next().await {
                    if let Item::Message(message) = item
                        && ws.send(message).await.is_err()
                    {
                        break;
                    }
                }
            });
        }
    })
}
