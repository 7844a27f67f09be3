import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendStatus, type ServerSocket } from '../../src/index.js';
import { RawPeer, frame, within } from '../helpers.js';
import { deferred, sleep, startServer, until } from './util.js';

const MAX = 256 * 1024;
const MESSAGE = 64 * 1024;
/** A frame header for a 64 KiB unmasked payload is 4 bytes; allow a few. */
const SLACK = MESSAGE + 16;

/**
 * Starts a server whose open handler hands the socket to the test, and a raw client that
 * stops reading right after the handshake.
 */
async function slowReaderSetup(policy: 'drop' | 'close', extra: Record<string, unknown> = {}) {
  const opened = deferred<ServerSocket>();
  const events = { drains: 0, closes: [] as Array<{ code: number; reason: string }> };
  const { server, port } = await startServer({
    maxBackpressure: MAX,
    backpressurePolicy: policy,
    closeTimeout: 300,
    open: (ws) => opened.resolve(ws),
    drain: () => void events.drains++,
    close: (_ws, code, reason) => void events.closes.push({ code, reason }),
    ...extra,
  });
  const peer = await RawPeer.connect(port);
  peer.socket.pause();
  const ws = await within(opened.promise, 3000, 'open handler');
  return { server, peer, ws, events };
}

/** Sends 64 KiB messages, yielding to the event loop between sends, until `stop` or `limit` sends. */
async function pump(ws: ServerSocket, limit: number, onSend: (status: number) => boolean): Promise<{ maxBuffered: number; statuses: number[] }> {
  const payload = Buffer.alloc(MESSAGE, 0x61);
  let maxBuffered = 0;
  const statuses: number[] = [];
  for (let i = 0; i < limit; i++) {
    const status = ws.send(payload);
    statuses.push(status);
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    if (!onSend(status)) break;
    await new Promise((r) => setImmediate(r));
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  }
  return { maxBuffered, statuses };
}

test("policy 'drop': bufferedAmount stays within maxBackpressure + one message, sends are Dropped, drain fires on resume", async () => {
  const { server, peer, ws, events } = await slowReaderSetup('drop');
  try {
    let droppedStreak = 0;
    const { maxBuffered, statuses } = await pump(ws, 5000, (status) => {
      droppedStreak = status === SendStatus.Dropped ? droppedStreak + 1 : 0;
      return droppedStreak < 50;
    });
    assert.ok(maxBuffered <= MAX + SLACK, `bufferedAmount reached ${maxBuffered}`);
    assert.ok(statuses.includes(SendStatus.Dropped), 'some sends were dropped');
    assert.ok(statuses.includes(SendStatus.Backpressure), 'sends reported backpressure before the limit');
    // A first 64 KiB message is over Node's highWaterMark: Sent or Backpressure, never Dropped.
    assert.notEqual(statuses[0], SendStatus.Dropped);
    assert.equal(ws.readyState, 1, 'the drop policy keeps the connection open');
    // While the client is still not reading, sending more keeps being dropped.
    assert.equal(ws.send(Buffer.alloc(MESSAGE)), SendStatus.Dropped);
    assert.equal(events.closes.length, 0);

    // The client resumes reading: the buffer drains and the drain handler fires.
    const drainsBefore = events.drains;
    peer.socket.resume();
    await until(() => events.drains > drainsBefore, 5000, 'drain handler');
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.send('after drain'), SendStatus.Sent);
    const sent = statuses.filter((s) => s !== SendStatus.Dropped).length;
    await peer.waitFrames(sent + 1, 5000);
    const last = peer.frames[peer.frames.length - 1]!;
    assert.equal(last.payload.toString(), 'after drain');
    assert.equal(peer.frames.length, sent + 1, 'every message that was not dropped arrived, and no dropped one');
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test("policy 'close': a slow consumer over the limit is closed (close handler)", async () => {
  const { server, peer, ws, events } = await slowReaderSetup('close');
  try {
    const { maxBuffered, statuses } = await pump(ws, 5000, (status) => status !== SendStatus.Dropped);
    assert.ok(maxBuffered <= MAX + SLACK, `bufferedAmount reached ${maxBuffered}`);
    assert.equal(statuses[statuses.length - 1], SendStatus.Dropped);
    assert.notEqual(ws.readyState, 1, 'the socket is no longer OPEN');
    assert.equal(ws.send('more'), SendStatus.Dropped);
    // The client never reads the close frame: the close timeout ends the connection.
    await until(() => events.closes.length === 1, 5000, 'close handler');
    assert.equal(events.closes[0]!.code, 1006, 'no close frame came back');
    assert.equal(server.clients.size, 0);
    // Once the client reads again it sees the connection end.
    peer.socket.resume();
    await peer.waitClosed(5000);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test("policy 'close': a client that resumes reading receives the 1008 close frame", async () => {
  const { server, peer, ws, events } = await slowReaderSetup('close', { closeTimeout: 5000 });
  try {
    await pump(ws, 5000, (status) => status !== SendStatus.Dropped);
    peer.socket.resume();
    await until(() => peer.frames.some((f) => f.opcode === 8), 5000, 'close frame');
    assert.equal(peer.closeFrame()?.code, 1008);
    // Answer the close: the handshake completes well before the 5 s close timeout.
    await peer.send(frame(0x8, Buffer.from([0x03, 0xf0])));
    await until(() => events.closes.length === 1, 3000, 'close handler');
    assert.equal(events.closes[0]!.code, 1008);
    await peer.waitClosed(3000);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a fast reader never hits the limit', async () => {
  const opened = deferred<ServerSocket>();
  const { server, port } = await startServer({ maxBackpressure: MAX, backpressurePolicy: 'drop', open: (ws) => opened.resolve(ws) });
  const peer = await RawPeer.connect(port);
  try {
    const ws = await opened.promise;
    for (let i = 0; i < 20; i++) {
      // Wait for the previous message to reach the client before sending the next.
      assert.notEqual(ws.send(Buffer.alloc(MESSAGE)), SendStatus.Dropped);
      await peer.waitFrames(i + 1, 5000);
    }
    assert.equal(peer.frames.length, 20);
    await sleep(10);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});
