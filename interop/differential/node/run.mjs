// The Node side of the differential test: feeds each vector of vectors.json to the Node websocket-driver
// (the version pinned in package.json) as a server, and prints one JSON line per vector and read:
//
//   {"id", "read", "status", "events": [...], "out": hex}
//
// events: {"type":"open"} | {"type":"message","kind":"text"|"binary","data":hex} | {"type":"ping"|"pong",
// "data":hex} | {"type":"error"} | {"type":"close","code":N} | {"type":"exception"} (the driver threw).
// Text is the UTF-8 of the string Node delivered; ping/pong data is the UTF-8 of Node's (lossy) string.
// With `close_on_open`, the driver calls close(1000, "bye") in its open handler (S4).
// status: the status code of the handshake response; out: what the driver wrote after that response's
// head (everything up to and including the first \r\n\r\n is stripped).
//
//   node run.mjs ../vectors.json [ID-PREFIX]

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const websocket = require('websocket-driver');

const [file, only] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(file || new URL('../vectors.json', import.meta.url), 'utf8'));
const head = Buffer.from(doc.request_head, 'latin1');

function chunksOf(bytes, cuts) {
  const chunks = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(at, c));
    at = c;
  }
  return chunks;
}

function run(vector, cuts) {
  const options = {};
  if (vector.options?.max_length !== undefined) options.maxLength = vector.options.max_length;
  if (vector.options?.require_masking !== undefined) options.requireMasking = vector.options.require_masking;
  const driver = websocket.server(options);
  const events = [];
  const output = [];
  driver.io.on('data', (chunk) => output.push(Buffer.from(chunk)));
  driver.on('connect', () => driver.start());
  driver.on('open', () => {
    events.push({ type: 'open' });
    // S4: the server starts the closing handshake at once (Node: close(reason, code))
    if (vector.close_on_open) driver.close('bye', 1000);
  });
  driver.on('message', (e) =>
    events.push(
      typeof e.data === 'string'
        ? { type: 'message', kind: 'text', data: Buffer.from(e.data, 'utf8').toString('hex') }
        : { type: 'message', kind: 'binary', data: Buffer.from(e.data).toString('hex') },
    ),
  );
  driver.on('ping', (e) => events.push({ type: 'ping', data: Buffer.from(String(e.data), 'utf8').toString('hex') }));
  driver.on('pong', (e) => events.push({ type: 'pong', data: Buffer.from(String(e.data), 'utf8').toString('hex') }));
  driver.on('error', () => events.push({ type: 'error' }));
  driver.on('close', (e) => events.push({ type: 'close', code: e.code }));

  // Node unmasks payloads in place: every write gets its own copy.
  const bytes = Buffer.from(vector.frames.join(''), 'hex');
  const writes = chunksOf(bytes, cuts).map((c) => Buffer.from(c));
  if (vector.head_with_first_chunk) writes[0] = Buffer.concat([head, writes[0]]);
  else writes.unshift(Buffer.from(head));
  let exception = null;
  try {
    for (const w of writes) driver.io.write(w);
  } catch (e) {
    events.push({ type: 'exception' });
    exception = e.message;
  }

  const all = Buffer.concat(output);
  const end = all.indexOf('\r\n\r\n');
  const status = end < 0 ? null : Number(/^HTTP\/1\.1 (\d{3})/.exec(all.subarray(0, end).toString('latin1'))?.[1]);
  const out = end < 0 ? all : all.subarray(end + 4);
  const line = { id: vector.id, status, events, out: out.toString('hex') };
  if (exception) line.exception = exception;
  return line;
}

for (const vector of doc.vectors) {
  if (only && !vector.id.startsWith(only)) continue;
  for (const [read, cuts] of Object.entries(vector.reads)) {
    const { id, ...rest } = run(vector, cuts);
    process.stdout.write(JSON.stringify({ id, read, ...rest }) + '\n');
  }
}
