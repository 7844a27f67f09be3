import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../src/protocol/index.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

/** Bytes that matter to UTF-8 boundaries: ASCII, continuation range edges, every kind of lead byte, invalid bytes. */
const INTERESTING = [
  0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3,
  0xf4, 0xf5, 0xf7, 0xf8, 0xfe, 0xff,
];

const validBytes = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })).map((s) => Buffer.from(s));

type Mutation = { op: 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const, 'truncate' as const),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
});

function mutate(buf: Buffer, muts: Mutation[]): Buffer {
  let b = [...buf];
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.op === 'set' && at < b.length) b[at] = m.byte;
    else if (m.op === 'insert') b.splice(at, 0, m.byte);
    else if (m.op === 'delete') b.splice(at, 1);
    else if (m.op === 'truncate') b = b.slice(0, at);
  }
  return Buffer.from(b);
}

const bytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)),
  fc.array(fc.constantFrom(...INTERESTING), { maxLength: 30 }).map((a) => Buffer.from(a)),
  validBytes,
  fc.tuple(validBytes, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([b, m]) => mutate(b, m)),
  // Long enough for the bulk path, with a corruption somewhere.
  fc
    .tuple(fc.string({ unit: 'binary', minLength: 50, maxLength: 120 }), fc.array(mutationArb, { maxLength: 2 }))
    .map(([s, m]) => mutate(Buffer.from(s), m)),
);

/** Whole-buffer reference; empty input is valid. */
const refValid = (b: Uint8Array) => b.length === 0 || isUtf8(b);

/**
 * Reference: whether `prefix` can be extended to valid UTF-8. An incomplete final
 * sequence needs at most three more continuation bytes; trying the edge values of every
 * allowed continuation range is enough.
 */
const CONT = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
function extendable(prefix: Uint8Array): boolean {
  if (refValid(prefix)) return true;
  const tryWith = (suffix: number[]): boolean => {
    if (isUtf8(Buffer.concat([prefix, Buffer.from(suffix)]))) return true;
    if (suffix.length === 3) return false;
    return CONT.some((c) => tryWith([...suffix, c]));
  };
  return CONT.some((c) => tryWith([c]));
}

/** Index of the first byte after which the prefix cannot be extended, or -1. */
function firstDeadByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) if (!extendable(b.subarray(0, i + 1))) return i;
  return -1;
}

/** Pushes b in pieces split at `splits`; returns the index of the piece that failed (or -1) and the final verdict. */
function feed(b: Buffer, splits: number[]): { failedPiece: number; pieces: Array<[number, number]>; verdict: boolean } {
  const v = new Utf8Validator();
  const points = [...new Set(splits.map((s) => s % (b.length + 1)))].sort((x, y) => x - y);
  const pieces: Array<[number, number]> = [];
  let start = 0;
  for (const p of [...points, b.length]) {
    pieces.push([start, p]);
    start = p;
  }
  for (let i = 0; i < pieces.length; i++) {
    const [s, e] = pieces[i]!;
    if (!v.push(b, s, e)) return { failedPiece: i, pieces, verdict: false };
  }
  return { failedPiece: -1, pieces, verdict: v.complete };
}

test('property: any split of any bytes gives the verdict of isUtf8 on the whole', () => {
  fc.assert(
    fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 12 }), (b, splits) => {
      assert.equal(feed(b, splits).verdict, refValid(b));
    }),
    { numRuns: 1500 },
  );
});

test('property: one byte at a time, the validator fails exactly at the first byte that cannot be continued', () => {
  fc.assert(
    fc.property(bytesArb, (b) => {
      const dead = firstDeadByte(b);
      const splits = Array.from({ length: b.length }, (_, i) => i);
      const r = feed(b, splits);
      // Pieces: [0,0], [0,1], [1,2], ... — piece i+1 holds byte i.
      const failedByte = r.failedPiece < 0 ? -1 : r.pieces[r.failedPiece]![0];
      assert.equal(failedByte, dead, `bytes ${b.toString('hex')}`);
      if (dead < 0) assert.equal(r.verdict, refValid(b));
    }),
    { numRuns: 700 },
  );
});

test('property: with any split, the validator has failed by the end of the piece holding the first dead byte, and not before', () => {
  fc.assert(
    fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 12 }), (b, splits) => {
      const dead = firstDeadByte(b);
      const r = feed(b, splits);
      if (dead < 0) {
        assert.equal(r.failedPiece, -1, 'an extendable stream never fails mid-way');
        return;
      }
      assert.notEqual(r.failedPiece, -1);
      const [s, e] = r.pieces[r.failedPiece]!;
      assert.ok(s <= dead && dead < e, `failed in piece [${s},${e}) but the first dead byte is ${dead} (${b.toString('hex')})`);
    }),
    { numRuns: 700 },
  );
});

test('pieces at offsets into larger buffers are read from start to end only', () => {
  const v = new Utf8Validator();
  // Garbage around the range must be ignored.
  const buf = Buffer.from([0xff, 0xe2, 0x82, 0xff]);
  assert.equal(v.push(buf, 1, 3), true);
  assert.equal(v.complete, false);
  assert.equal(v.push(Buffer.from([0xff, 0xac, 0xff]), 1, 2), true);
  assert.equal(v.complete, true);
  // An empty range changes nothing.
  assert.equal(v.push(buf, 2, 2), true);
  assert.equal(v.complete, true);
});

test('known sequences: boundaries of the ranges', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['7f', true],
    ['c280', true],
    ['c180', false],
    ['dfbf', true],
    ['e0a080', true],
    ['e09f80', false], // overlong
    ['ed9fbf', true],
    ['eda080', false], // surrogate
    ['efbfbf', true],
    ['f0908080', true],
    ['f08f8080', false], // overlong
    ['f48fbfbf', true],
    ['f4908080', false], // above U+10FFFF
    ['f5808080', false],
    ['e282', false], // truncated
    ['80', false],
  ];
  for (const [h, ok] of cases) {
    const b = Buffer.from(h, 'hex');
    const v = new Utf8Validator();
    assert.equal(v.push(b, 0, b.length) && v.complete, ok, h);
    assert.equal(isValidUtf8(b), ok, h);
  }
});

test('reset() clears a sequence in progress', () => {
  const v = new Utf8Validator();
  assert.equal(v.push(Buffer.from([0xf0, 0x9f]), 0, 2), true);
  assert.equal(v.complete, false);
  v.reset();
  assert.equal(v.complete, true);
  assert.equal(v.push(Buffer.from('abc'), 0, 3), true);
  // After reset, narrowed ranges (F0 needs 90-BF) do not linger.
  const w = new Utf8Validator();
  assert.equal(w.push(Buffer.from([0xf0]), 0, 1), true);
  w.reset();
  assert.equal(w.push(Buffer.from([0xe1, 0x80, 0x80]), 0, 3), true);
  assert.equal(w.complete, true);
});
