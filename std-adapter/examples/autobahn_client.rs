//! The Autobahn fuzzingserver client: `autobahn_client -- ws://127.0.0.1:9001 [AGENT]` runs every case
//! (echoing what the server sends), then asks the server to write its reports.
use websocket_driver_std::blocking::{Connection, Incoming};
use websocket_driver_std::{Options, PermessageDeflate};

fn connect(url: &str) -> std::io::Result<Connection<std::net::TcpStream>> {
    Connection::connect(url, Options::new().max_length(1 << 26), |driver| {
        driver.add_extension(Box::new(PermessageDeflate::new()));
    })
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "websocket-driver-rs".into());
    let mut count = connect(&format!("{base}/getCaseCount"))?;
    let mut cases = 0u32;
    while let Some(incoming) = count.recv()? {
        match incoming {
            Incoming::Message(m) => {
                cases = m.as_text().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
            }
            Incoming::Close(_) => break,
            _ => {}
        }
    }
    eprintln!("{cases} cases");
    for case in 1..=cases {
        let mut ws = match connect(&format!("{base}/runCase?case={case}&agent={agent}")) {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("case {case}: {e}");
                continue;
            }
        };
        while let Ok(Some(incoming)) = ws.recv() {
            match incoming {
                Incoming::Message(message) => {
                    let sent = ws.send(message);
                    if sent.is_err() {
                        break;
                    }
                }
                Incoming::Close(_) => break,
                _ => {}
            }
        }
    }
    let mut reports = connect(&format!("{base}/updateReports?agent={agent}"))?;
    reports.close(1000, "")?;
    while let Ok(Some(incoming)) = reports.recv() {
        if let Incoming::Close(_) = incoming {
            break;
        }
    }
    Ok(())
}
