/**
 * Interop: headless Chromium's WebSocket with permessage-deflate against a Tether server
 * (perMessageDeflate: true) attached to a node:http server that also serves the page.
 * Chromium offers "permessage-deflate; client_max_window_bits" and compresses what it
 * sends; the server inflates, echoes and compresses from its threshold up. Chromium must
 * be installed at /usr/bin/chromium: without it every test here fails.
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

interface PageHelpers {
  open(url: string): Promise<number>;
  extensions(id: number): string;
  send(id: number, data: string | Uint8Array): void;
  next(id: number, ms: number): Promise<unknown>;
  close(id: number, code?: number): void;
  closed(id: number, ms: number): Promise<{ code: number; wasClean: boolean }>;
  sha256(data: ArrayBuffer | Uint8Array | string): Promise<string>;
  pattern(n: number): Uint8Array;
  text(n: number): string;
}
declare global {
  interface Window {
    D: PageHelpers;
  }
}

const PAGE_SCRIPT = `
'use strict';
const sockets = [];
function deadline(p, ms, what) {
  return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('page timed out: ' + what)), ms))]);
}
window.D = {
  open(url) {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const entry = { ws, items: [], waiters: [] };
    entry.closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, wasClean: e.wasClean })));
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
  extensions(id) { return sockets[id].ws.extensions; },
  send(id, data) { sockets[id].ws.send(data); },
  next(id, ms) {
    const e = sockets[id];
    if (e.items.length > 0) return Promise.resolve(e.items.shift());
    return deadline(new Promise((resolve) => e.waiters.push(resolve)), ms, 'message');
  },
  close(id, code) { sockets[id].ws.close(code); },
  closed(id, ms) { return deadline(sockets[id].closed, ms, 'close'); },
  async sha256(data) {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const d = await crypto.subtle.digest('SHA-256', bytes);
    return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
  },
  pattern(n) {
    const out = new Uint8Array(n);
    let x = 0x2468ace1;
    for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = (i & 64) ? x & 0xff : i & 0x3f; }
    return out;
  },
  text(n) {
    // n UTF-8 bytes, semi-repetitive JSON-like, with multi-byte characters.
    const enc = new TextEncoder();
    const parts = [];
    let bytes = 0;
    for (let i = 0; ; i++) {
      const rec = '{"n":' + i + ',"é":"€😀"},';
      const len = enc.encode(rec).length;
      if (bytes + len > n) break;
      parts.push(rec);
      bytes += len;
    }
    return parts.join('') + ' '.repeat(n - bytes);
  },
};
`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tether deflate</title><script>${PAGE_SCRIPT}</script></head><body>tether</body></html>`;

const opened = new Inbox<ServerSocket>();
const messages = new Inbox<{ data: string | Buffer; isBinary: boolean }>();
let http: HttpServer | null = null;
let wss: WebSocketServer | null = null;
let base = '';
let browser: Browser | null = null;
let setup: Promise<Page> | null = null;

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
    perMessageDeflate: true,
    open: (ws) => opened.push(ws),
    message(ws, data, isBinary) {
      messages.push({ data: typeof data === 'string' ? data : Buffer.from(data), isBinary });
      ws.send(data, { binary: isBinary });
    },
  }).attach(http);
  await new Promise<void>((resolve, reject) => {
    http!.once('error', reject);
    http!.listen(0, '127.0.0.1', resolve);
  });
  base = `127.0.0.1:${(http.address() as AddressInfo).port}`;
}

function ready(): Promise<Page> {
  setup ??= (async () => {
    await startServers();
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP);
    await page.goto(`http://${base}/`, { timeout: STEP });
    assert.equal(await page.title(), 'tether deflate');
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

const SIZES = [1, 1024, 64 * 1024, 1024 * 1024];

describe('Chromium WebSocket <-> Tether server with permessage-deflate', () => {
  test('compression is negotiated on both sides; text and binary of 1 B, 1 KiB, 64 KiB, 1 MiB echo intact', async () => {
    const page = await ready();
    const got = await within(page.evaluate(async ({ url, sizes }) => {
      const id = await window.D.open(url);
      const extensions = window.D.extensions(id);
      const results: Array<{ size: number; binary: boolean; sent: string; received: string; type: string; length: number }> = [];
      for (const size of sizes) {
        const text = window.D.text(size);
        window.D.send(id, text);
        const t = await window.D.next(id, 10_000);
        results.push({ size, binary: false, sent: await window.D.sha256(text), received: typeof t === 'string' ? await window.D.sha256(t) : '', type: typeof t, length: typeof t === 'string' ? new TextEncoder().encode(t).length : -1 });
        const bytes = window.D.pattern(size);
        window.D.send(id, bytes);
        const b = await window.D.next(id, 10_000);
        const isBuf = b instanceof ArrayBuffer;
        results.push({ size, binary: true, sent: await window.D.sha256(bytes), received: isBuf ? await window.D.sha256(b as ArrayBuffer) : '', type: isBuf ? 'arraybuffer' : typeof b, length: isBuf ? (b as ArrayBuffer).byteLength : -1 });
      }
      window.D.close(id, 1000);
      return { extensions, results, closed: await window.D.closed(id, 5000) };
    }, { url: `ws://${base}/ws`, sizes: SIZES }), 30_000, 'deflate echo in the page');

    assert.match(got.extensions, /^permessage-deflate(;|$)/);
    const ws = await opened.next(STEP, 'server open');
    assert.match(ws.extensions, /^permessage-deflate(;|$)/);
    assert.equal(got.extensions, ws.extensions, 'the page sees the extension the server answered');
    assert.notEqual(ws.perMessageDeflate, null);

    assert.equal(got.results.length, SIZES.length * 2);
    for (const r of got.results) {
      const what = `${r.binary ? 'binary' : 'text'} ${r.size}`;
      assert.equal(r.type, r.binary ? 'arraybuffer' : 'string', what);
      assert.equal(r.length, r.size, what);
      assert.equal(r.received, r.sent, `${what}: checksum of the echo`);
      const m = await messages.next(STEP, `server got ${what}`);
      assert.equal(m.isBinary, r.binary, what);
      assert.equal(typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length, r.size, what);
      assert.equal(sha256(m.data), r.sent, `${what}: checksum at the server`);
    }
    assert.deepEqual(got.closed, { code: 1000, wasClean: true });
  });
});
