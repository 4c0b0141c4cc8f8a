//! The engine's heap, measured by a counting global allocator (this thread's allocations only): an idle
//! engine holds almost nothing, and a small message costs at most one allocation to receive and none to
//! send. Run with `--nocapture` to see the figures in the crate docs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use websocket_driver::Instant;
use websocket_driver_std::engine::{Engine, Event};
use websocket_driver_std::{Message, Options, PermessageDeflate};

struct Counting;

thread_local! {
    /// Live bytes and allocations made on this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator with the same layout; the thread-locals only
// count (they are const-initialised, so touching them never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| l.set(l.get() + layout.size() as isize));
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get() - layout.size() as isize));
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LIVE.try_with(|l| l.set(l.get() + new_size as isize - layout.size() as isize));
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

fn count() -> usize {
    COUNT.with(Cell::get)
}

/// Moves all of `from`'s output into `to` and returns `to`'s events.
fn pipe(from: &mut Engine, to: &mut Engine) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let out = from.output().to_vec();
        if out.is_empty() {
            return events;
        }
        let mut rest = &out[..];
        while !rest.is_empty() {
            let n = to.receive(rest);
            rest = &rest[n..];
            events.extend(std::iter::from_fn(|| to.next_event(Instant::ZERO)));
        }
        from.consume_output(out.len());
    }
}

/// A server engine, boxed (its own size counts), opened by a client engine; both exchanged `warm`.
fn open_pair(
    server_ext: Option<PermessageDeflate>,
    client_ext: Option<PermessageDeflate>,
) -> (Box<Engine>, Engine) {
    let mut client = Engine::client("ws://example.com/", Options::new()).unwrap();
    let mut server = Box::new(Engine::server(Options::new()));
    if let Some(ext) = server_ext {
        assert!(server.add_extension(Box::new(ext)));
    }
    if let Some(ext) = client_ext {
        assert!(client.add_extension(Box::new(ext)));
    }
    client.start().unwrap();
    pipe(&mut client, &mut server);
    server.accept().unwrap();
    assert_eq!(server.next_event(Instant::ZERO), Some(Event::Open));
    pipe(&mut server, &mut client);
    (server, client)
}

/// The heap an idle server engine holds after a message each way, for one deflate configuration.
fn idle_heap(
    server_ext: Option<PermessageDeflate>,
    client_ext: Option<PermessageDeflate>,
) -> isize {
    let before = live();
    let (mut server, mut client) = open_pair(server_ext, client_ext);
    let text = "a message that is a little longer, so that it compresses. ".repeat(20);
    client.send(Message::Text(text.clone())).unwrap();
    assert_eq!(
        pipe(&mut client, &mut server),
        [Event::Message(Message::Text(text.clone()))]
    );
    server.send(Message::Text(text.clone())).unwrap();
    assert_eq!(
        pipe(&mut server, &mut client),
        [Event::Message(Message::Text(text))]
    );
    server.idle();
    client.idle();
    let with_client = live() - before;
    // The client's share, measured by dropping it.
    drop(client);
    let server_only = live() - before;
    assert!(server_only <= with_client);
    drop(server);
    server_only
}

#[test]
fn an_idle_engine_holds_almost_no_heap() {
    // Issue #12: an open, idle engine holds ≤ 1 KB of heap without deflate (here boxed: the struct itself
    // counts), and no codec state with the server's default permessage-deflate.
    let size = std::mem::size_of::<Engine>();
    let plain = idle_heap(None, None);
    println!("size_of::<Engine>() = {size} B; idle server engine, plain: {plain} B of heap");
    assert!(plain <= 1024, "{plain} bytes");

    let default_deflate = idle_heap(
        Some(PermessageDeflate::new()),
        Some(PermessageDeflate::new()),
    );
    println!(
        "idle server engine, permessage-deflate (server default, no context kept): {default_deflate} B"
    );
    assert!(default_deflate <= 2048, "{default_deflate} bytes");

    let takeover = || {
        PermessageDeflate::new()
            .no_context_takeover(false)
            .request_no_context_takeover(false)
    };
    let full = idle_heap(Some(takeover()), Some(PermessageDeflate::new()));
    println!(
        "idle server engine, permessage-deflate with context takeover both ways (15-bit): {full} B"
    );
    let small = idle_heap(
        Some(takeover().max_window_bits(12).request_max_window_bits(12)),
        Some(PermessageDeflate::new().max_window_bits(12)),
    );
    println!(
        "idle server engine, permessage-deflate with context takeover, 12-bit windows: {small} B"
    );
    let ours_only = idle_heap(
        Some(PermessageDeflate::new().request_no_context_takeover(false)),
        Some(PermessageDeflate::new()),
    );
    println!(
        "idle server engine, server_no_context_takeover only (the client's context kept): {ours_only} B"
    );
    assert!(full > ours_only && ours_only > default_deflate);
}

#[test]
fn small_messages_cost_one_allocation_to_receive_and_none_to_send() {
    // Issue #12: after warm-up, a single-frame message of ≤ 4 KiB (deflate off) costs at most one
    // allocation to receive (the message) and none to send.
    let (mut server, mut client) = open_pair(None, None);
    let payload = vec![7u8; 4000];
    // Warm-up: the buffers reach their working size.
    client.send(Message::Binary(payload.clone())).unwrap();
    let frame = client.output().to_vec();
    let n = client.output().len();
    client.consume_output(n);
    for _ in 0..2 {
        assert_eq!(server.receive(&frame), frame.len());
        assert!(matches!(
            server.next_event(Instant::ZERO),
            Some(Event::Message(_))
        ));
        server.send(Message::Binary(payload.clone())).unwrap();
        let n = server.output().len();
        server.consume_output(n);
    }
    for len in [0usize, 16, 125, 1000, 4000] {
        let frame = masked_binary(&payload[..len]);
        let before = count();
        assert_eq!(server.receive(&frame), frame.len());
        let event = server.next_event(Instant::ZERO);
        let received = count() - before;
        assert!(matches!(&event, Some(Event::Message(Message::Binary(b))) if b.len() == len));
        assert!(server.next_event(Instant::ZERO).is_none());
        drop(event);
        assert!(
            received <= 1,
            "receiving {len} bytes took {received} allocations"
        );
        let message = Message::Binary(payload[..len].to_vec());
        let before = count();
        server.send(message).unwrap();
        let sent = count() - before;
        assert_eq!(sent, 0, "sending {len} bytes took {sent} allocations");
        let n = server.output().len();
        server.consume_output(n);
    }
}

/// A client's binary frame, masked with a fixed key.
fn masked_binary(payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut frame = vec![0x82];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}
