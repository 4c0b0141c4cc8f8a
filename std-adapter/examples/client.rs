//! Sends each line of stdin as a text message and prints each message received on its own line. After
//! the end of input it keeps printing what arrives until the server closes or nothing has arrived for the
//! linger period (default 1 s), then closes with 1000 and exits 0 after the closing handshake. A failed
//! handshake prints the reason and exits non-zero:
//! `cargo run -p websocket-driver-std --example client -- [--linger SECONDS] ws://127.0.0.1:9001/`
use std::io::{self, BufRead};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use websocket_driver_std::blocking::{Connection, Incoming};
use websocket_driver_std::{Message, Options, PermessageDeflate};

fn usage() -> ! {
    eprintln!("usage: client [--linger SECONDS] URL");
    std::process::exit(2)
}

fn main() {
    let (mut url, mut linger) = (None, Duration::from_secs(1));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--linger" => {
                let secs: f64 = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage());
                linger = Duration::from_secs_f64(secs.max(0.0));
            }
            _ if url.is_none() => url = Some(arg),
            _ => usage(),
        }
    }
    let url = url.unwrap_or_else(|| usage());
    let mut connection = match Connection::connect(&url, Options::new(), |engine| {
        engine.add_extension(Box::new(PermessageDeflate::new()));
    }) {
        Ok(connection) => connection,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    };
    let (lines_tx, lines) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            match line {
                Ok(line) => {
                    if lines_tx.send(Some(line)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = lines_tx.send(None);
    });
    connection
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("set a read timeout");
    // When the input ended, and when something last arrived: the linger runs from the later one.
    let (mut input_done, mut last_arrival) = (false, Instant::now());
    let mut closing = false;
    loop {
        while !input_done {
            match lines.try_recv() {
                Ok(Some(line)) => {
                    if connection.send(Message::Text(line)).is_err() {
                        std::process::exit(1);
                    }
                }
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    input_done = true;
                    last_arrival = last_arrival.max(Instant::now());
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if input_done && !closing && last_arrival.elapsed() >= linger {
            closing = true;
            let _ = connection.close(1000, "");
        }
        match connection.recv() {
            Ok(Some(Incoming::Message(message))) => {
                last_arrival = Instant::now();
                match message {
                    Message::Text(text) => println!("{text}"),
                    Message::Binary(data) => println!("{}", String::from_utf8_lossy(&data)),
                }
            }
            Ok(Some(Incoming::Close(event))) => {
                std::process::exit(if event.code == 1000 { 0 } else { 1 });
            }
            Ok(Some(Incoming::Error(e))) => eprintln!("{e}"),
            Ok(Some(_)) => last_arrival = Instant::now(),
            Ok(None) => std::process::exit(if closing { 0 } else { 1 }),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
}
