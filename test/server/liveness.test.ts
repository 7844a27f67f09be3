import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket as TetherWebSocket } from '../../src/index.js';
import { RawPeer, frame, within } from '../helpers.js';
import { deferred, openWs, sleep, startServer, until, wsClosed } from './util.js';

test('heartbeat: a raw client that never answers pings is dropped within a few intervals', async () => {
  const closed = deferred<number>();
  const { server, port } = await startServer({ heartbeatInterval: 100, close: (_ws, code) => closed.resolve(code) });
  const peer = await RawPeer.connect(port);
  try {
    const t0 = Date.now();
    const code = await within(closed.promise, 3000, 'close handler');
    const dt = Date.now() - t0;
    // Nominally 3 intervals (quiet tick, ping, drop); generous bound for a busy machine.
    assert.ok(dt >= 150 && dt < 2000, `dropped after ${dt} ms`);
    assert.equal(code, 1006);
    const pings = peer.frames.filter((f) => f.opcode === 0x9);
    assert.ok(pings.length >= 1, 'the server pinged first');
    await peer.waitClosed(3000);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('heartbeat: a `ws` client (auto-pong) stays connected over 5 intervals, and pongs reach the pong handler', async () => {
  let pongs = 0;
  let closes = 0;
  const { server, url } = await startServer({ heartbeatInterval: 100, pong: () => void pongs++, close: () => void closes++ });
  const ws = await openWs(url);
  try {
    let pings = 0;
    ws.on('ping', () => pings++);
    await sleep(600);
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(closes, 0);
    assert.ok(pings >= 1, `client saw ${pings} pings`);
    assert.ok(pongs >= 1, `server saw ${pongs} pongs`);
  } finally {
    ws.terminate();
    await server.close({ timeout: 100 });
  }
});

test('heartbeat: the Tether client (auto-pong) stays connected over 5 intervals', async () => {
  let closes = 0;
  const { server, url } = await startServer({ heartbeatInterval: 100, close: () => void closes++ });
  const ws = new TetherWebSocket(url);
  try {
    await within(new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    }), 3000, 'tether client open');
    await sleep(600);
    assert.equal(ws.readyState, TetherWebSocket.OPEN);
    assert.equal(closes, 0);
    assert.equal(server.clients.size, 1);
  } finally {
    ws.close();
    await server.close({ timeout: 100 });
  }
});

test('heartbeat: a raw client that answers pings itself stays connected', async () => {
  let closes = 0;
  const { server, port } = await startServer({ heartbeatInterval: 100, close: () => void closes++ });
  const peer = await RawPeer.connect(port);
  try {
    let answered = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 600) {
      const pings = peer.frames.filter((f) => f.opcode === 0x9);
      for (const p of pings.slice(answered)) await peer.send(frame(0xa, p.payload));
      answered = pings.length;
      await sleep(10);
    }
    assert.ok(answered >= 1);
    assert.equal(peer.isClosed, false);
    assert.equal(closes, 0);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('heartbeatInterval 0 sends no pings', async () => {
  const { server, port } = await startServer({ heartbeatInterval: 0 });
  const peer = await RawPeer.connect(port);
  try {
    await sleep(300);
    assert.equal(peer.frames.length, 0);
    assert.equal(peer.isClosed, false);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('idle timeout: a silent client gets close 1001', async () => {
  const { server, url } = await startServer({ idleTimeout: 200 });
  const ws = await openWs(url);
  try {
    const t0 = Date.now();
    const { code, reason } = await within(wsClosed(ws), 3000, 'idle close');
    const dt = Date.now() - t0;
    assert.equal(code, 1001);
    assert.equal(reason, 'idle timeout');
    assert.ok(dt >= 100 && dt < 2000, `closed after ${dt} ms`);
  } finally {
    ws.terminate();
    await server.close({ timeout: 100 });
  }
});

test('idle timeout: the first client of a server that sat unused is not closed early', async () => {
  const { server, url } = await startServer({ idleTimeout: 200 });
  try {
    // The server has been waiting longer than idleTimeout before anyone connects.
    await sleep(500);
    const ws = await openWs(url);
    const t0 = Date.now();
    const { code } = await within(wsClosed(ws), 3000, 'idle close');
    const dt = Date.now() - t0;
    assert.equal(code, 1001);
    assert.ok(dt >= 100, `closed after only ${dt} ms of a 200 ms idle timeout`);
  } finally {
    await server.close({ timeout: 100 });
  }
});

test('idle timeout: a client sending a message every 50 ms is not closed during 600 ms', async () => {
  let messages = 0;
  const { server, url } = await startServer({ idleTimeout: 200, message: () => void messages++ });
  const ws = await openWs(url);
  const timer = setInterval(() => ws.send('tick'), 50);
  try {
    let closed = false;
    ws.once('close', () => (closed = true));
    await sleep(600);
    assert.equal(closed, false);
    assert.equal(ws.readyState, ws.OPEN);
    assert.ok(messages >= 5, `server got ${messages} messages`);
    clearInterval(timer);
    // Once it goes quiet, it is closed.
    const { code } = await within(wsClosed(ws), 3000, 'idle close after going quiet');
    assert.equal(code, 1001);
  } finally {
    clearInterval(timer);
    ws.terminate();
    await server.close({ timeout: 100 });
  }
});

test('idle timeout and heartbeat together: pongs keep a connection alive but do not count as messages', async () => {
  const { server, url } = await startServer({ idleTimeout: 300, heartbeatInterval: 50 });
  const ws = await openWs(url);
  try {
    const { code } = await within(wsClosed(ws), 3000, 'idle close');
    assert.equal(code, 1001);
    await until(() => server.clients.size === 0, 3000, 'server forgets the client');
  } finally {
    ws.terminate();
    await server.close({ timeout: 100 });
  }
});
