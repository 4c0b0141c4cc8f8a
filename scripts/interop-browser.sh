#!/usr/bin/env bash
# Real-browser interoperability test: Debian's Chromium (driven by playwright-core) against the
# websocket-driver-std echo servers and chat demo. Idempotent; runs as root on a fresh machine or again
# on a used one.
#
#   bash scripts/interop-browser.sh
#
# 1. installs what is missing: Debian's chromium (/usr/bin/chromium), the npm packages of
#    interop/browser (npm ci from its package-lock.json, skipped when already installed from that lock);
# 2. builds the examples echo_server, axum_echo and chat in release (-j1 unless CARGO_BUILD_JOBS says
#    otherwise);
# 3. three passes, each starting its server on a free loopback port and stopping it afterwards:
#    interop/browser/test.mjs against echo_server (`PASS  echo_server/...`), the same against axum_echo
#    (`PASS  axum_echo/...`), and interop/browser/chat.mjs, two pages of the chat demo (`PASS  chat/...`);
# 4. each pass prints one line per check, then its `N passed, N failed`; the last line of the output is
#    the total, `N passed, N failed` (a pass that ends without its summary counts as one failure). Exits
#    0 when every pass passed, else 1.
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
say "building the examples echo_server, axum_echo, chat (release, -j$CARGO_BUILD_JOBS)"
cargo build --release -p websocket-driver-std --example echo_server --example axum_echo --example chat
EXAMPLES="$(cargo metadata --format-version 1 --no-deps | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => console.log(JSON.parse(s).target_directory));
')/release/examples"
for example in echo_server axum_echo chat; do
  [ -x "$EXAMPLES/$example" ] || { echo "no $example at $EXAMPLES/$example" >&2; exit 1; }
done
t_built=$(date +%s)

# --- servers --------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/interop-browser.XXXXXX")"
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start_server NAME READY ARGS...: runs the example NAME with `--port P ARGS...` on a free loopback port
# until its output (stdout and stderr, in $WORK/NAME.log) has a line starting with READY; sets PORT and
# SERVER_PID, or returns 1. A free port can be taken between the probe and the bind: try a few.
start_server() {
  local name="$1" ready="$2" attempt port
  shift 2
  PORT=""
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    "$EXAMPLES/$name" --port "$port" "$@" >"$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do          # up to 10 s for the READY line
      if grep -q "^$ready" "$WORK/$name.log" 2>/dev/null; then PORT="$port"; break; fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$PORT" ] && break
    stop_server
    echo "$name did not start on port $port (attempt $attempt):" >&2
    cat "$WORK/$name.log" >&2 || true
  done
  [ -n "$PORT" ] || { echo "could not start $name" >&2; return 1; }
  say "$name: $(grep -m1 "^$ready" "$WORK/$name.log") (pid $SERVER_PID)"
}

# --- tests ----------------------------------------------------------------------------------------
passed=0
failed=0
# run_pass NAME READY SERVER_ARGS... -- SCRIPT ARGS...: starts the server NAME (see start_server), runs
# `node interop/browser/SCRIPT --port P ARGS...` against it under a time limit, stops the server, and
# adds the test's `N passed, N failed` to the totals (a server that does not start, a missing summary,
# or a failing exit status with `0 failed` counts as one failure).
run_pass() {
  local name="$1" ready="$2" server_args=() status=0 line
  shift 2
  while [ "$1" != "--" ]; do server_args+=("$1"); shift; done
  shift
  local script="$1"
  shift
  if ! start_server "$name" "$ready" "${server_args[@]}"; then
    failed=$((failed + 1))
    return
  fi
  say "$name: running the browser checks ($script)"
  timeout -k 10 150 node "$DIR/$script" --port "$PORT" --chromium "$CHROMIUM" "$@" | tee "$WORK/$name.out" \
    || status=$?
  if [ "$status" -ne 0 ]; then
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "$name is no longer running" >&2; fi
    if [ -s "$WORK/$name.log" ]; then
      echo "--- $name log (last 40 lines) ---" >&2
      tail -n 40 "$WORK/$name.log" >&2
    fi
  fi
  stop_server
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/$name.out" | tail -n1 || true)"
  if [ -n "$line" ]; then
    passed=$((passed + ${line%% passed*}))
    line="${line#*, }"
    failed=$((failed + ${line%% failed}))
    if [ "$status" -ne 0 ] && [ "${line%% failed}" -eq 0 ]; then failed=$((failed + 1)); fi
  else
    echo "$name: the test ended without its summary (status $status)" >&2
    failed=$((failed + 1))
  fi
}

run_pass echo_server 'echo server on ' --host 127.0.0.1 -- test.mjs --host 127.0.0.1 --label echo_server
run_pass axum_echo 'echo server on ' --host 127.0.0.1 -- test.mjs --host 127.0.0.1 --label axum_echo
# The chat demo takes --port only, binds 127.0.0.1, and prints its line on stdout.
run_pass chat 'chat on http://' -- chat.mjs --host 127.0.0.1
t_end=$(date +%s)
say "times: install $((t_installed - t_start)) s, build $((t_built - t_installed)) s, test $((t_end - t_built)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
