/** Client conformance, Autobahn section 9 (large messages) and the maxPayload limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OP, closeFrame, expectCleanClose, expectFailure, session, sf, sha256 } from './client-harness.js';

const MiB = 1024 * 1024;
const LARGE = { timeout: 20_000 };

function textPayload(n: number): Buffer {
  // Random ASCII plus multi-byte characters (2-, 3- and 4-byte) spread through.
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + (b[i]! % 95);
  const seq = Buffer.from('é€𝄞');
  for (let i = 1000; i + seq.length < n; i += 4099) seq.copy(b, i);
  return b;
}

for (const size of [1 * MiB, 4 * MiB, 16 * MiB]) {
  for (const op of [OP.TEXT, OP.BINARY]) {
    for (const fragmented of size === 4 * MiB ? [false, true] : [false]) {
      const kind = op === OP.TEXT ? 'text' : 'binary';
      test(`9.x ${size / MiB} MiB ${kind} message${fragmented ? ' in 64 KiB fragments' : ''} is received and echoed intact`, LARGE, async () => {
        await session({}, async (s, c) => {
          const payload = op === OP.TEXT ? textPayload(size) : randomBytes(size);
          if (fragmented) {
            const frames: Buffer[] = [];
            for (let pos = 0; pos < size; pos += 65536) {
              const end = Math.min(size, pos + 65536);
              frames.push(sf(pos === 0 ? op : OP.CONT, payload.subarray(pos, end), { fin: end === size }));
            }
            s.write(...frames);
          } else {
            s.write(sf(op, payload));
          }
          await s.waitFrames(1, 15_000);
          const echo = s.frames[0]!;
          assert.equal(echo.opcode, op);
          assert.equal(echo.payload.length, size);
          assert.equal(sha256(echo.payload), sha256(payload));
          const got = c.messages[0]!;
          if (op === OP.TEXT) assert.equal(typeof got === 'string' && sha256(got), sha256(payload));
          else assert.equal(Buffer.isBuffer(got) && sha256(got), sha256(payload));
          s.write(closeFrame(1000));
          await expectCleanClose(s, c, 1000);
        });
      });
    }
  }
}

test('maxPayload 1024: a frame header announcing 1025 bytes is refused with 1009 before the payload arrives', LARGE, async () => {
  await session({ options: { maxPayload: 1024 } }, async (s, c) => {
    const whole = sf(OP.BINARY, randomBytes(1025));
    s.write(whole.subarray(0, 4));
    await expectFailure(s, c, 1009);
    assert.equal(s.frames.length, 1);
  });
});

test('maxPayload 1024: a 64-bit length header announcing 16 EiB-ish is refused with 1009 at once', LARGE, async () => {
  await session({ options: { maxPayload: 1024 } }, async (s, c) => {
    s.write(Buffer.from([0x81, 127, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0]));
    await expectFailure(s, c, 1009);
  });
});

test('maxPayload 1024: exactly 1024 bytes are accepted and echoed', LARGE, async () => {
  await session({ options: { maxPayload: 1024 } }, async (s, c) => {
    const p = randomBytes(1024);
    s.write(sf(OP.BINARY, p));
    await s.waitFrames(1);
    assert.ok(s.frames[0]!.payload.equals(p));
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('maxPayload 1024: fragments adding up to more than 1024 are refused with 1009 at the header of the fragment that overflows', LARGE, async () => {
  await session({ options: { maxPayload: 1024 } }, async (s, c) => {
    s.write(sf(OP.BINARY, randomBytes(600), { fin: false }));
    const second = sf(OP.CONT, randomBytes(600));
    s.write(second.subarray(0, 4));
    await expectFailure(s, c, 1009);
    assert.equal(s.frames.length, 1);
    assert.equal(c.messages.length, 0);
  });
});

for (const fragSize of [64, 4096, 1024 * 1024]) {
  for (const op of [OP.TEXT, OP.BINARY]) {
    test(`9.${op === OP.TEXT ? 3 : 4}.x a 4 MiB ${op === OP.TEXT ? 'text' : 'binary'} message in ${fragSize}-byte fragments is echoed intact`, LARGE, async () => {
      // In 64-byte fragments that is 65,536 frames, over the default maxFragments (16,384).
      await session(fragSize === 64 ? { options: { maxFragments: 64 * 1024 } } : {}, async (s, c) => {
        const size = 4 * MiB;
        const payload = op === OP.TEXT ? textPayload(size) : randomBytes(size);
        const frames: Buffer[] = [];
        for (let pos = 0; pos < size; pos += fragSize) {
          const end = Math.min(size, pos + fragSize);
          frames.push(sf(pos === 0 ? op : OP.CONT, payload.subarray(pos, end), { fin: end === size }));
        }
        s.write(...frames);
        await s.waitFrames(1, 15_000);
        assert.equal(s.frames[0]!.opcode, op);
        assert.equal(sha256(s.frames[0]!.payload), sha256(payload));
        s.write(closeFrame(1000));
        await expectCleanClose(s, c, 1000);
      });
    });
  }
}

for (const chop of [64, 4096]) {
  for (const op of [OP.TEXT, OP.BINARY]) {
    test(`9.${op === OP.TEXT ? 5 : 6}.x a 1 MiB ${op === OP.TEXT ? 'text' : 'binary'} frame written in ${chop}-byte chops is echoed intact`, LARGE, async () => {
      await session({}, async (s, c) => {
        const payload = op === OP.TEXT ? textPayload(MiB) : randomBytes(MiB);
        await s.writeChopped(sf(op, payload), chop);
        await s.waitFrames(1, 15_000);
        assert.equal(sha256(s.frames[0]!.payload), sha256(payload));
        s.write(closeFrame(1000));
        await expectCleanClose(s, c, 1000);
      });
    });
  }
}

for (const size of [0, 16, 4096]) {
  for (const op of [OP.TEXT, OP.BINARY]) {
    test(`9.${op === OP.TEXT ? 7 : 8}.x 1000 ${op === OP.TEXT ? 'text' : 'binary'} messages of ${size} bytes, one round trip each`, LARGE, async () => {
      await session({}, async (s, c) => {
        for (let i = 0; i < 1000; i++) {
          const payload = op === OP.TEXT ? Buffer.from(String(i % 10).repeat(size)) : randomBytes(size);
          s.write(sf(op, payload));
          await s.waitFrames(i + 1);
          const f = s.frames[i]!;
          assert.ok(f.opcode === op && f.payload.equals(payload), `message ${i}`);
        }
        s.write(closeFrame(1000));
        // assertStrict here also checks that the 1001 mask keys are (almost all) distinct.
        await expectCleanClose(s, c, 1000);
      });
    });
  }
}
