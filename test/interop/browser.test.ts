/**
 * Interop: headless Chromium's own WebSocket against a Tether server attached to a
 * node:http server (path /ws) that also serves the test page. Chromium must be installed
 * at /usr/bin/chromium: without it every test here fails.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { WebSocketServer, type ServerSocket } from '../../src/index.js';
import { within } from '../helpers.js';
import { Inbox, sha256 } from './interop-util.js';

const STEP = 5000;

/** Helpers the page defines for the tests (see PAGE). */
interface PageClose { code: number; reason: string; wasClean: boolean }
interface PageHelpers {
  open(url: string, protocols: string[] | undefined, binaryType: BinaryType): Promise<number>;
  protocol(id: number): string;
  send(id: number, data: string | ArrayBuffer | Uint8Array | Blob): void;
  next(id: number, ms: number): Promise<unknown>;
  close(id: number, code?: number, reason?: string): void;
  closed(id: number, ms: number): Promise<PageClose>;
  sha256(data: ArrayBuffer | Uint8Array): Promise<string>;
  pattern(n: number): Uint8Array;
}
declare global {
  interface Window {
    T: PageHelpers;
  }
}

// Runs in the page: every socket gets a message queue and a close promise, each wait has a deadline.
const PAGE_SCRIPT = `
'use strict';
const sockets = [];
function deadline(p, ms, what) {
  return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('page timed out: ' + what)), ms))]);
}
window.T = {
  open(url, protocols, binaryType) {
    const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
    ws.binaryType = binaryType;
    const entry = { ws, items: [], waiters: [] };
    entry.closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
    ws.onmessage = (e) => {
      const w = entry.waiters.shift();
      if (w) w(e.data); else entry.items.push(e.data);
    };
    const id = sockets.push(entry) - 1;
    return deadline(new Promise((resolve, reject) => {
      ws.onopen = () => resolve(id);
      ws.onerror = () => reject(new Error('WebSocket error before open'));
    }), 5000, 'open ' + url);
  },
  protocol(id) { return sockets[id].ws.protocol; },
  send(id, data) { sockets[id].ws.send(data); },
  next(id, ms) {
    const e = sockets[id];
    if (e.items.length > 0) return Promise.resolve(e.items.shift());
    return deadline(new Promise((resolve) => e.waiters.push(resolve)), ms, 'message');
  },
  close(id, code, reason) { sockets[id].ws.close(code, reason); },
  closed(id, ms) { return deadline(sockets[id].closed, ms, 'close'); },
  async sha256(data) {
    const d = await crypto.subtle.digest('SHA-256', data);
    return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
  },
  pattern(n) {
    const out = new Uint8Array(n);
    let x = 0x12345678;
    for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
    return out;
  },
};
`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tether interop</title><script>${PAGE_SCRIPT}</script></head><body>tether</body></html>`;

// ---------------------------------------------------------------- server side

interface Events {
  opened: Inbox<ServerSocket>;
  messages: Inbox<{ data: string | Buffer; isBinary: boolean }>;
  closes: Inbox<{ code: number; reason: string }>;
}
/** Server events per connection, keyed by the ?id= each test puts in its URL. */
const byId = new Map<string, Events>();
function events(id: string): Events {
  let e = byId.get(id);
  if (!e) byId.set(id, (e = { opened: new Inbox(), messages: new Inbox(), closes: new Inbox() }));
  return e;
}
const idOf = new WeakMap<ServerSocket, string>();

let http: HttpServer | null = null;
let wss: WebSocketServer | null = null;
let base = '';

async function startServers(): Promise<void> {
  http = createHttpServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  wss = new WebSocketServer({
    heartbeatInterval: 0,
    path: '/ws',
    selectProtocol: (offered) => (offered.includes('b') ? 'b' : undefined),
    open(ws, req) {
      const id = req.query.get('id') ?? '';
      idOf.set(ws, id);
      events(id).opened.push(ws);
    },
    message(ws, data, isBinary) {
      const id = idOf.get(ws)!;
      events(id).messages.push({ data: typeof data === 'string' ? data : Buffer.from(data), isBinary });
      if (data === 'please close') ws.close(4000, 'server says bye');
      else ws.send(data, { binary: isBinary });
    },
    close(ws, code, reason) {
      events(idOf.get(ws)!).closes.push({ code, reason });
    },
  }).attach(http);
  await new Promise<void>((resolve, reject) => {
    http!.once('error', reject);
    http!.listen(0, '127.0.0.1', resolve);
  });
  base = `127.0.0.1:${(http.address() as AddressInfo).port}`;
}

// ---------------------------------------------------------------- browser

let browser: Browser | null = null;
let setup: Promise<Page> | null = null;

/** Servers, browser and page, started once for the file; a failure fails every test. */
function ready(): Promise<Page> {
  setup ??= (async () => {
    await startServers();
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP);
    await page.goto(`http://${base}/`, { timeout: STEP });
    assert.equal(await page.title(), 'tether interop');
    return page;
  })();
  return within(setup, 20_000, 'browser setup');
}

after(async () => {
  const tasks: Array<Promise<unknown>> = [];
  if (browser) tasks.push(within(browser.close(), 10_000, 'browser close'));
  if (wss) tasks.push(within(wss.close({ timeout: 1000 }), 5000, 'server close'));
  await Promise.allSettled(tasks);
  if (http) {
    http.closeAllConnections();
    await within(new Promise<void>((resolve) => http!.close(() => resolve())), 5000, 'http close');
  }
  await Promise.all(tasks);
});

/** page.evaluate with a deadline on the Node side too. */
function inPage<R>(page: Page, fn: (url: string) => R | Promise<R>, url: string, what: string, ms = STEP): Promise<R> {
  return within(page.evaluate(fn, url), ms, what);
}

function wsUrl(id: string): string {
  return `ws://${base}/ws?id=${id}`;
}

describe('Chromium WebSocket <-> Tether server (attached to node:http, path /ws)', () => {
  test('text echo', async () => {
    const page = await ready();
    const got = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'blob');
      window.T.send(id, 'héllo from chromium ✓');
      const echo = await window.T.next(id, 5000);
      window.T.close(id, 1000);
      return { echo, closed: await window.T.closed(id, 5000) };
    }, wsUrl('text'), 'text echo');
    assert.equal(got.echo, 'héllo from chromium ✓');
    assert.deepEqual(got.closed, { code: 1000, reason: '', wasClean: true });
    const e = events('text');
    assert.deepEqual(await e.messages.next(STEP, 'server message'), { data: 'héllo from chromium ✓', isBinary: false });
    assert.equal((await e.closes.next(STEP, 'server close')).code, 1000);
  });

  test('binary echo as ArrayBuffer', async () => {
    const page = await ready();
    const got = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'arraybuffer');
      window.T.send(id, new Uint8Array([0, 1, 2, 0x80, 0xfe, 0xff]));
      const echo = await window.T.next(id, 5000);
      window.T.close(id, 1000);
      await window.T.closed(id, 5000);
      return { isArrayBuffer: echo instanceof ArrayBuffer, bytes: Array.from(new Uint8Array(echo as ArrayBuffer)) };
    }, wsUrl('arraybuffer'), 'arraybuffer echo');
    assert.deepEqual(got, { isArrayBuffer: true, bytes: [0, 1, 2, 0x80, 0xfe, 0xff] });
    const m = await events('arraybuffer').messages.next(STEP, 'server message');
    assert.equal(m.isBinary, true);
    assert.deepEqual(m.data, Buffer.from([0, 1, 2, 0x80, 0xfe, 0xff]));
  });

  test('binary echo as Blob', async () => {
    const page = await ready();
    const got = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'blob');
      window.T.send(id, new Blob([new Uint8Array([7, 0, 255, 42]), 'tail']));
      const echo = await window.T.next(id, 5000);
      window.T.close(id, 1000);
      await window.T.closed(id, 5000);
      const isBlob = echo instanceof Blob;
      return { isBlob, bytes: isBlob ? Array.from(new Uint8Array(await (echo as Blob).arrayBuffer())) : [] };
    }, wsUrl('blob'), 'blob echo');
    assert.deepEqual(got, { isBlob: true, bytes: [7, 0, 255, 42, ...Buffer.from('tail')] });
    const m = await events('blob').messages.next(STEP, 'server message');
    assert.equal(m.isBinary, true);
    assert.deepEqual(m.data, Buffer.from([7, 0, 255, 42, ...Buffer.from('tail')]));
  });

  test('a 1 MiB message echoed intact (checksum in the page)', async () => {
    const page = await ready();
    const got = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'arraybuffer');
      const data = window.T.pattern(1024 * 1024);
      const sent = await window.T.sha256(data);
      window.T.send(id, data);
      const echo = (await window.T.next(id, 10_000)) as ArrayBuffer;
      const received = await window.T.sha256(echo);
      // And a 1 MiB text message.
      const text = 'aé€😀'.repeat(1024 * 1024 / 10);
      window.T.send(id, text);
      const textEcho = await window.T.next(id, 10_000);
      window.T.close(id, 1000);
      await window.T.closed(id, 5000);
      return { sent, received, length: echo.byteLength, textOk: textEcho === text, textLength: text.length };
    }, wsUrl('big'), '1 MiB echo', 20_000);
    assert.equal(got.length, 1024 * 1024);
    assert.equal(got.received, got.sent);
    assert.equal(got.textOk, true);
    const e = events('big');
    const m = await e.messages.next(STEP, 'server 1 MiB');
    assert.equal(m.isBinary, true);
    assert.equal((m.data as Buffer).length, 1024 * 1024);
    assert.equal(sha256(m.data), got.sent);
    const t = await e.messages.next(STEP, 'server 1 MiB text');
    assert.equal(t.isBinary, false);
    assert.equal((t.data as string).length, got.textLength);
  });

  test('subprotocol chosen by the server is ws.protocol in the page', async () => {
    const page = await ready();
    const protocol = await inPage(page, async (url) => {
      const id = await window.T.open(url, ['a', 'b'], 'blob');
      const p = window.T.protocol(id);
      window.T.close(id, 1000);
      await window.T.closed(id, 5000);
      return p;
    }, wsUrl('proto'), 'subprotocol');
    assert.equal(protocol, 'b');
    const ws = await events('proto').opened.next(STEP, 'server open');
    assert.equal(ws.protocol, 'b');
  });

  test('the server closes with 4000 "server says bye": the page sees code, reason, wasClean', async () => {
    const page = await ready();
    const closed = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'blob');
      window.T.send(id, 'please close');
      return window.T.closed(id, 5000);
    }, wsUrl('server-close'), 'server close');
    assert.deepEqual(closed, { code: 4000, reason: 'server says bye', wasClean: true });
    // The browser echoes the code.
    assert.equal((await events('server-close').closes.next(STEP, 'server close handler')).code, 4000);
  });

  test('data sent right before close() (a Blob, then text) arrives before the close frame', async () => {
    const page = await ready();
    const closed = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'blob');
      window.T.send(id, new Blob(['blob before close']));
      window.T.send(id, 'text before close');
      window.T.close(id, 4001, 'page says bye');
      return window.T.closed(id, 5000);
    }, wsUrl('blob-close'), 'blob then close');
    const e = events('blob-close');
    const m1 = await e.messages.next(STEP, 'blob at the server');
    const m2 = await e.messages.next(STEP, 'text at the server');
    assert.deepEqual([m1.isBinary, m1.data.toString()], [true, 'blob before close']);
    assert.deepEqual([m2.isBinary, m2.data], [false, 'text before close']);
    assert.deepEqual(await e.closes.next(STEP, 'server close handler'), { code: 4001, reason: 'page says bye' });
    assert.deepEqual([closed.code, closed.wasClean], [4001, true]);
  });

  test('the page closes with 4001 "page says bye": the server sees code and reason', async () => {
    const page = await ready();
    const closed = await inPage(page, async (url) => {
      const id = await window.T.open(url, undefined, 'blob');
      window.T.close(id, 4001, 'page says bye');
      return window.T.closed(id, 5000);
    }, wsUrl('page-close'), 'page close');
    const sc = await events('page-close').closes.next(STEP, 'server close handler');
    assert.deepEqual(sc, { code: 4001, reason: 'page says bye' });
    assert.equal(closed.code, 4001);
    assert.equal(closed.wasClean, true);
    assert.equal(wss!.clients.size, 0);
  });
});
