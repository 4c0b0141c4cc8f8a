//! Sends each line of stdin as a text message and prints each message received on its own line; at the
//! end of input closes with 1000 and exits 0 after the closing handshake. A failed handshake prints the
//! reason and exits non-zero: `cargo run -p websocket-driver-std --example client -- ws://127.0.0.1:9001/`
use std::io::{self, BufRead};
use std::sync::mpsc;
use std::time::Duration;

use websocket_driver_std::blocking::{Connection, Incoming};
use websocket_driver_std::{Message, Options, PermessageDeflate};

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: client URL");
        std::process::exit(2)
    });
    let mut connection = match Connection::connect(&url, Options::new(), |driver| {
        driver.add_extension(Box::new(PermessageDeflate::new()));
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
        .stream()
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("set a read timeout");
    let mut closing = false;
    loop {
        while !closing {
            match lines.try_recv() {
                Ok(Some(line)) => {
                    if connection.send(Message::Text(line)).is_err() {
                        std::process::exit(1);
                    }
                }
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    closing = true;
                    let _ = connection.close(1000, "");
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        match connection.recv() {
            Ok(Some(Incoming::Message(Message::Text(text)))) => println!("{text}"),
            Ok(Some(Incoming::Message(Message::Binary(data)))) => {
                println!("{}", String::from_utf8_lossy(&data))
            }
            Ok(Some(Incoming::Close(event))) => {
                std::process::exit(if closing && event.code == 1000 { 0 } else { 1 });
            }
            Ok(Some(Incoming::Error(e))) => eprintln!("{e}"),
            Ok(Some(_)) => {}
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
