/** Client conformance, Autobahn section 2: pings and pongs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OP, T, assertEchoes, closeFrame, expectCleanClose, expectFailure, session, sf } from './client-harness.js';

function pongs(frames: Array<{ opcode: number; payload: Buffer }>): string[] {
  return frames.filter((f) => f.opcode === OP.PONG).map((f) => f.payload.toString('hex'));
}

const PAYLOADS: Array<[string, Buffer]> = [
  ['2.1 an empty ping', Buffer.alloc(0)],
  ['2.2 a ping with a small text payload', Buffer.from('Hello, world!')],
  ['2.3 a ping with a small binary payload', Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])],
  ['2.4 a ping with a 125-byte payload', randomBytes(125)],
];

for (const [name, payload] of PAYLOADS) {
  test(`${name} is answered by a pong with the same payload`, T, async () => {
    await session({}, async (s, c) => {
      s.write(sf(OP.PING, payload));
      await s.waitFrames(1);
      assert.deepEqual(pongs(s.frames), [payload.toString('hex')]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

test('2.5 a ping with a 126-byte payload: the client fails the connection with 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PING, randomBytes(126)));
    await expectFailure(s, c, 1002);
    assert.deepEqual(pongs(s.frames), []);
  });
});

test('2.5b a ping header announcing 126 bytes is refused before the payload arrives', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PING, randomBytes(126)).subarray(0, 4));
    await expectFailure(s, c, 1002);
  });
});

test('2.6 a 125-byte ping written one byte at a time is answered', T, async () => {
  await session({}, async (s, c) => {
    const payload = randomBytes(125);
    await s.writeChopped(sf(OP.PING, payload), 1, 1);
    await s.waitFrames(1);
    assert.deepEqual(pongs(s.frames), [payload.toString('hex')]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('2.7/2.8 unsolicited pongs (empty and with payload) are ignored', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PONG), sf(OP.PONG, 'unsolicited pong payload'), sf(OP.TEXT, 'after'));
    await s.waitFrames(1);
    assertEchoes(s, [[OP.TEXT, 'after']]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 2);
  });
});

test('2.9 an unsolicited pong then a ping: only the ping is answered', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PONG, 'unsolicited pong payload'), sf(OP.PING, 'ping payload'));
    await s.waitFrames(1);
    assert.deepEqual(pongs(s.frames), [Buffer.from('ping payload').toString('hex')]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 2);
  });
});

for (const chopped of [false, true]) {
  test(`2.${chopped ? 11 : 10} ten pings${chopped ? ' written one byte at a time' : ''} get ten pongs in order`, T, async () => {
    await session({}, async (s, c) => {
      const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
      const bytes = Buffer.concat(payloads.map((p) => sf(OP.PING, p)));
      if (chopped) await s.writeChopped(bytes, 1);
      else s.write(bytes);
      await s.waitFrames(10);
      assert.deepEqual(pongs(s.frames), payloads.map((p) => p.toString('hex')));
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

test('pings between messages are answered in stream order', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'one'), sf(OP.PING, 'p1'), sf(OP.BINARY, Buffer.from([1, 2])), sf(OP.PING, 'p2'));
    await s.waitFrames(4);
    assert.deepEqual(
      s.frames.map((f) => [f.opcode, f.payload.toString()]),
      [[OP.TEXT, 'one'], [OP.PONG, 'p1'], [OP.BINARY, '\x01\x02'], [OP.PONG, 'p2']],
    );
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});
