//! A client (optionally through a proxy) that reads arbitrary response bytes in arbitrary splits, then
//! frames. No panic, bounded buffers, an error at most once, then a close.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{ClientRequest, Config, Driver, Event, Instant, RxBuf, TxRing, Url};

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let (splits, data) = rest.split_at(rest.len().min(4));
    let config = Config::default()
        .head_limit(1024)
        .max_headers(16)
        .max_length(1 << 12);
    let mut driver = Driver::client(config);
    let mut rx = RxBuf::new(vec![0u8; 1024]);
    let mut tx = TxRing::new(vec![0u8; 2048]);
    let mut rng = SplitMix::new(u64::from(flags));
    let url = Url::parse_ws("ws://user:pw@example.com:8080/chat?x=1").unwrap();
    let request = ClientRequest {
        url: &url,
        protocols: &["chat", "superchat"],
        headers: &[],
        extensions: None,
    };
    let proxied = flags & 1 != 0;
    if proxied {
        let proxy = Url::parse("http://p:q@proxy.example.com:3128").unwrap();
        driver.connect_proxy(&mut tx, &url, &proxy, &[]).unwrap();
    } else {
        driver.start(&mut tx, &mut rng, &request).unwrap();
    }
    let (mut errors, mut closes) = (0, 0);
    let mut rest = data;
    let mut split = splits.iter().cycle();
    while !rest.is_empty() {
        let want = usize::from(*split.next().unwrap_or(&64))
            .max(1)
            .min(rest.len());
        let n = rx.write(&rest[..want]);
        rest = &rest[n..];
        loop {
            match driver.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO) {
                Ok(None) => break,
                Ok(Some(Event::ProxyConnected(_))) => {
                    assert!(proxied);
                    driver.start(&mut tx, &mut rng, &request).unwrap();
                }
                Ok(Some(Event::Response(_))) => {
                    // The offered list passed back, or (flag bit 1) a different one.
                    let offered: &[&str] = if flags & 2 == 0 {
                        &["chat", "superchat"]
                    } else {
                        &["chat"]
                    };
                    if driver.check_response(&mut rx, &mut tx, offered).is_err() {
                        errors += 1;
                    }
                }
                Ok(Some(Event::Close { .. })) => closes += 1,
                Ok(Some(Event::TxFull { .. })) => {
                    let ready = tx.ready();
                    tx.consume(ready);
                }
                Ok(Some(_)) => {}
                Err(_) => {
                    errors += 1;
                    if let Some(response) = driver.response(&rx) {
                        let _ = response.headers().count();
                    }
                }
            }
            assert!(errors <= 1 && closes <= 1);
        }
        let ready = tx.ready();
        tx.consume(ready);
        assert!(!(n == 0 && rx.is_full()), "stalled with a full buffer");
    }
});
