//! The main demo: a chat room on axum. The page at http://127.0.0.1:8080/ and its WebSocket at `/chat` on
//! one router; open it in several browser tabs and they chat with each other, each line showing who sent
//! it (members are numbered as they join).
//! `cargo run --release -p websocket-driver-std --example chat [-- --port P]`
#[path = "serve_http/mod.rs"]
mod serve_http;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use websocket_driver_std::tokio::{Item, WebSocketStream};
use websocket_driver_std::{Message, Options, PermessageDeflate};

/// The page both chat examples serve.
const PAGE: &str = include_str!("chat_page.html");

/// Each member's outbox: what its writer task sends. A member too slow to take 64 lines misses some.
type Room = Arc<Mutex<Vec<(usize, mpsc::Sender<String>)>>>;

/// Members are numbered as they join.
static NEXT_MEMBER: AtomicUsize = AtomicUsize::new(1);

fn broadcast(room: &Room, text: &str) {
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(_, outbox)| {
            !matches!(
                outbox.try_send(text.to_owned()),
                Err(mpsc::error::TrySendError::Closed(_))
            )
        });
}

/// The WebSocket route: the upgrade goes back to axum; the member runs on its own task.
async fn join(State(room): State<Room>, mut request: Request) -> Response {
    let setup = |engine: &mut websocket_driver_std::engine::Engine| {
        engine.add_extension(Box::new(PermessageDeflate::new()));
    };
    let (response, upgrading) =
        websocket_driver_std::hyper::upgrade(&mut request, Options::new(), setup, |_| None);
    if let Some(upgrading) = upgrading {
        tokio::spawn(async move {
            if let Ok(ws) = upgrading.await {
                member(ws, room).await;
            }
        });
    }
    response.into_response()
}

/// One member: this task reads (and so answers pings); a second task writes what the room sends it.
async fn member(ws: WebSocketStream<websocket_driver_std::hyper::Upgraded>, room: Room) {
    let id = NEXT_MEMBER.fetch_add(1, Ordering::Relaxed);
    let (mut reader, mut writer) = ws.split();
    let (outbox, mut inbox) = mpsc::channel::<String>(64);
    let writing = tokio::spawn(async move {
        while let Some(text) = inbox.recv().await {
            if writer
                .send(Item::Message(Message::Text(text)))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, outbox));
    broadcast(&room, &format!("#{id} joined"));
    while let Some(Ok(item)) = reader.next().await {
        match item {
            Item::Message(Message::Text(text)) => broadcast(&room, &format!("#{id}: {text}")),
            Item::Close(_) => break,
            _ => {}
        }
    }
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(member, _)| *member != id);
    broadcast(&room, &format!("#{id} left"));
    let _ = writing.await;
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
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let room: Room = Arc::default();
        let app = Router::new()
            .route("/", get(|| async { Html(PAGE) }))
            .route("/index.html", get(|| async { Html(PAGE) }))
            .route("/chat", any(join))
            .with_state(room);
        serve_http::serve(listener, app).await
    })
}
