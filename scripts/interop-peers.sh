#!/usr/bin/env bash
# Interop tests against independent WebSocket implementations: Python `websockets` and Node `ws`
# (interop/peers/README.md lists every check).
#
#   A. the peers as clients of our echo_server (deflate on and off): echo of text and binary at
#      0..1 MiB, fragmented messages, ping/pong payloads, close code and reason, the negotiated
#      extension, and permessage-deflate parameter variants;
#   B. the peers as echo servers (interop/peers/{py_peer.py,node_peer.mjs} server) for our side:
#      (1) the `client` example (lines in, lines out, exit codes, a refused handshake),
#      (2) the adapter's blocking client API (interop/peers/rust-client): echo, ping/pong both ways,
#          deflate options, subprotocols, close codes both ways, the refused handshake.
#
# Idempotent: installs what is missing (as root on a fresh machine: python3-venv/nodejs/npm from
# Debian when absent), a venv with the pinned websockets (interop/peers/requirements.txt) and `npm ci`
# from the committed lock file, each skipped when already up to date; builds with -j1 (JOBS=N to
# change). Every check prints one line, PASS or FAIL; the last line is `N passed, N failed`, and the
# exit status is non-zero when anything failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=$ROOT/interop/peers
JOBS=${JOBS:-1}
CHECK_TIMEOUT=${CHECK_TIMEOUT:-90}
cd "$ROOT" || exit 1

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'interop-peers: %s\n' "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

apt_updated=0
apt_install() {
  command -v apt-get > /dev/null || return 1
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq > /dev/null || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}

# ---- installs -----------------------------------------------------------------------------------
t0=$SECONDS
# shellcheck source=scripts/python-venv.sh
. "$ROOT/scripts/python-venv.sh"
ensure_venv "$PEERS/.venv" "$PEERS/requirements.txt"
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  apt_install nodejs npm || die "node/npm are missing"
fi
if ! cmp -s "$PEERS/package-lock.json" "$PEERS/node_modules/.interop-lock"; then
  say "npm ci (interop/peers)"
  (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error > /dev/null) || die "npm ci failed"
  cp "$PEERS/package-lock.json" "$PEERS/node_modules/.interop-lock"
fi
install_s=$((SECONDS - t0))

# ---- builds -------------------------------------------------------------------------------------
t0=$SECONDS
say "cargo build (examples, interop/peers/rust-client)"
cargo build --release -j "$JOBS" -q -p websocket-driver-std --example echo_server --example client \
  || die "building the examples failed"
# The standalone crate shares the project's target directory, so the dependencies built above are reused.
cargo build --release -j "$JOBS" -q --manifest-path "$PEERS/rust-client/Cargo.toml" \
  --target-dir "$ROOT/target" || die "building interop/peers/rust-client failed"
build_s=$((SECONDS - t0))
ECHO_SERVER=$ROOT/target/release/examples/echo_server
CLIENT=$ROOT/target/release/examples/client
RUST_CLIENT=$ROOT/target/release/interop-rust-client
PY=$PEERS/.venv/bin/python

# ---- servers, each on a free port it picks itself and prints ---------------------------------------
t0=$SECONDS
work=$(mktemp -d)
pids=()
names=()
logs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME LOG PATTERN COMMAND...: runs COMMAND with stdout and stderr to LOG, and waits until a
# line of LOG has the port (sed PATTERN extracts it); sets PORT.
start() {
  local name=$1 log=$2 pattern=$3
  shift 3
  "$@" > "$log" 2>&1 &
  pids+=($!)
  names+=("$name")
  logs+=("$log")
  local pid=$! i
  for i in $(seq 200); do
    PORT=$(sed -n "$pattern" "$log" | head -n 1)
    [ -n "$PORT" ] && return 0
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  die "the $name server did not start"
}
start echo_server "$work/echo.log" 's#^echo server on ws://.*:\([0-9][0-9]*\)$#\1#p' \
  "$ECHO_SERVER" --port 0 --host 127.0.0.1
ECHO_PORT=$PORT
start python "$work/py.log" 's/^PORT \([0-9][0-9]*\)$/\1/p' "$PY" "$PEERS/py_peer.py" server
PY_PORT=$PORT
start node "$work/node.log" 's/^PORT \([0-9][0-9]*\)$/\1/p' node "$PEERS/node_peer.mjs" server
NODE_PORT=$PORT
say "servers: echo_server :$ECHO_PORT, python websockets :$PY_PORT, node ws :$NODE_PORT"

# ---- checks -------------------------------------------------------------------------------------
passed=0
failed=0
# part NAME COMMAND...: runs one program of checks, shows its lines, counts them; a program that
# fails without a FAIL line (a crash, a time-out) counts as one failed check.
part() {
  local name=$1
  shift
  local out=$work/part.out rc
  timeout "$CHECK_TIMEOUT" "$@" > "$out" 2> "$work/part.err"
  rc=$?
  cat "$out"
  local p f
  p=$(grep -c '^PASS ' "$out")
  f=$(grep -c '^FAIL ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exited with status $rc$([ "$rc" = 124 ] && echo ' (timed out)')"
    sed 's/^/    /' "$work/part.err" | tail -n 20
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

echo "# A. peers as clients of our echo_server"
part python-client "$PY" "$PEERS/py_peer.py" client "ws://127.0.0.1:$ECHO_PORT/"
part node-client node "$PEERS/node_peer.mjs" client "ws://127.0.0.1:$ECHO_PORT/"
echo "# B1. our client example against the peers' servers"
part client-example-vs-python "$PY" "$PEERS/client_example.py" "$CLIENT" python "ws://127.0.0.1:$PY_PORT"
part client-example-vs-node "$PY" "$PEERS/client_example.py" "$CLIENT" node "ws://127.0.0.1:$NODE_PORT"
echo "# B2. our client API against the peers' servers"
part rust-client-vs-python "$RUST_CLIENT" python "ws://127.0.0.1:$PY_PORT"
part rust-client-vs-node "$RUST_CLIENT" node "ws://127.0.0.1:$NODE_PORT"

# The servers must have survived all of it.
for i in "${!pids[@]}"; do
  if kill -0 "${pids[$i]}" 2> /dev/null; then
    echo "PASS servers/${names[$i]}-still-running"
    passed=$((passed + 1))
  else
    echo "FAIL servers/${names[$i]}-still-running: it exited; the end of its log:"
    tail -n 20 "${logs[$i]}" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done
test_s=$((SECONDS - t0))

echo "# times: installs ${install_s} s, builds ${build_s} s, checks ${test_s} s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
