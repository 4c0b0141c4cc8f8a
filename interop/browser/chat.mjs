// Real-browser test of the chat demo (the websocket-driver-std `chat` example): Debian's Chromium,
// driven by playwright-core, opens the demo's own page in two pages and chats between them.
//
//   node chat.mjs --port P [--host 127.0.0.1] [--chromium /usr/bin/chromium]
//
// The page comes from the chat server itself (http://HOST:P/), and connects a WebSocket to
// ws://HOST:P/chat; it appends each received line as a <p> in #log, after a first `connected` (class
// `sys`). The server numbers members as they join and sends every member `#N joined`, `#N: text` (N is
// the sender's number) and `#N left`. Prints one line per check (`PASS  chat/...`), then exactly
// `N passed, N failed`; exits 1 on any failure. Every check has a time limit, and so does the whole run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHECKS = [
  'page 1 connected',
  'page 2 connected, page 1 sees it join',
  'message from page 1 reaches both pages',
  'non-ASCII message from page 2 reaches both pages',
  'closing page 2: page 1 sees it leave',
];
const CHECK_LIMIT_MS = 10_000;
const RUN_LIMIT_MS = 45_000;                           // whole run, launch included
const started = Date.now();

function parseArgs(argv) {
  const opts = {
    port: process.env.CHAT_PORT,
    host: process.env.CHAT_HOST || '127.0.0.1',
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = argv[++i];
    else if (a === '--host') opts.host = argv[++i];
    else if (a === '--chromium') opts.chromium = argv[++i];
    else { console.error(`unknown argument ${a}; usage: node chat.mjs --port P [--host H] [--chromium PATH]`); process.exit(2); }
  }
  if (!opts.port || !/^\d+$/.test(String(opts.port))) {
    console.error('--port P (or CHAT_PORT) is required: the chat server\'s port');
    process.exit(2);
  }
  return opts;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
  ]);
}

const results = [];
let summaryPrinted = false;
function report(name, ok, ms, detail) {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  chat/${name}  (${ms} ms)  ${detail}`);
}
function summary() {
  if (summaryPrinted) return;
  summaryPrinted = true;
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
function failRemaining(reason) {
  const done = new Set(results.map((r) => r.name));
  for (const name of CHECKS) if (!done.has(name)) report(name, false, 0, `not run: ${reason}`);
}

// Last resort: whatever hangs (a browser that will not close, say), the run ends with a summary.
const watchdog = setTimeout(() => {
  failRemaining(`the whole run exceeded ${RUN_LIMIT_MS + 15_000} ms`);
  summary();
  process.exit(1);
}, RUN_LIMIT_MS + 15_000);

// The lines of a page's #log: [{ text, cls }].
const lines = (page) => page.$$eval('#log p', (ps) => ps.map((p) => ({ text: p.textContent, cls: p.className })));
const show = (ls) => JSON.stringify(ls.map((l) => l.text));

// Waits until a line at index `from` or later matches `pattern` (a RegExp source); returns its text.
async function waitLine(page, pattern, from, ms) {
  try {
    const handle = await page.waitForFunction(([re, start]) => {
      const ps = [...document.querySelectorAll('#log p')].slice(start);
      const hit = ps.find((p) => new RegExp(re).test(p.textContent));
      return hit ? hit.textContent : false;
    }, [pattern, from], { timeout: ms, polling: 20 });
    return await handle.jsonValue();
  } catch (e) {
    if (!/Timeout/.test(e.message)) throw e;
    throw new Error(`no line matching /${pattern}/ (from line ${from + 1}) within ${ms} ms`);
  }
}

// Types `text` into #text and submits #form (Enter, as a user would).
async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pageUrl = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}/`;

  const profile = await mkdtemp(join(tmpdir(), 'wsd-chat-chromium-'));
  let context;
  const pageLog = [];
  try {
    context = await withTimeout(chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
      timeout: 30_000,
    }), 40_000, 'launching Chromium');
    const version = context.browser() ? context.browser().version() : '(unknown version)';
    console.log(`# Chromium ${version} (${opts.chromium}), chat page ${pageUrl} in two pages`);

    const watch = (page, which) => {
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') pageLog.push(`${which} console.${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => pageLog.push(`${which} pageerror: ${e.message}`));
    };
    const one = context.pages()[0] || await context.newPage();
    watch(one, 'page 1');
    let two = null;
    const state = {};                                  // what the checks learn: marks and member numbers

    // The page's first line is `connected` (class sys) once its WebSocket is open.
    const connected = async (page) => {
      await page.goto(pageUrl, { waitUntil: 'load', timeout: 15_000 });
      await waitLine(page, '^connected$', 0, CHECK_LIMIT_MS);
      const first = (await lines(page))[0];
      if (first.text !== 'connected' || first.cls !== 'sys') {
        throw new Error(`first line ${JSON.stringify(first)}, expected "connected" with class "sys"`);
      }
    };
    // Both pages receive `#N: text` (same N); returns N.
    const heardByBoth = async (text, marks) => {
      const want = `^#(\\d+): ${escape(text)}$`;
      const got = await Promise.all([one, two].map((p, i) => waitLine(p, want, marks[i], CHECK_LIMIT_MS)
        .catch((e) => { throw new Error(`page ${i + 1}: ${e.message}`); })));
      const ns = got.map((t) => t.match(/^#(\d+):/)[1]);
      if (ns[0] !== ns[1]) throw new Error(`page 1 got ${JSON.stringify(got[0])}, page 2 got ${JSON.stringify(got[1])}`);
      return { n: ns[0], line: got[0] };
    };

    const checks = {
      'page 1 connected': async () => {
        await connected(one);
        // Its own `#N joined` (if the server sends one) before page 2 opens, so the room is settled.
        let joined = '';
        try { joined = await waitLine(one, '^#\\d+ joined$', 1, 2_000); } catch { /* not required */ }
        state.joinedOne = joined;
        return `lines ${show(await lines(one))}`;
      },
      'page 2 connected, page 1 sees it join': async () => {
        const mark = (await lines(one)).length;
        two = await context.newPage();
        watch(two, 'page 2');
        await connected(two);
        // Page 2 is in the room once page 1 sees its `#M joined`: only then can it hear what page 1 says.
        const joined = await waitLine(one, '^#\\d+ joined$', mark, CHECK_LIMIT_MS);
        state.m = joined.match(/^#(\d+)/)[1];
        return `page 1 got ${JSON.stringify(joined)}; page 2 lines ${show(await lines(two))}`;
      },
      'message from page 1 reaches both pages': async () => {
        const marks = [(await lines(one)).length, (await lines(two)).length];
        await say(one, 'hello from one');
        const { n, line } = await heardByBoth('hello from one', marks);
        if (n === state.m) throw new Error(`${JSON.stringify(line)} carries page 2's number #${state.m}`);
        const own = state.joinedOne.match(/^#(\d+)/);  // page 1 alone in the room: its own join
        if (own && own[1] !== n) throw new Error(`${JSON.stringify(line)}: page 1 joined as #${own[1]}`);
        state.n = n;
        return `both pages got ${JSON.stringify(line)}`;
      },
      'non-ASCII message from page 2 reaches both pages': async () => {
        const marks = [(await lines(one)).length, (await lines(two)).length];
        await say(two, 'héllo ✓');
        const { n, line } = await heardByBoth('héllo ✓', marks);
        if (n !== state.m) throw new Error(`${JSON.stringify(line)}: page 2 joined as #${state.m}`);
        return `both pages got ${JSON.stringify(line)}`;
      },
      'closing page 2: page 1 sees it leave': async () => {
        const mark = (await lines(one)).length;
        await two.close();
        const left = await waitLine(one, `^#${state.m} left$`, mark, CHECK_LIMIT_MS);
        return `page 1 got ${JSON.stringify(left)}; page 1 lines ${show(await lines(one))}`;
      },
    };

    for (const name of CHECKS) {
      const left = RUN_LIMIT_MS - (Date.now() - started);
      const limit = Math.min(CHECK_LIMIT_MS + 5_000, left);
      if (limit < 1_000) { failRemaining(`the whole run's limit of ${RUN_LIMIT_MS} ms was reached`); break; }
      const t0 = Date.now();
      pageLog.length = 0;
      try {
        const detail = await withTimeout(checks[name](), limit, name);
        report(name, true, Date.now() - t0, detail);
      } catch (e) {
        let detail = e.message.split('\n')[0];
        for (const [which, page] of [['page 1', one], ['page 2', two]]) {
          if (!page || page.isClosed()) continue;
          try { detail += `; ${which} lines ${show(await withTimeout(lines(page), 2_000, 'lines'))}`; } catch { /* unresponsive */ }
        }
        if (pageLog.length) detail += ` | ${pageLog.join(' | ')}`;
        report(name, false, Date.now() - t0, detail);
        // Each check builds on the previous ones: the rest cannot run.
        failRemaining(`"${name}" failed`);
        break;
      }
    }
  } catch (e) {
    console.log(`# error: ${e.message.split('\n')[0]}`);
    failRemaining(e.message.split('\n')[0]);
  } finally {
    try { if (context) await withTimeout(context.close(), 10_000, 'closing Chromium'); } catch (e) {
      console.log(`# ${e.message}`);
    }
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  }
  console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const failed = summary();
  clearTimeout(watchdog);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`# error: ${e && e.stack || e}`);
  failRemaining(String(e && e.message || e));
  summary();
  process.exit(1);
});
