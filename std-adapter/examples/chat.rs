//! The main demo: a chat room. Serves a page at http://127.0.0.1:8080/ and its WebSocket on the same
//! port; open it in several browser tabs and they chat with each other.
//! `cargo run --release -p websocket-driver-std --example chat [-- --port P]`
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use websocket_driver_std::blocking::{Connection, Incoming, serve};
use websocket_driver_std::{Message, Options, PermessageDeflate};

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>websocket-driver chat</title>
<style>
 body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
 #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
 #log p { margin: .2rem 0; } .me { color: #06c; } .sys { color: #888; font-style: italic; }
 form { display: flex; gap: .5rem; margin-top: .5rem; } #text { flex: 1; }
</style></head>
<body>
<h1>websocket-driver chat</h1>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Say something" autofocus><button>Send</button></form>
<script>
const log = document.getElementById('log');
const line = (text, cls) => { const p = document.createElement('p'); p.textContent = text; if (cls) p.className = cls;
  log.appendChild(p); log.scrollTop = log.scrollHeight; };
const ws = new WebSocket(`ws://${location.host}/chat`);
ws.onopen = () => line('connected', 'sys');
ws.onmessage = (e) => line(e.data);
ws.onclose = (e) => line(`disconnected (${e.code})`, 'sys');
document.getElementById('form').onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById('text');
  if (input.value && ws.readyState === WebSocket.OPEN) { ws.send(input.value); input.value = ''; }
};
</script>
</body></html>
"#;

type Room = Arc<Mutex<Vec<Sender<String>>>>;

fn page(method: &str, target: &str, mut stream: TcpStream) {
    let (status, body) = match (method, target) {
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

fn member(mut connection: Connection<TcpStream>, room: Room) {
    let (tx, rx): (Sender<String>, Receiver<String>) = mpsc::channel();
    room.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
    let _ = connection
        .stream()
        .set_read_timeout(Some(Duration::from_millis(25)));
    let broadcast = |text: String| {
        room.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|member| member.send(text.clone()).is_ok());
    };
    broadcast("someone joined".into());
    loop {
        while let Ok(text) = rx.try_recv() {
            if connection.send(Message::Text(text)).is_err() {
                return;
            }
        }
        match connection.recv() {
            Ok(Some(Incoming::Message(Message::Text(text)))) => broadcast(text),
            Ok(Some(Incoming::Close(_))) | Ok(None) => break,
            Ok(Some(_)) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    drop(rx);
    broadcast("someone left".into());
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
    let room: Room = Arc::default();
    serve(
        listener,
        Options::new(),
        |driver| {
            driver.add_extension(Box::new(PermessageDeflate::new()));
        },
        move |connection| member(connection, room.clone()),
        page,
    )
}
