import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendStatus, type ServerSocket } from '../../src/index.js';
import { RawPeer, frame, within } from '../helpers.js';
import { deferred, sleep, startServer, until } from './util.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PING = frame(0x9, Buffer.alloc(125, 0x70));

/** A server that hands its connection to the test, and a raw client that does not read. */
async function setup(options: Record<string, unknown>) {
  const opened = deferred<ServerSocket>();
  const seen = { pings: 0, messages: 0, closes: [] as Array<{ code: number; reason: string }> };
  const { server, port } = await startServer({
    closeTimeout: 500,
    open: (ws) => opened.resolve(ws),
    ping: () => void seen.pings++,
    close: (_ws, code, reason) => void seen.closes.push({ code, reason }),
    ...options,
  });
  const peer = await RawPeer.connect(port);
  peer.socket.pause();
  const ws = await within(opened.promise, 3000, 'open handler');
  return { server, peer, ws, seen };
}

/** Fills the server's write buffer past Node's high-water mark: the client is not reading. */
async function stall(ws: ServerSocket, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(256 * KiB);
  for (let sent = 0; sent < bytes; sent += chunk.length) assert.notEqual(ws.send(chunk), SendStatus.Dropped);
  await until(() => ws.needsDrain, 3000, 'the server has output waiting');
}

test('ping flood from a client that never reads: the connection is cut with 1008 while the server buffers at most maxBackpressure plus one read', async () => {
  const MAX = 256 * KiB;
  const { server, peer, ws, seen } = await setup({ maxBackpressure: MAX, backpressurePolicy: 'drop' });
  try {
    const batch = Buffer.concat(Array.from({ length: 500 }, () => PING));
    let written = 0;
    let maxBuffered = 0;
    // Up to 48 MiB of pings (on the old code the server queued a pong for each, without limit).
    while (written < 48 * MiB && !peer.isClosed && ws.readyState === 1) {
      if (peer.socket.writableLength < 4 * MiB) {
        peer.socket.write(batch);
        written += batch.length;
      }
      await new Promise((r) => setImmediate(r));
      maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    }
    assert.ok(maxBuffered <= MAX + 64 * KiB + 1024, `the server buffered up to ${maxBuffered} bytes`);
    assert.notEqual(ws.readyState, 1, `the connection is no longer open after ${written} bytes of pings`);
    // The client reads again: behind the pongs it is given, a close frame with 1008.
    peer.socket.resume();
    await until(() => peer.frames.some((f) => f.opcode === 0x8) || peer.isClosed, 5000, 'close frame');
    assert.equal(peer.closeFrame()?.code, 1008);
    assert.match(peer.closeFrame()!.reason, /pending pongs/);
    assert.ok(seen.pings < written / PING.length, 'the server stopped reading pings');
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('pending pongs are bounded: 100 pings while output is stalled → 1008; a reading client may send 200 pings at once', async () => {
  const { server, peer, ws } = await setup({ maxBackpressure: 64 * MiB, backpressurePolicy: 'drop' });
  const reader = await RawPeer.connect((server.address()!).port);
  try {
    await stall(ws, 8 * MiB);
    await peer.send(Buffer.concat(Array.from({ length: 100 }, () => PING)));
    await until(() => ws.readyState !== 1, 3000, 'the stalled connection fails');
    // A client that reads gets every pong, even for pings sent in one write.
    await reader.send(Buffer.concat(Array.from({ length: 200 }, () => PING)));
    await reader.waitFrames(200, 5000);
    assert.equal(reader.frames.filter((f) => f.opcode === 0xa).length, 200);
    assert.equal(reader.isClosed, false);
  } finally {
    peer.destroy();
    reader.destroy();
    await server.close({ timeout: 100 });
  }
});

test("pongs count against maxBackpressure: policy 'drop' skips the pong, policy 'close' closes with 1008", async () => {
  for (const policy of ['drop', 'close'] as const) {
    const MAX = 256 * KiB;
    // The peer reads 8 MiB before the close frame: the server must not give up on the close
    // handshake meanwhile (a loaded machine takes seconds to read it).
    const { server, peer, ws, seen } = await setup({ maxBackpressure: MAX, backpressurePolicy: policy, closeTimeout: 30_000 });
    try {
      // One message bigger than the limit is accepted into an empty buffer; the buffer is then over the limit.
      assert.notEqual(ws.send(Buffer.alloc(8 * MiB)), SendStatus.Dropped);
      await until(() => ws.bufferedAmount > MAX, 3000, 'buffer over the limit');
      const before = ws.bufferedAmount;
      await peer.send(PING);
      await until(() => seen.pings === 1, 3000, 'ping read');
      if (policy === 'drop') {
        assert.equal(ws.readyState, 1);
        assert.ok(ws.bufferedAmount <= before, 'no pong was queued');
      } else {
        assert.notEqual(ws.readyState, 1, 'closing');
        peer.socket.resume();
        await until(() => peer.frames.some((f) => f.opcode === 0x8), 20_000, 'close frame');
        assert.equal(peer.frames.filter((f) => f.opcode === 0xa).length, 0, 'no pong');
        assert.equal(peer.closeFrame()?.code, 1008);
      }
    } finally {
      peer.destroy();
      await server.close({ timeout: 100 });
    }
  }
});

test('reading pauses while the peer does not drain, and resumes on drain', async () => {
  const MAX = 256 * KiB;
  let messages = 0;
  const { server, peer, ws } = await setup({
    maxBackpressure: MAX,
    backpressurePolicy: 'drop',
    message: (s: ServerSocket, data: Buffer) => {
      messages++;
      s.send(data);
    },
  });
  try {
    const message = frame(0x2, Buffer.alloc(16 * KiB, 0x61));
    const batch = Buffer.concat(Array.from({ length: 16 }, () => message));
    // 32 MiB of messages to echo, the client reading none of the echoes.
    for (let i = 0; i < 128 && peer.socket.writableLength < 8 * MiB; i++) {
      peer.socket.write(batch);
      await new Promise((r) => setImmediate(r));
    }
    await sleep(300);
    const stuck = messages;
    await sleep(300);
    assert.equal(messages, stuck, 'no message is read while the echoes are not drained');
    assert.ok(messages < 128 * 16, `the server stopped after ${messages} messages`);
    assert.ok(ws.bufferedAmount <= MAX + 64 * KiB + 32 * KiB, `buffered ${ws.bufferedAmount}`);
    // The client reads: the server drains and reads again.
    peer.socket.resume();
    await until(() => messages > stuck, 5000, 'reading resumed');
    assert.equal(ws.readyState, 1);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('heartbeat: a peer held back for backpressure stays while it takes our bytes, and is dropped once it stops', async () => {
  const { server, peer, ws, seen } = await setup({ maxBackpressure: 256 * KiB, backpressurePolicy: 'drop', heartbeatInterval: 300 });
  let reading = false;
  try {
    // 64 MiB for a client that reads about 1 MiB every 20 ms: seconds on hold. The kernel's
    // buffers hide the progress in bursts of a few MB: intervals are longer than that.
    assert.notEqual(ws.send(Buffer.alloc(64 * MiB)), SendStatus.Dropped);
    await peer.send(PING);
    reading = true;
    let got = 0;
    peer.socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= MiB) {
        got = 0;
        peer.socket.pause();
      }
    });
    const slowRead = (async () => {
      while (reading) {
        peer.socket.resume();
        await sleep(20);
      }
    })();
    await sleep(1500);
    assert.equal(ws.readyState, 1, 'alive after 5 heartbeat intervals on hold');
    assert.ok(ws.bufferedAmount > 256 * KiB, 'still over the limit (on hold)');
    assert.equal(seen.closes.length, 0);
    reading = false;
    await slowRead;
    peer.socket.pause();
    await until(() => seen.closes.length === 1, 5000, 'dropped once it stopped reading');
  } finally {
    // A failed assertion above must not leave the reading loop running (the file would never end).
    reading = false;
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});
