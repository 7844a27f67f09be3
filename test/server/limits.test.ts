import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { deferred, rawRequest, sleep, startServer, upgradeRequest, until } from './util.js';
import { RawPeer, frame, within } from '../helpers.js';

test('a frame header announcing 2^40 bytes is refused with 1009 before any payload arrives', async () => {
  const closed = deferred<{ code: number; reason: string }>();
  const { server, port } = await startServer({ maxPayload: 1024, close: (_ws, code, reason) => closed.resolve({ code, reason }) });
  const peer = await RawPeer.connect(port);
  try {
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    // Only the 14-byte header of a masked binary frame: no payload follows.
    const header = frame(0x2, Buffer.alloc(0), { length: 2 ** 40 });
    assert.equal(header.length, 14);
    await peer.send(header);
    await peer.waitFrames(1, 3000);
    const close = peer.closeFrame();
    assert.ok(close, 'a close frame arrives');
    assert.equal(close.code, 1009);
    await peer.waitClosed(3000);
    const after = process.memoryUsage().arrayBuffers;
    assert.ok(after - before < 16 * 1024 * 1024, `arrayBuffers grew by ${after - before} bytes`);
    const info = await within(closed.promise, 3000, 'close handler');
    assert.equal(info.code, 1006, 'the peer sent no close frame');
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a frame just over maxPayload is refused with 1009; one at maxPayload is accepted', async () => {
  const got: number[] = [];
  const { server, port } = await startServer({ maxPayload: 1000, message: (_ws, data) => void got.push(data.length) });
  const ok = await RawPeer.connect(port);
  const big = await RawPeer.connect(port);
  try {
    await ok.send(frame(0x2, Buffer.alloc(1000)));
    await until(() => got.length === 1, 3000, 'message at maxPayload');
    assert.deepEqual(got, [1000]);
    // A fragmented message whose fragments together exceed the limit.
    await big.send(Buffer.concat([frame(0x2, Buffer.alloc(600), { fin: false }), frame(0x0, Buffer.alloc(600))]));
    await big.waitFrames(1, 3000);
    assert.equal(big.closeFrame()?.code, 1009);
    await big.waitClosed(3000);
    assert.deepEqual(got, [1000]);
  } finally {
    ok.destroy();
    big.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a head larger than maxHeaderSize → 431 (with and without the end of the head)', async () => {
  const { server, port } = await startServer({ maxHeaderSize: 1024 });
  try {
    const padded = upgradeRequest({ headers: { 'X-Pad': 'a'.repeat(2000) } });
    const res = await rawRequest(port, padded);
    assert.equal(res.status, 431);
    assert.ok(res.closed);
    // A head that never ends, bigger than the limit.
    const endless = await rawRequest(port, `GET / HTTP/1.1\r\nX-Pad: ${'b'.repeat(4000)}`);
    assert.equal(endless.status, 431);
    // Just under the limit is fine.
    const small = upgradeRequest({ headers: { 'X-Pad': 'c'.repeat(600) } });
    assert.ok(small.length < 1024);
    const good = await RawPeer.connect(port, { headers: { 'X-Pad': 'c'.repeat(600) } });
    good.destroy();
  } finally {
    await server.close({ timeout: 100 });
  }
});

test('more than maxConnections → 503, and a slot frees once a connection ends', async () => {
  const { server, port } = await startServer({ maxConnections: 2 });
  const peers: RawPeer[] = [];
  try {
    peers.push(await RawPeer.connect(port), await RawPeer.connect(port));
    const res = await rawRequest(port, upgradeRequest());
    assert.equal(res.status, 503);
    assert.ok(res.closed);
    const first = peers.shift()!;
    first.destroy();
    await until(() => server.clients.size === 1, 3000, 'the server notices the closed connection');
    peers.push(await RawPeer.connect(port));
  } finally {
    for (const p of peers) p.destroy();
    await server.close({ timeout: 100 });
  }
});

test('refused handshakes do not keep holding connection slots', async () => {
  // handshakeTimeout is long: a refused socket must be released when it closes, not when the timer fires.
  const { server, port } = await startServer({ maxConnections: 1, handshakeTimeout: 30_000 });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(port, upgradeRequest({ method: 'POST' }));
      assert.equal(res.status, 405);
    }
    const peer = await within(RawPeer.connect(port), 3000, 'handshake after refused ones');
    peer.destroy();
  } finally {
    await server.close({ timeout: 100 });
  }
});

function connectRaw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

test('a client that sends nothing is dropped after handshakeTimeout', async () => {
  const { server, port } = await startServer({ handshakeTimeout: 200 });
  const socket = await connectRaw(port);
  try {
    socket.on('error', () => {});
    const t0 = Date.now();
    await within(new Promise((r) => socket.once('close', r)), 3000, 'drop of a silent socket');
    const dt = Date.now() - t0;
    assert.ok(dt >= 150 && dt < 2000, `dropped after ${dt} ms`);
  } finally {
    socket.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a client that sends half a request is dropped after handshakeTimeout', async () => {
  const { server, port } = await startServer({ handshakeTimeout: 200 });
  const socket = await connectRaw(port);
  try {
    socket.on('error', () => {});
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    const t0 = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await sleep(50);
    socket.write('Connection: Upgrade\r\n');
    await within(new Promise((r) => socket.once('close', r)), 3000, 'drop of a slow socket');
    const dt = Date.now() - t0;
    assert.ok(dt >= 150 && dt < 2000, `dropped after ${dt} ms`);
    assert.equal(received, 0, 'no response for an incomplete request');
  } finally {
    socket.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a completed handshake is not dropped by handshakeTimeout', async () => {
  const { server, port } = await startServer({ handshakeTimeout: 100 });
  const peer = await RawPeer.connect(port);
  try {
    await sleep(400);
    assert.equal(peer.isClosed, false);
    assert.equal(server.clients.size, 1);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('handshakes in progress count toward maxConnections, and free their slot when dropped', async () => {
  const { server, port } = await startServer({ maxConnections: 2, handshakeTimeout: 300 });
  const silent = [await connectRaw(port), await connectRaw(port)];
  for (const s of silent) s.on('error', () => {});
  try {
    await sleep(50);
    const res = await rawRequest(port, upgradeRequest());
    assert.equal(res.status, 503);
    // The silent sockets are dropped by the handshake timeout; then there is room again.
    await within(Promise.all(silent.map((s) => new Promise((r) => (s.destroyed ? r(null) : s.once('close', r))))), 3000, 'silent sockets dropped');
    const peer = await within(RawPeer.connect(port), 3000, 'handshake after the slots freed');
    peer.destroy();
  } finally {
    for (const s of silent) s.destroy();
    await server.close({ timeout: 100 });
  }
});
