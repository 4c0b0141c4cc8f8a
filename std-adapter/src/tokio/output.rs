//! The output side of a connection: writing the engine's output, the wakers of the tasks waiting to
//! write, the pace a send keeps the peer to (`crate::pace`), and giving up on output the peer does
//! not take.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::Inner;
use crate::CloseEvent;
use crate::pace;

/// The tasks waiting for the transport to take our output. The transport keeps one waker per
/// direction, and after a split both the reader (automatic replies) and the writer write: it is given
/// one waker that wakes them all, so that neither waits on a wake that went to the other.
#[derive(Default)]
pub(super) struct WriteWaiters(Mutex<Vec<Waker>>);

impl WriteWaiters {
    fn list(&self) -> MutexGuard<'_, Vec<Waker>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn wait(&self, waker: &Waker) {
        let mut list = self.list();
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }

    /// After a write by the task `me`: the other tasks are woken when something was written, and `me`
    /// leaves the list when its call finished. One lock; the wakes happen after it is released.
    pub(super) fn settle(&self, me: &Waker, wrote: bool, finished: bool) {
        if !wrote && !finished {
            return;
        }
        let others: Vec<Waker> = {
            let mut list = self.list();
            let others = if wrote {
                list.extract_if(.., |w| !w.will_wake(me)).collect()
            } else {
                Vec::new()
            };
            if finished {
                list.retain(|w| !w.will_wake(me));
            }
            others
        };
        for waker in others {
            waker.wake();
        }
    }

    pub(super) fn wake_all(&self) {
        let waiting = std::mem::take(&mut *self.list());
        for waker in waiting {
            waker.wake();
        }
    }
}

impl std::task::Wake for WriteWaiters {
    fn wake(self: Arc<Self>) {
        self.wake_all();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_all();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Writes the engine's output; `Ready` once it is all written and flushed.
    pub(super) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.abandoned {
            self.engine.discard_output();
            return Poll::Ready(Ok(()));
        }
        if self.engine.output().is_empty() && !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        // Listed before the transport is polled, so that a wake between its `Pending` and here is not
        // lost; taken off again when this call finishes.
        self.write_waiters.wait(cx.waker());
        let waker = self.write_waker.clone();
        let before = self.engine.buffered_amount();
        let result = self.poll_write_all(&mut Context::from_waker(&waker));
        // What was written may be another task's (a split writer's message): it looks again.
        let wrote = self.engine.buffered_amount() < before;
        self.write_waiters
            .settle(cx.waker(), wrote, result.is_ready());
        if let Poll::Ready(Err(e)) = &result
            && !matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            )
        {
            // The transport is gone: the error is returned once, then the stream ends (1006).
            self.end_without_transport("");
        }
        result
    }

    /// The connection ended without its peer (a write failed for good, or the peer takes too little of
    /// what we write): the output is given up, and the stream's last item is the close, 1006 with
    /// `reason` (RFC 6455 §7.1.5), unless a close event came already.
    pub(super) fn end_without_transport(&mut self, reason: &str) {
        self.abandon_output();
        if !self.done {
            let event = CloseEvent {
                code: 1006,
                reason: reason.into(),
            };
            self.done = true;
            self.close = Some(event.clone());
            self.close_item = Some(event);
            self.wake_reader();
        }
    }

    /// [`poll_write_out`](Self::poll_write_out) for the application's sends and flushes. Output that
    /// was given up unsent (the connection ended while the peer read nothing) is `NotConnected`, not a
    /// success; a peer that takes too little of it while a send waits ends the connection
    /// (`crate::pace`: keepalive cannot, as nothing reads its pong meanwhile on an unsplit stream).
    pub(super) fn poll_flush_sends(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let before = self.engine.buffered_amount();
        let written = self.poll_write_out(cx);
        if written.is_pending() {
            let taken = before.saturating_sub(self.engine.buffered_amount());
            return self.poll_pace(cx, taken);
        }
        self.stall = None;
        ready!(written)?;
        if self.dropped {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the connection ended before its output was written (the peer did not read it)",
            )));
        }
        Poll::Ready(Ok(()))
    }

    /// A send waits on the peer, which took `taken` bytes in this call: pending while it keeps the
    /// pace; when a window passes with less than `pace::MIN_PROGRESS` taken, the connection ends
    /// (its close event: 1006) and the send fails with `TimedOut`.
    pub(super) fn poll_pace(&mut self, cx: &mut Context<'_>, taken: usize) -> Poll<io::Result<()>> {
        let Some(window) = pace::window(self.engine.options()) else {
            return Poll::Pending;
        };
        let (sleep, so_far) = self
            .stall
            .get_or_insert_with(|| (Box::pin(::tokio::time::sleep(window)), 0));
        *so_far += taken;
        if *so_far >= pace::MIN_PROGRESS {
            *so_far = 0;
            sleep.as_mut().reset(::tokio::time::Instant::now() + window);
        }
        ready!(sleep.as_mut().poll(cx));
        self.stall = None;
        self.end_without_transport(pace::SLOW);
        Poll::Ready(Err(pace::too_slow()))
    }

    /// [`poll_write_out`](Self::poll_write_out) with the transport's context.
    pub(super) fn poll_write_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let out = self.engine.output();
            if out.is_empty() {
                break;
            }
            match Pin::new(&mut self.io).poll_write(cx, out) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.engine.consume_output(n);
                    self.unflushed = true;
                }
                Poll::Ready(Err(e)) => {
                    self.engine.write_pending();
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    self.engine.write_pending();
                    return Poll::Pending;
                }
            }
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// The peer does not take our output. The timers still run — keepalive ends a peer that stays
    /// silent, the closing deadline a close it never answers — and once the connection has ended its
    /// last output waits at most the close timeout (no wait after a timeout: the peer is gone), then
    /// is dropped so that the stream can end. Ready when something changed.
    pub(super) fn poll_stalled(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.done {
            return self.poll_timer(cx);
        }
        if !self.engine.timed_out() {
            ready!(self.poll_linger(cx));
        }
        self.abandon_output();
        Poll::Ready(())
    }

    /// Ready once the connection's last output has waited the close timeout (counted from the first
    /// call).
    pub(super) fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let wait = self.engine.options().close_timeout;
        self.linger
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep(wait)))
            .as_mut()
            .poll(cx)
    }

    /// Gives up on the output of a connection that has ended: what is queued is dropped, a pending
    /// transport flush is not waited for, nothing more is written, and a split writer waiting to
    /// write is woken to see it.
    pub(super) fn abandon_output(&mut self) {
        self.dropped |= !self.engine.output().is_empty() || self.unflushed;
        self.engine.discard_output();
        self.unflushed = false;
        self.abandoned = true;
        self.write_waiters.wake_all();
    }
}
