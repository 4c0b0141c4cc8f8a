//! A raw-mode server fed arbitrary bytes in arbitrary splits: the request head (accepted when it is an
//! upgrade, drafts allowed), then frames. No panic, bounded buffers, an error at most once, then a close.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{Accept, Config, Driver, Event, Instant, RxBuf, TxRing};

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let (splits, data) = rest.split_at(rest.len().min(4));
    let config = Config::default()
        .allow_drafts(flags & 1 != 0)
        .reassemble(flags & 2 != 0)
        .head_limit(1024)
        .max_headers(16)
        .max_length(1 << 12);
    let mut driver = Driver::server(config);
    let mut rx = RxBuf::new(vec![0u8; 1024]);
    let mut tx = TxRing::new(vec![0u8; 1024]);
    let mut rng = SplitMix::new(1);
    let (mut errors, mut closes, mut connects) = (0, 0, 0);
    let mut rest = data;
    let mut split = splits.iter().cycle();
    let accept = Accept {
        protocols: &["chat", "superchat"],
        ..Accept::default()
    };
    while !rest.is_empty() {
        let want = usize::from(*split.next().unwrap_or(&64))
            .max(1)
            .min(rest.len());
        let n = rx.write(&rest[..want]);
        rest = &rest[n..];
        let mut upgrade = false;
        loop {
            match driver.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO) {
                Ok(None) => break,
                Ok(Some(Event::Connect(request))) => {
                    connects += 1;
                    upgrade = request.is_websocket();
                }
                Ok(Some(Event::Close { .. })) => closes += 1,
                Ok(Some(Event::TxFull { .. })) => {
                    let ready = tx.ready();
                    tx.consume(ready);
                }
                Ok(Some(_)) => {}
                Err(_) => errors += 1,
            }
            if upgrade {
                upgrade = false;
                let _ = driver.accept(&mut rx, &mut tx, &accept);
            }
            assert!(errors <= 1 && closes <= 1 && connects <= 1);
        }
        let ready = tx.ready();
        tx.consume(ready);
        if n == 0 && rx.is_full() {
            // A full buffer with nothing to do is only allowed while a request waits for the application.
            assert!(driver.request(&rx).is_some(), "stalled with a full buffer");
            break;
        }
    }
});
