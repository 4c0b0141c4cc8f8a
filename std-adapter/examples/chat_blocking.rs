//! The chat demo on the blocking face: the same room as `chat` (which runs on axum), with a thread per
//! member reading and a thread writing — a blocking `Connection` split into a reader and a writer.
//! `cargo run --release -p websocket-driver-std --example chat_blocking [-- --port P]`
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use websocket_driver_std::blocking::{Connection, Incoming, serve};
use websocket_driver_std::engine::RequestHead;
use websocket_driver_std::{Message, Options, PermessageDeflate};

/// The page both chat examples serve.
const PAGE: &str = include_str!("chat_page.html");

/// Each member's outbox: what its writer thread sends. A member too slow to take 64 lines misses some
/// (an unbounded outbox would let a member that never reads grow the server's memory for good).
type Room = Arc<Mutex<Vec<(usize, SyncSender<String>)>>>;

/// Members are numbered as they join.
static NEXT_MEMBER: AtomicUsize = AtomicUsize::new(1);

fn page(request: RequestHead, _body: Vec<u8>, mut stream: TcpStream) {
    let (status, body) = match (request.method.as_str(), request.target.as_str()) {
        ("GET", "/") | ("GET", "/index.html") => ("200 OK", PAGE),
        _ => ("404 Not Found", "not found\n"),
    };
    let kind = if status.starts_with("200") {
        "text/html; charset=utf-8"
    } else {
        "text/plain"
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn broadcast(room: &Room, text: &str) {
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(_, outbox)| {
            !matches!(
                outbox.try_send(text.to_owned()),
                Err(TrySendError::Disconnected(_))
            )
        });
}

/// One member: this thread reads (and so answers pings); a second thread writes what the room sends it.
/// No polling: each blocks until it has something to do.
fn member(connection: Connection<TcpStream>, room: Room) {
    let id = NEXT_MEMBER.fetch_add(1, Ordering::Relaxed);
    let Ok((mut reader, writer)) = connection.split() else {
        return;
    };
    let (outbox, inbox) = mpsc::sync_channel::<String>(64);
    let writing = thread::spawn(move || {
        for text in inbox {
            if writer.send(Message::Text(text)).is_err() {
                break;
            }
        }
    });
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, outbox));
    broadcast(&room, &format!("#{id} joined"));
    while let Ok(Some(incoming)) = reader.recv() {
        match incoming {
            Incoming::Message(Message::Text(text)) => broadcast(&room, &format!("#{id}: {text}")),
            Incoming::Close(_) => break,
            _ => {}
        }
    }
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(member, _)| *member != id);
    broadcast(&room, &format!("#{id} left"));
    let _ = writing.join();
}

fn main() -> io::Result<()> {
    let port = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!(
        "chat on http://{}/ — open it in several tabs",
        listener.local_addr()?
    );
    run(listener)
}

/// Serves the page and the room on `listener` until it fails.
pub fn run(listener: TcpListener) -> io::Result<()> {
    let room: Room = Arc::default();
    serve(
        listener,
        Options::new(),
        |engine| {
            engine.add_extension(Box::new(PermessageDeflate::new()));
        },
        move |connection| member(connection, room.clone()),
        page,
    )
}
