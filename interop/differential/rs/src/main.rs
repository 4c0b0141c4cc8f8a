//! The websocket-driver-std side of the differential test (`scripts/interop-differential.sh`): feeds each
//! vector of `interop/differential/vectors.json` to `websocket_driver_std::Driver::server` and prints one
//! JSON line per vector and read, in the format of `interop/differential/node/run.mjs`:
//!
//! ```text
//! {"id", "read", "status", "events": [...], "out": hex}
//! ```
//!
//! events: `{"type":"open"}`, `{"type":"message","kind":"text"|"binary","data":hex}`,
//! `{"type":"ping"|"pong","data":hex}`, `{"type":"error"}`, `{"type":"close","code":N}`,
//! `{"type":"exception"}` (the driver panicked). `status` is the handshake response's status code, `out`
//! what the driver wrote after that response's head (up to and including the first `\r\n\r\n`). With
//! `close_on_open`, the open handler calls `close(Some(1000), "bye")` (S4).
//!
//! ```text
//! interop-differential VECTORS.json [ID-PREFIX]
//! ```
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use websocket_driver_std::{Driver, Message, Options};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn run(head: &[u8], vector: &Value, cuts: &[usize]) -> Value {
    // H3: the Node original does not require `Host`; the comparison uses the same leniency.
    let mut options = Options::new().require_host(false);
    if let Some(n) = vector["options"]["max_length"].as_u64() {
        options = options.max_length(n);
    }
    if let Some(on) = vector["options"]["require_masking"].as_bool() {
        options = options.require_masking(on);
    }
    let events = Arc::new(Mutex::new(Vec::<Value>::new()));
    let mut driver = Driver::server(Vec::new(), options);
    // No on_connect handler: a WebSocket upgrade request starts on its own (the same as calling start()
    // from the handler, as the Node side does).
    let e = events.clone();
    let close_on_open = vector["close_on_open"].as_bool() == Some(true);
    driver.on_open(move |ws, ()| {
        e.lock().unwrap().push(json!({"type": "open"}));
        // S4: the server starts the closing handshake at once.
        if close_on_open {
            ws.close(Some(1000), "bye");
        }
    });
    let e = events.clone();
    driver.on_message(move |_, message| {
        e.lock().unwrap().push(match message {
            Message::Text(text) => {
                json!({"type": "message", "kind": "text", "data": hex(text.as_bytes())})
            }
            Message::Binary(data) => {
                json!({"type": "message", "kind": "binary", "data": hex(&data)})
            }
        })
    });
    let e = events.clone();
    driver.on_ping(move |_, payload| {
        e.lock()
            .unwrap()
            .push(json!({"type": "ping", "data": hex(&payload)}))
    });
    let e = events.clone();
    driver.on_pong(move |_, payload| {
        e.lock()
            .unwrap()
            .push(json!({"type": "pong", "data": hex(&payload)}))
    });
    let e = events.clone();
    driver.on_error(move |_, _| e.lock().unwrap().push(json!({"type": "error"})));
    let e = events.clone();
    driver.on_close(move |_, event| {
        e.lock()
            .unwrap()
            .push(json!({"type": "close", "code": event.code}))
    });

    let bytes: Vec<u8> = vector["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .flat_map(|f| unhex(f.as_str().expect("hex frame")))
        .collect();
    let mut writes: Vec<Vec<u8>> = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        writes.push(bytes[at..cut].to_vec());
        at = cut;
    }
    if vector["head_with_first_chunk"].as_bool() == Some(true) {
        writes[0].splice(0..0, head.iter().copied());
    } else {
        writes.insert(0, head.to_vec());
    }
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        for w in &writes {
            driver.parse(w);
        }
    }))
    .is_err();
    let mut events = events.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if panicked {
        events.push(json!({"type": "exception"}));
    }

    let all: &[u8] = driver.socket();
    let (status, out) = match all.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => {
            let head = String::from_utf8_lossy(&all[..end]);
            let status = head
                .strip_prefix("HTTP/1.1 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            (status, &all[end + 4..])
        }
        None => (None, all),
    };
    json!({"status": status, "events": events, "out": hex(out)})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .unwrap_or_else(|| "interop/differential/vectors.json".into());
    let only = args.next().unwrap_or_default();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read vectors"))
        .expect("parse vectors");
    let head = doc["request_head"]
        .as_str()
        .expect("request_head")
        .as_bytes();
    // A panic is reported as an event; keep its message off the output.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    for vector in doc["vectors"].as_array().expect("vectors") {
        let id = vector["id"].as_str().expect("id");
        if !id.starts_with(&only) {
            continue;
        }
        for (read, cuts) in vector["reads"].as_object().expect("reads") {
            let cuts: Vec<usize> = cuts
                .as_array()
                .expect("cuts")
                .iter()
                .map(|c| c.as_u64().expect("cut") as usize)
                .collect();
            let mut line = run(head, vector, &cuts);
            let result = line.as_object_mut().unwrap();
            let mut ordered = serde_json::Map::new();
            ordered.insert("id".into(), json!(id));
            ordered.insert("read".into(), json!(read));
            ordered.append(result);
            writeln!(stdout, "{}", Value::Object(ordered)).expect("stdout");
        }
    }
}
