use super::*;

#[test]
fn driver_is_small() {
    // DESIGN §3: the driver (without buffers) stays within a few hundred bytes; the goal is ≤ 256.
    let size = core::mem::size_of::<Driver>();
    std::println!("size_of::<Driver>() = {size} bytes");
    assert!(size <= 256, "Driver grew to {size} bytes");
}
