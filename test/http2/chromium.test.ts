/**
 * Headless Chromium against Tether on a TLS HTTP/2 server (the test certificate, with
 * --ignore-certificate-errors): the page's WebSockets must arrive as RFC 8441 streams on
 * the page's one connection and echo, with and without permessage-deflate; Chromium's
 * WebSocketStream talks to the same server. Chromium must be installed at /usr/bin/chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { launchChromium } from '../interop/chromium.js';
import { WebSocketServer } from '../../src/index.js';
import { TLS_CERT, TLS_KEY, within } from '../helpers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><script>
async function echo(ws, data) {
  return new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); ws.send(data); });
}
window.run = async (base) => {
  const results = [];
  const sockets = [];
  for (let i = 0; i < 6; i++) {
    const ws = new WebSocket(base + (i < 4 ? '/deflate' : '/plain'));
    ws.binaryType = 'arraybuffer';
    sockets.push(await new Promise((resolve, reject) => { ws.onopen = () => resolve(ws); ws.onerror = () => reject(new Error('error on ' + i)); }));
  }
  for (const [i, ws] of sockets.entries()) {
    const text = await echo(ws, ('socket ' + i + ' ').repeat(200));
    const bytes = new Uint8Array(await echo(ws, new Uint8Array([i, 1, 2, 3, 255])));
    results.push({ extensions: ws.extensions, textOk: text === ('socket ' + i + ' ').repeat(200), bytes: Array.from(bytes) });
  }
  for (const ws of sockets) ws.close(1000);
  let stream = null;
  if (typeof WebSocketStream === 'function') {
    const wss = new WebSocketStream(base + '/deflate');
    const { readable, writable, extensions } = await wss.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('through WebSocketStream');
    const a = await reader.read();
    await writer.write(new Uint8Array([9, 8, 7]));
    const b = await reader.read();
    wss.close({ closeCode: 4001, reason: 'done' });
    const closed = await wss.closed;
    stream = { text: a.value, binaryType: Object.prototype.toString.call(b.value), bytes: Array.from(new Uint8Array(b.value)), extensions, closed };
  }
  return { results, stream };
};
</script>`;

test('Chromium: WebSockets as HTTP/2 streams on one connection, with and without compression; WebSocketStream', async () => {
  const server = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, allowHTTP1: true }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  const seen: Array<{ method: string; port: number | undefined; path: string }> = [];
  const options = { heartbeatInterval: 0, echoCloseReason: true, open: (ws: { remotePort: number | undefined }, req: { method: string; path: string }) => void seen.push({ method: req.method, port: ws.remotePort, path: req.path }) };
  const deflate = new WebSocketServer({ ...options, path: '/deflate', perMessageDeflate: { threshold: 0 }, message: (ws, d, b) => ws.send(d, { binary: b }) }).attach(server);
  const plain = new WebSocketServer({ ...options, path: '/plain', message: (ws, d, b) => ws.send(d, { binary: b }) }).attach(server);
  const pageConnections = new Set<number | undefined>();
  server.on('session', (s) => void pageConnections.add(s.socket.remotePort));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const browser = await launchChromium(['--ignore-certificate-errors']);
  try {
    const page = await browser.newPage();
    await page.goto(`https://127.0.0.1:${port}/`, { timeout: 10_000 });
    const out = await within(page.evaluate((base) => (window as unknown as { run(b: string): Promise<unknown> }).run(base), `wss://127.0.0.1:${port}`), 20_000, 'page run') as {
      results: Array<{ extensions: string; textOk: boolean; bytes: number[] }>;
      stream: { text: string; binaryType: string; bytes: number[]; extensions: string; closed: { closeCode: number; reason: string } } | null;
    };
    const sockets = seen.slice(0, 6);
    assert.deepEqual(sockets.map((s) => s.method), Array(6).fill('CONNECT'), 'every WebSocket arrived as an extended CONNECT stream');
    assert.equal(new Set(sockets.map((s) => s.port)).size, 1, 'all on one connection');
    assert.equal(pageConnections.size, 1, 'the connection that loaded the page');
    out.results.forEach((r, i) => {
      assert.equal(r.textOk, true, `socket ${i} text echo`);
      assert.deepEqual(r.bytes, [i, 1, 2, 3, 255], `socket ${i} binary echo`);
      if (i < 4) assert.match(r.extensions, /^permessage-deflate/, `socket ${i} compressed`);
      else assert.equal(r.extensions, '', `socket ${i} uncompressed`);
    });
    assert.ok(out.stream !== null, 'this Chromium has WebSocketStream');
    assert.equal(out.stream.text, 'through WebSocketStream');
    assert.deepEqual(out.stream.bytes, [9, 8, 7]);
    assert.match(out.stream.extensions, /^permessage-deflate/);
    assert.deepEqual(out.stream.closed, { closeCode: 4001, reason: 'done' });
    assert.equal(seen[6]?.method, 'CONNECT', 'WebSocketStream also came over HTTP/2');
  } finally {
    await browser.close();
    await deflate.close({ timeout: 200 });
    await plain.close({ timeout: 200 });
    await new Promise((r) => server.close(r));
  }
});
