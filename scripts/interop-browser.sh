#!/usr/bin/env bash
# Real-browser interoperability test: Debian's Chromium (driven by playwright-core) against the
# websocket-driver-std echo server. Idempotent; runs as root on a fresh machine or again on a used one.
#
#   bash scripts/interop-browser.sh
#
# 1. installs what is missing: Debian's chromium (/usr/bin/chromium), the npm packages of
#    interop/browser (npm ci from its package-lock.json, skipped when already installed from that lock);
# 2. builds the echo server in release (-j1 unless CARGO_BUILD_JOBS says otherwise);
# 3. starts it on a free loopback port, runs interop/browser/test.mjs against it, stops it;
# 4. exits with the test's status (the test prints one line per check, then `N passed, N failed`).
#
# Environment: CHROMIUM (default /usr/bin/chromium), CARGO_BUILD_JOBS (default 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="$ROOT/interop/browser"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

say() { printf '== %s\n' "$*"; }
t_start=$(date +%s)

# --- installs -------------------------------------------------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
  say "installing chromium (apt)"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install chromium (or set CHROMIUM=path)" >&2; exit 2; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
"$CHROMIUM" --version 2>/dev/null || true

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm (Node.js >= 20) are needed: playwright-core 1.65 requires node >= 20" >&2
  exit 2
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "Node.js >= 20 is needed (found $(node --version))" >&2
  exit 2
fi

# npm ci writes node_modules/.package-lock.json; reinstall only when the lock file is newer than it.
if [ ! -f "$DIR/node_modules/.package-lock.json" ] || [ ! -d "$DIR/node_modules/playwright-core" ] \
   || [ "$DIR/package-lock.json" -nt "$DIR/node_modules/.package-lock.json" ]; then
  say "npm ci (interop/browser)"
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
t_installed=$(date +%s)

# --- build ----------------------------------------------------------------------------------------
say "building the echo server (release, -j$CARGO_BUILD_JOBS)"
cargo build --release -p websocket-driver-std --example echo_server
SERVER="$(cargo metadata --format-version 1 --no-deps | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => console.log(JSON.parse(s).target_directory));
')/release/examples/echo_server"
[ -x "$SERVER" ] || { echo "no echo server at $SERVER" >&2; exit 1; }
t_built=$(date +%s)

# --- server ---------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/interop-browser.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# A free port can be taken between the probe and the bind: try a few.
PORT=""
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  "$SERVER" --port "$port" --host 127.0.0.1 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do          # up to 10 s for "echo server on ws://..."
    if grep -q '^echo server on ' "$WORK/server.log" 2>/dev/null; then PORT="$port"; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PORT" ] && break
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  echo "echo server did not start on port $port (attempt $attempt):" >&2
  cat "$WORK/server.log" >&2 || true
done
[ -n "$PORT" ] || { echo "could not start the echo server" >&2; exit 1; }
say "$(head -n1 "$WORK/server.log") (pid $SERVER_PID)"

# --- test -----------------------------------------------------------------------------------------
say "running the browser checks"
status=0
timeout -k 10 150 node "$DIR/test.mjs" --port "$PORT" --host 127.0.0.1 --chromium "$CHROMIUM" || status=$?
if [ "$status" -ne 0 ]; then
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the echo server is no longer running" >&2; fi
  if [ -s "$WORK/server.log" ]; then
    echo "--- echo server log (last 40 lines) ---" >&2
    tail -n 40 "$WORK/server.log" >&2
  fi
fi
t_end=$(date +%s)
say "times: install $((t_installed - t_start)) s, build $((t_built - t_installed)) s, test $((t_end - t_built)) s"
exit "$status"
