// Generates vectors.json: the byte streams the differential test feeds to the Node websocket-driver and
// to websocket-driver-std (scripts/interop-differential.sh). Deterministic (seeded PRNG): running it again
// writes the same file.
//
//   node interop/differential/gen-vectors.mjs            # writes interop/differential/vectors.json
//   node interop/differential/gen-vectors.mjs --check    # exits 1 if the committed file is stale
//
// Every vector is server role: the fixed hybi-13 request head below (no extensions, no subprotocol),
// written on its own, then `chunks` (hex), each written with one call (driver.io.write / Driver::parse).
// `options` may set `max_length` (Node `maxLength`) and `require_masking` (Node `requireMasking`).
// `head_with_first_chunk` writes the head and the first chunk in one call (H5).
// `reads` maps a name to cut offsets into the concatenated frames: each read of a vector writes the same
// bytes in other pieces, and must give the same result (`whole` is one write).
// `ref` names the BEHAVIOUR.md item the vector exercises.

import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'vectors.json');
const SEED = 0x5eed6455;

const REQUEST_HEAD =
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

// The masking key of RFC 6455 §5.7's examples, for the hand-written vectors.
const KEY = [0x37, 0xfa, 0x21, 0x3d];

// ---- PRNG: mulberry32 ---------------------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const chance = (p) => rand() < p;

// ---- frames -------------------------------------------------------------------------------------
const bytes = (x) => (typeof x === 'string' ? [...Buffer.from(x, 'utf8')] : [...x]);
const hex = (arr) => Buffer.from(arr).toString('hex');
const fromHex = (s) => [...Buffer.from(s.replace(/\s+/g, ''), 'hex')];

/**
 * One frame. `payload`: string (UTF-8) or byte array. `mask`: a 4-byte key, or null for an unmasked
 * frame. `length`: a length to put in the header instead of the payload's (for F8/F9 headers).
 * `encoding`: force 7, 16 or 64-bit length encoding.
 */
function frame({ fin = true, rsv = 0, opcode, payload = [], mask = KEY, length, encoding }) {
  const data = bytes(payload);
  const len = length === undefined ? data.length : length;
  const out = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const m = mask ? 0x80 : 0;
  const enc = encoding || (len <= 125 ? 7 : len <= 0xffff ? 16 : 64);
  if (enc === 7) out.push(m | len);
  else if (enc === 16) out.push(m | 126, (len >> 8) & 0xff, len & 0xff);
  else {
    out.push(m | 127);
    const big = BigInt(len);
    for (let i = 7; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
  }
  if (mask) {
    out.push(...mask);
    data.forEach((b, i) => out.push(b ^ mask[i % 4]));
  } else out.push(...data);
  return out;
}
const text = (payload, o = {}) => frame({ opcode: 1, payload, ...o });
const binary = (payload, o = {}) => frame({ opcode: 2, payload, ...o });
const cont = (payload, o = {}) => frame({ opcode: 0, payload, ...o });
const close = (payload, o = {}) => frame({ opcode: 8, payload, ...o });
const ping = (payload, o = {}) => frame({ opcode: 9, payload, ...o });
const pong = (payload, o = {}) => frame({ opcode: 10, payload, ...o });
const code = (c, reason = []) => [(c >> 8) & 0xff, c & 0xff, ...bytes(reason)];
const CLOSE_1000 = close(code(1000));

// ---- vectors ------------------------------------------------------------------------------------
const vectors = [];
const ids = new Set();
/** Adds a vector: `frames` is a list of byte arrays (frames, or raw bytes), sent one after the other.
 * `reads` maps a name to cut offsets into their concatenation (`whole`, one write, is always there;
 * `frames` writes each frame on its own). Every read of a vector must give the same result. */
function add(id, ref, frames, extra = {}) {
  if (ids.has(id)) throw new Error('duplicate id ' + id);
  ids.add(id);
  const { reads = {}, options, note, head_with_first_chunk, compare_with, expect, close_on_open } = extra;
  const v = { id, ref, role: 'server' };
  if (note) v.note = note;
  if (options) v.options = options;
  if (head_with_first_chunk) v.head_with_first_chunk = true;
  if (close_on_open) v.close_on_open = true;
  if (compare_with) v.compare_with = compare_with;
  if (expect) v.expect = expect;
  v.frames = frames.map(hex);
  const total = frames.reduce((n, f) => n + f.length, 0);
  v.reads = { whole: [] };
  // small hand-written vectors are also fed a byte at a time
  const all = { ...reads };
  if (!id.startsWith('SEQ-') && !head_with_first_chunk && total > 1 && total <= 4096 && !all.bytes) all.bytes = 'bytes';
  for (const [name, cuts] of Object.entries(all)) {
    const c =
      cuts === 'frames'
        ? frameCuts(frames)
        : cuts === 'bytes'
          ? Array.from({ length: total - 1 }, (_, k) => k + 1)
          : cuts;
    if (c.some((x, i) => x <= 0 || x >= total || (i > 0 && x <= c[i - 1]))) throw new Error('bad cuts ' + id);
    v.reads[name] = c;
  }
  vectors.push(v);
}
function frameCuts(frames) {
  const cuts = [];
  let at = 0;
  for (const f of frames.slice(0, -1)) cuts.push((at += f.length));
  return cuts;
}

// F14, masked with the fixed key (require_masking on, the default), and unmasked with it off.
const HELLO = 'Hello';
const APPLE = fromHex('41 70 70 6c 65 20 3d 20 ef a3 bf'); // "Apple = \u{F8FF}"
for (const [suffix, mask, options] of [
  ['', KEY, undefined],
  ['/unmasked', null, { require_masking: false }],
]) {
  const o = { mask };
  const h = mask ? 6 : 2; // header bytes of a short frame
  // expect: what BEHAVIOUR.md F14 says we do — our events (after open) and our output frames, a close
  // frame by its code only
  const msg = (kind, data) => ({ type: 'message', kind, data: hex(bytes(data)) });
  add('F14-text-hello' + suffix, 'F14', [text(HELLO, o)], {
    options,
    reads: { bytes: 'bytes' },
    expect: { events: [msg('text', HELLO)], out: [] },
  });
  add('F14-binary-hello' + suffix, 'F14', [binary(HELLO, o)], {
    options,
    expect: { events: [msg('binary', HELLO)], out: [] },
  });
  add('F14-empty-text' + suffix, 'F14', [text('', o)], { options, expect: { events: [msg('text', '')], out: [] } });
  add('F14-fragmented-hello' + suffix, 'F14', [text('Hel', { ...o, fin: false }), cont('lo', o)], {
    options,
    reads: { frames: 'frames' },
    expect: { events: [msg('text', HELLO)], out: [] },
  });
  // "also split after 6 bytes": after the 6th byte of the unmasked frame, inside the payload; for the
  // masked frame both that payload position and the 6th byte (the end of the masking key)
  add('F14-apple' + suffix, 'F14', [text(APPLE, o)], {
    options,
    reads: mask ? { after6: [6], 'payload-after4': [h + 4] } : { after6: [6] },
    expect: { events: [msg('text', APPLE)], out: [] },
  });
  add(
    'F14-apple-fragmented' + suffix,
    'F14',
    [text(APPLE.slice(0, 10), { ...o, fin: false }), cont(APPLE.slice(10), o)],
    { options, reads: { frames: 'frames' }, expect: { events: [msg('text', APPLE)], out: [] } },
  );
  add('F14-hello-x40' + suffix, 'F14', [text(HELLO.repeat(40), o)], {
    options,
    expect: { events: [msg('text', HELLO.repeat(40))], out: [] },
  });
  add('F14-opcode-3' + suffix, 'F14 F2', [frame({ opcode: 3, mask })], {
    options,
    expect: { events: [{ type: 'error' }, { type: 'close', code: 1002 }], out: ['close:1002'] },
  });
  add('F14-close-1000-hello' + suffix, 'F14 S5', [close(code(1000, HELLO), o)], {
    options,
    expect: { events: [{ type: 'close', code: 1000 }], out: ['880703e848656c6c6f'] },
  });
  add('F14-ping-ohai' + suffix, 'F14 F13', [ping('OHAI', o)], {
    options,
    expect: { events: [{ type: 'ping', data: hex(bytes('OHAI')) }], out: ['8a044f484149'] },
  });
}

// F1 reserved bits without an extension that owns them.
for (const [name, rsv] of [['rsv1', 4], ['rsv2', 2], ['rsv3', 1], ['rsv123', 7]]) {
  add(`F1-${name}-text`, 'F1', [text(HELLO, { rsv })]);
  add(`F1-${name}-binary`, 'F1', [binary(HELLO, { rsv })]);
}
add('F1-rsv1-ping', 'F1', [ping('x', { rsv: 4 })]);
add('F1-rsv2-close', 'F1', [close(code(1000), { rsv: 2 })]);
add('F1-rsv1-continuation', 'F1', [text('Hel', { fin: false }), cont('lo', { rsv: 4 })]);
add('F1-rsv-after-message', 'F1', [text(HELLO), binary([1, 2, 3], { rsv: 1 })]);

// F2 reserved opcodes.
for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
  add(`F2-opcode-${op}`, 'F2', [frame({ opcode: op })]);
  add(`F2-opcode-${op}-payload`, 'F2', [frame({ opcode: op, payload: 'abc' })]);
}
add('F2-opcode-after-message', 'F2', [text(HELLO), frame({ opcode: 11, payload: 'x' })]);

// F3 fragmented control frames.
add('F3-ping-nofin', 'F3', [ping('x', { fin: false })]);
add('F3-pong-nofin', 'F3', [pong('x', { fin: false })]);
add('F3-close-nofin', 'F3', [close(code(1000), { fin: false })]);
add('F3-ping-nofin-empty', 'F3', [ping('', { fin: false })]);

// F4 control payload over 125.
const A126 = 'a'.repeat(126);
add('F4-ping-126', 'F4', [ping(A126)]);
add('F4-pong-126', 'F4', [pong(A126)]);
add('F4-close-126', 'F4', [close(code(1000, 'r'.repeat(124)))]);
add('F4-ping-64bit-126', 'F4', [ping(A126, { encoding: 64 })]);
add('F4-ping-125-ok', 'F4 F13', [ping('a'.repeat(125))]);
add('F4-close-125-ok', 'F4 F12', [close(code(1000, 'r'.repeat(123)))]);

// F5 a new data frame inside a fragmented message.
add('F5-text-in-text', 'F5', [text('Hel', { fin: false }), text('lo')]);
add('F5-binary-in-text', 'F5', [text('Hel', { fin: false }), binary('lo')]);
add('F5-text-in-binary', 'F5', [binary('Hel', { fin: false }), cont('l', { fin: false }), text('lo')]);
add('F5-nofin-in-text', 'F5', [text('Hel', { fin: false }), text('lo', { fin: false })]);

// F6 continuation with no message open.
add('F6-continuation-fin', 'F6', [cont('lo')]);
add('F6-continuation-nofin', 'F6', [cont('lo', { fin: false })]);
add('F6-continuation-after-message', 'F6', [text(HELLO), cont('lo')]);
add('F6-continuation-empty', 'F6', [cont('')]);

// F7 unmasked frames (require_masking on, the default).
add('F7-unmasked-text', 'F7', [text(HELLO, { mask: null })]);
add('F7-unmasked-binary', 'F7', [binary(HELLO, { mask: null })]);
add('F7-unmasked-ping', 'F7', [ping('x', { mask: null })]);
add('F7-unmasked-close', 'F7', [close(code(1000), { mask: null })]);
add('F7-unmasked-second-frame', 'F7', [text(HELLO), text(HELLO, { mask: null })]);
add('F7-unmasked-continuation', 'F7', [text('Hel', { fin: false }), cont('lo', { mask: null })]);
add('F7-unmasked-126', 'F7', [binary('b'.repeat(200), { mask: null })]);

// F8 64-bit length with the top bit set.
add('F8-top-bit', 'F8', [text(HELLO, { length: 2n ** 63n + 5n, encoding: 64 })]);
add('F8-top-bit-all-ones', 'F8', [binary([], { length: 2n ** 64n - 1n, encoding: 64 })]);
add('F8-top-bit-after-message', 'F8', [text(HELLO), binary([], { length: 2n ** 63n, encoding: 64 })]);

// F9 max_length (Node option maxLength).
const ML = { max_length: 16 };
add('F9-default-2pow30-header', 'F9', [text([], { length: 2 ** 30, encoding: 64 })]);
add('F9-equal-limit', 'F9', [text('x'.repeat(16))], { options: ML });
add('F9-over-limit', 'F9', [text('x'.repeat(17))], { options: ML });
add('F9-over-limit-binary', 'F9', [binary('x'.repeat(17))], { options: ML });
add('F9-over-limit-16bit', 'F9', [binary('y'.repeat(300))], { options: { max_length: 200 } });
add('F9-over-limit-header-only', 'F9', [binary([], { length: 1000 })], { options: { max_length: 200 } });
add('F9-fragments-equal-limit', 'F9', [text('x'.repeat(8), { fin: false }), cont('y'.repeat(8))], { options: ML });
add('F9-fragments-over-limit', 'F9', [text('x'.repeat(8), { fin: false }), cont('y'.repeat(9))], {
  options: ML,
});
add(
  'F9-fragments-over-limit-3',
  'F9',
  [binary('x'.repeat(6), { fin: false }), cont('y'.repeat(6), { fin: false }), cont('z'.repeat(5))],
  { options: ML },
);
add('F9-two-messages-at-limit', 'F9', [text('x'.repeat(16)), binary('y'.repeat(16))], { options: ML });
add(
  'F9-ping-inside-fragments',
  'F9 F11',
  [text('x'.repeat(12), { fin: false }), ping('pppppp'), cont('y'.repeat(4))],
  { options: ML, note: 'a control frame is not part of the message it interrupts' },
);

// F10 invalid UTF-8.
const INVALID = {
  ff: fromHex('ff'),
  overlong: fromHex('c0 80'),
  surrogate: fromHex('ed a0 80'),
  'over-10ffff': fromHex('f4 90 80 80'),
  'lone-continuation': fromHex('80'),
  'truncated-at-end': fromHex('e2 82'),
};
for (const [name, bad] of Object.entries(INVALID)) {
  add(`F10-complete-${name}`, 'F10', [text([...bytes('ab'), ...bad, ...(name === 'truncated-at-end' ? [] : bytes('cd'))])]);
}
add('F10-fragments-invalid-second', 'F10', [text([0x48, 0xce], { fin: false }), cont('A')]);
add('F10-fragments-invalid-first', 'F10', [text([0x48, 0xff], { fin: false }), cont('lo')]);
add('F10-fragments-truncated-at-fin', 'F10', [text([0xe2], { fin: false }), cont([0x82])]);
add('F10-fragments-split-codepoint-ok', 'F10', [text([0x48, 0xce], { fin: false }), cont([0xba, 0x21])]);
add(
  'F10-fragments-split-4byte-ok',
  'F10',
  [text([0xf0], { fin: false }), cont([0x9f, 0x98], { fin: false }), cont([0x80])],
);
add('F10-invalid-split-reads', 'F10', [text([...bytes('abc'), 0xed, 0xa0, 0x80, ...bytes('def')])], {
  reads: { split: [8, 10], bytes: 'bytes' },
});
add(
  'F10-invalid-then-ping',
  'F10 F11',
  [text([0x48, 0xff], { fin: false }), ping('p'), cont('lo')],
  { note: 'fail fast: the invalid byte is known before the ping' },
);
add('F10-invalid-unfinished', 'F10', [text([0x48, 0xff, 0x49], { fin: false })], {
  note: 'the message never ends',
});
add('F10-invalid-partial-frame', 'F10', [text([0x48, 0xff, ...bytes('x'.repeat(20))]).slice(0, 12)], {
  note: 'the frame is incomplete: only its first bytes arrive',
});
add('F10-binary-not-checked', 'F10', [binary([0xff, 0xfe, 0xc0, 0x80])]);

// F11 control frames between fragments.
add('F11-ping-between', 'F11', [text('Hel', { fin: false }), ping('hi'), cont('lo')], {
  reads: { frames: 'frames', bytes: 'bytes' },
});
add('F11-pong-between', 'F11', [text('Hel', { fin: false }), pong('hi'), cont('lo')]);
add('F11-two-pings-between', 'F11', [binary('He', { fin: false }), ping('1'), cont('l', { fin: false }), ping('2'), cont('lo')]);
add('F11-close-between', 'F11 S5', [text('Hel', { fin: false }), close(code(1000)), cont('lo')]);

// F12 close frames.
add('F12-close-empty', 'F12', [close([])]);
add('F12-close-1-byte', 'F12', [close([0x03])]);
for (const c of [999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1012, 1013, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 65535]) {
  add(`F12-close-${c}`, 'F12', [close(code(c))]);
}
for (const c of [1000, 1001, 1012, 3000, 1004]) add(`F12-close-${c}-reason`, 'F12', [close(code(c, 'bye ✓'))]);
add('F12-close-invalid-utf8-reason', 'F12', [close(code(1000, [0xff, 0xfe]))]);
add('F12-close-truncated-utf8-reason', 'F12', [close(code(1000, [0x61, 0xe2, 0x82]))]);
add('F12-close-then-data', 'F12 S5', [close(code(1000)), text(HELLO), ping('x')], {
  note: 'nothing is read after the closing handshake',
});
add('F12-close-empty-then-data', 'F12 S5', [close([]), text(HELLO)]);
add('F12-close-after-messages', 'F12', [text(HELLO), binary([0, 1, 2]), close(code(1001, 'going'))]);

// F13 ping and pong payloads.
add('F13-ping-empty', 'F13', [ping('')]);
add('F13-ping-text', 'F13', [ping('hello ✓')]);
add('F13-ping-125', 'F13', [ping('p'.repeat(125))]);
add('F13-ping-binary', 'F13 S9', [ping([0xff, 0x00, 0xfe, 0x80])]);
add('F13-pong-unsolicited', 'F13', [pong('x')]);
add('F13-pong-empty', 'F13', [pong('')]);
add('F13-pong-binary', 'F13 S9', [pong([0xc0, 0x80, 0x01])]);
add('F13-two-pings-one-read', 'F13', [ping('1'), ping('2'), text('after')]);
add('F13-ping-then-close', 'F13 S5', [ping('a'), close(code(1000))]);

// Frames the RFC allows that are seldom sent.
add('X-empty-fragments', 'F14 F11', [text('', { fin: false }), cont('', { fin: false }), cont('')]);
add('X-empty-first-fragment', 'F14 F11', [binary([], { fin: false }), cont([1, 2, 3])]);
add('X-length-16bit-for-5', 'F15', [text(HELLO, { encoding: 16 })], { note: 'a receiver accepts a non-minimal length' });
add('X-length-64bit-for-5', 'F15', [binary(HELLO, { encoding: 64 })]);
add('X-ping-length-16bit-for-4', 'F4', [ping('OHAI', { encoding: 16 })]);
add('X-zero-mask-key', 'F7', [text(HELLO, { mask: [0, 0, 0, 0] })]);
add('X-noncharacters', 'F10', [text('\uFFFE\uFFFF\u{10FFFF}\uD7FF\uE000\uFEFF\u0000')]);
add('X-many-messages-one-read', 'F14', [text('a'), binary([0]), ping('p'), text('ü'), pong('q'), binary([]), close(code(1000))]);

add('X-ping-then-violation', 'F13 S6', [ping('p'), frame({ opcode: 3 })], { note: 'the pong goes out before the close' });
add('X-violation-then-more', 'S6', [frame({ opcode: 4 }), text(HELLO), ping('p')], { note: 'nothing is read after a failure' });
add('X-mixed-masking-optional', 'F7', [text(HELLO, { mask: null }), binary([1, 2], { mask: KEY }), ping('u', { mask: null }), close(code(1000), { mask: KEY })], {
  options: { require_masking: false },
});
// Messages larger than our 64 KiB receive buffer: the core hands them over in chunks, text cut on
// character boundaries (4-byte characters here, cut anywhere by the reads).
const BIG = '😀'.repeat(25000) + 'x';
const BIG_CUTS = [1, 7, 14, 15, 1001, 32769, 65535, 65536, 65537, 99999];
add('X-large-text-100001', 'F10 F14', [text(BIG)], { reads: { split: BIG_CUTS } });
add(
  'X-large-text-fragments',
  'F10 F11',
  [text(bytes(BIG).slice(0, 30001), { fin: false }), ping('mid'), cont(bytes(BIG).slice(30001, 70002), { fin: false }), cont(bytes(BIG).slice(70002))],
  { reads: { split: BIG_CUTS, frames: 'frames' } },
);
add('X-large-binary-over-limit', 'F9', [binary(new Array(70000).fill(7))], { options: { max_length: 69999 }, reads: { split: [20, 40000] } });

// F7 and F9 at once: the order of the checks on a frame header.
add('F7-unmasked-over-max-length', 'F7 F9', [text('x'.repeat(17), { mask: null })], {
  options: { max_length: 16 },
  note: 'checks run RSV, opcode, control rules, masking, length',
});

// S4: we sent a close frame (close(1000, "bye") when the connection opens); the client's frames arrive
// while we are closing.
const S4 = { close_on_open: true };
add('S4-peer-close', 'S4 S5', [close(code(1000))], S4);
add('S4-peer-close-empty', 'S4 S5 F12', [close([])], S4);
add('S4-data-while-closing', 'S4', [text(HELLO), binary([1, 2, 3]), close(code(1000))], S4);
add('S4-fragmented-while-closing', 'S4 F11', [text('Hel', { fin: false }), pong('q'), cont('lo'), close(code(1000))], S4);
add('S4-ping-while-closing', 'S4 F13', [ping('p'), close(code(1000))], S4);
add('S4-data-then-ping-while-closing', 'S4 F13', [text(HELLO), ping('p'), close(code(1000))], S4);
add('S4-violation-while-closing', 'S4 S6', [frame({ opcode: 3 }), close(code(1000))], S4);
add('S4-invalid-utf8-while-closing', 'S4 S6 F10', [text([0xff]), close(code(1000))], S4);
add('S4-no-close-from-peer', 'S4', [text(HELLO)], S4);

// H5: frames in the same read as the request head; compared with the same frames after the head.
add('H5-frame-after-head', 'H5', [text(HELLO), ping('p')]);
add('H5-frame-with-head', 'H5', [text(HELLO), ping('p')], {
  head_with_first_chunk: true,
  compare_with: 'H5-frame-after-head',
});

// ---- where Node and we differ --------------------------------------------------------------------
// The differences the comparator must see on these vectors (and on no other): a BEHAVIOUR.md Decision, or
// an RFC 6455 rule the originals break. compare.mjs names each class and checks both sides of it. A class
// that compare.mjs marks `check` is a behaviour both sides must show instead (S4-pong-after-our-close).
const DIFFERS = {
  'F7-code': [
    'F7-unmasked-text', 'F7-unmasked-binary', 'F7-unmasked-ping', 'F7-unmasked-close',
    'F7-unmasked-second-frame', 'F7-unmasked-continuation', 'F7-unmasked-126',
  ],
  'F7-order': ['F7-unmasked-over-max-length'],
  'F8-top-bit': ['F8-top-bit', 'F8-top-bit-all-ones', 'F8-top-bit-after-message'],
  'F12-empty-close': ['F12-close-empty', 'F12-close-empty-then-data', 'S4-peer-close-empty'],
  'F12-1012-1014': ['F12-close-1012', 'F12-close-1013', 'F12-close-1014', 'F12-close-1012-reason'],
  'F12-invalid-close': [
    'F12-close-1-byte', 'F12-close-999', 'F12-close-1004', 'F12-close-1005', 'F12-close-1006',
    'F12-close-1015', 'F12-close-1016', 'F12-close-2999', 'F12-close-5000', 'F12-close-65535',
    'F12-close-1004-reason', 'F12-close-invalid-utf8-reason', 'F12-close-truncated-utf8-reason',
  ],
  'F9-control-frame': ['F9-ping-inside-fragments'],
  'F10-fail-fast': ['F10-invalid-then-ping', 'F10-invalid-unfinished', 'F10-invalid-partial-frame'],
  'S9-bytes': ['F13-ping-binary', 'F13-pong-binary'],
  'H5-head-and-frames': ['H5-frame-with-head'],
  'S4-deliver': [
    'S4-data-while-closing', 'S4-fragmented-while-closing', 'S4-data-then-ping-while-closing',
    'S4-no-close-from-peer',
  ],
  'S4-pong-after-our-close': ['S4-ping-while-closing', 'S4-data-then-ping-while-closing'], // a check (both pong)
  'S4-fail-while-closing': ['S4-violation-while-closing', 'S4-invalid-utf8-while-closing'],
};
for (const [cls, list] of Object.entries(DIFFERS)) {
  for (const id of list) {
    const v = vectors.find((x) => x.id === id);
    if (!v) throw new Error('DIFFERS names no vector ' + id);
    (v.differs ||= []).push(cls);
  }
}

// ---- generated valid sequences ------------------------------------------------------------------
const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_()[]{}',
  'é', 'ü', 'ß', 'ñ', 'Ω', 'κ', 'ж', '€', '中', '文', '語', 'ﬁ', '\u{F8FF}', '😀', '🎉', '𝄞', '\u{10FFFF}', '\u0000',
];
/** Random text of at least `n` bytes of UTF-8 (at most 3 more). */
function randomText(n) {
  let s = '';
  let bytes = 0;
  while (bytes < n) {
    const c = pick(ALPHABET);
    s += c;
    bytes += Buffer.byteLength(c);
  }
  return s;
}
function randomLength() {
  const r = rand();
  if (r < 0.3) return int(0, 10);
  if (r < 0.7) return int(11, 125);
  if (r < 0.8) return pick([125, 126, 127, 255, 256]);
  return int(126, 1500);
}
const randomKey = () => [int(0, 255), int(0, 255), int(0, 255), int(0, 255)];
function randomControl() {
  const payload = randomText(int(0, 40)); // valid UTF-8: lossy ping strings (S9) are tested above
  const p = Buffer.from(payload).subarray(0, 125);
  // cut on a char boundary
  let s = p.toString('utf8');
  while (Buffer.byteLength(s) > 125 || s.includes('\uFFFD')) s = s.slice(0, -1);
  return (chance(0.8) ? ping : pong)(s, { mask: randomKey() });
}

/** Messages (text with multi-byte characters, binary; some fragmented, with control frames between the
 * fragments), pings and pongs, then a close 1000. `large`: one message has a 16-bit or 64-bit length. */
function randomSequence(large) {
  const frames = [];
  const messages = int(1, 6);
  const big = large ? int(0, messages - 1) : -1;
  for (let m = 0; m < messages; m++) {
    if (chance(0.2)) frames.push(randomControl());
    const isText = chance(0.6);
    const length = m === big ? pick([65535, 65536, int(65537, 66000)]) : randomLength();
    const payload = isText ? bytes(randomText(length)) : Array.from({ length }, () => int(0, 255));
    const opcode = isText ? 1 : 2;
    if (chance(0.35) && payload.length > 0) {
      // fragmented: cut anywhere, also inside a code point (F10)
      const pieces = int(2, 4);
      const cuts = [...new Set(Array.from({ length: pieces - 1 }, () => int(0, payload.length)))].sort((a, b) => a - b);
      let at = 0;
      const parts = [];
      for (const c of [...cuts, payload.length]) {
        parts.push(payload.slice(at, c));
        at = c;
      }
      parts.forEach((part, i) => {
        frames.push(
          frame({ opcode: i === 0 ? opcode : 0, fin: i === parts.length - 1, payload: part, mask: randomKey() }),
        );
        if (i < parts.length - 1 && chance(0.3)) frames.push(randomControl()); // F11
      });
    } else {
      frames.push(frame({ opcode, payload, mask: randomKey() }));
    }
  }
  const reason = chance(0.5) ? randomText(int(0, 20)) : '';
  frames.push(close(code(1000, reason.length > 0 && Buffer.byteLength(reason) <= 123 ? reason : ''), { mask: randomKey() }));
  return frames;
}

const SEQUENCES = 200;
for (let i = 0; i < SEQUENCES; i++) {
  const id = `SEQ-${String(i).padStart(3, '0')}`;
  const frames = randomSequence(i % 25 === 0);
  const total = frames.reduce((n, f) => n + f.length, 0);
  // the same bytes in random reads (and every 10th small one a byte at a time)
  const reads = {};
  for (const name of ['split-a', 'split-b']) {
    const n = int(1, Math.min(12, total - 1));
    reads[name] = [...new Set(Array.from({ length: n }, () => int(1, total - 1)))].sort((a, b) => a - b);
  }
  if (i % 10 === 0 && total <= 4096) reads.bytes = 'bytes';
  add(id, 'F11 F13 F14 S5', frames, { reads });
}

const doc = {
  about:
    'Generated by gen-vectors.mjs (seed 0x' + SEED.toString(16) + '); see README.md. Server role: ' +
    'request_head is written first, then each chunk (hex) with one write.',
  request_head: REQUEST_HEAD,
  vectors,
};
// one line per vector: readable diffs, small file
const json =
  '{\n "about": ' + JSON.stringify(doc.about) + ',\n "request_head": ' + JSON.stringify(REQUEST_HEAD) +
  ',\n "vectors": [\n' + vectors.map((v) => '  ' + JSON.stringify(v)).join(',\n') + '\n ]\n}\n';
if (process.argv.includes('--check')) {
  const old = readFileSync(OUT, 'utf8');
  if (old !== json) {
    console.error('vectors.json is stale: run node interop/differential/gen-vectors.mjs');
    process.exit(1);
  }
  console.log(`vectors.json is up to date (${vectors.length} vectors)`);
} else {
  writeFileSync(OUT, json);
  console.log(`wrote ${OUT}: ${vectors.length} vectors`);
}
