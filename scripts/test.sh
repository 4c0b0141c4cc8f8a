#!/usr/bin/env bash
# The project's test command (README): formatting, lints, tests, no_std builds, and (FUZZ_SECONDS>0) a fuzz smoke run.
# FUZZ_SECONDS>0 needs the nightly toolchain and cargo-fuzz: without them, or when a fuzz crate lists no
# target, the script fails instead of skipping the fuzzing.
# Installs the rustup pieces it needs, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s == (%d s so far)\n' "$*" "$SECONDS"; }
NO_STD_TARGETS="thumbv7em-none-eabihf thumbv6m-none-eabi"

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# shellcheck disable=SC2086
rustup target add $NO_STD_TARGETS >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "tests"
cargo test --workspace --all-features

# The core's texts that only logs show are behind the default `display` feature: BEHAVIOUR's tests run
# with it (above, and the core's defaults) and without it (the wire texts do not depend on it).
step "core tests with default features, and without them (no \`display\`)"
cargo test -p websocket-driver
cargo test -p websocket-driver --no-default-features

step "no_std builds (no features)"
for target in $NO_STD_TARGETS; do
  cargo build -p websocket-driver --no-default-features --target "$target"
  cargo build -p websocket-driver --no-default-features --features defmt --target "$target"
done

step "benches compile (criterion, against the peers; run them by hand: benches/README.md)"
(cd benches && cargo check --benches --quiet)

step "docs (missing docs are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p websocket-driver -p websocket-driver-std --no-deps --all-features

FUZZ_SECONDS=${FUZZ_SECONDS:-0}
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  step "fuzz: ${FUZZ_SECONDS}s per target, from a generated seed corpus"
  mkdir -p target
  for dir in fuzz std-adapter/fuzz; do
    # Fuzzing was asked for, so a missing nightly or cargo-fuzz is an error, not an empty loop.
    if ! targets=$(cd "$dir" && cargo +nightly fuzz list); then
      echo "error: FUZZ_SECONDS=$FUZZ_SECONDS but \`cargo +nightly fuzz list\` failed in $dir;" \
        "fuzzing needs the nightly toolchain and cargo-fuzz" \
        "(rustup toolchain install nightly; cargo install cargo-fuzz), or FUZZ_SECONDS=0" >&2
      exit 1
    fi
    # The seeds (fuzz/examples/seeds.rs) are written afresh each run; libFuzzer adds what it finds to
    # corpus/<target>, its first corpus directory.
    (cd "$dir" && cargo run --quiet --example seeds -- seeds)
    ran=0
    for target in $targets; do
      log="$PWD/target/fuzz-$target.log"
      mkdir -p "$dir/corpus/$target"
      rm -rf "${dir:?}/artifacts/$target"
      if ! (cd "$dir" && cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1); then
        tail -n 40 "$log"
        for crash in "$dir"/artifacts/"$target"/*; do
          [ -e "$crash" ] || continue
          echo "crashing input $crash (base64: $(base64 -w0 "$crash")):"
          od -A x -t x1z "$crash" | head -20
        done
        exit 1
      fi
      echo "$target: $(grep -E 'stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}') executions in ${FUZZ_SECONDS}s, corpus $(ls "$dir/corpus/$target" | wc -l) inputs"
      ran=$((ran + 1))
    done
    if [ "$ran" -eq 0 ]; then
      echo "error: FUZZ_SECONDS=$FUZZ_SECONDS but no fuzz target ran in $dir" \
        "(\`cargo +nightly fuzz list\` listed none)" >&2
      exit 1
    fi
    echo "$dir: $ran fuzz targets run"
  done
fi
step "all checks passed"
