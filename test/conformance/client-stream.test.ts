/**
 * Client conformance: a long seeded-random stream of text and binary messages, fragmented
 * at random with pings between fragments, written in random chunk sizes. The client's
 * output must be exactly the pongs and echoes in stream order (deterministic per seed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, closeFrame, expectCleanClose, session, sf } from './client-harness.js';
import type { BinaryType } from '../../src/client/index.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = ['a', 'Z', ' ', 'é', 'ß', '€', '中', '𝄞', '😀', '\u0000', '\u{10FFFF}'];

function build(seed: number): { bytes: Buffer; expected: Array<[number, string]> } {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const out: Buffer[] = [];
  const expected: Array<[number, string]> = [];
  for (let m = 0; m < 150; m++) {
    const isText = rnd() < 0.5;
    const size = rnd() < 0.1 ? int(70000) : rnd() < 0.3 ? 0 : int(300);
    let payload: Buffer;
    if (isText) {
      const parts: string[] = [];
      let n = 0;
      while (n < size) {
        const ch = CHARS[int(CHARS.length)]!;
        parts.push(ch);
        n += Buffer.byteLength(ch);
      }
      payload = Buffer.from(parts.join(''));
    } else {
      payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = int(256);
    }
    const nfrag = rnd() < 0.5 ? 1 : 1 + int(8);
    // Fragment boundaries anywhere, even inside a UTF-8 sequence.
    const cuts = [...new Set(Array.from({ length: nfrag - 1 }, () => int(payload.length + 1)))].sort((a, b) => a - b);
    const bounds = [0, ...cuts, payload.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      out.push(sf(i === 0 ? (isText ? OP.TEXT : OP.BINARY) : OP.CONT, payload.subarray(bounds[i], bounds[i + 1]), { fin: last }));
      if (rnd() < 0.3) {
        const ping = Buffer.alloc(int(126));
        for (let k = 0; k < ping.length; k++) ping[k] = int(256);
        out.push(sf(OP.PING, ping));
        if (!last) expected.push([OP.PONG, ping.toString('hex')]);
        else expected.push([isText ? OP.TEXT : OP.BINARY, payload.toString('hex')], [OP.PONG, ping.toString('hex')]);
      } else if (last) {
        expected.push([isText ? OP.TEXT : OP.BINARY, payload.toString('hex')]);
      }
    }
  }
  return { bytes: Buffer.concat(out), expected };
}

async function writeRandomChunks(write: (b: Buffer) => void, bytes: Buffer, seed: number): Promise<void> {
  const rnd = prng(seed ^ 0x5bd1e995);
  let pos = 0;
  while (pos < bytes.length) {
    const n = rnd() < 0.2 ? 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * 4000);
    write(bytes.subarray(pos, pos + n));
    pos += n;
    if (rnd() < 0.3) await new Promise((r) => setImmediate(r));
  }
}

for (let seed = 1; seed <= 24; seed++) {
  const binaryType: BinaryType = (['nodebuffer', 'arraybuffer', 'blob'] as const)[seed % 3]!;
  test(`random stream seed ${seed} (binaryType ${binaryType}): pongs and echoes exactly as expected`, { timeout: 20_000 }, async () => {
    const { bytes, expected } = build(seed);
    await session({ binaryType }, async (s, c) => {
      await writeRandomChunks((b) => s.socket.write(b), bytes, seed);
      await s.waitFrames(expected.length, 10_000);
      const got = s.frames.map((f) => [f.opcode, f.payload.toString('hex')] as [number, string]);
      if (binaryType === 'blob') {
        // Blob echoes are asynchronous: pongs may overtake them, but each kind keeps its order.
        assert.deepEqual(got.filter((g) => g[0] === OP.PONG), expected.filter((e) => e[0] === OP.PONG));
        assert.deepEqual(got.filter((g) => g[0] !== OP.PONG), expected.filter((e) => e[0] !== OP.PONG));
      } else {
        assert.deepEqual(got, expected);
      }
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}
