// Real-browser interoperability test: Debian's Chromium, driven by playwright-core, opens WebSockets to
// the websocket-driver-std echo server and runs the checks defined in index.html.
//
//   node test.mjs --port P [--host 127.0.0.1] [--chromium /usr/bin/chromium] [--label NAME]
//
// --label names the server under test (echo_server, axum_echo): each check's line then reads
// `PASS  NAME/check  ...`, so that passes against several servers can be told apart.
// The page is served from http://127.0.0.1:<another port>/ by a tiny static server here: Chromium
// blocks a page from a public origin (about:blank) from reaching loopback. Prints one line per check,
// then exactly `N passed, N failed`; exits 1 on any failure. Every check has a time limit, and so
// does the whole run.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));

// The names and order must match `checks` in index.html (checked once the page is loaded).
const CHECKS = [
  'text',
  'multi-byte text (emoji and CJK)',
  'empty message',
  'binary 125 bytes',
  'binary 126 bytes',
  'binary 65535 bytes',
  'binary 65536 bytes',
  'binary 16 MiB',
  '1000 messages in order',
  'permessage-deflate negotiated',
  'close 4000 with reason echoed',
  '20 connections at once',
];
// Others: DEFAULT_CHECK_LIMIT_MS. 20 connections: Chromium's own WebSocket throttler delays the last
// of 20 connections opened together by up to ~5 s (see index.html).
const CHECK_LIMIT_MS = { 'binary 16 MiB': 30_000, '20 connections at once': 20_000 };
const DEFAULT_CHECK_LIMIT_MS = 10_000;
const RUN_LIMIT_MS = 100_000;                          // whole run, launch included
const started = Date.now();

function parseArgs(argv) {
  const opts = {
    port: process.env.WS_PORT,
    host: process.env.WS_HOST || '127.0.0.1',
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
    label: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = argv[++i];
    else if (a === '--host') opts.host = argv[++i];
    else if (a === '--chromium') opts.chromium = argv[++i];
    else if (a === '--label') opts.label = argv[++i] || '';
    else { console.error(`unknown argument ${a}; usage: node test.mjs --port P [--host H] [--chromium PATH] [--label NAME]`); process.exit(2); }
  }
  if (!opts.port || !/^\d+$/.test(String(opts.port))) {
    console.error('--port P (or WS_PORT) is required: the echo server\'s port');
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
let labelPrefix = '';                                  // `NAME/` with --label NAME
function report(name, ok, ms, detail) {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${labelPrefix}${name}  (${ms} ms)  ${detail}`);
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

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.label) labelPrefix = `${opts.label}/`;
  const wsUrl = `ws://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}/`;

  const html = await readFile(join(HERE, 'index.html'));
  const pageServer = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise((resolve, reject) => {
    pageServer.once('error', reject);
    pageServer.listen(0, '127.0.0.1', resolve);
  });
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;

  const profile = await mkdtemp(join(tmpdir(), 'wsd-interop-chromium-'));
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
    console.log(`# Chromium ${version} (${opts.chromium}), page ${pageUrl}, echo server ${opts.label ? `(${opts.label}) ` : ''}${wsUrl}`);

    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') pageLog.push(`console.${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));

    const load = async () => {
      await page.goto(pageUrl, { waitUntil: 'load', timeout: 15_000 });
      await page.waitForFunction(() => typeof window.runCheck === 'function', null, { timeout: 5_000 });
    };
    await load();
    const names = await page.evaluate(() => window.checkNames);
    if (JSON.stringify(names) !== JSON.stringify(CHECKS)) {
      throw new Error(`the page's checks ${JSON.stringify(names)} differ from test.mjs's list`);
    }

    for (const name of CHECKS) {
      const left = RUN_LIMIT_MS - (Date.now() - started);
      const limit = Math.min(CHECK_LIMIT_MS[name] ?? DEFAULT_CHECK_LIMIT_MS, left);
      if (limit < 1_000) { failRemaining(`the whole run's limit of ${RUN_LIMIT_MS} ms was reached`); break; }
      const t0 = Date.now();
      pageLog.length = 0;
      try {
        const r = await withTimeout(
          page.evaluate(([n, url]) => window.runCheck(n, url), [name, wsUrl]), limit, name);
        let detail = r.detail;
        if (!r.ok && pageLog.length) detail += ` | page: ${pageLog.join(' | ')}`;
        report(name, r.ok, Date.now() - t0, detail);
      } catch (e) {
        let where = '';
        try {
          where = await withTimeout(page.evaluate(() => window.progress.note), 2_000, 'progress');
        } catch { /* page unresponsive */ }
        let detail = `${e.message}${where ? `; last step: ${where}` : ''}`;
        if (pageLog.length) detail += ` | page: ${pageLog.join(' | ')}`;
        report(name, false, Date.now() - t0, detail);
        // Reload: drops the sockets the hung check left open, so the next check starts clean.
        try { await load(); } catch (e2) {
          failRemaining(`the page could not be reloaded after a timeout: ${e2.message}`);
          break;
        }
      }
    }
  } catch (e) {
    console.log(`# error: ${e.message.split('\n')[0]}`);
    failRemaining(e.message.split('\n')[0]);
  } finally {
    try { if (context) await withTimeout(context.close(), 10_000, 'closing Chromium'); } catch (e) {
      console.log(`# ${e.message}`);
    }
    pageServer.close();
    pageServer.closeAllConnections?.();
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
