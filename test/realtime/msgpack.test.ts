import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_DEPTH, MsgpackError, decodeMsgpack, encodeMsgpack } from '../../src/realtime/wire/msgpack.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
/** Asserts the encoding of `value` (as hex) and that it decodes to `back`. */
function vector(value: unknown, expected: string, back: unknown = value): void {
  const enc = encodeMsgpack(value);
  assert.equal(hex(enc), expected.replace(/\s+/g, ''), `encoding of a ${typeof value}`);
  assert.deepStrictEqual(decodeMsgpack(enc), back);
}
function rejects(input: string | Uint8Array, message: RegExp): void {
  const data = typeof input === 'string' ? bytes(input) : input;
  assert.throws(() => decodeMsgpack(data), (err: unknown) => err instanceof MsgpackError && message.test(err.message));
}

// --- spec vectors ------------------------------------------------------------------

test('nil, undefined and booleans', () => {
  vector(null, 'c0');
  vector(undefined, 'c0', null);
  vector(true, 'c3');
  vector(false, 'c2');
});

test('positive integers take the shortest form', () => {
  vector(0, '00');
  vector(1, '01');
  vector(127, '7f');
  vector(128, 'cc 80');
  vector(255, 'cc ff');
  vector(256, 'cd 01 00');
  vector(65535, 'cd ff ff');
  vector(65536, 'ce 00 01 00 00');
  vector(2 ** 32 - 1, 'ce ff ff ff ff');
  vector(2 ** 32, 'cf 00 00 00 01 00 00 00 00');
  vector(Number.MAX_SAFE_INTEGER, 'cf 00 1f ff ff ff ff ff ff');
});

test('negative integers take the shortest form', () => {
  vector(-1, 'ff');
  vector(-32, 'e0');
  vector(-33, 'd0 df');
  vector(-128, 'd0 80');
  vector(-129, 'd1 ff 7f');
  vector(-32768, 'd1 80 00');
  vector(-32769, 'd2 ff ff 7f ff');
  vector(-(2 ** 31), 'd2 80 00 00 00');
  vector(-(2 ** 31) - 1, 'd3 ff ff ff ff 7f ff ff ff');
  vector(-(2 ** 32), 'd3 ff ff ff ff 00 00 00 00');
  vector(Number.MIN_SAFE_INTEGER, 'd3 ff e0 00 00 00 00 00 01');
});

test('bigints encode as uint64/int64 and decode as numbers when safe, bigints otherwise', () => {
  vector(5n, 'cf 00 00 00 00 00 00 00 05', 5);
  vector(-5n, 'd3 ff ff ff ff ff ff ff fb', -5);
  vector(2n ** 53n, 'cf 00 20 00 00 00 00 00 00', 2n ** 53n);
  vector(2n ** 64n - 1n, 'cf ff ff ff ff ff ff ff ff', 2n ** 64n - 1n);
  vector(-(2n ** 53n), 'd3 ff e0 00 00 00 00 00 00', -(2n ** 53n));
  vector(-(2n ** 63n), 'd3 80 00 00 00 00 00 00 00', -(2n ** 63n));
  assert.throws(() => encodeMsgpack(2n ** 64n), MsgpackError);
  assert.throws(() => encodeMsgpack(-(2n ** 63n) - 1n), MsgpackError);
  // Other encoders may use 64-bit forms for small values: they still decode as numbers.
  assert.equal(decodeMsgpack(bytes('cf 00 1f ff ff ff ff ff ff')), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeMsgpack(bytes('d3 ff e0 00 00 00 00 00 01')), Number.MIN_SAFE_INTEGER);
  assert.equal(decodeMsgpack(bytes('d3 00 00 00 00 00 00 00 07')), 7);
  assert.equal(decodeMsgpack(bytes('d3 ff ff ff ff ff ff ff ff')), -1);
});

test('integers encoded in wider forms than needed still decode', () => {
  assert.equal(decodeMsgpack(bytes('cc 01')), 1);
  assert.equal(decodeMsgpack(bytes('cd 00 01')), 1);
  assert.equal(decodeMsgpack(bytes('ce 00 00 00 01')), 1);
  assert.equal(decodeMsgpack(bytes('d0 01')), 1);
  assert.equal(decodeMsgpack(bytes('d1 ff ff')), -1);
  assert.equal(decodeMsgpack(bytes('d2 ff ff ff ff')), -1);
});

test('non-integers, -0, NaN, infinities and unsafe integers are float64; float32 decodes', () => {
  vector(1.5, 'cb 3f f8 00 00 00 00 00 00');
  vector(-0.1, 'cb bf b9 99 99 99 99 99 9a');
  vector(-0, 'cb 80 00 00 00 00 00 00 00');
  vector(NaN, 'cb 7f f8 00 00 00 00 00 00');
  vector(Infinity, 'cb 7f f0 00 00 00 00 00 00');
  vector(-Infinity, 'cb ff f0 00 00 00 00 00 00');
  vector(2 ** 60, 'cb 43 b0 00 00 00 00 00 00');
  assert.equal(decodeMsgpack(bytes('ca 3f c0 00 00')), 1.5);
  assert.equal(decodeMsgpack(bytes('ca ff 80 00 00')), -Infinity);
});

test('strings: fixstr, str8, str16, str32, UTF-8', () => {
  vector('', 'a0');
  vector('a', 'a1 61');
  vector('a'.repeat(31), 'bf' + '61'.repeat(31));
  vector('a'.repeat(32), 'd9 20' + '61'.repeat(32));
  vector('a'.repeat(20), 'b4' + '61'.repeat(20)); // header first guessed as str8, then shrunk
  vector('a'.repeat(255), 'd9 ff' + '61'.repeat(255));
  vector('a'.repeat(256), 'da 01 00' + '61'.repeat(256));
  vector('a'.repeat(65535), 'da ff ff' + '61'.repeat(65535));
  vector('a'.repeat(65536), 'db 00 01 00 00' + '61'.repeat(65536));
  vector('é', 'a2 c3 a9');
  vector('€', 'a3 e2 82 ac');
  vector('😀', 'a4 f0 9f 98 80');
  vector('€'.repeat(11), 'd9 21' + 'e282ac'.repeat(11));
  vector('é'.repeat(100), 'd9 c8' + 'c3a9'.repeat(100)); // long: TextEncoder path
  vector('😀'.repeat(40), 'd9 a0' + 'f09f9880'.repeat(40));
  // Lone surrogates become U+FFFD, as TextEncoder does, on both paths.
  vector('\ud800', 'a3 ef bf bd', '\ufffd');
  vector('x\udc00' + 'y'.repeat(70), 'd9 4a 78 ef bf bd' + '79'.repeat(70), 'x\ufffd' + 'y'.repeat(70));
});

test('binary: bin8, bin16, bin32, from Uint8Array, Buffer and ArrayBuffer', () => {
  vector(new Uint8Array([1, 2]), 'c4 02 01 02');
  vector(new Uint8Array(0), 'c4 00');
  vector(new Uint8Array(255).fill(7), 'c4 ff' + '07'.repeat(255));
  vector(new Uint8Array(256).fill(7), 'c5 01 00' + '07'.repeat(256));
  vector(new Uint8Array(65536).fill(7), 'c6 00 01 00 00' + '07'.repeat(65536));
  vector(Buffer.from([1, 2]), 'c4 02 01 02', new Uint8Array([1, 2]));
  vector(new Uint8Array([1, 2, 3]).buffer, 'c4 03 01 02 03', new Uint8Array([1, 2, 3]));
  const inner = Buffer.from([9, 1, 2, 9]).subarray(1, 3);
  vector(inner, 'c4 02 01 02', new Uint8Array([1, 2]));
  const decoded = decodeMsgpack(bytes('c4 02 01 02'));
  assert.equal(Object.getPrototypeOf(decoded), Uint8Array.prototype);
});

test('decoded binary is a copy, not a view into the input', () => {
  const input = bytes('92 c4 02 01 02 c4 01 03');
  const [a, b] = decodeMsgpack(input) as [Uint8Array, Uint8Array];
  assert.notEqual(a.buffer, input.buffer);
  assert.equal(a.byteOffset, 0);
  assert.equal(a.buffer.byteLength, 2);
  input.fill(0);
  assert.deepStrictEqual(a, new Uint8Array([1, 2]));
  assert.deepStrictEqual(b, new Uint8Array([3]));
});

test('arrays: fixarray, array16, array32', () => {
  vector([], '90');
  vector([1, 2, 3], '93 01 02 03');
  vector(new Array(15).fill(0), '9f' + '00'.repeat(15));
  vector(new Array(16).fill(0), 'dc 00 10' + '00'.repeat(16));
  vector(new Array(65535).fill(0), 'dc ff ff' + '00'.repeat(65535));
  vector(new Array(65536).fill(0), 'dd 00 01 00 00' + '00'.repeat(65536));
  vector([undefined, null], '92 c0 c0', [null, null]);
  vector([[[]]], '91 91 90');
});

test('maps: fixmap, map16, map32 with string keys', () => {
  vector({}, '80');
  vector({ a: 1 }, '81 a1 61 01');
  vector({ a: [true], b: { c: null } }, '82 a1 61 91 c3 a1 62 81 a1 63 c0');
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i % 100]));
  assert.equal(hex(encodeMsgpack(keys(15))).slice(0, 2), '8f');
  assert.equal(hex(encodeMsgpack(keys(16))).slice(0, 6), 'de0010');
  assert.equal(hex(encodeMsgpack(keys(65536))).slice(0, 10), 'df00010000');
  for (const n of [15, 16, 65536]) assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(keys(n))), keys(n));
  // Undefined properties are left out, as JSON.stringify does.
  vector({ a: undefined, b: 1 }, '81 a1 62 01', { b: 1 });
  // Null-prototype objects are plain objects too.
  vector(Object.assign(Object.create(null), { x: 1 }), '81 a1 78 01', { x: 1 });
});

test('a "__proto__" key decodes as an own property and does not touch the prototype', () => {
  const decoded = decodeMsgpack(bytes('81 a9' + Buffer.from('__proto__').toString('hex') + '81 a1 78 01')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepStrictEqual(Object.keys(decoded), ['__proto__']);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value, { x: 1 });
  assert.equal((decoded as { x?: unknown }).x, undefined);
});

test('unsupported values throw MsgpackError when encoding', () => {
  class Point {
    x = 1;
  }
  for (const v of [new Map(), new Set(), new Date(0), new Point(), new Int16Array(2), new DataView(new ArrayBuffer(1)), () => 1, Symbol('s')]) {
    assert.throws(() => encodeMsgpack(v), MsgpackError);
    assert.throws(() => encodeMsgpack({ nested: [v] }), MsgpackError);
  }
});

test(`encoding refuses nesting deeper than ${MAX_DEPTH} and cycles`, () => {
  const nest = (n: number) => {
    let v: unknown = 0;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(nest(MAX_DEPTH))), nest(MAX_DEPTH));
  assert.throws(() => encodeMsgpack(nest(MAX_DEPTH + 1)), MsgpackError);
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.throws(() => encodeMsgpack(cyclic), /nesting deeper/);
});

test('decodes from a Buffer that is a slice of a larger pool', () => {
  const pool = Buffer.alloc(64, 0xc1);
  const enc = encodeMsgpack({ n: 1.5, big: 2n ** 60n, s: 'héllo', b: new Uint8Array([5]) });
  const slice = pool.subarray(7, 7 + enc.length);
  slice.set(enc);
  assert.deepStrictEqual(decodeMsgpack(slice), { n: 1.5, big: 2n ** 60n, s: 'héllo', b: new Uint8Array([5]) });
});

// --- decoding errors ---------------------------------------------------------------

test('truncated input throws MsgpackError', () => {
  for (const h of ['', 'cc', 'cd 01', 'ce 00 00 01', 'cf 00', 'd0', 'd1 00', 'd2 00', 'd3 00 00', 'ca 00', 'cb 3f f8', 'd9', 'da 00', 'db 00 00 00', 'c4', 'c5 00', 'c6 00', 'dc 00', 'dd 00', 'de 00', 'df 00 00', '92 01', '81 a1 61', '81', '81 d9', 'a2 61', 'c4 02 01']) {
    rejects(h, /truncated|exceeds/);
  }
});

test('trailing bytes throw MsgpackError', () => {
  rejects('00 00', /1 trailing byte/);
  rejects('c0 c0 c0', /2 trailing byte/);
  rejects('91 01 02', /trailing/);
});

test('the reserved byte 0xc1 throws MsgpackError', () => {
  rejects('c1', /reserved byte 0xc1/);
  rejects('92 01 c1', /reserved byte 0xc1 at offset 2/);
  rejects('81 a1 61 c1', /reserved/);
});

test(`nesting deeper than ${MAX_DEPTH} throws MsgpackError`, () => {
  assert.doesNotThrow(() => decodeMsgpack(bytes('91'.repeat(MAX_DEPTH) + '00')));
  rejects('91'.repeat(MAX_DEPTH + 1) + '00', /nesting deeper than 100/);
  rejects('81 a1 61'.repeat(MAX_DEPTH + 1) + '00', /nesting deeper than 100/);
  // A hostile input of a million nested arrays fails fast without exhausting the stack.
  rejects(new Uint8Array(1_000_000).fill(0x91), /nesting deeper/);
});

test('ext types are refused with a clear error', () => {
  rejects('d4 01 00', /ext types are not supported \(format 0xd4, type 1/);
  rejects('d5 02 00 00', /ext types/);
  rejects('d6 ff 00 00 00 00', /ext types are not supported \(format 0xd6, type -1/); // timestamp 32
  rejects('d7 ff 00 00 00 00 00 00 00 00', /ext types/);
  rejects('d8 05' + '00'.repeat(16), /ext types/);
  rejects('c7 01 05 00', /format 0xc7, type 5/);
  rejects('c8 00 01 05 00', /format 0xc8, type 5/);
  rejects('c9 00 00 00 01 05 00', /format 0xc9, type 5/);
  rejects('c7', /ext types/);
});

test('map keys that are not strings throw MsgpackError', () => {
  rejects('81 01 01', /map key at offset 1 is not a string \(format 0x01\)/);
  rejects('81 c0 01', /not a string/);
  rejects('81 c4 01 61 01', /not a string \(format 0xc4\)/);
  rejects('81 90 01', /not a string/);
});

test('invalid UTF-8 in str throws MsgpackError', () => {
  rejects('a1 ff', /invalid UTF-8/);
  rejects('a2 c3 28', /invalid UTF-8/);
  rejects('a3 ed a0 80', /invalid UTF-8/); // an encoded surrogate
  rejects('81 a1 80 01', /invalid UTF-8/);
});

test('hostile declared lengths are refused before allocating', () => {
  const hostile = [
    ['db ff ff ff ff 61 62 63', /str length 4294967295 exceeds the 3 byte\(s\) left/],
    ['c6 ff ff ff ff 01 02 03', /bin length 4294967295 exceeds the 3 byte\(s\) left/],
    ['dd ff ff ff ff 01 02 03', /array length 4294967295 exceeds/],
    ['df ff ff ff ff 01 02 03', /map length 4294967295 exceeds/],
    ['da ff ff 61', /str length 65535 exceeds/],
    ['c5 ff ff 61', /bin length 65535 exceeds/],
    ['dc ff ff 01', /array length 65535 exceeds/],
    ['de 00 02 a1 61 01', /map length 2 exceeds the 3 byte/],
    ['c4 05 01', /bin length 5 exceeds/],
  ] as const;
  const before = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  for (const [h, re] of hostile) rejects(h, re);
  // Allocating 4 GB would either fail with a RangeError (not a MsgpackError, caught
  // above) or show up here and take time.
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  assert.ok(performance.now() - started < 500);
});

test('every error is a MsgpackError with its name set', () => {
  try {
    decodeMsgpack(bytes('c1'));
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof MsgpackError);
    assert.ok(err instanceof Error);
    assert.equal((err as Error).name, 'MsgpackError');
  }
});

// --- properties --------------------------------------------------------------------

const noNegZero = (d: number) => (Object.is(d, -0) ? 0 : d);
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.double().map(noNegZero),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', minLength: 30, maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
);
const { value: valueArb } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 20 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' })), tie('value'), { maxKeys: 20, noNullPrototype: true }),
}));

test('property: decode(encode(x)) deep-equals x for JSON-like values with binary', () => {
  fc.assert(
    fc.property(valueArb, (v) => {
      assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(v)), v);
    }),
    { numRuns: 500 },
  );
});

test('property: decode(encode(x)) deep-equals x for fc.jsonValue', () => {
  fc.assert(
    fc.property(fc.jsonValue({ stringUnit: 'grapheme' }), (v) => {
      assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(v)), v);
    }),
    { numRuns: 300 },
  );
});

test('property: bigints round trip, as numbers when safe', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (b) => {
      const back = decodeMsgpack(encodeMsgpack(b));
      const safe = b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER);
      assert.deepStrictEqual(back, safe ? Number(b) : b);
    }),
  );
});

test('property: integers use the shortest form', () => {
  const size = (n: number) =>
    n >= 0
      ? n < 128 ? 1 : n < 2 ** 8 ? 2 : n < 2 ** 16 ? 3 : n < 2 ** 32 ? 5 : 9
      : n >= -32 ? 1 : n >= -(2 ** 7) ? 2 : n >= -(2 ** 15) ? 3 : n >= -(2 ** 31) ? 5 : 9;
  const ints = fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -70000, max: 70000 }), fc.integer({ min: -40, max: 300 }));
  fc.assert(
    fc.property(ints, (n) => {
      const enc = encodeMsgpack(n);
      assert.equal(enc.length, size(n));
      assert.equal(decodeMsgpack(enc), n);
    }),
    { numRuns: 1000 },
  );
});

test('property: strings round trip and use the shortest header', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ maxLength: 400 })), (s) => {
      const enc = encodeMsgpack(s);
      const n = Buffer.byteLength(s);
      assert.equal(enc.length - n, n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
      assert.equal(decodeMsgpack(enc), s);
    }),
    { numRuns: 500 },
  );
});

test('property: every strict prefix of an encoding is refused as truncated', () => {
  fc.assert(
    fc.property(valueArb, (v) => {
      const enc = encodeMsgpack(v);
      const cut = Math.floor(enc.length / 2);
      assert.throws(() => decodeMsgpack(enc.subarray(0, cut)), MsgpackError);
      assert.throws(() => decodeMsgpack(enc.subarray(0, enc.length - 1)), MsgpackError);
    }),
    { numRuns: 200 },
  );
});

test('property: random bytes either decode or throw MsgpackError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        decodeMsgpack(b);
      } catch (err) {
        assert.ok(err instanceof MsgpackError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});

// --- the encoder's shared slab and the decoder's key cache -----------------------

test('encodings from one slab stay as they were when later messages are encoded', () => {
  const first = encodeMsgpack({ a: 1, s: 'first' });
  const copy = first.slice();
  const others = Array.from({ length: 2000 }, (_, i) => encodeMsgpack([i, 'x'.repeat(i % 50)]));
  assert.deepStrictEqual(first, copy);
  others.forEach((b, i) => assert.deepStrictEqual(decodeMsgpack(b), [i, 'x'.repeat(i % 50)]));
  // Each result is its own region: writing into one leaves the next one alone.
  const a = encodeMsgpack([1, 2, 3]);
  const b = encodeMsgpack([4, 5, 6]);
  a.fill(0);
  assert.deepStrictEqual(decodeMsgpack(b), [4, 5, 6]);
});

test('a message larger than the slab, and the messages after it, encode whole', () => {
  const big = { blob: new Uint8Array(100_000).fill(7), s: 'é'.repeat(20_000) };
  const before = encodeMsgpack('before');
  const enc = encodeMsgpack(big);
  const after = encodeMsgpack({ after: true });
  assert.deepStrictEqual(decodeMsgpack(enc), big);
  assert.equal(decodeMsgpack(before), 'before');
  assert.deepStrictEqual(decodeMsgpack(after), { after: true });
});

test('a value that fails half way leaves nothing behind for the next encoding', () => {
  assert.throws(() => encodeMsgpack({ ok: 'x'.repeat(300), bad: new Map() }), MsgpackError);
  assert.equal(hex(encodeMsgpack([1, 'a'])), '9201a161');
});

test('a getter that encodes while its object is being encoded gets its own buffer', () => {
  const inner = { get nested() { return encodeMsgpack(['inner', 1]); } };
  const enc = encodeMsgpack({ before: 'b', inner, after: 'a' });
  assert.deepStrictEqual(decodeMsgpack(enc), { before: 'b', inner: { nested: encodeMsgpack(['inner', 1]) }, after: 'a' });
});

test('map keys decoded through the key cache: same key same string, colliding and invalid keys decode right', () => {
  // Many distinct short keys (more than the cache holds) in one map, twice: hits and collisions.
  const keys = Array.from({ length: 3000 }, (_, i) => `k${i.toString(36)}`);
  const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
  assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(obj)), obj);
  assert.deepStrictEqual(decodeMsgpack(encodeMsgpack(obj)), obj);
  // Keys of the same length that land in the same cache slot ('bA' and 'a`' hash alike): never confused.
  assert.deepStrictEqual(decodeMsgpack(bytes('82 a2 6241 01 a2 6160 02')), { bA: 1, 'a`': 2 });
  assert.deepStrictEqual(decodeMsgpack(bytes('82 a2 6160 01 a2 6241 02')), { 'a`': 1, bA: 2 });
  // A cached key and a key that is invalid UTF-8 of the same length: the invalid one is refused every time.
  decodeMsgpack(bytes('81 a2 c3a9 01'));
  rejects('81 a2 c328 01', /invalid UTF-8/);
  rejects('81 a2 c328 01', /invalid UTF-8/);
  // A key at the end of truncated input is refused, not read from the cache.
  decodeMsgpack(bytes('81 a3 616263 01'));
  rejects('81 a3 6162', /truncated|exceeds/);
  // __proto__ through the cache is still an own property.
  decodeMsgpack(bytes('81 a9 5f5f70726f746f5f5f 01'));
  const p = decodeMsgpack(bytes('81 a9 5f5f70726f746f5f5f 01')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(p, '__proto__')?.value, 1);
});
