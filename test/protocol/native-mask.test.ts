/**
 * The two unmasking paths: bufferutil (an optional peer dependency, installed here as a
 * devDependency) and the JavaScript loop (TETHER_NO_BUFFERUTIL=1). The kernels and the
 * frame reader are checked here on the path this process uses; the last test runs the
 * reader's and the server's conformance tests again in a child process on the other path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { NATIVE_MIN, nativeMaskActive, nativeMaskReady, unmaskBuffer, unmaskCopy } from '../../src/protocol/native-mask.js';
import { packMask } from '../../src/protocol/mask.js';
import { Opcode } from '../../src/protocol/index.js';
import { Recorder, frame } from './_harness.js';

fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261202) });

const jsForced = !!process.env['TETHER_NO_BUFFERUTIL'] && process.env['TETHER_NO_BUFFERUTIL'] !== '0';

function reference(bytes: Uint8Array, key: Uint8Array, phase: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0, p = phase & 3; i < out.length; i++, p = (p + 1) & 3) out[i]! ^= key[p]!;
  return out;
}

test('the addon is in use unless TETHER_NO_BUFFERUTIL is set', async () => {
  assert.equal(await nativeMaskReady, !jsForced);
  assert.equal(nativeMaskActive(), !jsForced);
});

test('property: unmaskBuffer and unmaskCopy match a byte-by-byte reference around the addon threshold, any phase and offset', async () => {
  await nativeMaskReady;
  const len = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: NATIVE_MIN - 8, max: NATIVE_MIN + 8 }), fc.integer({ min: NATIVE_MIN, max: 5000 }));
  fc.assert(
    fc.property(len, fc.nat(7), fc.nat(7), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(11), fc.nat(), (n, srcOff, dstOff, key, phase, seed) => {
      const content = Buffer.alloc(n);
      for (let i = 0; i < n; i++) content[i] = (seed + i * 131) & 0xff;
      const expected = reference(content, key, phase);
      const mask = packMask(key);
      // In place, inside a larger buffer: the bytes around the range stay as they were.
      const inPlace = Buffer.alloc(n + srcOff + 8, 0xee);
      content.copy(inPlace, srcOff);
      unmaskBuffer(inPlace, srcOff, srcOff + n, mask, phase);
      assert.deepEqual(inPlace.subarray(srcOff, srcOff + n), expected);
      assert.ok(inPlace.subarray(0, srcOff).every((v) => v === 0xee) && inPlace.subarray(srcOff + n).every((v) => v === 0xee));
      // Copied: the destination gets the unmasked bytes, nothing outside them changes.
      const src = Buffer.alloc(n + srcOff + 8, 0xdd);
      content.copy(src, srcOff);
      const dst = Buffer.alloc(n + dstOff + 8, 0xee);
      unmaskCopy(src, srcOff, srcOff + n, dst, dstOff, mask, phase);
      assert.deepEqual(dst.subarray(dstOff, dstOff + n), expected);
      assert.ok(dst.subarray(0, dstOff).every((v) => v === 0xee) && dst.subarray(dstOff + n).every((v) => v === 0xee));
    }),
    { numRuns: 400 },
  );
});

test('property: large masked messages cut at any points arrive whole (single frames and fragments, binary and text)', async () => {
  await nativeMaskReady;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 70_000 }),
      fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      (size, cuts, fragments, text, key) => {
        const payload = Buffer.alloc(size);
        for (let i = 0; i < size; i++) payload[i] = text ? 0x20 + (i % 90) : (i * 7 + 3) & 0xff;
        const parts: Buffer[] = [];
        const pieces = fragments + 1;
        for (let f = 0; f < pieces; f++) {
          const a = Math.floor((size * f) / pieces);
          const b = Math.floor((size * (f + 1)) / pieces);
          parts.push(frame(f === 0 ? (text ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, payload.subarray(a, b), { fin: f === pieces - 1, mask: key }));
        }
        const wire = Buffer.concat(parts);
        const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y);
        const r = new Recorder('server');
        let prev = 0;
        for (const c of [...at, wire.length]) {
          r.feed(wire.subarray(prev, c));
          prev = c;
        }
        assert.equal(r.events.length, 1);
        const e = r.events[0]!;
        assert.equal(e.type, 'message');
        if (e.type === 'message') assert.deepEqual(text ? Buffer.from(e.data as string) : e.data, payload);
      },
    ),
    { numRuns: 150 },
  );
});

test('invalid UTF-8 in a large text message split across reads is refused with 1007 on this path', async () => {
  await nativeMaskReady;
  const payload = Buffer.alloc(4 * NATIVE_MIN, 0x61);
  payload[3 * NATIVE_MIN] = 0xff;
  const wire = frame(Opcode.Text, payload, { mask: Buffer.from([1, 2, 3, 4]) });
  const r = new Recorder('server').feed(wire.subarray(0, 100), wire.subarray(100, 2 * NATIVE_MIN), wire.subarray(2 * NATIVE_MIN));
  assert.deepEqual(r.failures().map((e) => e.type === 'failure' && e.code), [1007]);
});

// In the child itself (the JavaScript path) there is no other path to run.
if (!jsForced) test('the reader and server conformance tests pass on the JavaScript unmasking path (TETHER_NO_BUFFERUTIL=1)', () => {
  const dir = fileURLToPath(new URL('..', import.meta.url));
  const files = [
    'protocol/native-mask.test.js',
    'protocol/rfc-vectors.test.js',
    'protocol/parser-rejections.test.js',
    'conformance/server-framing.test.js',
    'conformance/server-fragmentation.test.js',
    'conformance/server-utf8.test.js',
  ].map((f) => dir + f);
  // NODE_TEST_CONTEXT (set by the runner for this file) would make the child report to us instead of printing its results.
  const env: NodeJS.ProcessEnv = { ...process.env, TETHER_NO_BUFFERUTIL: '1' };
  delete env['NODE_TEST_CONTEXT'];
  const r = spawnSync(process.execPath, ['--test', ...files], { env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `the JavaScript path failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => /not ok|Error|fail/.test(l)).slice(0, 40).join('\n')}`);
  // The child really ran on the JavaScript path (its first test asserts which path is active).
  assert.match(r.stdout, /# pass [1-9]/);
});
