#!/usr/bin/env bash
# Differential test: the Node websocket-driver (the original, version pinned in
# interop/differential/node/package.json) and websocket-driver-std fed the same byte streams
# (interop/differential/vectors.json); their events and output frames must match, or differ only as a
# BEHAVIOUR.md Decision or an RFC 6455 rule says. Idempotent; runs as root on a fresh machine or again
# on a used one.
#
#   bash scripts/interop-differential.sh [--verbose] [--only ID-PREFIX]
#
# 1. installs what is missing: Node.js and npm (Debian's, when absent), the npm packages of
#    interop/differential/node (npm ci from its package-lock.json, skipped when already installed from
#    that lock);
# 2. checks that vectors.json is what gen-vectors.mjs generates;
# 3. builds interop/differential/rs (-j1 unless CARGO_BUILD_JOBS says otherwise);
# 4. runs the comparator, which prints one line per difference class and `N passed, N failed`, and
#    exits non-zero on any unexplained difference.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/interop/differential"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

say() { printf '== %s\n' "$*"; }
t_start=$(date +%s)

# --- installs -------------------------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then echo "node and npm are needed (or run as root to apt-get install them)" >&2; exit 2; fi
  say "installing nodejs and npm (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "Node.js >= 18 is needed (found $(node --version))" >&2
  exit 2
fi

# npm ci writes node_modules/.package-lock.json; reinstall only when the lock file is newer than it.
if [ ! -f "$DIR/node/node_modules/.package-lock.json" ] || [ ! -d "$DIR/node/node_modules/websocket-driver" ] \
   || [ "$DIR/node/package-lock.json" -nt "$DIR/node/node_modules/.package-lock.json" ]; then
  say "npm ci (interop/differential/node)"
  (cd "$DIR/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
t_installed=$(date +%s)

# --- vectors --------------------------------------------------------------------------------------
node "$DIR/gen-vectors.mjs" --check

# --- build ----------------------------------------------------------------------------------------
say "building interop/differential/rs (-j$CARGO_BUILD_JOBS)"
cargo build --quiet --manifest-path "$DIR/rs/Cargo.toml"
RS="$DIR/rs/target/debug/interop-differential"
[ -x "$RS" ] || { echo "no binary at $RS" >&2; exit 1; }
t_built=$(date +%s)

# --- compare --------------------------------------------------------------------------------------
# The comparator's last line, `N passed, N failed`, is the last line of this script's output.
say "times: install $((t_installed - t_start)) s, build $((t_built - t_installed)) s; comparing"
exec timeout -k 10 300 node "$DIR/compare.mjs" --rs "$RS" --vectors "$DIR/vectors.json" "$@"
