#!/usr/bin/env python3
"""Checks our `client` example (target/release/examples/client) against a peer echo server (run by
scripts/interop-peers.sh; standard library only):

    client_example.py CLIENT NAME ws://127.0.0.1:PORT

Pipes lines into the client and compares the lines it prints, then ends its input and expects exit 0
after the closing handshake; and connects to /refuse, where the server refuses the handshake with 403,
expecting a non-zero exit with the reason on stderr. One line per check:
"PASS client-example-vs-NAME/<check>" or "FAIL client-example-vs-NAME/<check>: <detail>".

The input stays open until every echo was printed: the client closes as soon as its input ends, and a
server may answer that close before it echoes what came just before it (Python websockets does: its
protocol layer answers the close while the echoes still wait in the handler's queue).
"""

import queue
import subprocess
import sys
import threading
import time

TIMEOUT = 15.0


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    client, name, base = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")
    prefix = f"client-example-vs-{name}"
    failed = 0

    def report(check, detail):
        nonlocal failed
        if detail is None:
            print(f"PASS {prefix}/{check}", flush=True)
        else:
            failed += 1
            print(f"FAIL {prefix}/{check}: {detail}", flush=True)

    lines = [
        "hello",
        "",
        "wörld €✓😀 — utf-8",
        "  spaces  and\ttabs  ",
        "x" * 125,
        "y" * 126,
        ("0123456789abcdef" * 8192)[:100_000],
        "last",
    ]
    proc = subprocess.Popen(
        [client, f"{base}/"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    out = queue.Queue()

    def pump():
        for line in proc.stdout:
            out.put(line.rstrip("\n"))
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    stderr = []
    threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True).start()

    got = []
    try:
        for line in lines:
            proc.stdin.write(line + "\n")
        proc.stdin.flush()
        deadline = time.monotonic() + TIMEOUT
        while len(got) < len(lines):
            item = out.get(timeout=max(0.0, deadline - time.monotonic()))
            if item is None:
                break
            got.append(item)
    except (queue.Empty, BrokenPipeError, OSError) as e:
        got.append(f"<{type(e).__name__}>")
    if got == lines:
        report("echo-lines", None)
    else:
        diffs = [i for i in range(max(len(got), len(lines))) if i >= len(got) or i >= len(lines) or got[i] != lines[i]]
        report("echo-lines", f"sent {len(lines)} lines, got {len(got)}; first difference at line {diffs[0]}"
               + (f": {got[diffs[0]][:60]!r}" if diffs[0] < len(got) else ""))

    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        rc = proc.wait(timeout=TIMEOUT)
        time.sleep(0.05)
        err = "".join(stderr).strip()
        report("exit-0-after-close", None if rc == 0 else f"exit code {rc}; stderr {err!r}")
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        report("exit-0-after-close", f"still running {TIMEOUT:.0f} s after the end of its input")

    try:
        refused = subprocess.run(
            [client, f"{base}/refuse"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        err = refused.stderr.strip()
        if refused.returncode == 0:
            report("refused-handshake-403", f"exit code 0; stdout {refused.stdout!r}")
        elif "403" not in err:
            report("refused-handshake-403", f"exit code {refused.returncode}, stderr does not mention 403: {err!r}")
        else:
            report("refused-handshake-403", None)
    except subprocess.TimeoutExpired:
        report("refused-handshake-403", f"still running after {TIMEOUT:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
