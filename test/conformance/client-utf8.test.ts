/**
 * Client conformance, Autobahn section 6 (UTF-8 handling): valid text echoed intact however
 * it is fragmented; invalid text fails the connection with 1007, as soon as the invalid
 * bytes arrive (fail-fast), not at the end of the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, T, assertEchoes, closeFrame, expectCleanClose, expectFailure, session, sf } from './client-harness.js';

const h = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const KOSME = h('cebae1bdb9cf83cebcceb5'); // κόσμε

const VALID: Array<[string, Buffer]> = [
  ['6.2 Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')],
  ['6.5.1 κόσμε', KOSME],
  ['6.7.1 U+0000', h('00')],
  ['6.7.2 U+0080', h('c280')],
  ['6.7.3 U+0800', h('e0a080')],
  ['6.7.4 U+10000', h('f0908080')],
  ['6.9.1 U+007F', h('7f')],
  ['6.9.2 U+07FF', h('dfbf')],
  ['6.9.3 U+FFFF', h('efbfbf')],
  ['6.9.4 U+10FFFF', h('f48fbfbf')],
  ['6.11.1 U+D7FF', h('ed9fbf')],
  ['6.11.2 U+E000', h('ee8080')],
  ['6.11.3 U+FFFD', h('efbfbd')],
  ['6.23.x noncharacters U+FFFE U+1FFFE U+10FFFE', h('efbfbe f09fbfbe f48fbfbe')],
  ['a leading byte order mark is kept', h('efbbbf 68 69')],
  ['mixed 1-4 byte sequences', Buffer.from('a€𝄞中ü\u{10FFFF}z')],
];

const INVALID: Array<[string, Buffer]> = [
  ['6.3.1 κόσμε with a surrogate inside', Buffer.concat([KOSME, h('eda080'), Buffer.from('edited')])],
  ['6.6.x κόσμε truncated (ends in a lead byte)', KOSME.subarray(0, 10)],
  ['6.8.1 5-byte sequence', h('f888808080')],
  ['6.8.2 6-byte sequence', h('fc8480808080')],
  ['6.10.1 U+110000 (F4 90 80 80)', h('f4908080')],
  ['6.10.2 F5 lead', h('f5808080')],
  ['6.12.1 lone continuation 80', h('80')],
  ['6.12.2 lone continuation BF', h('bf')],
  ['6.12.x continuations 80 BF 80 BF', h('80bf80bf')],
  ['6.13.1 lone start C0 followed by a space', h('c020')],
  ['6.14.x E0 80 truncated at the end', h('e080')],
  ['6.14.x F0 80 80 truncated', h('f08080')],
  ['6.14.x last byte missing (DF)', h('df')],
  ['6.15.1 concatenated truncated sequences', h('c0e080f08080f8808080fc80808080df efbf f7bfbf fbbfbfbf fdbfbfbfbf')],
  ['6.16.1 FE', h('fe')],
  ['6.16.2 FF', h('ff')],
  ['6.16.3 FE FE FF FF', h('fefeffff')],
  ['6.17.1 overlong slash C0 AF', h('c0af')],
  ['6.17.2 overlong slash E0 80 AF', h('e080af')],
  ['6.17.3 overlong slash F0 80 80 AF', h('f08080af')],
  ['6.18.1 overlong C1 BF', h('c1bf')],
  ['6.18.2 overlong E0 9F BF', h('e09fbf')],
  ['6.18.3 overlong F0 8F BF BF', h('f08fbfbf')],
  ['6.19.1 overlong NUL C0 80', h('c080')],
  ['6.20.1 surrogate U+D800', h('eda080')],
  ['6.20.7 surrogate U+DFFF', h('edbfbf')],
  ['6.21.1 surrogate pair U+D800 U+DC00', h('eda080edb080')],
  ['a valid prefix then an invalid byte in the middle', Buffer.concat([Buffer.from('valid text '), h('ff'), Buffer.from(' more')])],
];

/** Frames of one text message split into `size`-byte fragments. */
function fragments(payload: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  do {
    const end = Math.min(payload.length, pos + size);
    out.push(sf(pos === 0 ? OP.TEXT : OP.CONT, payload.subarray(pos, end), { fin: end === payload.length }));
    pos = end;
  } while (pos < payload.length);
  return out;
}

for (const [name, bytes] of VALID) {
  for (const mode of ['one frame', 'one frame chopped per byte', 'fragmented at every byte']) {
    test(`${name}: valid text (${mode}) is echoed intact`, T, async () => {
      await session({}, async (s, c) => {
        if (mode === 'one frame') s.write(sf(OP.TEXT, bytes));
        else if (mode === 'one frame chopped per byte') await s.writeChopped(sf(OP.TEXT, bytes), 1);
        else s.write(...fragments(bytes, 1));
        await s.waitFrames(1);
        assertEchoes(s, [[OP.TEXT, bytes]]);
        assert.deepEqual(c.messages, [bytes.toString('utf8')]);
        s.write(closeFrame(1000));
        await expectCleanClose(s, c, 1000);
      });
    });
  }
}

for (const [name, bytes] of INVALID) {
  for (const mode of ['one frame', 'one frame chopped per byte', 'fragmented at every byte']) {
    test(`${name}: invalid text (${mode}) fails with 1007`, T, async () => {
      await session({}, async (s, c) => {
        s.write(sf(OP.TEXT, 'ok'));
        if (mode === 'one frame') s.write(sf(OP.TEXT, bytes));
        else if (mode === 'one frame chopped per byte') await s.writeChopped(sf(OP.TEXT, bytes), 1);
        else s.write(...fragments(bytes, 1));
        s.write(sf(OP.PING, 'after'));
        await expectFailure(s, c, 1007);
        assertEchoes(s, [[OP.TEXT, 'ok']]);
        assert.equal(s.frames.length, 2, s.summary());
        assert.deepEqual(c.messages, ['ok']);
      });
    });
  }
}

/**
 * Fail-fast: the server writes `first`, then waits for the client's close 1007 before it
 * writes `rest` (which would complete the message). The close must come while the message
 * is still incomplete.
 */
async function failFast(first: Buffer[], rest: Buffer[]): Promise<void> {
  await session({}, async (s, c) => {
    for (const b of first) {
      s.write(b);
      await new Promise((r) => setTimeout(r, 5));
    }
    const close = await s.waitClose(2000);
    assert.equal(close.code, 1007, s.summary());
    if (!s.ended) s.write(...rest);
    await expectFailure(s, c, 1007);
    assert.equal(s.frames.length, 1, s.summary());
    assert.equal(c.messages.length, 0);
  });
}

test('6.4.1 fail-fast on the first invalid fragment: κόσμε | F4 90 80 80 | (edited never needed)', T, async () => {
  await failFast([sf(OP.TEXT, KOSME, { fin: false }), sf(OP.CONT, h('f4908080'), { fin: false })], [sf(OP.CONT, 'edited')]);
});

test('6.4.2 fail-fast inside a sequence split across fragments: κόσμε F4 | 90 | 80 80 edited', T, async () => {
  await failFast([sf(OP.TEXT, Buffer.concat([KOSME, h('f4')]), { fin: false }), sf(OP.CONT, h('90'), { fin: false })], [sf(OP.CONT, Buffer.concat([h('8080'), Buffer.from('edited')]))]);
});

test('6.4.3 fail-fast mid-frame: header and κόσμε, then F4 90 80 80, the rest withheld', T, async () => {
  const whole = sf(OP.TEXT, Buffer.concat([KOSME, h('f4908080'), Buffer.from('edited')]));
  const head = 2 + KOSME.length;
  await failFast([whole.subarray(0, head), whole.subarray(head, head + 4)], [whole.subarray(head + 4)]);
});

test('6.4.4 fail-fast mid-frame on the byte that makes it invalid: ...F4 | 90 | rest withheld', T, async () => {
  const whole = sf(OP.TEXT, Buffer.concat([KOSME, h('f4908080'), Buffer.from('edited')]));
  const head = 2 + KOSME.length;
  await failFast([whole.subarray(0, head + 1), whole.subarray(head + 1, head + 2)], [whole.subarray(head + 2)]);
});

test('fail-fast on the first fragment: an invalid byte in a FIN=0 text frame', T, async () => {
  await failFast([sf(OP.TEXT, Buffer.concat([Buffer.from('abc'), h('c0af')]), { fin: false })], [sf(OP.CONT, 'def')]);
});

test('fail-fast mid-frame in a large frame: header + 1000 valid bytes + invalid byte, 60 KiB withheld', T, async () => {
  const payload = Buffer.concat([Buffer.alloc(1000, 0x61), h('ff'), Buffer.alloc(60000, 0x61)]);
  const whole = sf(OP.TEXT, payload);
  await failFast([whole.subarray(0, 4 + 1001)], [whole.subarray(4 + 1001)]);
});

test('fail-fast mid-frame in a 64-bit-length frame whose header announces 1 MiB', T, async () => {
  const payload = Buffer.concat([Buffer.from('κόσμε'), h('eda080'), Buffer.alloc(1024 * 1024, 0x61)]);
  const whole = sf(OP.TEXT, payload);
  await failFast([whole.subarray(0, 10 + 20)], [whole.subarray(30)]);
});

test('a text message ending in a truncated sequence over fragments fails at the final fragment with 1007', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'abc', { fin: false }), sf(OP.CONT, h('e282'), { fin: false }));
    // Still a valid prefix: nothing may happen yet.
    s.write(sf(OP.PING, 'still open'));
    await s.waitFrames(1);
    assert.equal(s.frames[0]!.opcode, OP.PONG);
    s.write(sf(OP.CONT, ''));
    await expectFailure(s, c, 1007);
  });
});

test('binary messages are not UTF-8 checked', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.BINARY, h('ff fe c0 80 eda080')));
    await s.waitFrames(1);
    assertEchoes(s, [[OP.BINARY, h('ff fe c0 80 eda080')]]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});
