/**
 * Client conformance, Autobahn section 1 (framing) plus the client's own frame rules:
 * masked with a fresh key, FIN set, right opcode, echoes in order, for every binaryType.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OP, T, assertEchoes, closeFrame, expectCleanClose, session, sf } from './client-harness.js';
import type { BinaryType } from '../../src/client/index.js';

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

function textOf(n: number): string {
  // ASCII of a known pattern; 1.1.x sends '*' repeated, a pattern catches reordering.
  let s = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  while (s.length < n) s += alphabet;
  return s.slice(0, n);
}

for (const n of LENGTHS) {
  test(`1.1 text message of ${n} bytes is echoed as one masked text frame`, T, async () => {
    await session({}, async (s, c) => {
      const text = textOf(n);
      s.write(sf(OP.TEXT, text));
      await s.waitFrames(1);
      assertEchoes(s, [[OP.TEXT, text]]);
      assert.equal(c.messages[0], text);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

for (const binaryType of ['nodebuffer', 'arraybuffer', 'blob'] as BinaryType[]) {
  for (const n of LENGTHS) {
    test(`1.2 binary message of ${n} bytes is echoed as one masked binary frame (binaryType ${binaryType})`, T, async () => {
      await session({ binaryType }, async (s, c) => {
        const data = randomBytes(n);
        s.write(sf(OP.BINARY, data));
        await s.waitFrames(1);
        assertEchoes(s, [[OP.BINARY, data]]);
        const got = c.messages[0]!;
        if (binaryType === 'blob') assert.ok(got instanceof Blob && got.size === n);
        else assert.ok(Buffer.isBuffer(got) && got.equals(data));
        s.write(closeFrame(1000));
        await expectCleanClose(s, c, 1000);
      });
    });
  }
}

for (const op of [OP.TEXT, OP.BINARY]) {
  test(`1.${op}.8 a 64 KiB ${op === OP.TEXT ? 'text' : 'binary'} message written in 997-byte chunks is echoed intact`, T, async () => {
    await session({}, async (s, c) => {
      const payload = op === OP.TEXT ? Buffer.from(textOf(65536)) : randomBytes(65536);
      await s.writeChopped(sf(op, payload), 997);
      await s.waitFrames(1);
      assertEchoes(s, [[op, payload]]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

for (const binaryType of ['nodebuffer', 'arraybuffer', 'blob'] as BinaryType[]) {
  test(`mixed text and binary messages are echoed in order with the same types (binaryType ${binaryType})`, T, async () => {
    await session({ binaryType }, async (s, c) => {
      const expected: Array<[number, Buffer | string]> = [];
      const out: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        const isText = i % 3 !== 0;
        const payload = isText ? `message ${i} ${'é'.repeat(i * 7)}` : randomBytes((i * 977) % 70000);
        expected.push([isText ? OP.TEXT : OP.BINARY, payload]);
        out.push(sf(isText ? OP.TEXT : OP.BINARY, payload));
      }
      // Half in one write, half in pieces.
      s.write(...out.slice(0, 20));
      await s.writeChopped(Buffer.concat(out.slice(20)), 1500);
      await s.waitFrames(40);
      assertEchoes(s, expected);
      assert.equal(c.messages.length, 40);
      // Everything the echo sent has been handed to the network: bufferedAmount drains to 0.
      await s.waitUntil(() => c.ws.bufferedAmount === 0, 2000, `bufferedAmount 0 (is ${c.ws.bufferedAmount})`);
      s.write(closeFrame(1000, 'done'));
      await expectCleanClose(s, c, 1000, 'done');
    });
  });
}

test('every client frame is masked with its own key: 200 small messages', T, async () => {
  await session({}, async (s, c) => {
    const expected: Array<[number, Buffer | string]> = [];
    const out: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const payload = i % 2 ? `t${i}` : Buffer.from([i & 0xff, 0, 0, 0, 0, 0, 0, 0]);
      expected.push([i % 2 ? OP.TEXT : OP.BINARY, payload]);
      out.push(sf(i % 2 ? OP.TEXT : OP.BINARY, payload));
    }
    s.write(...out);
    await s.waitFrames(200);
    assertEchoes(s, expected);
    // assertStrict (in expectCleanClose) requires 201 distinct keys.
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('a message whose header arrives one byte at a time is parsed (16-bit and 64-bit lengths)', T, async () => {
  await session({}, async (s, c) => {
    const a = randomBytes(300);
    const b = randomBytes(70000);
    const bytes = Buffer.concat([sf(OP.BINARY, a), sf(OP.BINARY, b)]);
    await s.writeChopped(bytes.subarray(0, 4), 1, 2);
    await s.writeChopped(bytes.subarray(4, 306), 100);
    await s.writeChopped(bytes.subarray(306, 316), 1, 2);
    s.write(bytes.subarray(316));
    await s.waitFrames(2);
    assertEchoes(s, [[OP.BINARY, a], [OP.BINARY, b]]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('the request is a valid client opening handshake', T, async () => {
  await session({}, async (s, c) => {
    const h = s.request.headers;
    assert.equal(s.request.start[0], 'GET');
    assert.equal(s.request.start[2], 'HTTP/1.1');
    assert.match(h['upgrade'] ?? '', /^websocket$/i);
    assert.match(h['connection'] ?? '', /upgrade/i);
    assert.equal(h['sec-websocket-version'], '13');
    assert.equal(Buffer.from(h['sec-websocket-key'] ?? '', 'base64').length, 16);
    assert.ok(h['host']);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});
