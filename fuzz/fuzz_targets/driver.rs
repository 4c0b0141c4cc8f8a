//! Arbitrary bytes in arbitrary splits into a server-role and a client-role driver, with small and large
//! buffers: no panic, bounded buffer use, a protocol error reported at most once and followed by a close.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket_driver::mask_source::SplitMix;
use websocket_driver::{Config, Driver, Event, Instant, MIN_RX_CAPACITY, RxBuf, TxRing};

const MAX_LENGTH: u64 = 1 << 14;

fn run(driver: Driver, rx_cap: usize, splits: &[u8], data: &[u8]) {
    let mut driver = driver;
    // Pongs replacing unsent ones (`coalesce_pongs`) on half of the runs.
    driver.coalesce_pongs(splits.first().is_some_and(|b| b & 1 == 1));
    let mut rx = RxBuf::new(vec![0u8; rx_cap]);
    let mut tx = TxRing::new(vec![0u8; 256]);
    let mut rng = SplitMix::new(9);
    let (mut errors, mut closes, mut rest) = (0, 0, data);
    let mut split = splits.iter().cycle();
    let mut guard = 0usize;
    while !rest.is_empty() {
        guard += 1;
        assert!(guard < 1_000_000, "no progress");
        let want = usize::from(*split.next().unwrap_or(&255))
            .max(1)
            .min(rest.len());
        let n = rx.write(&rest[..want]);
        rest = &rest[n..];
        // Read before any poll: never more than a frame `poll` would take.
        assert!(driver.frame_remaining(&rx) <= MAX_LENGTH);
        loop {
            match driver.poll(&mut rx, &mut tx, &mut rng, Instant::ZERO) {
                Ok(None) => break,
                Ok(Some(Event::TxFull { needed })) => {
                    assert!(needed <= tx.capacity());
                    let ready = tx.ready();
                    tx.consume(ready);
                }
                Ok(Some(Event::Close { .. })) => closes += 1,
                Ok(Some(Event::Text { data, .. })) => assert!(data.len() <= rx_cap),
                Ok(Some(Event::Binary { data, .. })) => assert!(data.len() <= rx_cap),
                Ok(Some(_)) => {}
                Err(_) => {
                    errors += 1;
                    assert_eq!(closes, 0);
                }
            }
            assert!(errors <= 1 && closes <= 1);
        }
        let ready = tx.ready();
        tx.consume(ready);
        assert!(driver.frame_remaining(&rx) <= MAX_LENGTH);
        assert!(rx.len() <= rx_cap);
        if n == 0 && rx.len() == rx_cap {
            panic!("receive buffer full and nothing consumed");
        }
    }
    assert!(
        errors == 0 || closes == 1,
        "an error is followed by the close event"
    );
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let (splits, data) = rest.split_at(rest.len().min(8));
    let config = Config::default()
        .reassemble(flags & 1 != 0)
        .require_masking(flags & 2 != 0)
        .max_length(MAX_LENGTH);
    for cap in [MIN_RX_CAPACITY, 4096] {
        run(Driver::server_upgraded(config), cap, splits, data);
        run(Driver::client_upgraded(config), cap, splits, data);
    }
});
