import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskInto, nextMaskKey, unmaskInPlace } from '../../src/protocol/index.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

function reference(bytes: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = start, p = phase & 3; i < end; i++, p = (p + 1) & 3) out[i]! ^= key[p]!;
  return out;
}

test('property: unmaskInPlace on unaligned subarrays, any range and phase, matches a byte-by-byte reference', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.nat(7),
      fc.nat(),
      fc.nat(),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 11 }),
      (content, offset, a, b, key, phase) => {
        // The view starts `offset` bytes into its ArrayBuffer, so the word loop sees every alignment.
        const backing = new Uint8Array(content.length + offset + 8);
        backing.fill(0xee);
        const view = backing.subarray(offset, offset + content.length);
        view.set(content);
        const n = content.length;
        const x = n === 0 ? 0 : a % (n + 1);
        const y = n === 0 ? 0 : b % (n + 1);
        const [start, end] = x <= y ? [x, y] : [y, x];
        const expected = reference(content, start, end, key, phase);
        unmaskInPlace(view, start, end, key, phase);
        assert.deepEqual(Buffer.from(view), expected);
        // Bytes outside the view are untouched.
        assert.ok(backing.subarray(0, offset).every((v) => v === 0xee));
        assert.ok(backing.subarray(offset + n).every((v) => v === 0xee));
      },
    ),
    { numRuns: 1000 },
  );
});

test('every phase 0-3 and every alignment, for lengths around the word threshold', () => {
  const key = Uint8Array.from([0x12, 0x34, 0x56, 0x78]);
  for (const len of [0, 1, 3, 4, 5, 63, 64, 65, 67, 68, 69, 128, 131]) {
    for (let offset = 0; offset < 4; offset++) {
      for (let phase = 0; phase < 4; phase++) {
        const content = Uint8Array.from({ length: len }, (_, i) => (i * 37 + 11) & 0xff);
        const backing = new Uint8Array(len + 8);
        const view = backing.subarray(offset, offset + len);
        view.set(content);
        unmaskInPlace(view, 0, len, key, phase);
        assert.deepEqual(Buffer.from(view), reference(content, 0, len, key, phase), `len ${len} offset ${offset} phase ${phase}`);
        // Unmasking twice restores the input.
        unmaskInPlace(view, 0, len, key, phase);
        assert.deepEqual(Buffer.from(view), Buffer.from(content));
      }
    }
  }
});

test('masking in two pieces with the phase carried over equals masking at once', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.uint8Array({ minLength: 4, maxLength: 4 }), (content, cut, key) => {
      const c = cut % (content.length + 1);
      const whole = Buffer.from(content);
      unmaskInPlace(whole, 0, whole.length, key, 0);
      const split = Buffer.from(content);
      unmaskInPlace(split, 0, c, key, 0);
      unmaskInPlace(split, c, split.length, key, c);
      assert.deepEqual(split, whole);
    }),
    { numRuns: 300 },
  );
});

test('maskInto copies and masks at an offset, leaving the source alone', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(9), fc.uint8Array({ minLength: 4, maxLength: 4 }), (src, off, key) => {
      const before = Buffer.from(src);
      const dst = new Uint8Array(off + src.length + 3).fill(0x55);
      maskInto(src, dst, off, key);
      assert.deepEqual(Buffer.from(src), before);
      const expected = Buffer.alloc(dst.length, 0x55);
      reference(src, 0, src.length, key, 0).copy(expected, off);
      assert.deepEqual(Buffer.from(dst), expected);
    }),
    { numRuns: 300 },
  );
});

test('nextMaskKey returns distinct 4-byte keys that are not overwritten by later keys', () => {
  const keys: Buffer[] = [];
  const copies: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const k = nextMaskKey();
    assert.equal(k.length, 4);
    keys.push(k);
    copies.push(k.toString('hex'));
  }
  // 3000 keys cross a pool refill (4096 bytes = 1024 keys); earlier keys keep their value.
  assert.deepEqual(
    keys.map((k) => k.toString('hex')),
    copies,
  );
  assert.ok(new Set(copies).size > 2990, 'keys look random');
});
