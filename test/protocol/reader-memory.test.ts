import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recorder, cframe } from './_harness.js';

const MiB = 1024 * 1024;

/** The reassembly buffer's capacity (a private field: this is what the test is about). */
function capacity(r: Recorder): number {
  return (r as unknown as { messageBuffer: Buffer | null }).messageBuffer?.length ?? 0;
}

test('a header announcing 60 MiB followed by one byte reserves about what arrived, not what was announced', () => {
  const readers: Recorder[] = [];
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 200; i++) {
    const r = new Recorder('server');
    // Header (14 bytes) and the first payload byte of a 60 MiB binary frame.
    r.feed(cframe(0x2, Buffer.alloc(1), { length: 60 * MiB }));
    assert.equal(r.events.length, 0);
    assert.ok(capacity(r) <= 16 * 1024, `one byte reserved ${capacity(r)} bytes`);
    readers.push(r);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  // 200 connections: was 200 MiB (1 MiB each), now a few KiB each.
  assert.ok(grown < 8 * MiB, `200 one-byte frames grew arrayBuffers by ${(grown / MiB).toFixed(1)} MiB`);
  assert.equal(readers.length, 200);
});

test('the reassembly buffer grows with the data: at most about twice what arrived, and exactly the message at the end', () => {
  const r = new Recorder('server');
  const size = 3 * MiB + 12345;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
  const bytes = cframe(0x2, payload);
  let fed = 0;
  for (let at = 0; at < bytes.length; at += 65536) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + 65536));
    r.feed(piece);
    fed += piece.length;
    if (fed < bytes.length) {
      const received = fed - 14;
      assert.ok(capacity(r) <= 2 * received + 64 * 1024, `after ${received} bytes the buffer holds ${capacity(r)}`);
    }
  }
  assert.equal(r.events.length, 1);
  const m = r.events[0] as { type: 'message'; data: Buffer };
  assert.equal(m.data.length, size);
  assert.ok(m.data.equals(payload));
  // The last frame's end is known: the buffer never outgrows the message.
  assert.ok(m.data.buffer.byteLength <= size + 8192, `the message sits in a buffer of ${m.data.buffer.byteLength} bytes`);
});

test('fragments: growth is bounded by what arrived, not by maxPayload', () => {
  const r = new Recorder('server');
  // Two 100 KiB fragments announced, only part of the second has arrived.
  r.feed(cframe(0x2, Buffer.alloc(100 * 1024, 1), { fin: false }));
  const second = cframe(0x0, Buffer.alloc(100 * 1024, 2));
  r.feed(second.subarray(0, 14 + 1000));
  assert.ok(capacity(r) <= 2 * (100 * 1024 + 1000) + 64 * 1024, `buffer ${capacity(r)}`);
  r.feed(second.subarray(14 + 1000));
  const m = r.events[0] as { type: 'message'; data: Buffer };
  assert.equal(m.data.length, 200 * 1024);
  assert.equal(m.data[0], 1);
  assert.equal(m.data[200 * 1024 - 1], 2);
});
