#!/usr/bin/env bash
# Boots the firmware in QEMU (mps2-an385, LAN9118 on QEMU's user-mode network) with 127.0.0.1:PORT
# forwarded to its port 80, in the foreground, until the firmware exits: a plain `GET /shutdown` stops
# it (`curl http://127.0.0.1:PORT/shutdown`), and the exit status is the firmware's (0: clean).
#
#   serve.sh [PORT]    PORT defaults to $AUTOBAHN_PORT (autobahn.sh sets it), else 8080
#
# STOP_ON_TERM=1: a TERM or INT to this script asks the firmware to shut down (GET /shutdown) instead
#   of killing QEMU, waits up to 2 s for it (then kills it), and exits with its status after printing
#   "serve.sh: firmware exited with status N" (all within autobahn.sh's 5 s between TERM and KILL).
#   QEMU then runs in a session of its own (autobahn.sh stops its testee with a TERM to the whole
#   process group), under `timeout` (SERVE_TIMEOUT, 3600 s) in case this script is killed outright.
#   run.sh uses this for the Autobahn run.
# DEFMT=1: the firmware logs through defmt (built with `--features defmt` into target/defmt/); its
#   output is decoded by `defmt-print`, which must be installed (`cargo install defmt-print`).
#
# The firmware is built first if it is missing (release, thumbv7m-none-eabi).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${1:-${AUTOBAHN_PORT:-8080}}
DEFMT=${DEFMT:-0}
features=()
target_dir=$HERE/target
if [ "$DEFMT" = 1 ]; then
  features=(--features defmt)
  target_dir=$HERE/target/defmt
fi
ELF=${ELF:-$target_dir/thumbv7m-none-eabi/release/websocket-driver-embedded-example}
if [ ! -f "$ELF" ]; then
  (cd "$HERE" && cargo build --release -q --target-dir "$target_dir" "${features[@]}")
fi
# shellcheck disable=SC2054 # the commas belong to QEMU's option values
qemu=(qemu-system-arm -machine mps2-an385 -cpu cortex-m3 -nographic -monitor none -serial none
  -semihosting-config enable=on,target=native
  -nic "user,model=lan9118,hostfwd=tcp:127.0.0.1:$PORT-:80" -kernel "$ELF")

if [ "$DEFMT" = 1 ]; then
  "${qemu[@]}" | defmt-print -e "$ELF"
  exit
fi
if [ "${STOP_ON_TERM:-0}" != 1 ]; then
  exec "${qemu[@]}"
fi

setsid timeout "${SERVE_TIMEOUT:-3600}" "${qemu[@]}" &
qemu_pid=$!
# shellcheck disable=SC2317 # called by the trap below
stop() {
  trap - TERM INT
  echo "serve.sh: stopping: GET /shutdown"
  # A plain HTTP request through bash's /dev/tcp; the firmware answers, closes its connections with
  # 1001 and exits.
  # shellcheck disable=SC2016 # $1 is the inner shell's
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" >&3
    cat <&3 > /dev/null' _ "$PORT" || true
  for _ in $(seq 20); do
    kill -0 "$qemu_pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$qemu_pid" 2> /dev/null; then
    echo "serve.sh: the firmware did not exit within 2 s of GET /shutdown: killing QEMU"
    kill "$qemu_pid"
  fi
  local rc=0
  wait "$qemu_pid" || rc=$?
  echo "serve.sh: firmware exited with status $rc"
  exit "$rc"
}
trap stop TERM INT
rc=0
wait "$qemu_pid" || rc=$?
echo "serve.sh: firmware exited with status $rc"
exit "$rc"
