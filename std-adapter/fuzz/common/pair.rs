//! A server engine and a client engine open to each other, shared by the `engine` fuzz target and the
//! seed writer (which records what one sends the other).

use websocket_driver::Instant;
use websocket_driver_std::engine::{Engine, Event};
use websocket_driver_std::{Options, PermessageDeflate};

pub const MAX_LENGTH: u64 = 16 * 1024;
pub const RECEIVE_BUFFER: usize = 8 * 1024;
pub const TRANSMIT_BUFFER: usize = 4 * 1024;

fn options() -> Options {
    let mut options = Options::new().max_length(MAX_LENGTH);
    options.receive_buffer = RECEIVE_BUFFER;
    options.transmit_buffer = TRANSMIT_BUFFER;
    options
}

/// Moves all of `from`'s output into `to` through `to`'s own read buffer (the I/O side a transport
/// uses: `read_buf`, then `commit`), polling `to` after each read; returns `to`'s events.
pub fn pipe(from: &mut Engine, to: &mut Engine) -> Vec<Event> {
    let mut events = Vec::new();
    while !from.output().is_empty() {
        let out = from.output();
        let space = to.read_buf();
        let n = space.len().min(out.len());
        assert!(n > 0, "the engine offers no room to read into");
        space[..n].copy_from_slice(&out[..n]);
        to.commit(n);
        from.consume_output(n);
        events.extend(std::iter::from_fn(|| to.next_event(Instant::ZERO)));
    }
    events
}

/// `(server, client)`, open, with permessage-deflate negotiated when `deflate`.
pub fn open_pair(deflate: bool) -> (Engine, Engine) {
    let mut server = Engine::server(options());
    let mut client = Engine::client("ws://example.com/", options()).expect("a fixed, valid URL");
    if deflate {
        assert!(server.add_extension(Box::new(PermessageDeflate::new())));
        assert!(client.add_extension(Box::new(PermessageDeflate::new())));
    }
    client.start().expect("the client starts");
    pipe(&mut client, &mut server);
    server.accept().expect("the request is a valid upgrade");
    assert_eq!(server.next_event(Instant::ZERO), Some(Event::Open));
    pipe(&mut server, &mut client);
    (server, client)
}
