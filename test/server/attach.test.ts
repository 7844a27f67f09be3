import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { WebSocketServer, type UpgradeRequest } from '../../src/index.js';
import { TLS_CERT, TLS_KEY, within } from '../helpers.js';
import { deferred, nextMessage, openWs, rawRequest, upgradeRequest, wsClosed } from './util.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

test('two servers attached to one http server route by path; unknown path → 404; plain HTTP still served', async () => {
  const http = createServer((_req, res) => res.end('plain'));
  const port = await listen(http);
  const a = new WebSocketServer({ path: '/a', heartbeatInterval: 0, message: (ws, data) => void ws.send(`a:${String(data)}`) }).attach(http);
  const b = new WebSocketServer({ path: '/b', heartbeatInterval: 0, message: (ws, data) => void ws.send(`b:${String(data)}`) }).attach(http);
  try {
    const wa = await openWs(`ws://127.0.0.1:${port}/a`);
    const wb = await openWs(`ws://127.0.0.1:${port}/b?x=1`);
    const ma = nextMessage(wa);
    const mb = nextMessage(wb);
    wa.send('1');
    wb.send('2');
    assert.equal(String((await within(ma, 3000, 'message on /a')).data), 'a:1');
    assert.equal(String((await within(mb, 3000, 'message on /b')).data), 'b:2');
    assert.equal(a.clients.size, 1);
    assert.equal(b.clients.size, 1);
    assert.equal(http.listenerCount('upgrade'), 1, 'one shared upgrade listener');

    const res = await rawRequest(port, upgradeRequest({ path: '/c' }));
    assert.equal(res.status, 404);
    assert.ok(res.closed);

    const plain = await fetch(`http://127.0.0.1:${port}/anything`, { headers: { Connection: 'close' } });
    assert.equal(await plain.text(), 'plain');

    // Closing one server detaches it: /a becomes 404, /b keeps working.
    const closedA = wsClosed(wa);
    await within(a.close({ timeout: 1000 }), 3000, 'a.close');
    assert.equal((await closedA).code, 1001);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/a' }))).status, 404);
    const wb2 = await openWs(`ws://127.0.0.1:${port}/b`);
    wb2.terminate();
    wb.terminate();
  } finally {
    await a.close({ timeout: 100 });
    await b.close({ timeout: 100 });
    await closeHttp(http);
  }
  assert.equal(http.listenerCount('upgrade'), 0, 'both detached');
});

test('handleUpgrade from a manual upgrade listener accepts and refuses like the standalone server', async () => {
  const seen = deferred<UpgradeRequest>();
  const wss = new WebSocketServer({
    heartbeatInterval: 0,
    path: '/ws',
    open: (_ws, req) => seen.resolve(req),
    message: (ws, data, isBinary) => void ws.send(data, { binary: isBinary }),
  });
  const http = createServer();
  http.on('upgrade', (req, socket, head) => {
    if (req.headers['x-deny'] === '1') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head);
  });
  const port = await listen(http);
  try {
    const ws = await openWs(`ws://127.0.0.1:${port}/ws?k=v`);
    const req = await within(seen.promise, 3000, 'open');
    assert.equal(req.path, '/ws');
    assert.equal(req.query.get('k'), 'v');
    assert.equal(req.remoteAddress, '127.0.0.1');
    const m = nextMessage(ws);
    ws.send(Buffer.from([1, 2, 3]));
    const got = await within(m, 3000, 'echo');
    assert.ok(got.isBinary);
    assert.deepEqual([...got.data], [1, 2, 3]);

    assert.equal((await rawRequest(port, upgradeRequest({ path: '/nope' }))).status, 404);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '8' } }))).status, 426);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws', headers: { 'X-Deny': '1' } }))).status, 401);
    ws.close();
    await wsClosed(ws);
  } finally {
    await wss.close({ timeout: 100 });
    await closeHttp(http);
  }
});

test('attach to an https server: request.secure is true', async () => {
  const https = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT });
  const seen = deferred<boolean>();
  const wss = new WebSocketServer({ heartbeatInterval: 0, open: (_ws, req) => seen.resolve(req.secure) }).attach(https as unknown as Server);
  const port = await listen(https as unknown as Server);
  try {
    const ws = await openWs(`wss://127.0.0.1:${port}/`, undefined, { ca: TLS_CERT });
    assert.equal(await within(seen.promise, 3000, 'open'), true);
    ws.terminate();
  } finally {
    await wss.close({ timeout: 100 });
    await closeHttp(https as unknown as Server);
  }
});

test('a path function routes a prefix with names under it; a throwing function refuses with 404', async () => {
  const http = createServer((_req, res) => res.end('plain'));
  const port = await listen(http);
  const docs = new WebSocketServer({
    path: (p) => p.startsWith('/docs/') && p.length > 6,
    heartbeatInterval: 0,
    open: (ws, req) => void (ws.data = req.path.slice(6)),
    message: (ws, data) => void ws.send(`${String(ws.data)}:${String(data)}`),
  }).attach(http);
  const broken = new WebSocketServer({ path: () => { throw new Error('bug'); }, heartbeatInterval: 0 }).attach(http);
  try {
    const ws = await openWs(`ws://127.0.0.1:${port}/docs/notes?x=1`);
    const reply = nextMessage(ws);
    ws.send('hi');
    assert.equal(String((await within(reply, 3000, 'reply')).data), 'notes:hi');
    ws.terminate();
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/docs/' }))).status, 404);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/other' }))).status, 404);
  } finally {
    await docs.close({ timeout: 100 });
    await broken.close({ timeout: 100 });
    await closeHttp(http);
  }
});

test('standalone TLS server accepts a `ws` client trusting the test certificate', async () => {
  const seen = deferred<boolean>();
  const wss = new WebSocketServer({
    heartbeatInterval: 0,
    tls: { key: TLS_KEY, cert: TLS_CERT },
    open: (_ws, req) => seen.resolve(req.secure),
    message: (ws, data) => void ws.send(`echo:${String(data)}`),
  });
  const { port } = await wss.listen(0, '127.0.0.1');
  try {
    const ws = await openWs(`wss://127.0.0.1:${port}/`, undefined, { ca: TLS_CERT });
    assert.equal(await within(seen.promise, 3000, 'open'), true);
    const m = nextMessage(ws);
    ws.send('over tls');
    assert.equal(String((await within(m, 3000, 'echo')).data), 'echo:over tls');
    const closed = wsClosed(ws);
    ws.close(1000);
    assert.equal((await within(closed, 3000, 'close')).code, 1000);
  } finally {
    await wss.close({ timeout: 100 });
  }
});

test('standalone TLS: a TCP client that never starts the TLS handshake is dropped after handshakeTimeout', async () => {
  const wss = new WebSocketServer({ heartbeatInterval: 0, handshakeTimeout: 200, tls: { key: TLS_KEY, cert: TLS_CERT } });
  const { port } = await wss.listen(0, '127.0.0.1');
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  try {
    const t0 = Date.now();
    await within(new Promise((r) => socket.once('close', r)), 3000, 'drop of a silent TLS client');
    const dt = Date.now() - t0;
    assert.ok(dt >= 150 && dt < 2000, `dropped after ${dt} ms`);
  } finally {
    socket.destroy();
    await wss.close({ timeout: 100 });
  }
});
