/**
 * WebSocketServer.stats(): every counter and gauge against what actually happened on the
 * wire (raw TCP peers whose own sockets count the bytes they wrote and read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SendStatus, WebSocketServer, type ServerSocket } from '../../src/index.js';
import { RawPeer, frame, within } from '../helpers.js';
import { deferred, rawRequest, startServer, until, upgradeRequest } from './util.js';

test('stats: connections, messages and wire bytes in and out, closes by code', async () => {
  const { server, port } = await startServer({
    message(ws, data, isBinary) {
      ws.send(data, { binary: isBinary });
    },
  });
  try {
    const empty = server.stats();
    assert.deepEqual(empty, {
      connections: 0, handshaking: 0, connectionsOpened: 0, closesByCode: {}, handshakeFailures: {},
      messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, backpressure: 0, backpressureDrops: 0, backpressureCloses: 0,
    });
    const a = await RawPeer.connect(port);
    const b = await RawPeer.connect(port);
    await a.send(frame(1, 'hello'));
    await a.send(frame(2, Buffer.alloc(300, 7)));
    await b.send(Buffer.concat([frame(1, 'one', { fin: false }), frame(0, 'two')])); // one message in two frames
    await a.waitFrames(2);
    await b.waitFrames(1);
    let s = server.stats();
    assert.equal(s.connections, 2);
    assert.equal(s.connectionsOpened, 2);
    assert.equal(s.messagesIn, 3);
    assert.equal(s.messagesOut, 3);
    // What the server read is what the peers wrote (handshake included), and the reverse.
    assert.equal(s.bytesIn, a.socket.bytesWritten + b.socket.bytesWritten);
    assert.equal(s.bytesOut, a.socket.bytesRead + b.socket.bytesRead);

    // A closed connection's bytes stay counted; its close code is counted.
    await a.send(frame(8, Buffer.from([0x0f, 0xa0]))); // 4000
    await a.waitClosed();
    await b.send(frame(8, Buffer.alloc(0))); // no code: 1005
    await b.waitClosed();
    await until(() => server.stats().connections === 0, 3000, 'both closed');
    s = server.stats();
    assert.deepEqual(s.closesByCode, { '1005': 1, '4000': 1 });
    assert.equal(s.bytesIn, a.socket.bytesWritten + b.socket.bytesWritten);
    assert.equal(s.bytesOut, a.socket.bytesRead + b.socket.bytesRead);
    assert.equal(s.connectionsOpened, 2);

    // A connection dropped without a close frame: 1006.
    const c = await RawPeer.connect(port);
    c.destroy();
    await until(() => server.stats().closesByCode['1006'] === 1, 3000, '1006 counted');
    // broadcast counts one message per recipient.
    const d = await RawPeer.connect(port);
    const e = await RawPeer.connect(port);
    assert.equal(server.broadcast('to all'), 2);
    assert.equal(server.stats().messagesOut, 5);
    d.destroy();
    e.destroy();
  } finally {
    await server.close({ timeout: 500 });
  }
});

test('stats: handshake failures by reason, handshakes in progress', async () => {
  const { server, port } = await startServer({
    path: '/ws',
    origins: ['https://ok.example'],
    handshakeTimeout: 300,
    verify: (req) => req.query.get('token') === 'good' || (req.query.get('token') === 'custom' ? { status: 402, message: 'pay' } : false),
  });
  try {
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/elsewhere?token=good' }))).status, 404);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws?token=good', headers: { Origin: 'https://evil.example' } }))).status, 403);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws?token=bad' }))).status, 401);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws?token=custom' }))).status, 402);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws?token=good', headers: { 'Sec-WebSocket-Version': '8' } }))).status, 426);
    assert.equal((await rawRequest(port, upgradeRequest({ path: '/ws?token=good', headers: { 'Sec-WebSocket-Key': 'short' } }))).status, 400);
    // A socket that sends nothing: handshaking, then timed out.
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await until(() => server.stats().handshaking === 1, 3000, 'handshaking');
    await until(() => server.stats().handshaking === 0, 5000, 'timed out');
    silent.destroy();
    const ok = await RawPeer.connect(port, { path: '/ws?token=good' });
    const s = server.stats();
    assert.deepEqual(s.handshakeFailures, { bad_request: 1, forbidden: 1, not_found: 1, other_402: 1, timeout: 1, unauthorized: 1, upgrade_required: 1 });
    assert.equal(s.connectionsOpened, 1);
    assert.equal(s.connections, 1);
    ok.destroy();
  } finally {
    await server.close({ timeout: 500 });
  }
});

/** A server whose one client stops reading after the handshake; `episodes` counts backpressure as the application sees it. */
async function slowReader(policy: 'drop' | 'close'): Promise<{ server: WebSocketServer; ws: ServerSocket; peer: RawPeer; seen: { episodes: number; fresh: boolean } }> {
  const opened = deferred<ServerSocket>();
  // A send returning Backpressure starts an episode; the drain handler ends it.
  const seen = { episodes: 0, fresh: true };
  const { server, port } = await startServer({
    maxBackpressure: 128 * 1024,
    backpressurePolicy: policy,
    closeTimeout: 200,
    open: (ws) => opened.resolve(ws),
    drain: () => void (seen.fresh = true),
  });
  const peer = await RawPeer.connect(port);
  peer.socket.pause();
  return { server, ws: await within(opened.promise, 3000, 'open'), peer, seen };
}

/** Sends 1 KiB messages in bursts of 64 until `n` are dropped or the connection closes. */
async function flood(ws: ServerSocket, n: number, seen: { episodes: number; fresh: boolean }): Promise<number[]> {
  const payload = Buffer.alloc(1024, 1);
  const statuses: number[] = [];
  let dropped = 0;
  for (let burst = 0; burst < 2000 && dropped < n && ws.readyState === 1; burst++) {
    for (let i = 0; i < 64; i++) {
      const status = ws.send(payload);
      statuses.push(status);
      if (status === SendStatus.Backpressure && seen.fresh) {
        seen.episodes++;
        seen.fresh = false;
      }
      if (status === SendStatus.Dropped && ++dropped >= n) break;
    }
    await new Promise((r) => setImmediate(r));
  }
  return statuses;
}

test('stats: backpressure episodes, drops and closes over maxBackpressure', async () => {
  const drop = await slowReader('drop');
  try {
    const statuses = await flood(drop.ws, 5, drop.seen);
    const s = drop.server.stats();
    // A tick's corked batch over the high-water mark is an episode too: as many as the application saw.
    assert.ok(drop.seen.episodes >= 1);
    assert.equal(s.backpressure, drop.seen.episodes);
    assert.equal(s.backpressureDrops, 5);
    assert.equal(s.messagesOut, statuses.filter((x) => x !== SendStatus.Dropped).length);
    assert.equal(s.backpressureCloses, 0);
    // While the peer does not read, the buffer never drains: no new episode, only drops.
    const before = s.backpressure;
    await flood(drop.ws, 3, drop.seen);
    assert.equal(drop.server.stats().backpressure, before);
    assert.equal(drop.server.stats().backpressureDrops, 8);
  } finally {
    drop.peer.destroy();
    await drop.server.close({ timeout: 200 });
  }
  const close = await slowReader('close');
  try {
    await flood(close.ws, 1, close.seen);
    await until(() => close.server.stats().connections === 0, 5000, 'closed over the limit');
    const s = close.server.stats();
    assert.equal(s.backpressureCloses, 1);
    assert.equal(s.backpressureDrops, 0);
    assert.equal(s.backpressure, close.seen.episodes);
    assert.equal(Object.values(s.closesByCode).reduce((x, y) => x + y, 0), 1);
  } finally {
    close.peer.destroy();
    await close.server.close({ timeout: 200 });
  }
});
