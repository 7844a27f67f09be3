import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from '../../src/server/index.js';
import { WebSocket } from '../../src/client/index.js';
import { within } from '../helpers.js';

// Small frames are encoded into a shared 64 KiB slab; these tests cross slab boundaries
// within one tick, with several sockets interleaving, and check every byte arrives.
test('many small frames to several sockets in one tick arrive intact and in order', async () => {
  const count = 6000;
  const server = new WebSocketServer({
    heartbeatInterval: 0,
    message(ws, data) {
      if (data !== 'go') return;
      // Interleave sockets, ASCII and non-ASCII text, and binary, so regions switch owners often.
      for (let i = 0; i < count; i++) {
        for (const peer of server.clients) {
          if (i % 3 === 0) peer.send(`m${i}`);
          else if (i % 3 === 1) peer.send(`é${i}ü`);
          else peer.send(Buffer.from([i & 0xff, (i >> 8) & 0xff, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]));
        }
      }
      void ws;
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const clients = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const c = new WebSocket(`ws://127.0.0.1:${port}/`);
            c.binaryType = 'nodebuffer';
            c.onopen = () => resolve(c);
            c.onerror = () => reject(new Error('connect failed'));
          }),
      ),
    );
    const received = clients.map((c) => {
      const got: unknown[] = [];
      return within(
        new Promise<unknown[]>((resolve) => {
          c.onmessage = (e) => {
            got.push(e.data);
            if (got.length === count) resolve(got);
          };
        }),
        15_000,
        'all frames',
      );
    });
    clients[0]!.send('go');
    for (const got of await Promise.all(received)) {
      for (let i = 0; i < count; i++) {
        const m = got[i];
        if (i % 3 === 0) assert.equal(m, `m${i}`);
        else if (i % 3 === 1) assert.equal(m, `é${i}ü`);
        else assert.deepEqual(m, Buffer.from([i & 0xff, (i >> 8) & 0xff, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]));
      }
    }
    for (const c of clients) c.close();
  } finally {
    await server.close({ timeout: 500 });
  }
});

test('the slab writer keeps every frame intact across many slab replacements, with shared frames between', async () => {
  const { appendShared, extendShared, appendSmall, encodeSmallFrame, encodeSmallText, flushRegion } = await import('../../src/server/write-batch.js');
  const { parseFrames } = await import('../helpers.js');
  const { PassThrough } = await import('node:stream');
  // Fake sockets that keep what is written (copies, as the kernel would take them).
  const targets = [0, 1, 2].map(() => {
    const chunks: Buffer[] = [];
    const socket = new PassThrough();
    socket.write = ((chunk: Buffer) => (chunks.push(Buffer.from(chunk)), true)) as typeof socket.write;
    return { socket, chunks, sharedRange: -1, uncork() {} };
  });
  const expected: Array<Array<{ opcode: number; payload: Buffer }>> = [[], [], []];
  for (let i = 0; i < 30_000; i++) {
    const t = i % 3;
    const target = targets[t]!;
    if (i % 4 === 0) {
      const text = `ascii-${i}`;
      encodeSmallText(target, text, text.length, true);
      expected[t]!.push({ opcode: 1, payload: Buffer.from(text) });
    } else if (i % 4 === 1) {
      const text = `ünï-${i}-€`;
      encodeSmallText(target, text, Buffer.byteLength(text), false);
      expected[t]!.push({ opcode: 1, payload: Buffer.from(text) });
    } else if (i % 4 === 2) {
      const payload = Buffer.alloc(200 + (i % 300), i & 0xff);
      encodeSmallFrame(target, 2, payload, false);
      expected[t]!.push({ opcode: 2, payload });
    } else if (i % 500 === 5) {
      // A burst of broadcasts to every socket: ranges grow frame by frame (the short path).
      for (let b = 0; b < 5; b++) {
        const slot = { sharedEpoch: -1, sharedIndex: 0 };
        const frame = Buffer.from([0x82, 3, b, i & 0xff, (i >> 8) & 0xff]);
        for (let k = 0; k < 3; k++) {
          if (!extendShared(targets[k]!, slot, frame.length, Infinity)) appendShared(targets[k]!, slot, frame);
          expected[k]!.push({ opcode: 2, payload: frame.subarray(2) });
        }
      }
    } else if (i % 20 === 3 || i % 20 === 7) {
      // A frame shared by two sockets (one of this tick's shared frames), then more for the
      // same sockets: ranges that grow, break, and alternate with slab regions.
      const slot = { sharedEpoch: -1, sharedIndex: 0 };
      const frame = Buffer.from([0x82, 4, i & 0xff, (i >> 8) & 0xff, 5, 6]);
      for (const k of [t, (t + 1) % 3]) {
        // As ServerSocket.sendEncoded does: the short path when it applies, else the general one.
        if (!extendShared(targets[k]!, slot, frame.length, Infinity)) appendShared(targets[k]!, slot, frame);
        expected[k]!.push({ opcode: 2, payload: frame.subarray(2) });
      }
      if (i % 40 === 3) {
        const next = { sharedEpoch: -1, sharedIndex: 0 };
        const second = Buffer.from([0x81, 1, 0x61 + (i % 26)]);
        if (!extendShared(target, next, second.length, Infinity)) appendShared(target, next, second);
        expected[t]!.push({ opcode: 1, payload: second.subarray(2) });
      }
    } else {
      const frame = Buffer.from([0x82, 3, i & 0xff, 1, 2]);
      appendSmall(target, frame);
      expected[t]!.push({ opcode: 2, payload: frame.subarray(2) });
    }
  }
  for (const t of targets) flushRegion(t);
  targets.forEach((t, k) => {
    const { frames, rest } = parseFrames(Buffer.concat(t.chunks));
    assert.equal(rest.length, 0);
    assert.equal(frames.length, expected[k]!.length);
    frames.forEach((f, j) => {
      assert.equal(f.opcode, expected[k]![j]!.opcode);
      assert.deepEqual(f.payload, expected[k]![j]!.payload);
    });
  });
});
