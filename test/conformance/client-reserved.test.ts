/**
 * Client conformance, Autobahn sections 3 (reserved bits) and 4 (reserved opcodes), and
 * masked frames from the server: the client fails the connection with 1002 after echoing
 * what came before, and sends nothing else (no pong for a ping after the bad frame).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, T, assertEchoes, expectFailure, frame, session, sf, sleep } from './client-harness.js';

for (let rsv = 1; rsv <= 7; rsv++) {
  test(`3.x RSV=${rsv} on a text frame after a good one: echo, then close 1002, no pong`, T, async () => {
    await session({}, async (s, c) => {
      s.write(sf(OP.TEXT, 'Hello, world!'), sf(OP.TEXT, 'Hello, world!', { rsv }), sf(OP.PING, 'p'));
      await expectFailure(s, c, 1002);
      assertEchoes(s, [[OP.TEXT, 'Hello, world!']]);
      assert.equal(s.frames.length, 2, s.summary());
      assert.equal(c.messages.length, 1);
    });
  });
}

test('3.3 RSV set, frames written one by one after the echo arrived', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'Hello, world!'));
    await s.waitFrames(1);
    s.write(sf(OP.TEXT, 'Hello, world!', { rsv: 2 }));
    await sleep(20);
    s.write(sf(OP.PING, 'p'));
    await expectFailure(s, c, 1002);
    assertEchoes(s, [[OP.TEXT, 'Hello, world!']]);
    assert.equal(s.frames.length, 2);
  });
});

test('3.4 RSV set, all bytes written one at a time', T, async () => {
  await session({}, async (s, c) => {
    await s.writeChopped(Buffer.concat([sf(OP.TEXT, 'Hello, world!'), sf(OP.TEXT, 'Hello, world!', { rsv: 3 }), sf(OP.PING, 'p')]), 1);
    await expectFailure(s, c, 1002);
    assertEchoes(s, [[OP.TEXT, 'Hello, world!']]);
    assert.equal(s.frames.length, 2);
  });
});

test('3.5 RSV=4 (RSV1, no extension negotiated) on a binary frame', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.BINARY, Buffer.from([0, 1, 2, 3]), { rsv: 4 }));
    await expectFailure(s, c, 1002);
    assert.equal(s.frames.length, 1);
  });
});

test('3.6 RSV=5 on a ping: no pong, close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PING, 'Hello, world!', { rsv: 5 }));
    await expectFailure(s, c, 1002);
    assert.equal(s.frames.length, 1);
  });
});

test('3.7 RSV=6 on a close frame: close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.CLOSE, Buffer.from([0x03, 0xe8]), { rsv: 6 }));
    await expectFailure(s, c, 1002);
  });
});

test('RSV set on a continuation frame: close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'frag', { fin: false }), sf(OP.CONT, 'ment', { rsv: 4 }));
    await expectFailure(s, c, 1002);
    assert.equal(s.frames.length, 1);
  });
});

test('RSV refused from the first two header bytes, before the extended length and payload arrive', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'x'.repeat(300), { rsv: 1 }).subarray(0, 2));
    await expectFailure(s, c, 1002);
  });
});

for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
  for (const withPayload of [false, true]) {
    test(`4.x reserved opcode ${opcode}${withPayload ? ' with a payload' : ''} after a good message: echo, close 1002, no pong`, T, async () => {
      await session({}, async (s, c) => {
        s.write(sf(OP.TEXT, 'Hello, world!'), sf(opcode, withPayload ? 'reserved opcode payload' : ''), sf(OP.PING, 'p'));
        await expectFailure(s, c, 1002);
        assertEchoes(s, [[OP.TEXT, 'Hello, world!']]);
        assert.equal(s.frames.length, 2, s.summary());
      });
    });
  }
}

for (const opcode of [OP.TEXT, OP.BINARY, OP.PING, OP.CLOSE]) {
  test(`a masked ${opcode} frame from the server: close 1002`, T, async () => {
    await session({}, async (s, c) => {
      s.write(sf(OP.TEXT, 'before'), frame(opcode, opcode === OP.CLOSE ? Buffer.from([0x03, 0xe8]) : 'masked', { mask: true }));
      await expectFailure(s, c, 1002);
      assertEchoes(s, [[OP.TEXT, 'before']]);
      assert.equal(s.frames.length, 2, s.summary());
    });
  });
}

test('a 64-bit length with the most significant bit set: close 1002', T, async () => {
  await session({}, async (s, c) => {
    const h = Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    s.write(h);
    await expectFailure(s, c, 1002);
  });
});
