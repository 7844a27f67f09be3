/**
 * Client conformance, Autobahn section 5 (fragmentation) and section 10 (a 64 KiB message
 * auto-fragmented into 1300-byte frames).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OP, T, assertEchoes, closeFrame, expectCleanClose, expectFailure, session, sf, sleep } from './client-harness.js';

/** Frames of one message split into `size`-byte fragments. */
function fragments(opcode: number, payload: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  do {
    const end = Math.min(payload.length, pos + size);
    out.push(sf(pos === 0 ? opcode : OP.CONT, payload.subarray(pos, end), { fin: end === payload.length }));
    pos = end;
  } while (pos < payload.length);
  return out;
}

test('5.1 a ping in two fragments: close 1002, no pong', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PING, 'frag', { fin: false }), sf(OP.CONT, 'ment'));
    await expectFailure(s, c, 1002);
    assert.equal(s.frames.length, 1);
  });
});

test('5.2 a pong in two fragments: close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.PONG, 'frag', { fin: false }), sf(OP.CONT, 'ment'));
    await expectFailure(s, c, 1002);
  });
});

test('a close frame with FIN clear: close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.CLOSE, Buffer.from([0x03, 0xe8]), { fin: false }));
    await expectFailure(s, c, 1002);
  });
});

for (const mode of ['one write', 'frame-wise', 'chopped']) {
  test(`5.3-5.5 a text message in two fragments (${mode}) is echoed as one message`, T, async () => {
    await session({}, async (s, c) => {
      const frames = [sf(OP.TEXT, 'frag', { fin: false }), sf(OP.CONT, 'ment')];
      if (mode === 'one write') s.write(...frames);
      else if (mode === 'frame-wise') {
        s.write(frames[0]!);
        await sleep(20);
        s.write(frames[1]!);
      } else await s.writeChopped(Buffer.concat(frames), 1);
      await s.waitFrames(1);
      assertEchoes(s, [[OP.TEXT, 'fragment']]);
      assert.deepEqual(c.messages, ['fragment']);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

for (const mode of ['one write', 'frame-wise', 'chopped']) {
  test(`5.6-5.8 a ping between two text fragments (${mode}) is answered before the echo`, T, async () => {
    await session({}, async (s, c) => {
      const frames = [sf(OP.TEXT, 'frag', { fin: false }), sf(OP.PING, 'ping payload'), sf(OP.CONT, 'ment')];
      if (mode === 'one write') s.write(...frames);
      else if (mode === 'frame-wise') {
        for (const f of frames) {
          s.write(f);
          await sleep(10);
        }
      } else await s.writeChopped(Buffer.concat(frames), 1);
      await s.waitFrames(2);
      assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString()]), [[OP.PONG, 'ping payload'], [OP.TEXT, 'fragment']]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

for (const fin of [true, false]) {
  for (const mode of ['one write', 'frame-wise', 'chopped']) {
    test(`5.9-5.14 a continuation (FIN ${fin ? 'set' : 'clear'}) with nothing to continue (${mode}): close 1002, the rest ignored`, T, async () => {
      await session({}, async (s, c) => {
        const frames = [sf(OP.CONT, 'non-continuation payload', { fin }), sf(OP.TEXT, 'Hello, world!')];
        if (mode === 'one write') s.write(...frames);
        else if (mode === 'frame-wise') {
          s.write(frames[0]!);
          await sleep(10);
          s.write(frames[1]!);
        } else await s.writeChopped(Buffer.concat(frames), 1);
        await expectFailure(s, c, 1002);
        assert.equal(s.frames.length, 1, s.summary());
        assert.equal(c.messages.length, 0);
      });
    });
  }
}

for (const [name, second] of [
  ['5.15 a continuation with nothing to continue after a complete fragmented message', sf(OP.CONT, 'fragment3', { fin: false })],
  ['5.16/5.17 a continuation with FIN set after a complete fragmented message', sf(OP.CONT, 'fragment3')],
] as const) {
  test(`${name}: echo, then close 1002`, T, async () => {
    await session({}, async (s, c) => {
      s.write(sf(OP.TEXT, 'fragment1', { fin: false }), sf(OP.CONT, 'fragment2'), second, sf(OP.TEXT, 'fragment4'));
      await expectFailure(s, c, 1002);
      assertEchoes(s, [[OP.TEXT, 'fragment1fragment2']]);
      assert.equal(s.frames.length, 2, s.summary());
    });
  });
}

for (const op of [OP.TEXT, OP.BINARY]) {
  test(`5.18 a new ${op === OP.TEXT ? 'text' : 'binary'} message inside a fragmented one: close 1002, nothing echoed`, T, async () => {
    await session({}, async (s, c) => {
      s.write(sf(OP.TEXT, 'fragment1', { fin: false }), sf(op, 'fragment2'));
      await expectFailure(s, c, 1002);
      assert.equal(s.frames.length, 1, s.summary());
      assert.equal(c.messages.length, 0);
    });
  });
}

for (const pause of [0, 10]) {
  test(`5.19/5.20 a text message in 5 fragments with pings between (${pause ? 'paced' : 'at once'}): pongs then the echo`, T, async () => {
    await session({}, async (s, c) => {
      const seq = [
        sf(OP.TEXT, 'fragment1', { fin: false }),
        sf(OP.CONT, 'fragment2', { fin: false }),
        sf(OP.PING, 'pongme 1!'),
        sf(OP.CONT, 'fragment3', { fin: false }),
        sf(OP.CONT, 'fragment4', { fin: false }),
        sf(OP.PING, 'pongme 2!'),
        sf(OP.CONT, 'fragment5'),
      ];
      for (const f of seq) {
        s.write(f);
        if (pause) await sleep(pause);
      }
      await s.waitFrames(3);
      assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString()]), [
        [OP.PONG, 'pongme 1!'],
        [OP.PONG, 'pongme 2!'],
        [OP.TEXT, 'fragment1fragment2fragment3fragment4fragment5'],
      ]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

for (const op of [OP.TEXT, OP.BINARY]) {
  test(`a ${op === OP.TEXT ? 'text' : 'binary'} message in 1-byte fragments with a ping after every fragment`, T, async () => {
    await session({}, async (s, c) => {
      const payload = op === OP.TEXT ? Buffer.from('Hello, fragmented world!') : randomBytes(40);
      const frames = fragments(op, payload, 1);
      const out: Buffer[] = [];
      frames.forEach((f, i) => out.push(f, sf(OP.PING, `p${i}`)));
      s.write(...out);
      await s.waitFrames(frames.length + 1);
      const expectedOrder = frames.map((_, i) => [OP.PONG, `p${i}`] as [number, string]);
      // The message completes with the last fragment, before the last ping.
      expectedOrder.splice(frames.length - 1, 0, [op, '']);
      assert.deepEqual(s.frames.map((f) => (f.opcode === OP.PONG ? [f.opcode, f.payload.toString()] : [f.opcode, ''])), expectedOrder);
      assertEchoes(s, [[op, payload]]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

test('6.1 empty fragments: text of three empty fragments is echoed as an empty text message', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, '', { fin: false }), sf(OP.CONT, '', { fin: false }), sf(OP.CONT, ''));
    s.write(sf(OP.BINARY, '', { fin: false }), sf(OP.CONT, 'x', { fin: false }), sf(OP.CONT, ''));
    await s.waitFrames(2);
    assertEchoes(s, [[OP.TEXT, ''], [OP.BINARY, 'x']]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

for (const op of [OP.TEXT, OP.BINARY]) {
  test(`10.1.1 a 64 KiB ${op === OP.TEXT ? 'text' : 'binary'} message in 1300-byte fragments, written in 997-byte chunks`, T, async () => {
    await session({}, async (s, c) => {
      const payload = op === OP.TEXT ? Buffer.from('*'.repeat(65536)) : randomBytes(65536);
      await s.writeChopped(Buffer.concat(fragments(op, payload, 1300)), 997);
      await s.waitFrames(1);
      assertEchoes(s, [[op, payload]]);
      s.write(closeFrame(1000));
      await expectCleanClose(s, c, 1000);
    });
  });
}

test('fragmented messages are echoed with binaryType blob, in order with text', T, async () => {
  await session({ binaryType: 'blob' }, async (s, c) => {
    const bin = randomBytes(5000);
    s.write(...fragments(OP.BINARY, bin, 700), ...fragments(OP.TEXT, Buffer.from('après'), 2), sf(OP.BINARY, Buffer.from([7])));
    await s.waitFrames(3);
    assertEchoes(s, [[OP.BINARY, bin], [OP.TEXT, 'après'], [OP.BINARY, Buffer.from([7])]]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('a ping whose header and payload are split across writes, in the middle of a fragmented text message', T, async () => {
  await session({}, async (s, c) => {
    const ping = sf(OP.PING, 'split ping payload');
    const f1 = sf(OP.TEXT, 'κό', { fin: false });
    s.write(f1.subarray(0, f1.length - 1));
    await sleep(5);
    s.write(f1.subarray(f1.length - 1), ping.subarray(0, 1));
    await sleep(5);
    s.write(ping.subarray(1, 5));
    await sleep(5);
    s.write(ping.subarray(5), sf(OP.CONT, 'σμε'));
    await s.waitFrames(2);
    assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString()]), [[OP.PONG, 'split ping payload'], [OP.TEXT, 'κόσμε']]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});
