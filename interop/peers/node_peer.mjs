// Node `ws` peer for the interop tests (run by scripts/interop-peers.sh).
//
//   node node_peer.mjs client URL   runs named checks against our echo server, one line per check:
//                                   "PASS node-client/<name>" or "FAIL node-client/<name>: <detail>";
//                                   exits 1 if any failed.
//   node node_peer.mjs server       an echo server on 127.0.0.1 and a free port, printed as "PORT <n>":
//                                   echoes text as text and binary as binary, permessage-deflate when
//                                   offered, subprotocol "chat" when offered, refuses the handshake on the
//                                   path /refuse with 403; on the text message "!close CODE REASON"
//                                   closes with that code and reason, and on "!ping DATA" pings with
//                                   DATA and, once the pong with DATA came back, sends "!pong DATA".
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const TIMEOUT_MS = 15000;
const PREFIX = 'node-client';

// A deterministic generator (mulberry32), so a failing size can be reproduced.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [...'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;éüßøπжЖ€✓😀'];

function randomText(next, n) {
  let out = '';
  let size = 0;
  for (;;) {
    const ch = ALPHABET[Math.floor(next() * ALPHABET.length)];
    const b = Buffer.byteLength(ch);
    if (size + b > n) break;
    out += ch;
    size += b;
  }
  return out + 'a'.repeat(n - size);
}

// Text of exactly n UTF-8 bytes with 1- to 4-byte characters: a random block of at most 4 KiB, repeated.
function makeText(n, seed) {
  const next = rng(seed);
  const block = randomText(next, Math.min(n, 4096));
  const size = Buffer.byteLength(block);
  const text = size ? block.repeat(Math.floor(n / size)) + randomText(next, n % size) : '';
  if (Buffer.byteLength(text) !== n) throw new Error(`makeText(${n}) is wrong`);
  return text;
}

// n bytes: a random half and a repetitive half (so deflate has something to do).
function makeBinary(n, seed) {
  const next = rng(seed);
  const out = Buffer.alloc(n);
  const half = n >> 1;
  for (let i = 0; i < half; i++) out[i] = Math.floor(next() * 256);
  for (let i = half; i < n; i++) out[i] = (i * 7) & 0xff;
  return out;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A client connection whose events are queued, so checks can await them in order.
class Peer {
  constructor(url, options) {
    this.ws = new WebSocket(url, options);
    this.messages = [];
    this.pongs = [];
    this.waiters = [];
    this.closed = null;
    this.error = null;
    this.responseHeaders = null;
    this.ws.on('upgrade', (res) => {
      this.responseHeaders = res.headers;
    });
    this.ws.on('message', (data, isBinary) => this.push(() => this.messages.push({ data, isBinary })));
    this.ws.on('pong', (data) => this.push(() => this.pongs.push(Buffer.from(data))));
    this.ws.on('close', (code, reason) => this.push(() => (this.closed = { code, reason: reason.toString() })));
    this.ws.on('error', (err) => this.push(() => (this.error = err)));
  }

  push(record) {
    record();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  // Resolves with what `take` finds, once it finds something; rejects on an error or a close first.
  async until(take, what) {
    return withTimeout(
      (async () => {
        for (;;) {
          const found = take();
          if (found !== undefined) return found;
          if (this.error) throw this.error;
          if (this.closed) throw new Error(`connection closed (${this.closed.code} ${this.closed.reason}) ${what}`);
          await new Promise((wake) => this.waiters.push(wake));
        }
      })(),
      what,
    );
  }

  opened() {
    return withTimeout(
      new Promise((resolve, reject) => {
        this.ws.once('open', resolve);
        this.ws.once('error', reject);
        this.ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)));
      }),
      'waiting for the handshake',
    );
  }

  nextMessage() {
    return this.until(() => this.messages.shift(), 'waiting for a message');
  }
}

function describe(data, isBinary) {
  return `${isBinary ? 'binary' : 'text'} of ${data.length} bytes`;
}

class Checks {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  result(name, ok, detail) {
    if (ok) {
      this.passed++;
      console.log(`PASS ${PREFIX}/${name}`);
    } else {
      this.failed++;
      console.log(`FAIL ${PREFIX}/${name}: ${detail}`);
    }
  }

  // `check` returns undefined when it passed and a description of the failure otherwise.
  async run(name, check) {
    let detail;
    try {
      detail = await withTimeout(check(), name);
    } catch (err) {
      detail = `${err && err.message ? err.message : err}`;
    }
    this.result(name, detail === undefined, detail);
  }
}

async function expectEcho(peer, payload, isBinary) {
  const sent = isBinary ? payload : Buffer.from(payload, 'utf8');
  const got = await peer.nextMessage();
  if (got.isBinary !== isBinary || !Buffer.from(got.data).equals(sent)) {
    const same = got.isBinary === isBinary ? ' (different content)' : '';
    return `sent ${describe(sent, isBinary)}, got ${describe(got.data, got.isBinary)}${same}`;
  }
  return undefined;
}

async function clientMode(checks, url, deflate) {
  const mode = deflate ? 'deflate' : 'plain';
  const peer = new Peer(url, { perMessageDeflate: deflate, maxPayload: 1 << 26 });
  try {
    await peer.opened();
  } catch (err) {
    checks.result(`${mode}/connect`, false, err.message);
    return;
  }
  const ws = peer.ws;

  await checks.run(`${mode}/extension`, async () => {
    const header = peer.responseHeaders['sec-websocket-extensions'];
    if (deflate) {
      if (ws.extensions !== 'permessage-deflate' || !header || !header.includes('permessage-deflate')) {
        return `expected permessage-deflate; response header ${JSON.stringify(header)}, active ${JSON.stringify(ws.extensions)}`;
      }
    } else if (ws.extensions !== '' || header !== undefined) {
      return `expected no extension; response header ${JSON.stringify(header)}, active ${JSON.stringify(ws.extensions)}`;
    }
    return undefined;
  });

  for (const n of SIZES) {
    await checks.run(`${mode}/echo-text-${n}`, async () => {
      const text = makeText(n, n);
      ws.send(text);
      return expectEcho(peer, text, false);
    });
    await checks.run(`${mode}/echo-binary-${n}`, async () => {
      const data = makeBinary(n, n + 1);
      ws.send(data);
      return expectEcho(peer, data, true);
    });
  }

  await checks.run(`${mode}/fragmented-text`, async () => {
    const parts = ['Hello, ', 'fragmented ', 'wörld', '', ' €✓', makeText(70000, 7)];
    parts.forEach((part, i) => ws.send(part, { fin: i === parts.length - 1 }));
    return expectEcho(peer, parts.join(''), false);
  });

  await checks.run(`${mode}/fragmented-text-split-utf8`, async () => {
    // "€😀" split inside both characters: each fragment alone is not valid UTF-8, the message is.
    const whole = Buffer.from('x€😀y', 'utf8');
    const cuts = [0, 2, 4, 6, whole.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      ws.send(whole.subarray(cuts[i], cuts[i + 1]), { binary: false, fin: i + 2 === cuts.length });
    }
    return expectEcho(peer, whole.toString('utf8'), false);
  });

  await checks.run(`${mode}/fragmented-binary`, async () => {
    const parts = [Buffer.from([0, 1]), makeBinary(1000, 3), Buffer.alloc(0), makeBinary(70000, 4)];
    parts.forEach((part, i) => ws.send(part, { fin: i === parts.length - 1 }));
    return expectEcho(peer, Buffer.concat(parts), true);
  });

  await checks.run(`${mode}/fragmented-with-ping-between`, async () => {
    // A control frame between the fragments of a message (RFC 6455 §5.4): answered at once, the
    // message echoed whole.
    const payload = Buffer.from('between fragments');
    peer.pongs = [];
    ws.send('first half, ', { fin: false });
    ws.ping(payload);
    const pong = await peer.until(() => peer.pongs.shift(), 'waiting for the pong before the last fragment');
    if (!pong.equals(payload)) return `pinged with ${payload.toString('hex')}, pong carried ${pong.toString('hex')}`;
    ws.send('second half', { fin: true });
    return expectEcho(peer, 'first half, second half', false);
  });

  await checks.run(`${mode}/ping-pong-payload`, async () => {
    const payload = Buffer.concat([Buffer.from('ping-payload \x00\xff ', 'latin1'), randomBytes(8)]);
    peer.pongs = [];
    ws.ping(payload);
    const pong = await peer.until(() => peer.pongs.shift(), 'waiting for a pong');
    if (!pong.equals(payload)) return `pinged with ${payload.toString('hex')}, pong carried ${pong.toString('hex')}`;
    return undefined;
  });

  await checks.run(`${mode}/ping-pong-empty`, async () => {
    peer.pongs = [];
    ws.ping();
    const pong = await peer.until(() => peer.pongs.shift(), 'waiting for a pong');
    return pong.length === 0 ? undefined : `pong carried ${pong.toString('hex')}, expected nothing`;
  });

  await checks.run(`${mode}/close-4001-reason`, async () => {
    const reason = 'going away — fin ✓';
    ws.close(4001, reason);
    const closed = await withTimeout(
      new Promise((resolve) => {
        if (peer.closed) resolve(peer.closed);
        else ws.once('close', (code, why) => resolve({ code, reason: why.toString() }));
      }),
      'waiting for the close',
    );
    if (closed.code !== 4001 || closed.reason !== reason) {
      return `sent close 4001 ${JSON.stringify(reason)}, peer answered ${closed.code} ${JSON.stringify(closed.reason)}`;
    }
    return undefined;
  });
  ws.terminate();
}

// Traffic that exercises a compression context: similar small messages, then large ones.
function contextTraffic() {
  const messages = [];
  for (let i = 0; i < 40; i++) messages.push({ data: `message ${i}: ${'the same words again '.repeat(i)}`, isBinary: false });
  messages.push({ data: makeText(300000, 21), isBinary: false });
  messages.push({ data: makeBinary(100000, 22), isBinary: true });
  messages.push({ data: 'after the large ones', isBinary: false });
  return messages;
}

// permessage-deflate parameters offered by ws (RFC 7692 §7.1): each variant is one connection that must
// be accepted with the parameters in the response (or declined, where marked), and must echo the
// traffic intact.
async function deflateParams(checks, url) {
  const variants = [
    ['server-no-context-takeover', { serverNoContextTakeover: true }, ['server_no_context_takeover']],
    ['client-no-context-takeover', { clientNoContextTakeover: true }, ['client_no_context_takeover']],
    ['server-max-window-bits-9', { serverMaxWindowBits: 9 }, ['server_max_window_bits=9']],
    // zlib cannot compress with an 8-bit window: the server may decline this offer (ours does, by design),
    // and then the traffic must pass uncompressed.
    ['server-max-window-bits-8', { serverMaxWindowBits: 8 }, ['server_max_window_bits=8'], 'may decline'],
    ['client-max-window-bits-9', { clientMaxWindowBits: 9 }, ['client_max_window_bits=9']],
    [
      'all-parameters-10-bits',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
      ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=10', 'client_max_window_bits=10'],
    ],
  ];
  for (const [name, options, expected, mayDecline] of variants) {
    await checks.run(`deflate-params/${name}`, async () => {
      const peer = new Peer(url, { perMessageDeflate: { ...options, threshold: 0 }, maxPayload: 1 << 26 });
      try {
        await peer.opened();
        const header = peer.responseHeaders['sec-websocket-extensions'] || '';
        const tokens = header.split(';').map((t) => t.trim());
        const missing = expected.filter((t) => !tokens.includes(t));
        const declined = mayDecline && header === '' && peer.ws.extensions === '';
        if (!declined && (!tokens.includes('permessage-deflate') || missing.length)) {
          return `response Sec-WebSocket-Extensions ${JSON.stringify(header)} lacks ${JSON.stringify(missing)}`;
        }
        const traffic = contextTraffic();
        for (const m of traffic) peer.ws.send(m.data, { binary: m.isBinary });
        for (let i = 0; i < traffic.length; i++) {
          const problem = await expectEcho(peer, traffic[i].data, traffic[i].isBinary);
          if (problem) return `message ${i}: ${problem}`;
        }
        return undefined;
      } finally {
        peer.ws.terminate();
      }
    });
  }
}

async function clientMain(url) {
  const checks = new Checks();
  for (const deflate of [true, false]) await clientMode(checks, url, deflate);
  await deflateParams(checks, url);
  return checks.failed ? 1 : 0;
}

function serverMain() {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: true,
    maxPayload: 1 << 26,
    handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
    verifyClient: (info, done) => {
      if (info.req.url === '/refuse') done(false, 403, 'Forbidden: refused by the test server');
      else done(true);
    },
  });
  wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const text = data.toString('utf8');
        if (text.startsWith('!close ')) {
          const [, code, ...reason] = text.split(' ');
          ws.close(Number(code), reason.join(' '));
          return;
        }
        if (text.startsWith('!ping ')) {
          const payload = data.subarray(Buffer.byteLength('!ping '));
          const onPong = (pong) => {
            if (!Buffer.from(pong).equals(payload)) return;
            ws.off('pong', onPong);
            ws.send(`!pong ${payload.toString('utf8')}`);
          };
          ws.on('pong', onPong);
          ws.ping(payload);
          return;
        }
      }
      ws.send(data, { binary: isBinary });
    });
  });
  const stop = () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const [mode, url] = process.argv.slice(2);
if (mode === 'server') {
  serverMain();
} else if (mode === 'client' && url) {
  process.exitCode = await clientMain(url);
} else {
  console.error('usage: node node_peer.mjs client URL | server');
  process.exitCode = 2;
}
