use super::*;
use crate::Config;

#[test]
fn driver_is_small() {
    // DESIGN §3: the driver (without buffers) stays within a few hundred bytes; the goal is ≤ 256, and
    // the legacy drafts' decoder adds its few bytes only when the `drafts` feature is on.
    let size = core::mem::size_of::<Driver>();
    std::println!("size_of::<Driver>() = {size} bytes");
    let goal = if cfg!(feature = "drafts") { 288 } else { 256 };
    assert!(size <= goal, "Driver grew to {size} bytes");
}

#[test]
fn a_head_arriving_byte_by_byte_is_scanned_linearly() {
    // H7 (RUSTSEC-2023-0065): an 8 KiB request head fed one byte at a time costs work linear in its size.
    use crate::handshake::head::WORK;
    use crate::mask_source::SplitMix;
    use crate::{RxBuf, TxRing};
    let mut head = std::vec::Vec::from(&b"GET / HTTP/1.1\r\nHost: a\r\n"[..]);
    while head.len() < 8 * 1024 - 64 {
        head.extend_from_slice(&[b"X-Padding: ".as_slice(), &[b'p'; 150], b"\r\n"].concat());
    }
    head.extend_from_slice(b"\r\n");
    let mut driver = Driver::server(Config::default().max_headers(64).head_limit(16 * 1024));
    let mut rx = RxBuf::new(std::vec![0u8; 16 * 1024]);
    let mut tx = TxRing::new(std::vec![0u8; 4096]);
    let mut rng = SplitMix::new(1);
    WORK.with(|w| w.set(0));
    let mut connects = 0;
    for byte in &head {
        rx.write(core::slice::from_ref(byte));
        if let Some(Event::Connect(_)) = driver
            .poll(&mut rx, &mut tx, &mut rng, Instant::ZERO)
            .unwrap()
        {
            connects += 1;
        }
    }
    let work = WORK.with(|w| w.get());
    std::println!("{} head bytes, {work} bytes scanned", head.len());
    assert_eq!(connects, 1, "the head was reported once");
    assert!(
        work <= 4 * head.len(),
        "scanning is not linear: {work} for {}",
        head.len()
    );
}
