#!/usr/bin/env bash
# Runs the Autobahn Testsuite (../shared/conformance/autobahn.sh) against our servers and clients:
#   server       the adapter's echo_server example, all 517 cases (12.* and 13.* are permessage-deflate)
#   client       the adapter's autobahn_client example, all 517 cases
#   core-server  the core alone (examples/core_echo_server.rs, mio loop), cases 1.* to 10.*
#   core-client  the core alone (examples/core_autobahn_client.rs, blocking std sockets), 1.* to 10.*
# Each pair runs side by side (wstest is single-threaded Python: two runs use both cores). The deflate
# cases take about 11 minutes a side; AUTOBAHN_DEFLATE=0 leaves them out for a quick local run.
# Summary lines and per-run times are printed at the end; reports stay under target/autobahn/.
# Every run is strict about closing (AUTOBAHN_STRICT_CLOSE=1): a case whose behaviorClose is not OK or
# INFORMATIONAL (a wrong close code, an unclean close) fails the run, in every case group, not only in 7.*.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${AUTOBAHN_SUITE:-../shared/conformance/autobahn.sh}
export AUTOBAHN_STRICT_CLOSE=1
cargo build --release -p websocket-driver-std --example echo_server --example autobahn_client
cargo build --release --features rand_core --example core_echo_server --example core_autobahn_client
exclude=''
[ "${AUTOBAHN_DEFLATE:-1}" = 0 ] && exclude='12.*,13.*'
core_cases='1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*'
mkdir -p target/autobahn

# run NAME CMD...: runs one suite invocation in the background, its output in target/autobahn-NAME.log,
# its last line (the summary) in target/autobahn-NAME.summary, and a marker target/autobahn-NAME.failed
# when the suite failed.
run() {
  local name=$1
  shift
  rm -f "target/autobahn-$name.failed"
  (
    start=$SECONDS
    "$@" >"target/autobahn-$name.log" 2>&1 || touch "target/autobahn-$name.failed"
    echo "$(tail -n 1 "target/autobahn-$name.log") [$name, $((SECONDS - start)) s]" \
      >"target/autobahn-$name.summary"
  ) &
}

# collect NAME...: waits for the background runs, prints their summaries, fails if any run failed.
collect() {
  wait
  local failed=0 name
  for name in "$@"; do
    if [ -e "target/autobahn-$name.failed" ]; then
      echo "== autobahn $name failed; the end of target/autobahn-$name.log:"
      tail -n 40 "target/autobahn-$name.log"
      failed=1
    fi
  done
  for name in "$@"; do cat "target/autobahn-$name.summary"; done
  return $failed
}

status=0
AUTOBAHN_EXCLUDE=$exclude AUTOBAHN_PORT=9001 AUTOBAHN_REPORTS=target/autobahn/server \
  run server bash "$suite" server -- target/release/examples/echo_server --port 9001
AUTOBAHN_EXCLUDE=$exclude AUTOBAHN_PORT=9003 AUTOBAHN_REPORTS=target/autobahn/client \
  run client bash "$suite" client -- \
  sh -c 'exec target/release/examples/autobahn_client "$AUTOBAHN_URL" "$AUTOBAHN_AGENT"'
collect server client || status=1

AUTOBAHN_CASES=$core_cases AUTOBAHN_PORT=9002 AUTOBAHN_REPORTS=target/autobahn/core-server \
  run core-server bash "$suite" server -- target/release/examples/core_echo_server --port 9002
AUTOBAHN_CASES=$core_cases AUTOBAHN_PORT=9004 AUTOBAHN_REPORTS=target/autobahn/core-client \
  run core-client bash "$suite" client -- \
  sh -c 'exec target/release/examples/core_autobahn_client "$AUTOBAHN_URL" "$AUTOBAHN_AGENT"'
collect core-server core-client || status=1
exit $status
