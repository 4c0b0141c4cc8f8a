#!/usr/bin/env bash
# Runs the Autobahn Testsuite (../shared/conformance/autobahn.sh) against our servers and client.
# AUTOBAHN_DEFLATE=1 includes the permessage-deflate cases 12.* and 13.* (about 10 minutes a side).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${AUTOBAHN_SUITE:-../shared/conformance/autobahn.sh}
cargo build --release -p websocket-driver-std --example echo_server --example autobahn_client
cargo build --release --example core_echo_server
exclude='12.*,13.*'
[ "${AUTOBAHN_DEFLATE:-0}" = 1 ] && exclude=''
summary=()
run() {
  local name=$1; shift
  local start=$SECONDS
  if ! "$@" > "target/autobahn-$name.log" 2>&1; then
    tail -n 30 "target/autobahn-$name.log"
    echo "autobahn $name: failed"
    return 1
  fi
  summary+=("$(tail -n 1 "target/autobahn-$name.log") [$name, $((SECONDS - start)) s]")
}
AUTOBAHN_EXCLUDE=$exclude AUTOBAHN_PORT=9001 AUTOBAHN_REPORTS=target/autobahn/server \
  run server bash "$suite" server -- target/release/examples/echo_server --port 9001
AUTOBAHN_EXCLUDE=$exclude AUTOBAHN_PORT=9003 AUTOBAHN_REPORTS=target/autobahn/client \
  run client bash "$suite" client -- sh -c 'target/release/examples/autobahn_client "$AUTOBAHN_URL" "$AUTOBAHN_AGENT"'
AUTOBAHN_CASES='1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*' AUTOBAHN_PORT=9002 AUTOBAHN_REPORTS=target/autobahn/core \
  run core-server bash "$suite" server -- target/release/examples/core_echo_server --port 9002
printf '%s\n' "${summary[@]}"
