//! Puts `memory.x` where the linker looks for it (cortex-m-rt's `link.x` includes it by name) and
//! passes cortex-m-rt's linker script.
//!
//! `-Tlink.x` is added here rather than in `.cargo/config.toml` because the parent folder's config
//! (embedded-example/.cargo/config.toml) already adds it for `thumbv7m-none-eabi`, and cargo merges
//! the two: given twice, the script would define its memory regions twice. So it is added only when
//! the rustflags cargo passes do not already carry it.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is next to Cargo.toml");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !flags.split('\x1f').any(|f| f.contains("-Tlink.x")) {
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
        // Keeps sections unpadded in the ELF.
        println!("cargo:rustc-link-arg-bins=--nmagic");
    }
}
