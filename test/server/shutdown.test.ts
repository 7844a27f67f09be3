import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../../src/index.js';
import { RawPeer, frame, within } from '../helpers.js';
import { openWs, rawRequest, sleep, startServer, until, upgradeRequest, wsClosed } from './util.js';

test('close() sends 1001 to every client and resolves once they closed', async () => {
  const serverCloses: number[] = [];
  const { server, url } = await startServer({ close: (_ws, code) => void serverCloses.push(code) });
  const clients = await Promise.all([openWs(url), openWs(url), openWs(url)]);
  try {
    assert.equal(server.clients.size, 3);
    const seen = clients.map((ws) => wsClosed(ws));
    const t0 = Date.now();
    await within(server.close({ timeout: 5000 }), 4000, 'server.close');
    const dt = Date.now() - t0;
    assert.ok(dt < 3000, `close took ${dt} ms although every client answered`);
    const results = await within(Promise.all(seen), 3000, 'clients closed');
    assert.deepEqual(results.map((r) => r.code), [1001, 1001, 1001]);
    assert.equal(server.clients.size, 0);
    assert.deepEqual(serverCloses, [1001, 1001, 1001], 'the clients echoed 1001');
  } finally {
    for (const ws of clients) ws.terminate();
  }
});

test('close({code, reason}) uses the given code and reason', async () => {
  const { server, url } = await startServer();
  const ws = await openWs(url);
  try {
    const seen = wsClosed(ws);
    await within(server.close({ timeout: 2000, code: 1012, reason: 'restarting' }), 3000, 'server.close');
    assert.deepEqual(await seen, { code: 1012, reason: 'restarting' });
  } finally {
    ws.terminate();
  }
});

test('a raw client that never answers the close is terminated after the timeout', async () => {
  const closes: number[] = [];
  const { server, port, url } = await startServer({ closeTimeout: 30_000, close: (_ws, code) => void closes.push(code) });
  const peer = await RawPeer.connect(port);
  const polite = await openWs(url);
  try {
    const t0 = Date.now();
    await within(server.close({ timeout: 300 }), 3000, 'server.close with a stuck client');
    const dt = Date.now() - t0;
    assert.ok(dt >= 250 && dt < 2500, `close resolved after ${dt} ms`);
    await peer.waitFrames(1, 1000);
    assert.equal(peer.closeFrame()?.code, 1001, 'the raw client did get the close frame');
    await peer.waitClosed(2000);
    assert.equal(server.clients.size, 0);
    assert.deepEqual(closes.sort(), [1001, 1006]);
  } finally {
    peer.destroy();
    polite.terminate();
  }
});

test('close() with no clients resolves promptly, and new connections are refused once it started', async () => {
  const { server, port } = await startServer();
  const closing = server.close({ timeout: 1000 });
  await within(closing, 2000, 'close with no clients');
  const refused = await new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  assert.equal(refused, 'ECONNREFUSED');
});

test('a handshake in progress when close() starts is not accepted', async () => {
  const { server, port } = await startServer({
    verify: async () => {
      await sleep(200);
      return true;
    },
  });
  const pending = rawRequest(port, upgradeRequest(), 3000);
  await sleep(50);
  await within(server.close({ timeout: 500 }), 3000, 'server.close');
  const res = await pending;
  assert.notEqual(res.status, 101);
  assert.equal(server.clients.size, 0);
});

test('attached server: upgrades after close() started are refused', async () => {
  const http: Server = createServer((_req, res) => {
    res.setHeader('Connection', 'close');
    res.end('plain http');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const wss = new WebSocketServer({ heartbeatInterval: 0 }).attach(http);
  try {
    const ws = await openWs(`ws://127.0.0.1:${port}/`);
    const seen = wsClosed(ws);
    await within(wss.close({ timeout: 1000 }), 3000, 'wss.close');
    assert.equal((await seen).code, 1001);
    const res = await rawRequest(port, upgradeRequest());
    // Detached: with no upgrade listener left, node:http serves it as a plain request.
    assert.equal(res.status, 200);
    assert.equal(res.body, 'plain http');
    // handleUpgrade on a closed server refuses too.
    const manual = createServer();
    manual.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => manual.listen(0, '127.0.0.1', r));
    try {
      const res2 = await rawRequest((manual.address() as AddressInfo).port, upgradeRequest());
      assert.equal(res2.status, 503);
    } finally {
      await new Promise<void>((r) => manual.close(() => r()));
    }
  } finally {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
});

test('sending after close() started is dropped, and the close handler runs for every client', async () => {
  let closed = 0;
  const { server, url } = await startServer({ close: () => void closed++ });
  const a = await openWs(url);
  const b = await openWs(url);
  try {
    const sockets = [...server.clients];
    const done = server.close({ timeout: 2000 });
    for (const ws of sockets) assert.equal(ws.send('late'), 2 /* Dropped */);
    await within(done, 3000, 'server.close');
    await until(() => closed === 2, 2000, 'close handlers');
  } finally {
    a.terminate();
    b.terminate();
  }
});

test('close({timeout: Infinity}) waits for a slow peer instead of terminating it at once', async () => {
  const closes: number[] = [];
  const { server, port } = await startServer({ closeTimeout: 10_000, close: (_ws, code) => void closes.push(code) });
  const peer = await RawPeer.connect(port);
  try {
    const done = server.close({ timeout: Infinity });
    await peer.waitFrames(1, 2000);
    assert.equal(peer.closeFrame()?.code, 1001);
    // The peer takes its time before answering the close.
    await sleep(150);
    assert.equal(peer.isClosed, false, 'not terminated while waiting');
    await peer.send(frame(0x8, Buffer.from([0x03, 0xe9])));
    await within(done, 3000, 'server.close');
    assert.deepEqual(closes, [1001], 'a clean close with the peer\'s code, not 1006');
  } finally {
    peer.destroy();
    await server.close({ timeout: 0 });
  }
});

test('close() refuses a NaN timeout', async () => {
  const { server } = await startServer();
  await assert.rejects(server.close({ timeout: NaN }), TypeError);
  await server.close({ timeout: 0 });
});
