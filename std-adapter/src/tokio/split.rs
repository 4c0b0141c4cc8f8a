//! A [`WebSocketStream`] split into a reader and a writer for two tasks.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;
use websocket_driver::{Role, State};

use super::{Error, Inner, Item, WebSocketStream};
use crate::CloseEvent;

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// A reader and a writer for two tasks (RFC 6455 is full duplex). Automatic pongs and the close echo
    /// go out while only the reader is polled; the two share the connection behind a lock that is never
    /// held across an await (every poll takes it and gives it back).
    pub fn split(self) -> (WebSocketReader<S>, WebSocketWriter<S>) {
        let shared = Arc::new(Mutex::new(self.inner));
        (
            WebSocketReader {
                shared: shared.clone(),
            },
            WebSocketWriter { shared },
        )
    }
}

/// The reading half of a split [`WebSocketStream`]: a `Stream` of [`Item`]s. It also writes the automatic
/// replies (pongs, the close echo) and runs the timers, so keep polling it.
pub struct WebSocketReader<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

/// The writing half of a split [`WebSocketStream`]: a `Sink` of [`Item`]s.
pub struct WebSocketWriter<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

fn lock<S>(shared: &Mutex<Inner<S>>) -> MutexGuard<'_, Inner<S>> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<S> {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_next_item(cx)
    }
}

impl<S> WebSocketReader<S> {
    /// How the connection closed, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).close.clone()
    }

    /// Our role.
    pub fn role(&self) -> Role {
        lock(&self.shared).engine.role()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Item> for WebSocketWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), Error> {
        lock(&self.shared).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush_sends(cx).map_err(Error::Io)
    }

    /// Sends a close (1000) if none was sent and flushes; the reader sees the peer's answer.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut inner = lock(&self.shared);
        if inner.engine.state() == State::Open {
            inner.close(1000, "")?;
        }
        inner.poll_flush_sends(cx).map_err(Error::Io)
    }
}
