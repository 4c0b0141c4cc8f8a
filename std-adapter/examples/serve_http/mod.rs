//! Serves an axum `Router` over HTTP/1.1 with a time limit on every request head, for the axum
//! examples. `axum::serve` gives hyper no timer, so hyper's header read timeout never runs: a client
//! sending its head a byte at a time (or an idle keep-alive connection) would be held for good. The
//! WebSocket handshake timeout cannot help there — hyper reads the head before the upgrade is ours.
use std::io;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

/// How long a client has to send a whole request head (the same as `Options::handshake_timeout`'s
/// default), also while a keep-alive connection waits for its next request.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` and serves `app` on each, with upgrades. An error accepting
/// (out of file descriptors, say) pauses accepting for a moment; it does not end the server.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> io::Result<()> {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(TokioIo::new(socket), service)
                .with_upgrades();
            let _ = connection.await;
        });
    }
}
