#!/usr/bin/env bash
# The embedded example, end to end: builds the firmware (thumbv7m-none-eabi, release: opt-level "s",
# LTO), prints its flash and RAM sizes, boots it in QEMU (mps2-an385, Cortex-M3, LAN9118 Ethernet on
# QEMU's user-mode network with a free host port forwarded to the firmware's port 80), and runs an
# independent WebSocket client (Python `websockets`, client.py) against it.
#
# Passes only if every client check passes AND QEMU exits 0: the firmware exits 0 only after a clean
# conversation (closing handshake done, TCP closed); 1 is a panic, 2 a protocol error, 3 its 30 s
# watchdog, 4 TCP ending without a closing handshake, 5 no Ethernet controller.
#
# Idempotent: installs only what is missing (as root on a fresh Debian: qemu-system-arm and
# binutils-arm-none-eabi from apt, the thumbv7m-none-eabi target from rustup, a venv with the pinned
# websockets from PyPI in embedded-example/.venv). Builds with -j1 (JOBS=N to change). Every check
# prints one line, PASS or FAIL; then `N passed, N failed` and a summary line; the exit status is
# non-zero when anything failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-1}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-60}
TARGET=thumbv7m-none-eabi
ELF=$HERE/target/$TARGET/release/websocket-driver-embedded-example
cd "$HERE" || exit 1

say() { printf '== %s\n' "$*" >&2; }
die() {
  printf 'embedded-example: %s\n' "$*" >&2
  echo "0 passed, 1 failed"
  echo "embedded-example: FAIL ($*)"
  exit 1
}

apt_updated=0
apt_install() {
  command -v apt-get > /dev/null || return 1
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq > /dev/null || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

# ---- installs -----------------------------------------------------------------------------------
t0=$SECONDS
command -v qemu-system-arm > /dev/null || {
  say "apt-get install qemu-system-arm"
  apt_install qemu-system-arm || die "qemu-system-arm is missing and could not be installed"
}
command -v arm-none-eabi-size > /dev/null || {
  say "apt-get install binutils-arm-none-eabi"
  apt_install binutils-arm-none-eabi || die "arm-none-eabi-size is missing and could not be installed"
}
if ! rustup target list --installed 2> /dev/null | grep -qx "$TARGET"; then
  say "rustup target add $TARGET"
  rustup target add "$TARGET" > /dev/null 2>&1 || die "rustup target add $TARGET failed"
fi
# shellcheck source=../scripts/python-venv.sh
. "$HERE/../scripts/python-venv.sh"
ensure_venv "$HERE/.venv" "$HERE/requirements.txt"
install_s=$((SECONDS - t0))

# ---- build and sizes ------------------------------------------------------------------------------
t0=$SECONDS
say "cargo build --release (firmware for $TARGET)"
# Inside embedded-example/ so that .cargo/config.toml (target, linker script) applies.
cargo build --release -j "$JOBS" -q || die "building the firmware failed"
build_s=$((SECONDS - t0))
read -r text data bss _ < <(arm-none-eabi-size "$ELF" | awk 'NR == 2')
[ -n "${bss:-}" ] || die "arm-none-eabi-size could not read $ELF"
echo "# firmware size (arm-none-eabi-size $(basename "$ELF")):"
arm-none-eabi-size "$ELF" | sed 's/^/    /'
echo "#   text = code and constants, data = initialised statics (their initial values are in flash"
echo "#   too, copied to RAM at boot), bss = zeroed statics (all buffers: socket, WebSocket, frames)"
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
echo "#   flash: $((text + data)) bytes ($(kib $((text + data))) KiB) = text + data, of 256 KiB in memory.x"
echo "#   static RAM: $((data + bss)) bytes ($(kib $((data + bss))) KiB) = data + bss, of 64 KiB in memory.x" \
  "(the stack takes what is left; its peak is measured at run time)"

# ---- QEMU ---------------------------------------------------------------------------------------
t0=$SECONDS
work=$(mktemp -d)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2> /dev/null && wait "$qemu_pid" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_qemu: boots the firmware with a free host port forwarded to its port 80, and waits until it
# listens; sets PORT and qemu_pid. A port taken between choosing and binding gets one more try.
start_qemu() {
  local attempt i
  for attempt in 1 2 3; do
    PORT=$(free_port)
    timeout "$QEMU_TIMEOUT" qemu-system-arm -machine mps2-an385 -cpu cortex-m3 \
      -nographic -monitor none -serial none -semihosting-config enable=on,target=native \
      -nic "user,model=lan9118,hostfwd=tcp:127.0.0.1:$PORT-:80" \
      -kernel "$ELF" > "$work/qemu.log" 2>&1 &
    qemu_pid=$!
    for i in $(seq 100); do
      grep -q '^listening on port' "$work/qemu.log" && return 0
      kill -0 "$qemu_pid" 2> /dev/null || break
      sleep 0.1
    done
    wait "$qemu_pid" 2> /dev/null
    qemu_pid=
    grep -q 'hostfwd\|Could not set up host forwarding' "$work/qemu.log" || break
  done
  sed 's/^/    /' "$work/qemu.log" >&2
  return 1
}
say "qemu-system-arm -machine mps2-an385 (LAN9118 on user-mode networking)"
start_qemu || die "the firmware did not start listening in QEMU"
say "firmware listening; host port $PORT forwards to 10.0.2.15:80"

# ---- the client's checks, then the firmware's own verdict ------------------------------------------
echo "# client (Python websockets $("$HERE/.venv/bin/python" -c 'import websockets; print(websockets.__version__)')) against ws://127.0.0.1:$PORT/"
timeout 60 "$HERE/.venv/bin/python" "$HERE/client.py" "ws://127.0.0.1:$PORT/" > "$work/client.out" 2>&1
client_rc=$?
cat "$work/client.out"
passed=$(grep -c '^PASS ' "$work/client.out")
failed=$(grep -c '^FAIL ' "$work/client.out")
if [ "$client_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL embedded/client: exited with status $client_rc$([ "$client_rc" = 124 ] && echo ' (timed out)')"
  failed=$((failed + 1))
fi

wait "$qemu_pid"
qemu_rc=$?
qemu_pid=
echo "# firmware log (semihosting):"
sed 's/^/    /' "$work/qemu.log"
case $qemu_rc in
  0) what="a clean conversation" ;;
  1) what="a panic" ;;
  2) what="a protocol error" ;;
  3) what="the firmware's watchdog" ;;
  4) what="TCP ended without a closing handshake" ;;
  5) what="no Ethernet controller" ;;
  124) what="killed by the host's ${QEMU_TIMEOUT} s timeout" ;;
  *) what="unexpected" ;;
esac
if [ "$qemu_rc" -eq 0 ]; then
  echo "PASS embedded/qemu-exit-0"
  passed=$((passed + 1))
else
  echo "FAIL embedded/qemu-exit-0: QEMU exited with status $qemu_rc ($what)"
  failed=$((failed + 1))
fi
run_s=$((SECONDS - t0))
stack=$(sed -n 's/^peak stack use: \([0-9]*\) bytes.*/\1/p' "$work/qemu.log")

echo "# times: installs ${install_s} s, build ${build_s} s, QEMU and checks ${run_s} s"
echo "$passed passed, $failed failed"
verdict=PASS
[ "$failed" -eq 0 ] || verdict=FAIL
echo "embedded-example: $verdict ($passed passed, $failed failed; QEMU exit $qemu_rc, $what;" \
  "flash $((text + data)) B, static RAM $((data + bss)) B, peak stack ${stack:-?} B)"
[ "$failed" -eq 0 ]
