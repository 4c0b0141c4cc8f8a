//! `blocking::serve` survives running out of file descriptors: a burst of connections over the
//! process's limit (EMFILE on accept) pauses accepting, and serving goes on once connections end.
//! Its own test binary: it lowers the process's open-file limit.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rlimit::Resource;
use websocket_driver_std::Options;
use websocket_driver_std::blocking::serve;

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

/// A plain GET answered by the server's HTTP handler, within `wait`.
fn answered(addr: std::net::SocketAddr, wait: Duration) -> bool {
    let Ok(mut socket) = TcpStream::connect(addr) else {
        return false;
    };
    socket.set_read_timeout(Some(wait)).unwrap();
    if socket
        .write_all(b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200 OK")
}

#[test]
#[cfg(target_os = "linux")]
fn serve_goes_on_after_running_out_of_file_descriptors() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Clients that connect (the kernel completes their handshakes in the backlog) and say nothing.
    let idle: Vec<TcpStream> = (0..40).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    // Room for a few accepted connections and the tests' own sockets, not for the 40.
    rlimit::setrlimit(Resource::NOFILE, open_fds() + 12, hard).unwrap();
    thread::spawn(move || {
        let http = |_request, _body, mut stream: TcpStream| {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        };
        let options = Options::new().handshake_timeout(Some(Duration::from_millis(300)));
        serve(listener, options, |_| {}, |_| {}, http)
    });
    // The server hits EMFILE while the idle clients hold its descriptors...
    thread::sleep(Duration::from_millis(200));
    // ...and they go: their handshakes time out, our ends close, and descriptors come back.
    drop(idle);
    assert!(
        (0..20).any(|_| answered(addr, Duration::from_secs(2))),
        "the server stopped serving after running out of file descriptors"
    );
}
