#!/usr/bin/env python3
"""The host side of the embedded example: an independent WebSocket client (Python `websockets`)
that holds one conversation with the firmware's echo server and checks every step of it.

    client.py URL    one line per check: "PASS embedded/<name>" or "FAIL embedded/<name>: <detail>";
                     exits 1 if any failed.

Checks, in order, on a single connection (the firmware serves one conversation, then exits):
  handshake             the opening handshake (101; websockets validates Sec-WebSocket-Accept), and
                        the permessage-deflate offer declined (the firmware has no extensions)
  echo-text-*           text echoed unchanged: empty, ASCII, multi-byte UTF-8, and one message larger
                        than the firmware's receive buffer (1- to 4-byte characters across its chunks)
  echo-binary-N         binary echoed byte for byte, N = 0, 1, 125, 126, 127, 5000, 65535, 65536;
                        messages larger than the receive buffer must come back in several fragments,
                        which the client reassembles
  ping-pong-*           a ping with a payload answered by a pong with the same payload (14 and 125 bytes)
  close-1000            our close (1000, "done") answered with a close carrying 1000, and the server
                        closing TCP promptly (RFC 6455 §7.1.1: the server closes first)
"""

import asyncio
import random
import sys
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Opcode
from websockets.protocol import State

# The firmware's WebSocket receive buffer (WS_RX in src/main.rs): a larger message is echoed in chunks.
RX_BUFFER = 2048
BINARY_SIZES = [0, 1, 125, 126, 127, 5000, 65535, 65536]
TIMEOUT = 15.0
CLOSE_TIMEOUT = 10.0
PREFIX = "embedded"


def make_text(n_bytes, seed):
    """Text of exactly n_bytes UTF-8 bytes, mixing 1-, 2-, 3- and 4-byte characters."""
    rng = random.Random(seed)
    alphabet = "abcdefghij XYZ 0123456789 éüßø πж € ✓ 😀🦀"
    out, size = [], 0
    while size < n_bytes:
        ch = rng.choice(alphabet)
        if size + len(ch.encode()) > n_bytes:
            ch = "a"
        out.append(ch)
        size += len(ch.encode())
    return "".join(out)


class Recorder(ClientConnection):
    """A client connection that also records the payload of every pong received."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pongs = []

    def process_event(self, event):
        if getattr(event, "opcode", None) is Opcode.PONG:
            self.pongs.append(bytes(event.data))
        super().process_event(event)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def report(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {PREFIX}/{name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {PREFIX}/{name}: {detail}", flush=True)

    async def run(self, name, check):
        """Runs one check (a coroutine returning (ok, detail)); an exception is a failure."""
        try:
            ok, detail = await asyncio.wait_for(check, TIMEOUT)
        except Exception as e:  # a timeout, a closed connection: the check failed, say why
            ok, detail = False, f"{type(e).__name__}: {e}"
        self.report(name, ok, detail)


async def receive_message(ws):
    """One message as its list of fragments (text fragments as str, binary as bytes)."""
    return [fragment async for fragment in ws.recv_streaming()]


async def echo(ws, message):
    await ws.send(message)
    fragments = await receive_message(ws)
    joined = "".join(fragments) if isinstance(message, str) else b"".join(fragments)
    size = len(message.encode()) if isinstance(message, str) else len(message)
    if type(joined) is not type(message):
        return False, f"sent {type(message).__name__}, received {type(joined).__name__}"
    if joined != message:
        diff = next((i for i, (a, b) in enumerate(zip(joined, message)) if a != b), None)
        return False, f"echo differs: {len(joined)} vs {len(message)} items, first difference at {diff}"
    if size > RX_BUFFER and len(fragments) < 2:
        return False, f"{size} bytes came back in 1 fragment; expected several (receive buffer {RX_BUFFER})"
    return True, ""


async def ping(ws, payload):
    before = len(ws.pongs)
    waiter = await ws.ping(payload)
    await waiter  # websockets resolves it only for a pong whose payload equals the ping's
    got = ws.pongs[before:]
    return got == [payload], f"pongs received: {got!r}"


async def close(ws):
    start = time.monotonic()
    await ws.close(code=1000, reason="done")
    elapsed = time.monotonic() - start
    rcvd = ws.protocol.close_rcvd
    if rcvd is None:
        return False, "no close frame received"
    if rcvd.code != 1000:
        return False, f"the server's close code is {rcvd.code} ({rcvd.reason!r})"
    if ws.state is not State.CLOSED:
        return False, f"connection state {ws.state.name}"
    # websockets waits up to close_timeout for the server to close TCP, then aborts it itself.
    if elapsed > CLOSE_TIMEOUT / 2:
        return False, f"the server did not close TCP promptly ({elapsed:.1f} s)"
    return True, ""


async def main(url):
    checks = Checks()
    try:
        ws = await connect(
            url,
            create_connection=Recorder,
            ping_interval=None,
            close_timeout=CLOSE_TIMEOUT,
            open_timeout=TIMEOUT,
            max_size=None,
        )
    except Exception as e:
        checks.report("handshake", False, f"{type(e).__name__}: {e}")
        return checks
    extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
    checks.report(
        "handshake",
        ws.response.status_code == 101 and extensions is None,
        f"status {ws.response.status_code}, extensions {extensions!r}",
    )

    texts = {
        "empty": "",
        "ascii": "hello, firmware",
        "utf8": "héllo wörld — ✓ π ж € 😀 🦀",
        f"utf8-{3 * RX_BUFFER}-bytes": make_text(3 * RX_BUFFER, seed=1),
    }
    for name, text in texts.items():
        await checks.run(f"echo-text-{name}", echo(ws, text))
    rng = random.Random(2)
    for size in BINARY_SIZES:
        await checks.run(f"echo-binary-{size}", echo(ws, rng.randbytes(size)))
    for payload in (b"embedded\x00\xffping", bytes(range(125))):
        await checks.run(f"ping-pong-{len(payload)}", ping(ws, payload))
    await checks.run("close-1000", close(ws))
    return checks


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    result = asyncio.run(main(sys.argv[1]))
    sys.exit(1 if result.failed or not result.passed else 0)
