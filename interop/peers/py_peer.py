#!/usr/bin/env python3
"""Python `websockets` peer for the interop tests (run by scripts/interop-peers.sh).

    py_peer.py client URL    runs named checks against our echo server, one line per check:
                             "PASS python-client/<name>" or "FAIL python-client/<name>: <detail>";
                             exits 1 if any failed.
    py_peer.py server        an echo server on 127.0.0.1 and a free port, printed as "PORT <n>":
                             echoes text as text and binary as binary, permessage-deflate when offered,
                             subprotocol "chat" when offered, refuses the handshake on the path /refuse
                             with 403; on the text message "!close CODE REASON" closes with that
                             code and reason, and on "!ping DATA" pings with DATA and, once the pong
                             with DATA came back, sends "!pong DATA".
"""

import asyncio
import functools
import os
import random
import sys

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20]
TIMEOUT = 15.0
PREFIX = "python-client"


def _random_text(rng, n):
    alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;éüßøπжЖ€✓😀"
    out, size = [], 0
    while True:
        ch = rng.choice(alphabet)
        b = len(ch.encode())
        if size + b > n:
            break
        out.append(ch)
        size += b
    out.append("a" * (n - size))
    return "".join(out)


@functools.lru_cache(maxsize=None)
def make_text(n, seed):
    """Text of exactly n UTF-8 bytes, with 1-, 2-, 3- and 4-byte characters (a random block of at
    most 4 KiB, repeated)."""
    rng = random.Random(seed)
    block = _random_text(rng, min(n, 4096))
    size = len(block.encode())
    text = block * (n // size) + _random_text(rng, n % size) if size else ""
    assert len(text.encode()) == n
    return text


@functools.lru_cache(maxsize=None)
def make_binary(n, seed):
    """n bytes: random half, repetitive half (so deflate has something to do)."""
    rng = random.Random(seed)
    half = n // 2
    return rng.randbytes(half) + bytes((i * 7) & 0xFF for i in range(n - half))


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

    def result(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {PREFIX}/{name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {PREFIX}/{name}: {detail}", flush=True)

    async def run(self, name, coro):
        try:
            detail = await asyncio.wait_for(coro, TIMEOUT)
        except Exception as e:  # noqa: BLE001 — any exception is a failed check
            detail = f"{type(e).__name__}: {e}"
        self.result(name, detail is None, detail)


def describe(value):
    kind = "text" if isinstance(value, str) else "binary"
    size = len(value.encode()) if isinstance(value, str) else len(value)
    return f"{kind} of {size} bytes"


async def echo(ws, sent):
    await ws.send(sent)
    got = await ws.recv()
    if type(got) is not type(sent) or got != sent:
        return f"sent {describe(sent)}, got {describe(got)}" + (" (different content)" if type(got) is type(sent) else "")
    return None


async def client_mode(checks, url, deflate):
    mode = "deflate" if deflate else "plain"
    compression = "deflate" if deflate else None
    async with connect(
        url,
        compression=compression,
        max_size=None,
        ping_interval=None,
        close_timeout=TIMEOUT,
        open_timeout=TIMEOUT,
        create_connection=Recorder,
    ) as ws:
        header = ws.response.headers.get("Sec-WebSocket-Extensions")
        names = [e.name for e in ws.protocol.extensions]

        async def extension():
            if deflate:
                if names != ["permessage-deflate"] or not header or "permessage-deflate" not in header:
                    return f"expected permessage-deflate; response header {header!r}, active {names}"
            elif names or header:
                return f"expected no extension; response header {header!r}, active {names}"
            return None

        await checks.run(f"{mode}/extension", extension())
        for n in SIZES:
            await checks.run(f"{mode}/echo-text-{n}", echo(ws, make_text(n, n)))
            await checks.run(f"{mode}/echo-binary-{n}", echo(ws, make_binary(n, n + 1)))

        async def fragmented(parts):
            await ws.send(parts)
            got = await ws.recv()
            whole = "".join(parts) if isinstance(parts[0], str) else b"".join(parts)
            if type(got) is not type(whole) or got != whole:
                same = " (different content)" if type(got) is type(whole) else ""
                return f"sent {len(parts)} fragments making {describe(whole)}, got {describe(got)}{same}"
            return None

        await checks.run(f"{mode}/fragmented-text", fragmented(["Hello, ", "fragmented ", "wörld", "", " €✓", make_text(70000, 7)]))
        await checks.run(f"{mode}/fragmented-binary", fragmented([b"\x00\x01", make_binary(1000, 3), b"", make_binary(70000, 4)]))

        async def split_utf8():
            # "€😀" cut inside both characters: no fragment alone is valid UTF-8, the message is.
            whole = "x€😀y".encode()
            await ws.send([whole[0:2], whole[2:4], whole[4:6], whole[6:]], text=True)
            got = await ws.recv()
            return None if got == whole.decode() else f"sent text {whole.decode()!r} in 4 fragments, got {got!r}"

        await checks.run(f"{mode}/fragmented-text-split-utf8", split_utf8())

        async def async_iterator():
            parts = [make_text(5000, 11), "", make_text(200, 12), make_text(66000, 13)]

            async def fragments():
                for part in parts:
                    await asyncio.sleep(0)
                    yield part

            await ws.send(fragments())
            got = await ws.recv()
            whole = "".join(parts)
            if got != whole:
                return f"sent {describe(whole)} from an async iterator of {len(parts)} fragments, got {describe(got)}"
            return None

        await checks.run(f"{mode}/fragmented-async-iterator", async_iterator())

        async def ping():
            payload = b"ping-payload \x00\xff " + os.urandom(8)
            waiter = await ws.ping(payload)
            await waiter
            if payload not in ws.pongs:
                return f"pongs received {ws.pongs!r}, none with payload {payload!r}"
            return None

        await checks.run(f"{mode}/ping-pong-payload", ping())

        async def empty_ping():
            ws.pongs.clear()
            waiter = await ws.ping(b"")
            await waiter
            return None if b"" in ws.pongs else f"pongs received {ws.pongs!r}, expected an empty one"

        await checks.run(f"{mode}/ping-pong-empty", empty_ping())

        async def close():
            reason = "going away — fin ✓"
            await ws.close(4001, reason)
            await ws.wait_closed()
            rcvd = ws.protocol.close_rcvd
            if rcvd is None:
                return "no close frame received"
            if rcvd.code != 4001 or rcvd.reason != reason:
                return f"sent close 4001 {reason!r}, peer answered {rcvd.code} {rcvd.reason!r}"
            return None

        await checks.run(f"{mode}/close-4001-reason", close())


def context_traffic():
    """Traffic that exercises a compression context: similar small messages, then large ones."""
    messages = [f"message {i}: " + "the same words again " * i for i in range(40)]
    return messages + [make_text(300000, 21), make_binary(100000, 22), "after the large ones"]


DEFLATE_VARIANTS = [
    ("server-no-context-takeover", dict(server_no_context_takeover=True), ["server_no_context_takeover"]),
    ("client-no-context-takeover", dict(client_no_context_takeover=True), ["client_no_context_takeover"]),
    ("server-max-window-bits-9", dict(server_max_window_bits=9), ["server_max_window_bits=9"]),
    ("client-max-window-bits-9", dict(client_max_window_bits=9), ["client_max_window_bits=9"]),
    (
        "all-parameters-10-bits",
        dict(server_no_context_takeover=True, client_no_context_takeover=True, server_max_window_bits=10, client_max_window_bits=10),
        ["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=10", "client_max_window_bits=10"],
    ),
]


async def deflate_params(checks, url):
    """permessage-deflate parameters offered by websockets (RFC 7692 §7.1): each variant is one connection
    that must be accepted with the parameters in the response, and must echo the traffic intact."""
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    for name, params, expected in DEFLATE_VARIANTS:

        async def check():
            factory = ClientPerMessageDeflateFactory(compress_settings={"memLevel": 5}, **params)
            async with connect(url, extensions=[factory], compression=None, max_size=None, ping_interval=None,
                               open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
                header = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
                tokens = [t.strip() for t in header.split(";")]
                missing = [t for t in expected if t not in tokens]
                if "permessage-deflate" not in tokens or missing:
                    return f"response Sec-WebSocket-Extensions {header!r} lacks {missing}"
                traffic = context_traffic()
                for message in traffic:
                    await ws.send(message)
                for i, message in enumerate(traffic):
                    got = await ws.recv()
                    if got != message:
                        return f"message {i}: sent {describe(message)}, got {describe(got)}"
            return None

        await checks.run(f"deflate-params/{name}", check())


async def client_main(url):
    checks = Checks()
    for deflate in (True, False):
        mode = "deflate" if deflate else "plain"
        try:
            await client_mode(checks, url, deflate)
        except Exception as e:  # noqa: BLE001
            checks.result(f"{mode}/connect", False, f"{type(e).__name__}: {e}")
    await deflate_params(checks, url)
    return 1 if checks.failed else 0


async def handler(ws):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("!close "):
                _, code, reason = (message.split(" ", 2) + [""])[:3]
                await ws.close(int(code), reason)
                return
            if isinstance(message, str) and message.startswith("!ping "):
                payload = message[len("!ping "):]
                await asyncio.wait_for(await ws.ping(payload), 10)
                await ws.send("!pong " + payload)
                continue
            await ws.send(message)
    except ConnectionClosed:
        pass


def select_subprotocol(_connection, offered):
    return "chat" if "chat" in offered else None


def process_request(connection, request):
    if request.path == "/refuse":
        return connection.respond(403, "Forbidden: refused by the test server\n")
    return None


async def server_main():
    async with serve(
        handler,
        "127.0.0.1",
        0,
        compression="deflate",
        select_subprotocol=select_subprotocol,
        process_request=process_request,
        max_size=None,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "server":
        try:
            asyncio.run(server_main())
        except KeyboardInterrupt:
            pass
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "client":
        return asyncio.run(client_main(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
