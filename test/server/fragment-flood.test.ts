/**
 * Fragment flood: one message that never ends, in small continuation frames. Without a
 * limit on frames it grows to maxPayload (64 MiB) per connection while every frame is
 * parsed; maxFragments (default 16,384) cuts it off with 1009 at the header of the frame
 * past the limit. Raw sockets, as a hostile client would send.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket, WebSocketServer, type ServerSocket } from '../../src/index.js';
import { RawPeer, frame, parseFrames, startRawServer, within } from '../helpers.js';
import { deferred, startServer, until } from './util.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A binary message in `count` masked frames of `size` bytes each. */
function fragmented(count: number, size: number): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) frames.push(frame(i === 0 ? 0x2 : 0x0, Buffer.alloc(size, 0x66), { fin: i === count - 1 }));
  return Buffer.concat(frames);
}

async function setup(options: Record<string, unknown> = {}) {
  const opened = deferred<ServerSocket>();
  const seen = { messages: [] as number[], errors: [] as Array<{ code: number; reason: string }> };
  const { server, port } = await startServer({
    closeTimeout: 500,
    open: (ws) => opened.resolve(ws),
    message: (_ws, data) => void seen.messages.push((data as Buffer).length),
    protocolError: (_ws, code, reason) => void seen.errors.push({ code, reason }),
    ...options,
  });
  const peer = await RawPeer.connect(port);
  const ws = await within(opened.promise, 3000, 'open handler');
  return { server, peer, ws, seen };
}

test('default maxFragments: a message in 16,384 frames is delivered, one in 16,385 is refused with 1009', async () => {
  const { server, peer, seen } = await setup();
  try {
    await peer.send(fragmented(16 * KiB, 4));
    await until(() => seen.messages.length === 1, 10_000, 'the 16,384-frame message');
    assert.deepEqual(seen.messages, [64 * KiB]);
    await peer.send(fragmented(16 * KiB + 1, 4));
    await peer.waitClosed(10_000);
    assert.deepEqual(peer.closeFrame(), { code: 1009, reason: 'too many fragments' });
    assert.deepEqual(seen.errors, [{ code: 1009, reason: 'too many fragments' }]);
    assert.equal(seen.messages.length, 1, 'the refused message was never delivered');
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('an endless message in 1 KiB fragments is cut off at maxFragments, long before maxPayload', async () => {
  const { server, peer, ws, seen } = await setup({ maxFragments: 1000 });
  try {
    // 1 MiB of frames at a time until the server closes, 64 MiB (maxPayload) at the most.
    peer.socket.write(frame(0x2, Buffer.alloc(KiB, 0x66), { fin: false, mask: true }));
    const burst = Buffer.concat(Array.from({ length: 1024 }, () => frame(0x0, Buffer.alloc(KiB, 0x66), { fin: false })));
    let written = 0;
    while (!peer.isClosed && ws.readyState === 1 && written < 64 * MiB) {
      if (peer.socket.writableLength < MiB) {
        peer.socket.write(burst);
        written += burst.length;
      }
      await new Promise((r) => setImmediate(r));
    }
    await peer.waitClosed(10_000);
    assert.deepEqual(peer.closeFrame(), { code: 1009, reason: 'too many fragments' });
    assert.deepEqual(seen.errors, [{ code: 1009, reason: 'too many fragments' }]);
    // Refused at frame 1,001: the server read about 1 MiB of it, not maxPayload.
    assert.ok(server.stats().bytesIn < 8 * MiB, `the server read ${server.stats().bytesIn} bytes`);
  } finally {
    peer.destroy();
    await server.close({ timeout: 100 });
  }
});

test('maxFragments: Infinity lifts the limit; a small one applies to every message afresh', async () => {
  const unlimited = await setup({ maxFragments: Infinity });
  try {
    await unlimited.peer.send(fragmented(20_000, 0));
    await until(() => unlimited.seen.messages.length === 1, 10_000, 'the 20,000-frame message');
    assert.deepEqual(unlimited.seen.messages, [0]);
  } finally {
    unlimited.peer.destroy();
    await unlimited.server.close({ timeout: 100 });
  }
  const small = await setup({ maxFragments: 3 });
  try {
    await small.peer.send(Buffer.concat([fragmented(3, 10), fragmented(3, 20), fragmented(4, 1)]));
    await small.peer.waitClosed(10_000);
    assert.deepEqual(small.seen.messages, [30, 60]);
    assert.equal(small.peer.closeFrame()?.code, 1009);
  } finally {
    small.peer.destroy();
    await small.server.close({ timeout: 100 });
  }
});

test('maxFragments is validated: a TypeError naming it', () => {
  for (const bad of [0, -1, 1.5, NaN, '100', null]) {
    assert.throws(() => new WebSocketServer({ maxFragments: bad as number }), (e: unknown) => e instanceof TypeError && /maxFragments/.test(e.message), String(bad));
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', [], { maxFragments: bad as number }), (e: unknown) => e instanceof TypeError && /maxFragments/.test(e.message), String(bad));
  }
});

test('the client refuses a message from the server in more than maxFragments frames with 1009', async () => {
  let fromClient = Buffer.alloc(0);
  const raw = await startRawServer((socket) => {
    socket.on('data', (d: Buffer) => (fromClient = Buffer.concat([fromClient, d])));
    const frames: Buffer[] = [];
    for (let i = 0; i < 5; i++) frames.push(frame(i === 0 ? 0x1 : 0x0, 'x', { fin: i === 4, mask: false }));
    socket.write(Buffer.concat([frame(0x1, 'ok', { mask: false }), ...frames]));
  });
  try {
    const ws = new WebSocket(raw.url, [], { maxFragments: 4 });
    const messages: unknown[] = [];
    ws.onmessage = (e) => messages.push(e.data);
    await within(new Promise((resolve) => (ws.onclose = resolve)), 10_000, 'client close');
    assert.deepEqual(messages, ['ok']);
    // The client failed the connection (its close event says 1006); its close frame says why.
    const close = parseFrames(fromClient).frames.find((f) => f.opcode === 0x8);
    assert.equal(close?.payload.readUInt16BE(0), 1009);
    assert.equal(close?.payload.subarray(2).toString(), 'too many fragments');
  } finally {
    await raw.close();
  }
});
