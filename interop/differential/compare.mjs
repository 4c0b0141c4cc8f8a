// The differential test's comparator: runs the Node websocket-driver (node/run.mjs) and websocket-driver-std
// (the rs crate's binary) on vectors.json, and compares their results vector by vector: the events (kind,
// payload, close code), the handshake status, and the frames each wrote after the handshake response.
//
//   node interop/differential/compare.mjs [--rs PATH] [--vectors PATH] [--only ID-PREFIX] [--verbose]
//
// A difference is allowed when it is one of:
//   - a close frame's reason text, when we failed the connection (our reason is our own text);
//   - a BEHAVIOUR.md **Decision**, checked both ways: we do what the Decision says, and Node does what the
//     Decision says the originals do;
//   - a difference listed in RULES below with the section of RFC 6455 that justifies what we do (checked
//     the same way).
// A rule with `check: true` is no difference but a behaviour both sides must show (it returns the results
// unchanged); it is run on equal results too, and a vector names it in `differs` like a difference class.
// Each class is a rule in RULES; a vector's `differs` (set by gen-vectors.mjs) names the classes it must
// show, on every read: a class missing (say, we started to behave like Node on a Decision) fails the
// vector as much as an unexplained difference does. Every read of a vector (the same bytes in other
// pieces) must also give the same result as its whole read, on each side. Vectors with `expect`
// (BEHAVIOUR.md F14) are also checked against it on our side.
//
// Prints one line per difference class with its count of vectors, details of each failure, and ends with
// `N passed, N failed` alone on a line. Exits 1 when a vector failed.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const VERBOSE = args.includes('--verbose');
const VECTORS = opt('--vectors', join(HERE, 'vectors.json'));
const RS = opt('--rs', join(HERE, 'rs', 'target', 'debug', 'interop-differential'));
const ONLY = opt('--only', '');

// ---- running both sides -------------------------------------------------------------------------
function runLines(cmd, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${Buffer.concat(err).toString()}`));
      const map = new Map();
      for (const line of Buffer.concat(out).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line);
        map.set(`${r.id}\u0000${r.read}`, r);
      }
      resolve({ results: map, stderr: Buffer.concat(err).toString() });
    });
  });
}

// ---- frames -------------------------------------------------------------------------------------
const isValidUtf8 = (buf) => firstInvalidUtf8(buf, true) < 0;

/** Index of the first byte at which `buf` stops being a prefix of valid UTF-8 (or, with `complete`, of
 * valid UTF-8 as a whole: a truncated last character counts, at buf.length); -1 when none. */
function firstInvalidUtf8(buf, complete) {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let need, lo = 0x80, hi = 0xbf;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) { need = 2; lo = 0xa0; }
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
    else if (b === 0xed) { need = 2; hi = 0x9f; }
    else if (b === 0xf0) { need = 3; lo = 0x90; }
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) { need = 3; hi = 0x8f; }
    else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= buf.length) return complete ? buf.length : -1;
      const c = buf[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i + k;
    }
    i += need + 1;
  }
  return -1;
}

/** Parses frames; client frames are unmasked. A frame cut short is returned with `partial`. */
function parseFrames(bytes) {
  const frames = [];
  let at = 0;
  while (at < bytes.length) {
    const start = at;
    const b0 = bytes[at];
    if (at + 2 > bytes.length) return { frames, trailing: bytes.subarray(start) };
    const b1 = bytes[at + 1];
    let len = BigInt(b1 & 0x7f);
    at += 2;
    if (len === 126n) {
      if (at + 2 > bytes.length) return { frames, trailing: bytes.subarray(start) };
      len = BigInt(bytes.readUInt16BE(at));
      at += 2;
    } else if (len === 127n) {
      if (at + 8 > bytes.length) return { frames, trailing: bytes.subarray(start) };
      len = bytes.readBigUInt64BE(at);
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key = null;
    if (masked) {
      if (at + 4 > bytes.length) return { frames, trailing: bytes.subarray(start) };
      key = bytes.subarray(at, at + 4);
      at += 4;
    }
    const avail = BigInt(bytes.length - at);
    const take = Number(len < avail ? len : avail);
    const payload = Buffer.from(bytes.subarray(at, at + take));
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i % 4];
    at += take;
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      opcode: b0 & 0x0f,
      masked,
      length: len,
      payload,
      partial: BigInt(take) < len,
    });
  }
  return { frames, trailing: Buffer.alloc(0) };
}

const closeCode = (f) => (f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null);

/** A result in comparable form: events as given, output frames (a close frame: code and reason). */
function normalise(r) {
  const { frames, trailing } = parseFrames(Buffer.from(r.out, 'hex'));
  return {
    status: r.status,
    events: r.events.map(canonEvent),
    out: frames.map((f) =>
      f.opcode === 8
        ? { op: 'close', fin: f.fin, rsv: f.rsv, masked: f.masked, code: closeCode(f), reason: f.payload.subarray(2).toString('hex'), partial: f.partial }
        : { op: f.opcode, fin: f.fin, rsv: f.rsv, masked: f.masked, data: f.payload.toString('hex'), partial: f.partial },
    ),
    trailing: trailing.toString('hex'),
    exception: r.exception,
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const clone = (x) => JSON.parse(JSON.stringify(x));
const sameEvent = (a, b) => same(canonEvent(a), canonEvent(b));
const EVENT_KEYS = ['type', 'kind', 'data', 'code'];
const canonEvent = (e) =>
  Object.fromEntries(Object.entries(e).sort(([a], [b]) => EVENT_KEYS.indexOf(a) - EVENT_KEYS.indexOf(b)));
const lossyHex = (h) => Buffer.from(Buffer.from(h, 'hex').toString('utf8'), 'utf8').toString('hex');
const isFailure = (r) => r.events.some((e) => e.type === 'error');
const lastClose = (r) => [...r.out].reverse().find((f) => f.op === 'close');

/** Compares two normalised results; returns null when equal, else a short description. With
 * `reasonsMayDiffer`, the reasons of close frames are not compared (their texts are the drivers' own). */
function difference(n, r, reasonsMayDiffer) {
  if (n.status !== r.status) return `status ${n.status} vs ${r.status}`;
  if (n.events.length !== r.events.length || !n.events.every((e, i) => sameEvent(e, r.events[i])))
    return 'events';
  if (n.trailing !== r.trailing) return 'trailing output bytes';
  if (n.out.length !== r.out.length) return 'output frames';
  for (let i = 0; i < n.out.length; i++) {
    const a = { ...n.out[i] };
    const b = { ...r.out[i] };
    if (reasonsMayDiffer && a.op === 'close' && b.op === 'close') a.reason = b.reason = '';
    if (!same(a, b)) return 'output frames';
  }
  return null;
}

// ---- the input, as a client sent it -------------------------------------------------------------
function inputFrames(vector) {
  return vector.frames.map((h) => parseFrames(Buffer.from(h, 'hex')).frames[0]);
}

/** The data messages the client sent before its close frame, as message events. */
function inputMessages(v) {
  const messages = [];
  let open = null;
  for (const f of inputFrames(v)) {
    if (!f || f.partial || f.opcode === 8) break;
    if (f.opcode === 1 || f.opcode === 2) open = { kind: f.opcode === 1 ? 'text' : 'binary', parts: [] };
    if (f.opcode > 2) continue;
    if (!open) break; // a continuation with no message: a violation, not a message
    open.parts.push(f.payload);
    if (f.fin) {
      messages.push({ type: 'message', kind: open.kind, data: Buffer.concat(open.parts).toString('hex') });
      open = null;
    }
  }
  return messages;
}

// ---- explained differences ----------------------------------------------------------------------
// Each rule checks that both sides do what it says (Node: what the originals do; ours: what BEHAVIOUR.md
// or the RFC says) and returns the two results with that difference taken out, or null when it does
// not apply. `ctx` gives a rule the results of other vectors.

/** Replaces the last close event's code and the last close frame's code on one side. */
function withCloseCode(res, code) {
  const out = clone(res);
  const ev = [...out.events].reverse().find((e) => e.type === 'close');
  if (ev) ev.code = code;
  const f = lastClose(out);
  if (f) f.code = code;
  return out;
}
const endsWith = (res, types) =>
  res.events.length >= types.length &&
  types.every((t, i) => {
    const e = res.events[res.events.length - types.length + i];
    return typeof t === 'string' ? e.type === t : e.type === t.type && e.code === t.code;
  });

const RULES = [
  {
    id: 'F7-code',
    name: 'Decision F7: an unmasked client frame — Node closes with 1003, we with 1002 (RFC 6455 §5.1)',
    apply(v, n, r) {
      if (v.options?.require_masking === false) return null;
      if (!inputFrames(v).some((f) => f && !f.masked)) return null;
      if (!endsWith(n, ['error', { type: 'close', code: 1003 }]) || lastClose(n)?.code !== 1003) return null;
      if (!endsWith(r, ['error', { type: 'close', code: 1002 }]) || lastClose(r)?.code !== 1002) return null;
      return { n: withCloseCode(n, 1002), r };
    },
  },
  {
    id: 'F7-order',
    name:
      'Decision F7 (order of header checks): an unmasked frame over max_length — Node checks the length ' +
      'first (1009), we the masking first (1002)',
    apply(v, n, r) {
      const max = v.options?.max_length;
      if (max === undefined || v.options?.require_masking === false) return null;
      const f = inputFrames(v).find((x) => x && !x.masked);
      if (!f || f.length <= BigInt(max) || f.length > 125n) return null;
      if (!endsWith(n, ['error', { type: 'close', code: 1009 }]) || lastClose(n)?.code !== 1009) return null;
      if (!endsWith(r, ['error', { type: 'close', code: 1002 }]) || lastClose(r)?.code !== 1002) return null;
      return { n: withCloseCode(n, 1002), r };
    },
  },
  {
    id: 'F8-top-bit',
    name:
      'RFC 6455 §5.2 (F8): a 64-bit length with the most significant bit set — Node reads a huge length ' +
      'and closes with 1009, we refuse the header with 1002',
    apply(v, n, r) {
      if (!inputFrames(v).some((f) => f && f.length >= 2n ** 63n)) return null;
      if (!endsWith(n, ['error', { type: 'close', code: 1009 }]) || lastClose(n)?.code !== 1009) return null;
      if (!endsWith(r, ['error', { type: 'close', code: 1002 }]) || lastClose(r)?.code !== 1002) return null;
      return { n: withCloseCode(n, 1002), r };
    },
  },
  {
    id: 'F12-empty-close',
    name:
      'Decision F12: an empty close frame — Node reports 1000 (and answers 03e8), we report 1005 ' +
      '(RFC 6455 §7.1.5) (and answer with an empty close; no answer when we had sent ours, S5)',
    apply(v, n, r) {
      const empty = inputFrames(v).find((f) => f && f.opcode === 8 && f.length === 0n);
      if (!empty) return null;
      if (!endsWith(n, [{ type: 'close', code: 1000 }]) || isFailure(n)) return null;
      if (!endsWith(r, [{ type: 'close', code: 1005 }]) || isFailure(r)) return null;
      const n2 = clone(n);
      n2.events[n2.events.length - 1].code = 1005;
      if (v.close_on_open) {
        // we were closing: no answer on either side, the last close frame is our own
        if (!same(lastClose(n), lastClose(r)) || lastClose(r)?.code !== 1000) return null;
        return { n: n2, r };
      }
      const nf = lastClose(n);
      if (!nf || nf.code !== 1000 || nf.reason !== '') return null;
      const rf = lastClose(r);
      if (!rf || rf.code !== null || rf.reason !== '') return null;
      lastClose(n2).code = null;
      return { n: n2, r };
    },
  },
  {
    id: 'S4-deliver',
    name:
      'Decision S4: data messages that arrive after we sent our close frame — Node drops them, we ' +
      'deliver them (RFC 6455 §1.4: the closing peer still reads)',
    apply(v, n, r) {
      if (!v.close_on_open) return null;
      const isMessage = (e) => e.type === 'message';
      if (!r.events.some(isMessage) || n.events.some(isMessage)) return null;
      // ours are the client's messages, whole and in order
      if (!same(r.events.filter(isMessage), inputMessages(v))) return null;
      const r2 = clone(r);
      r2.events = r2.events.filter((e) => !isMessage(e));
      return { n, r: r2 };
    },
  },
  {
    id: 'S4-pong-after-our-close',
    check: true,
    name:
      'BEHAVIOUR F13/S4, RFC 6455 §5.5.2 (only a close already received excuses a pong): a ping that arrives ' +
      'after we sent our close frame, before the peer\'s close, is answered with a pong — by both, checked ' +
      'on both sides (both report the ping)',
    // A check, not a difference: true when Node and we both wrote our close frame, then a pong with each
    // such ping's payload in order and nothing else, and both reported each ping.
    apply(v, n, r) {
      if (!v.close_on_open) return null;
      const pings = [];
      for (const f of inputFrames(v)) {
        if (!f || f.partial || f.opcode === 8) break;
        if (f.opcode === 9) pings.push(f.payload.toString('hex'));
      }
      if (pings.length === 0) return null;
      const answered = (res) => {
        const closeAt = res.out.findIndex((f) => f.op === 'close');
        if (closeAt < 0 || res.out.slice(0, closeAt).some((f) => f.op === 10)) return false;
        const pong = (f) => f.op === 10 && f.fin && !f.rsv && !f.masked && !f.partial;
        const after = res.out.slice(closeAt + 1).map((f) => (pong(f) ? f.data : null));
        return same(after, pings) && res.events.filter((e) => e.type === 'ping').length === pings.length;
      };
      if (!answered(n) || !answered(r)) return null;
      return { n, r };
    },
  },
  {
    id: 'S4-fail-while-closing',
    name:
      'RFC 6455 §7.1.7, §8.1 (S6): a protocol violation or invalid UTF-8 after we sent our close frame ' +
      '— we fail the connection (error event, close 1002/1007, nothing more sent), Node ignores it and ' +
      'goes on reading',
    apply(v, n, r) {
      if (!v.close_on_open || isFailure(n)) return null;
      const e = r.events.length;
      if (e < 2 || r.events[e - 2].type !== 'error' || r.events[e - 1].type !== 'close') return null;
      if (![1002, 1007].includes(r.events[e - 1].code)) return null;
      const before = r.events.slice(0, e - 2);
      if (!before.every((x, i) => sameEvent(x, n.events[i]))) return null;
      // after the violation Node saw only control frames: pings, pongs, the peer's close
      const after = n.events.slice(before.length);
      if (!after.every((x) => ['ping', 'pong', 'close'].includes(x.type))) return null;
      // nothing more sent by us; Node sent nothing but pongs
      if (!same(n.out.slice(0, r.out.length), r.out) || !n.out.slice(r.out.length).every((f) => f.op === 10)) return null;
      return { n: clone(r), r };
    },
  },
  {
    id: 'F12-1012-1014',
    name:
      'Decision F12: close codes 1012–1014 (IANA-registered) — Node refuses them (1002), we accept ' +
      'and echo them',
    apply(v, n, r) {
      const f = inputFrames(v).find((x) => x && x.opcode === 8);
      const c = f && f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      if (!(c >= 1012 && c <= 1014)) return null;
      if (isFailure(n) || isFailure(r)) return null;
      if (!endsWith(n, [{ type: 'close', code: 1002 }]) || lastClose(n)?.code !== 1002) return null;
      if (!endsWith(r, [{ type: 'close', code: c }]) || lastClose(r)?.code !== c) return null;
      if (lastClose(r).reason !== f.payload.subarray(2).toString('hex')) return null; // an echo
      return { n: withCloseCode(n, c), r };
    },
  },
  {
    id: 'F12-invalid-close',
    name:
      'RFC 6455 §5.5.1, §7.1.7, §7.4, §8.1 (F12, S6): an invalid close frame (1-byte body, a code that ' +
      'may not be sent, a reason that is not UTF-8) — both answer 1002; we fail the connection (error ' +
      'event, our reason), Node treats it as a closing handshake (no error event, the peer\'s reason)',
    apply(v, n, r) {
      const f = inputFrames(v).find((x) => x && x.opcode === 8);
      if (!f) return null;
      const p = f.payload;
      const c = p.length >= 2 ? p.readUInt16BE(0) : null;
      const validCode = c !== null && ((c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999));
      const invalid = p.length === 1 || (p.length >= 2 && !validCode) || (p.length > 2 && !isValidUtf8(p.subarray(2)));
      if (!invalid) return null;
      if (isFailure(n) || !endsWith(n, [{ type: 'close', code: 1002 }]) || lastClose(n)?.code !== 1002) return null;
      if (!endsWith(r, ['error', { type: 'close', code: 1002 }]) || lastClose(r)?.code !== 1002) return null;
      const r2 = clone(r);
      r2.events.splice(r2.events.length - 2, 1); // our error event
      const n2 = clone(n);
      lastClose(n2).reason = lastClose(r2).reason; // a reason text
      return { n: n2, r: r2 };
    },
  },
  {
    id: 'F9-control-frame',
    name:
      'RFC 6455 §5.4, §5.5 (F9, F11): a control frame between fragments is not part of the message — ' +
      'Node counts it towards maxLength and closes with 1009, we do not',
    apply(v, n, r) {
      const max = v.options?.max_length;
      if (max === undefined) return null;
      // the first control frame that Node's count pushes over the limit
      let open = null;
      let pings = 0;
      let controls = 0;
      let trigger = null;
      for (const f of inputFrames(v)) {
        if (!f) break;
        if (f.opcode >= 8) {
          if (open !== null && open + f.length > BigInt(max)) {
            trigger = { pings, controls };
            break;
          }
          controls++;
          if (f.opcode === 9) pings++;
          if (f.opcode === 8) break;
        } else {
          if (f.opcode !== 0) open = 0n;
          open += f.length;
          if (open > BigInt(max)) return null; // a real violation
          if (f.fin) open = null;
        }
      }
      if (!trigger) return null;
      // Node: our events up to that control frame, then error and close 1009
      let seen = 0;
      const cut = r.events.findIndex((e) => (e.type === 'ping' || e.type === 'pong') && seen++ === trigger.controls);
      if (cut < 0) return null;
      const expected = [...r.events.slice(0, cut), { type: 'error' }, { type: 'close', code: 1009 }];
      if (!same(n.events.map(canonEvent), expected.map(canonEvent))) return null;
      const pongs = r.out.filter((f) => f.op === 10).slice(0, trigger.pings);
      if (n.out.length !== pongs.length + 1 || !same(n.out.slice(0, -1), pongs) || lastClose(n)?.code !== 1009)
        return null;
      if (isFailure(r)) return null;
      return { n: clone(r), r };
    },
  },
  {
    id: 'F10-fail-fast',
    name:
      'RFC 6455 §8.1 (F10, fail fast): invalid UTF-8 in a text message that has not ended — we fail ' +
      '(1007) as soon as the bytes arrive, Node only when the message ends',
    apply(v, n, r) {
      // find the text message whose invalid bytes arrive before its last frame (or that never ends)
      const frames = inputFrames(v);
      let text = null; // bytes of the open text message
      let found = null; // index of the frame with the first invalid byte
      for (let i = 0; i < frames.length && found === null; i++) {
        const f = frames[i];
        if (!f) break;
        if (f.opcode === 1) text = Buffer.alloc(0);
        if ((f.opcode === 1 || f.opcode === 0) && text) {
          text = Buffer.concat([text, f.payload]);
          const bad = firstInvalidUtf8(text, f.fin && !f.partial);
          if (bad >= 0) {
            if (f.fin && !f.partial) break; // known only at the end: both fail there
            found = i;
          }
          if (f.fin) text = null;
        } else if (f.opcode === 2) text = null;
      }
      if (found === null) return null;
      if (!endsWith(r, ['error', { type: 'close', code: 1007 }]) || lastClose(r)?.code !== 1007) return null;
      // Node: our result before the failure, then the control frames up to the message's end (a ping's
      // pong and event, a pong's event), then — if the message ends — error and close 1007
      const expected = clone(r);
      expected.events.splice(-2);
      expected.out.pop();
      let ends = false;
      for (const f of frames.slice(found + 1)) {
        if (!f || f.partial) break;
        if (f.opcode === 9) {
          expected.out.push({ op: 10, fin: true, rsv: 0, masked: false, data: f.payload.toString('hex'), partial: false });
          expected.events.push({ type: 'ping', data: lossyHex(f.payload.toString('hex')) });
        } else if (f.opcode === 10) {
          expected.events.push({ type: 'pong', data: lossyHex(f.payload.toString('hex')) });
        } else if (f.opcode === 0 && f.fin) {
          ends = true;
          break;
        } else if (f.opcode !== 0) return null;
      }
      if (ends) {
        expected.events.push({ type: 'error' }, { type: 'close', code: 1007 });
        expected.out.push(lastClose(n));
        if (lastClose(n)?.code !== 1007) return null;
      }
      if (difference(n, expected, false) !== null) return null;
      return { n: clone(r), r };
    },
  },
  {
    id: 'S9-bytes',
    name:
      'Decision S9: ping and pong payloads are bytes — Node hands them over as lossy strings ' +
      '(U+FFFD for bytes that are not UTF-8)',
    apply(v, n, r) {
      if (n.events.length !== r.events.length) return null;
      let changed = false;
      const n2 = clone(n);
      for (let i = 0; i < r.events.length; i++) {
        const a = n2.events[i];
        const b = r.events[i];
        if (a.type !== b.type || (a.type !== 'ping' && a.type !== 'pong') || a.data === b.data) continue;
        if (isValidUtf8(Buffer.from(b.data, 'hex')) || lossyHex(b.data) !== a.data) return null;
        a.data = b.data;
        changed = true;
      }
      return changed ? { n: n2, r } : null;
    },
  },
  {
    id: 'H5-head-and-frames',
    name:
      'Decision H5: frames in the same read as the request head — Node loses them or throws, we deliver ' +
      'them as if they had come after the head',
    apply(v, n, r, ctx) {
      if (!v.head_with_first_chunk || !v.compare_with) return null;
      const nAfter = ctx.node(v.compare_with, 'whole');
      const rAfter = ctx.ours(v.compare_with, 'whole');
      if (!nAfter || !rAfter) return null;
      if (difference(r, rAfter, false) !== null || difference(r, nAfter, false) !== null) return null;
      const threw = n.events.some((e) => e.type === 'exception');
      const lost = n.events.length < r.events.length && n.events.every((e, i) => sameEvent(e, r.events[i]));
      if (!threw && !lost) return null;
      return { n: clone(r), r };
    },
  },
];
const REASON_CLASS = 'allowed: the reason text of a close frame we sent when failing the connection';

// ---- main ---------------------------------------------------------------------------------------
const doc = JSON.parse(readFileSync(VECTORS, 'utf8'));
const vectors = doc.vectors.filter((v) => v.id.startsWith(ONLY));
const pass = ONLY ? [VECTORS, ONLY] : [VECTORS];
const t0 = Date.now();
const [node, ours] = await Promise.all([
  runLines(process.execPath, [join(HERE, 'node', 'run.mjs'), ...pass]),
  runLines(RS, pass),
]);
const t1 = Date.now();
if (ours.stderr.trim()) process.stderr.write(ours.stderr);
const nodeVersion = JSON.parse(readFileSync(join(HERE, 'node', 'node_modules', 'websocket-driver', 'package.json'), 'utf8')).version;
const get = (side) => (id, read) => {
  const x = side.results.get(`${id}\u0000${read}`);
  return x ? normalise(x) : null;
};
const ctx = { node: get(node), ours: get(ours) };

const classes = new Map(); // name -> Set of vector ids
const note = (name, id) => {
  if (!classes.has(name)) classes.set(name, new Set());
  classes.get(name).add(id);
};
const failures = [];
const cut = (h) => (typeof h === 'string' && h.length > 160 ? `${h.slice(0, 160)}…(${h.length / 2} bytes)` : h);
const brief = (x) => {
  if (!x || typeof x !== 'object') return x;
  const y = { ...x };
  for (const k of ['data', 'reason']) if (k in y) y[k] = cut(y[k]);
  for (const k of ['fin', 'rsv', 'masked', 'partial']) if (y[k] === ({ fin: true, rsv: 0, masked: false, partial: false })[k]) delete y[k];
  return y;
};
/** Where two results first differ. */
function where(n, r) {
  if (n.status !== r.status) return `status ${n.status} vs ${r.status}`;
  for (let i = 0; i < Math.max(n.events.length, r.events.length); i++)
    if (!same(n.events[i], r.events[i]))
      return `event #${i}: node ${JSON.stringify(brief(n.events[i]))} / ours ${JSON.stringify(brief(r.events[i]))}`;
  for (let i = 0; i < Math.max(n.out.length, r.out.length); i++)
    if (!same(n.out[i], r.out[i]))
      return `output frame #${i}: node ${JSON.stringify(brief(n.out[i]))} / ours ${JSON.stringify(brief(r.out[i]))}`;
  return `trailing output: node ${cut(n.trailing)} / ours ${cut(r.trailing)}`;
}
const show = (x) =>
  JSON.stringify({
    status: x.status,
    events: x.events.map(brief),
    out: x.out.map(brief),
    trailing: x.trailing ? cut(x.trailing) : undefined,
    exception: x.exception,
  });

for (const v of vectors) {
  const problems = [];
  const expected = [...(v.differs || [])].sort();
  const seen = new Set(); // rule ids applied, over all reads
  let reasonOnly = false;
  const whole = { n: ctx.node(v.id, 'whole'), r: ctx.ours(v.id, 'whole') };
  for (const read of Object.keys(v.reads)) {
    let n = ctx.node(v.id, read);
    let r = ctx.ours(v.id, read);
    if (!n || !r) {
      problems.push(`${read}: no result from ${!n ? 'Node' : 'ours'}`);
      continue;
    }
    // split invariance, on each side
    if (read !== 'whole') {
      if (difference(n, whole.n, false)) problems.push(`${read}: Node's result differs from its whole read`);
      if (difference(r, whole.r, false)) problems.push(`${read}: our result differs from its whole read`);
    }
    if (read === 'whole' && v.expect) {
      const got = {
        events: r.events.filter((e) => e.type !== 'open'),
        out: r.out.map((f) => (f.op === 'close' && isFailure(r) ? `close:${f.code}` : frameHex(f))),
      };
      if (r.events[0]?.type !== 'open' || !same(got.events.map(canonEvent), v.expect.events.map(canonEvent)) || !same(got.out, v.expect.out))
        problems.push(`whole: ours differs from BEHAVIOUR.md (expected ${JSON.stringify(v.expect)}, got ${JSON.stringify(got)})`);
    }
    if (r.out.some((f) => f.masked || f.partial) || r.trailing) problems.push(`${read}: our output is not whole unmasked frames`);
    const applied = [];
    const differ = difference(n, r, false) !== null;
    for (const rule of RULES) {
      if (!differ && !rule.check) continue; // a check runs on equal results too
      const t = rule.apply(v, n, r, ctx);
      if (!t) continue;
      applied.push(rule.id);
      n = t.n;
      r = t.r;
    }
    const rest = difference(n, r, isFailure(r));
    if (rest !== null) {
      problems.push(
        `${read}: unexplained difference (${rest})${applied.length ? ` after [${applied.join(', ')}]` : ''}: ` +
          `${where(n, r)}\n      node: ${show(ctx.node(v.id, read))}\n      ours: ${show(ctx.ours(v.id, read))}`,
      );
      continue;
    }
    if (difference(n, r, false) !== null) reasonOnly = true;
    // every read must show exactly the differences the vector is known for
    if (!same([...applied].sort(), expected)) {
      const missing = expected.filter((x) => !applied.includes(x));
      const extra = applied.filter((x) => !expected.includes(x));
      problems.push(
        `${read}: ` +
          (missing.length ? `expected difference not seen: ${missing.join(', ')}` : '') +
          (missing.length && extra.length ? '; ' : '') +
          (extra.length ? `difference not expected on this vector: ${extra.join(', ')}` : '') +
          `\n      node: ${show(ctx.node(v.id, read))}\n      ours: ${show(ctx.ours(v.id, read))}`,
      );
    }
    applied.forEach((id) => seen.add(id));
    if (VERBOSE && applied.length) console.log(`  explained ${v.id} [${read}]: ${applied.join(', ')}`);
  }
  if (problems.length) {
    failures.push({ v, problems });
    note('FAILED', v.id);
    continue;
  }
  if (reasonOnly) note(REASON_CLASS, v.id);
  for (const id of seen) note(id, v.id);
  if (seen.size === 0 && !reasonOnly) note('equal', v.id);
}

function frameHex(f) {
  const payload = f.op === 'close' ? (f.code === null ? '' : f.code.toString(16).padStart(4, '0') + f.reason) : f.data;
  const len = payload.length / 2;
  const op = f.op === 'close' ? 8 : f.op;
  const b0 = (f.fin ? 0x80 : 0) | (f.rsv << 4) | op;
  const lenHex = len <= 125 ? len.toString(16).padStart(2, '0') : len <= 0xffff ? '7e' + len.toString(16).padStart(4, '0') : '7f' + len.toString(16).padStart(16, '0');
  return b0.toString(16).padStart(2, '0') + lenHex + payload;
}

const runs = vectors.reduce((k, v) => k + Object.keys(v.reads).length, 0);
console.log(
  `differential: Node websocket-driver ${nodeVersion} (node ${process.version}) vs websocket-driver-std — ` +
    `${vectors.length} vectors, ${runs} runs, ${((t1 - t0) / 1000).toFixed(1)} s`,
);
for (const f of failures) {
  console.log(`FAIL ${f.v.id} (${f.v.ref})${f.v.note ? ' — ' + f.v.note : ''}`);
  for (const p of f.problems) console.log(`    ${p}`);
}
const label = (id) => RULES.find((r) => r.id === id)?.name;
const byItem = RULES.map((r) => r.id).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
for (const key of ['equal', REASON_CLASS, ...byItem, 'FAILED']) {
  if (!classes.has(key)) continue;
  const text = key === 'FAILED' ? 'FAILED (unexplained or missing difference, or a split that changed the result)' : label(key) ? `${key}: ${label(key)}` : key;
  console.log(`${String(classes.get(key).size).padStart(5)}  ${text}`);
}
const failed = failures.length;
console.log(`${vectors.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
