#!/usr/bin/env bash
# The embedded example, end to end: builds the firmware (thumbv7m-none-eabi, release: opt-level "s",
# LTO), prints its flash and RAM sizes, boots it in QEMU (mps2-an385, Cortex-M3, LAN9118 Ethernet on
# QEMU's user-mode network with a free host port forwarded to the firmware's port 80), runs independent
# WebSocket clients (Python `websockets`, client.py) against it, then the Autobahn testsuite against a
# second boot of it. Last, m0/run.sh: the Cortex-M0 firmware (a core client and server on QEMU's
# microbit, 16 KiB of RAM) and the core's footprint table (EMBEDDED_M0=0 leaves it out).
#
# The firmware serves until a plain `GET /shutdown` (client.py's last step): then it closes its
# connections with 1001 and exits QEMU with 0, or 2 if it hit an error of its own (a bug), 3 if
# connections were still open 10 s later; 1 is a panic, 5 no Ethernet controller. Passes only if every
# client check passes, QEMU exits 0, and the Autobahn run has 0 FAILED, 0 NON-STRICT, 0 UNIMPLEMENTED
# (strict about closing) and the firmware exits 0 after it too.
#
# EMBEDDED_AUTOBAHN=full (default: cases 1.*-7.*, 9.*, 10.*; about 50 s here), quick (1.*-7.*, 10.*:
# leaves out 9.*, the limits and performance cases with messages up to 16 MiB) or off. 12.* and 13.*
# (permessage-deflate) are always left out: the firmware negotiates no extension.
#
# Idempotent: installs only what is missing (as root on a fresh Debian: qemu-system-arm and
# binutils-arm-none-eabi from apt, the thumbv7m-none-eabi target from rustup, a venv with the pinned
# websockets from PyPI in embedded-example/.venv; autobahn.sh installs its own environment). Builds
# with -j1 (JOBS=N to change), a second time with `--features defmt` (into target/defmt/, to check that
# the defmt build links; EMBEDDED_DEFMT=0 skips it). Every check prints one line, PASS or FAIL; then
# `N passed, N failed` and a summary line; the exit status is non-zero when anything failed.
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
read -r text data bss _ < <(arm-none-eabi-size "$ELF" | awk 'NR == 2')
[ -n "${bss:-}" ] || die "arm-none-eabi-size could not read $ELF"
echo "# firmware size (arm-none-eabi-size $(basename "$ELF")):"
arm-none-eabi-size "$ELF" | sed 's/^/    /'
echo "#   text = code and constants, data = initialised statics (their initial values are in flash"
echo "#   too, copied to RAM at boot), bss = zeroed statics (the slots' buffers, the Ethernet frames)"
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
echo "#   flash: $((text + data)) bytes ($(kib $((text + data))) KiB) = text + data, of 256 KiB in memory.x"
echo "#   static RAM: $((data + bss)) bytes ($(kib $((data + bss))) KiB) = data + bss, of 64 KiB in memory.x" \
  "(the stack takes what is left; its peak is measured at run time)"
passed=0
failed=0
check() { # check NAME OK DETAIL
  if [ "$2" = 1 ]; then
    echo "PASS embedded/$1${3:+ ($3)}"
    passed=$((passed + 1))
  else
    echo "FAIL embedded/$1: $3"
    failed=$((failed + 1))
  fi
}
if [ "${EMBEDDED_DEFMT:-1}" = 1 ]; then
  # The defmt build is checked to compile and link; it runs only with defmt-print (serve.sh DEFMT=1).
  say "cargo build --release --features defmt (into target/defmt)"
  if cargo build --release -j "$JOBS" -q --features defmt --target-dir target/defmt; then
    defmt_elf=target/defmt/$TARGET/release/websocket-driver-embedded-example
    read -r dtext ddata dbss _ < <(arm-none-eabi-size "$defmt_elf" | awk 'NR == 2')
    check build-defmt 1 "flash $((dtext + ddata)) B, static RAM $((ddata + dbss)) B"
  else
    check build-defmt 0 "cargo build --features defmt failed"
  fi
fi
build_s=$((SECONDS - t0))

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

# http_shutdown PORT: asks the firmware on PORT to stop (it answers 503 "shutting down").
http_shutdown() {
  python3 -c 'import sys, urllib.request
try: urllib.request.urlopen("http://127.0.0.1:%s/shutdown" % sys.argv[1], timeout=5)
except Exception: pass' "$1"
}

# start_qemu: boots the firmware with a free host port forwarded to its port 80, and waits until it
# listens; sets PORT and qemu_pid. A port taken between choosing and binding gets one more try.
start_qemu() {
  for _ in 1 2 3; do
    PORT=$(free_port)
    ELF=$ELF timeout "$QEMU_TIMEOUT" bash "$HERE/serve.sh" "$PORT" > "$work/qemu.log" 2>&1 &
    qemu_pid=$!
    for _ in $(seq 100); do
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
timeout 120 "$HERE/.venv/bin/python" "$HERE/client.py" "ws://127.0.0.1:$PORT/" > "$work/client.out" 2>&1
client_rc=$?
cat "$work/client.out"
passed=$((passed + $(grep -c '^PASS ' "$work/client.out")))
client_failed=$(grep -c '^FAIL ' "$work/client.out")
failed=$((failed + client_failed))
if [ "$client_rc" -ne 0 ] && [ "$client_failed" -eq 0 ]; then
  check client 0 "exited with status $client_rc$([ "$client_rc" = 124 ] && echo ' (timed out)')"
fi
if kill -0 "$qemu_pid" 2> /dev/null && ! grep -q '^shutdown requested' "$work/qemu.log"; then
  # The client stopped before its shutdown step: ask for it here, so QEMU's status still tells.
  say "the client did not shut the firmware down: GET /shutdown"
  http_shutdown "$PORT"
fi

wait "$qemu_pid"
qemu_rc=$?
qemu_pid=
echo "# firmware log (semihosting):"
sed 's/^/    /' "$work/qemu.log"
exit_meaning() {
  case $1 in
    0) echo "a clean shutdown" ;;
    1) echo "a panic" ;;
    2) echo "an internal error of the firmware" ;;
    3) echo "connections still open 10 s after the shutdown request" ;;
    5) echo "no Ethernet controller" ;;
    124) echo "killed by the host's ${QEMU_TIMEOUT} s timeout" ;;
    *) echo "unexpected" ;;
  esac
}
what=$(exit_meaning "$qemu_rc")
if [ "$qemu_rc" -eq 0 ]; then
  check qemu-exit-0 1 "$what"
else
  check qemu-exit-0 0 "QEMU exited with status $qemu_rc ($what)"
fi
stack=$(sed -n 's/^peak stack use: \([0-9]*\) bytes.*/\1/p' "$work/qemu.log")
slot_ram=$(sed -n 's/^RAM per slot: \([0-9]*\) bytes.*/\1/p' "$work/qemu.log")

# The defmt build boots, logs through defmt-print and shuts down cleanly (when defmt-print is there).
if [ -n "${defmt_elf:-}" ]; then
  if command -v defmt-print > /dev/null; then
    dport=$(free_port)
    DEFMT=1 ELF=$HERE/$defmt_elf timeout 30 bash "$HERE/serve.sh" "$dport" > "$work/defmt.log" 2>&1 &
    dpid=$!
    for _ in $(seq 100); do
      grep -q '^listening on port' "$work/defmt.log" && break
      kill -0 "$dpid" 2> /dev/null || break
      sleep 0.1
    done
    http_shutdown "$dport"
    wait "$dpid"
    drc=$?
    if [ "$drc" = 0 ] && grep -q '^exit 0$' "$work/defmt.log"; then
      check defmt-run 1 "booted, decoded by defmt-print, shut down with exit 0"
    else
      sed 's/^/    /' "$work/defmt.log"
      check defmt-run 0 "status $drc ($(exit_meaning "$drc"))"
    fi
  else
    echo "# defmt-print not installed: the defmt build is checked to link, not run" \
      "(cargo install defmt-print --locked, then DEFMT=1 bash serve.sh)"
  fi
fi
run_s=$((SECONDS - t0))

# ---- Autobahn against a second boot of the firmware --------------------------------------------
t0=$SECONDS
autobahn=${EMBEDDED_AUTOBAHN:-full}
case $autobahn in
  full) cases='1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*' left_out='12.*, 13.*' ;;
  quick) cases='1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*' left_out='9.*, 12.*, 13.*' ;;
  off) cases='' left_out='all' ;;
  *) die "EMBEDDED_AUTOBAHN must be full, quick or off, not $autobahn" ;;
esac
suite=${AUTOBAHN_SUITE:-$HERE/../../shared/conformance/autobahn.sh}
autobahn_line=
if [ -n "$cases" ]; then
  reports=$HERE/target/autobahn
  echo "# Autobahn testsuite (wstest fuzzingclient) against the firmware: cases $cases, strict close"
  AUTOBAHN_PORT=$(free_port) AUTOBAHN_CASES=$cases AUTOBAHN_STRICT_CLOSE=1 AUTOBAHN_REPORTS=$reports \
    AUTOBAHN_AGENT=embedded-firmware AUTOBAHN_TIMEOUT=600 STOP_ON_TERM=1 ELF=$ELF \
    bash "$suite" server -- bash "$HERE/serve.sh" > "$work/autobahn.out" 2>&1
  autobahn_rc=$?
  sed 's/^/    /' "$work/autobahn.out"
  autobahn_line=$(grep '^autobahn server:' "$work/autobahn.out" | tail -n 1)
  check autobahn "$([ "$autobahn_rc" = 0 ] && echo 1 || echo 0)" "${autobahn_line:-no summary line}, $((SECONDS - t0)) s"
  # The firmware served every case on one boot, then got GET /shutdown: its exit status.
  fw_rc=$(sed -n 's/^serve.sh: firmware exited with status \([0-9]*\)$/\1/p' "$reports/testee-server.log" | tail -n 1)
  echo "# firmware after Autobahn (end of $reports/testee-server.log):"
  grep -E '^(served|endings|echoed|peak stack|exit)' "$reports/testee-server.log" | sed 's/^/    /'
  if [ "$fw_rc" = 0 ]; then
    check autobahn-firmware-exit-0 1 "$(exit_meaning 0) after the Autobahn run"
  else
    check autobahn-firmware-exit-0 0 "status ${fw_rc:-unknown} ($(exit_meaning "${fw_rc:-x}"))"
  fi
fi
echo "# Autobahn cases left out: $left_out (12.* and 13.* are permessage-deflate, which the firmware does not offer)"
autobahn_s=$((SECONDS - t0))

# ---- the Cortex-M0 firmware (m0/): a core client and server in 16 KiB of RAM, the core's footprint --
t0=$SECONDS
m0_verdict=
if [ "${EMBEDDED_M0:-1}" = 1 ]; then
  JOBS=$JOBS bash "$HERE/m0/run.sh" > "$work/m0.out" 2>&1
  m0_rc=$?
  # Its checks count with ours; its own count line is left out.
  counts='^[0-9]+ passed, [0-9]+ failed$'
  grep -vE "$counts" "$work/m0.out"
  m0_counts=$(grep -E "$counts" "$work/m0.out" | tail -n 1)
  m0_failed=0
  if [ -n "$m0_counts" ]; then
    m0_failed=${m0_counts#*, }
    m0_failed=${m0_failed%% *}
    passed=$((passed + ${m0_counts%% *}))
    failed=$((failed + m0_failed))
  fi
  if [ "$m0_rc" -ne 0 ] && [ "$m0_failed" -eq 0 ]; then
    check m0 0 "m0/run.sh exited with status $m0_rc"
  fi
  m0_verdict=$(sed -n 's/^embedded-m0: \([A-Z]*\) .*/\1/p' "$work/m0.out" | tail -n 1)
fi
m0_s=$((SECONDS - t0))

echo "# times: installs ${install_s} s, build ${build_s} s, QEMU and client checks ${run_s} s, Autobahn ${autobahn_s} s, Cortex-M0 ${m0_s} s"
echo "$passed passed, $failed failed"
verdict=PASS
[ "$failed" -eq 0 ] || verdict=FAIL
echo "embedded-example: $verdict ($passed passed, $failed failed; QEMU exit $qemu_rc, $what;" \
  "flash $((text + data)) B, static RAM $((data + bss)) B, RAM per slot ${slot_ram:-?} B," \
  "peak stack ${stack:-?} B${autobahn_line:+; $autobahn_line}${m0_verdict:+; Cortex-M0 firmware: $m0_verdict})"
[ "$failed" -eq 0 ]
