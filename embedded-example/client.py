#!/usr/bin/env python3
"""The host side of the embedded example: independent WebSocket clients (Python `websockets`, and raw
sockets where a client must misbehave) that check the firmware's echo server, then stop it.

    client.py URL    one line per check: "PASS embedded/<name>" or "FAIL embedded/<name>: <detail>";
                     exits 1 if any failed. The last step asks the firmware to shut down (GET /shutdown),
                     so QEMU exits on its own and run.sh can check its exit status.

Phase 1, three connections at once:
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
  echo-binary-16MiB     (second connection) one 16 MiB binary message, sent while its echo streams
                        back: byte-exact, in at least 16 MiB / 2 KiB fragments (through the firmware's
                        4 KiB transmit ring)
  keepalive             (third connection, raw, silent) the firmware pings after its ping interval,
                        and closes TCP without a close frame (1006) when no pong comes in its pong timeout
Phase 2, the pool:
  concurrent-4-echo     four connections open at once, each echoing its own messages
  fifth-refused-503     a fifth client refused at once with 503 and Retry-After (not a hang)
  slot-reused           once one of the four closes, a new client gets its slot
  concurrent-close      all of them closed with 1000
Phase 3, HTTP answers:
  not-websocket-400     a plain GET / is answered 400
  head-too-large-431    a request head larger than the receive buffer is answered 431
Phase 4, shutdown:
  shutdown-request      GET /shutdown is answered (503, "shutting down")
  shutdown-close-1001   an open connection gets the server's close with 1001 (going away)
  closing-deadline      a connection that never answers that close is dropped after the firmware's
                        close timeout (its closing deadline), not kept open
"""

import asyncio
import base64
import os
import random
import struct
import sys
import time
from urllib.parse import urlparse

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.frames import Opcode
from websockets.protocol import State

# The firmware's constants (src/main.rs).
RX_BUFFER = 2048  # WS_RX: a larger message is echoed in chunks; also the largest request head
SLOTS = 4
PING_INTERVAL = 5.0
PONG_TIMEOUT = 3.0
CLOSE_TIMEOUT = 2.0

BINARY_SIZES = [0, 1, 125, 126, 127, 5000, 65535, 65536]
BIG = 16 * 1024 * 1024
TIMEOUT = 15.0
BIG_TIMEOUT = 120.0
CLOSE_WAIT = 10.0
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
            print(f"PASS {PREFIX}/{name}{f' ({detail})' if detail else ''}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {PREFIX}/{name}: {detail}", flush=True)

    async def run(self, name, check, timeout=TIMEOUT):
        """Runs one check (a coroutine returning (ok, detail)); an exception is a failure. On
        success the detail is printed too (timings)."""
        try:
            ok, detail = await asyncio.wait_for(check, timeout)
        except Exception as e:  # a timeout, a closed connection: the check failed, say why
            ok, detail = False, f"{type(e).__name__}: {e}"
        self.report(name, ok, detail)
        return ok


def ws_connect(url, **kwargs):
    return connect(url, create_connection=Recorder, ping_interval=None, close_timeout=CLOSE_WAIT,
                   open_timeout=TIMEOUT, max_size=None, **kwargs)


# ---- raw sockets: clients that misbehave on purpose -------------------------------------------------

class Raw:
    """A WebSocket client on a bare asyncio stream: it reads frames and sends nothing it is not told
    to (no pong, no close echo)."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host, port, path="/"):
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"handshake answered {status!r}")
        return cls(reader, writer)

    async def frame(self):
        """The next frame as (opcode, payload), or None at EOF."""
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return b0 & 0x0F, await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise
            return None

    def close(self):
        self.writer.close()


async def http(host, port, request):
    """Sends a raw HTTP request; returns (status, headers dict, body) of the answer."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body
    finally:
        writer.close()


# ---- phase 1 ----------------------------------------------------------------------------------------

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
    return got == [payload], "" if got == [payload] else f"pongs received: {got!r}"


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
    if elapsed > CLOSE_WAIT / 2:
        return False, f"the server did not close TCP promptly ({elapsed:.1f} s)"
    return True, ""


async def conversation(url, checks):
    try:
        ws = await ws_connect(url)
    except Exception as e:
        checks.report("handshake", False, f"{type(e).__name__}: {e}")
        return
    extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
    checks.report(
        "handshake",
        ws.response.status_code == 101 and extensions is None,
        "" if ws.response.status_code == 101 and extensions is None
        else f"status {ws.response.status_code}, extensions {extensions!r}",
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


async def big_echo(url):
    """One 16 MiB binary message: sent while its echo is read (the firmware streams it back chunk by
    chunk, so it cannot take the whole message before answering)."""
    message = random.Random(16).randbytes(BIG)
    start = time.monotonic()
    async with ws_connect(url) as ws:
        receiving = asyncio.ensure_future(receive_message(ws))
        await ws.send(message)
        fragments = await receiving
        elapsed = time.monotonic() - start
        joined = b"".join(fragments)
        if joined != message:
            diff = next((i for i, (a, b) in enumerate(zip(joined, message)) if a != b), None)
            return False, f"echo differs: {len(joined)} bytes back, first difference at {diff}"
        if len(fragments) < BIG // RX_BUFFER:
            return False, f"{len(fragments)} fragments; expected at least {BIG // RX_BUFFER}"
    return True, (f"{len(fragments)} fragments, {elapsed:.1f} s, "
                  f"{BIG / elapsed / 1e6:.1f} MB/s each way")


async def keepalive(host, port):
    """A client that stays silent and answers nothing: pinged, then dropped without a close frame."""
    raw = await Raw.open(host, port)
    start = time.monotonic()
    try:
        first = await asyncio.wait_for(raw.frame(), PING_INTERVAL + 3)
        t_ping = time.monotonic() - start
        if first is None or first[0] != Opcode.PING.value:
            return False, f"expected a ping, got {first!r} after {t_ping:.1f} s"
        if t_ping < PING_INTERVAL - 0.5:
            return False, f"pinged after {t_ping:.1f} s of silence; the interval is {PING_INTERVAL} s"
        after = await asyncio.wait_for(raw.frame(), PONG_TIMEOUT + 3)
        t_end = time.monotonic() - start
        if after is not None:
            return False, f"expected the connection to end, got frame {after!r}"
        if t_end - t_ping < PONG_TIMEOUT - 0.5:
            return False, f"dropped {t_end - t_ping:.1f} s after the ping; the pong timeout is {PONG_TIMEOUT} s"
        return True, f"ping after {t_ping:.1f} s, dropped (1006, no close frame) {t_end - t_ping:.1f} s later"
    finally:
        raw.close()


# ---- phase 2 ----------------------------------------------------------------------------------------

async def open_slot(url, tries=5):
    """Connects; a 503 right after a slot was freed is retried (the slot listens again a few
    milliseconds after its TCP connection ends)."""
    for attempt in range(tries):
        try:
            return await ws_connect(url)
        except InvalidStatus as e:
            if e.response.status_code != 503 or attempt == tries - 1:
                raise
            await asyncio.sleep(0.2)


async def pool(url, checks):
    conns = []
    try:
        async def four():
            conns.extend(await asyncio.gather(*(open_slot(url) for _ in range(SLOTS))))
            results = await asyncio.gather(*(echo(ws, f"slot check {i} " * (i * 100 + 1))
                                             for i, ws in enumerate(conns)))
            bad = [(i, d) for i, (ok, d) in enumerate(results) if not ok]
            return not bad, f"failed: {bad}" if bad else ""
        if not await checks.run("concurrent-4-echo", four()):
            return

        async def fifth():
            start = time.monotonic()
            try:
                extra = await ws_connect(url)
            except InvalidStatus as e:
                r = e.response
                elapsed = time.monotonic() - start
                ok = r.status_code == 503 and r.headers.get("Retry-After") == "1"
                return ok, (f"503 in {elapsed * 1000:.0f} ms: {r.body.decode(errors='replace').strip()!r}"
                            if ok else f"status {r.status_code}, headers {dict(r.headers)!r}")
            await extra.close()
            return False, "a fifth connection was accepted"
        await checks.run("fifth-refused-503", fifth())

        async def reuse():
            await conns[0].close()
            conns[0] = await open_slot(url)
            return await echo(conns[0], "a freed slot serves again")
        await checks.run("slot-reused", reuse())

        async def close_all():
            results = await asyncio.gather(*(close(ws) for ws in conns))
            bad = [(i, d) for i, (ok, d) in enumerate(results) if not ok]
            return not bad, f"failed: {bad}" if bad else ""
        await checks.run("concurrent-close", close_all())
    finally:
        for ws in conns:
            await ws.close()


# ---- phase 3 ----------------------------------------------------------------------------------------

async def not_websocket(host, port):
    status, _, body = await http(host, port, f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return status == 400, f"status {status}, body {body!r}"


async def head_too_large(host, port):
    filler = "x" * (RX_BUFFER + 512)
    request = (f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               f"X-Filler: {filler}\r\n\r\n").encode()
    status, _, body = await http(host, port, request)
    return status == 431, f"status {status}, body {body!r}"


# ---- phase 4 ----------------------------------------------------------------------------------------

async def shutdown(url, host, port, checks):
    polite = await ws_connect(url)
    silent = await Raw.open(host, port)
    try:
        async def request():
            status, _, body = await http(host, port,
                                         f"GET /shutdown HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            return status == 503 and body == b"shutting down\n", f"status {status}, body {body!r}"
        await checks.run("shutdown-request", request())

        async def going_away():
            await polite.wait_closed()
            rcvd = polite.protocol.close_rcvd
            code = rcvd.code if rcvd else None
            return code == 1001, f"close code {code}" + (f" ({rcvd.reason!r})" if rcvd else "")

        async def deadline():
            frame = await silent.frame()
            start = time.monotonic()
            if frame is None or frame[0] != Opcode.CLOSE.value:
                return False, f"expected the server's close frame, got {frame!r}"
            code = struct.unpack("!H", frame[1][:2])[0] if len(frame[1]) >= 2 else None
            after = await silent.frame()
            waited = time.monotonic() - start
            if after is not None:
                return False, f"expected the connection to end, got frame {after!r}"
            if code != 1001 or not CLOSE_TIMEOUT - 0.5 <= waited <= CLOSE_TIMEOUT + 2:
                return False, f"close code {code}; dropped {waited:.1f} s after it (close timeout {CLOSE_TIMEOUT} s)"
            return True, f"unanswered close 1001, dropped {waited:.1f} s later"

        await asyncio.gather(checks.run("shutdown-close-1001", going_away()),
                             checks.run("closing-deadline", deadline()))
    finally:
        await polite.close()
        silent.close()


async def main(url):
    checks = Checks()
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port
    await asyncio.gather(
        conversation(url, checks),
        checks.run("echo-binary-16MiB", big_echo(url), BIG_TIMEOUT),
        checks.run("keepalive", keepalive(host, port), PING_INTERVAL + PONG_TIMEOUT + 10),
    )
    await pool(url, checks)
    await checks.run("not-websocket-400", not_websocket(host, port))
    await checks.run("head-too-large-431", head_too_large(host, port))
    await shutdown(url, host, port, checks)
    return checks


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    result = asyncio.run(main(sys.argv[1]))
    sys.exit(1 if result.failed or not result.passed else 0)
