import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError, codecForSubprotocol, codecs, jsonCodec, msgpackCodec, type Codec } from '../../src/realtime/wire/codec.js';
import { MsgpackError } from '../../src/realtime/wire/msgpack.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

const roundTrip = (c: Codec, m: unknown) => c.decode(c.encode(m));

test('codecs are found by subprotocol', () => {
  assert.equal(codecForSubprotocol('tether.v1.json'), jsonCodec);
  assert.equal(codecForSubprotocol('tether.v1.msgpack'), msgpackCodec);
  assert.equal(codecForSubprotocol('tether.v2.json'), undefined);
  assert.equal(codecForSubprotocol(''), undefined);
  assert.deepStrictEqual(
    codecs.map((c) => [c.name, c.subprotocol]),
    [
      ['msgpack', 'tether.v1.msgpack'],
      ['json', 'tether.v1.json'],
    ],
  );
});

test('json codec: text frames, binary carried as {"$bin": base64}', () => {
  const message = { type: 'put', key: 'k', data: new Uint8Array([1, 2, 255]), list: [Buffer.from('hi')] };
  const text = jsonCodec.encode(message);
  assert.equal(typeof text, 'string');
  assert.equal(text, '{"type":"put","key":"k","data":{"$bin":"AQL/"},"list":[{"$bin":"aGk="}]}');
  const back = jsonCodec.decode(text) as typeof message;
  assert.deepStrictEqual(back, { type: 'put', key: 'k', data: new Uint8Array([1, 2, 255]), list: [new Uint8Array([104, 105])] });
  // The decoded bytes are a Uint8Array that owns its memory (not a pooled Buffer).
  assert.equal(Object.getPrototypeOf(back.data), Uint8Array.prototype);
  assert.equal(back.data.byteOffset, 0);
  assert.equal(back.data.buffer.byteLength, 3);
  // ArrayBuffer, empty binary, and a subarray of a larger buffer.
  assert.equal(jsonCodec.encode(new Uint8Array([7]).buffer), '{"$bin":"Bw=="}');
  assert.deepStrictEqual(roundTrip(jsonCodec, new Uint8Array(0)), new Uint8Array(0));
  assert.equal(jsonCodec.encode(Buffer.from([0, 1, 2, 3]).subarray(1, 3)), '{"$bin":"AQI="}');
});

test('json codec: only an object whose single key is "$bin" with base64 is binary', () => {
  assert.deepStrictEqual(jsonCodec.decode('{"$bin":"AQI=","x":1}'), { $bin: 'AQI=', x: 1 });
  assert.deepStrictEqual(jsonCodec.decode('{"$bin":"not base64!"}'), { $bin: 'not base64!' });
  assert.deepStrictEqual(jsonCodec.decode('{"$bin":"abc"}'), { $bin: 'abc' });
  assert.deepStrictEqual(jsonCodec.decode('{"$bin":1}'), { $bin: 1 });
  assert.deepStrictEqual(jsonCodec.decode('{"$bin":""}'), new Uint8Array(0));
});

test('json codec: JSON.stringify rules otherwise; top-level undefined is null', () => {
  assert.equal(jsonCodec.encode(undefined), 'null');
  assert.equal(jsonCodec.encode({ a: undefined, b: [undefined] }), '{"b":[null]}');
  assert.throws(() => jsonCodec.encode(1n), TypeError);
});

test('json codec: accepts UTF-8 binary frames, rejects malformed input with CodecError', () => {
  assert.deepStrictEqual(jsonCodec.decode(new TextEncoder().encode('{"a":"é"}')), { a: 'é' });
  assert.throws(() => jsonCodec.decode('{'), (e: unknown) => e instanceof CodecError && e.cause instanceof SyntaxError);
  assert.throws(() => jsonCodec.decode(new Uint8Array([0x22, 0xff, 0x22])), CodecError);
});

test('msgpack codec: binary frames, binary carried natively', () => {
  const out = msgpackCodec.encode({ data: new Uint8Array([1, 2]) });
  assert.ok(out instanceof Uint8Array);
  assert.equal(Buffer.from(out).toString('hex'), '81a464617461c4020102');
  assert.throws(() => msgpackCodec.decode('text'), (e: unknown) => e instanceof CodecError && /binary frame/.test(e.message));
  assert.throws(() => msgpackCodec.decode(new Uint8Array([0xc1])), (e: unknown) => e instanceof CodecError && e.cause instanceof MsgpackError);
  assert.throws(() => msgpackCodec.encode(new Map()), MsgpackError);
});

// JSON-like values plus binary, without the values the two codecs treat differently
// by design (-0, NaN, ±Infinity, undefined, bigint, objects made only of "$bin").
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.uint8Array({ maxLength: 100 }),
);
const { value: messageArb } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 10 }),
  object: fc.dictionary(fc.string().filter((k) => k !== '$bin'), tie('value'), { maxKeys: 10, noNullPrototype: true }),
}));

test('property: both codecs round trip messages with binary, and agree', () => {
  fc.assert(
    fc.property(messageArb, (m) => {
      const viaJson = roundTrip(jsonCodec, m);
      const viaMsgpack = roundTrip(msgpackCodec, m);
      assert.deepStrictEqual(viaJson, m);
      assert.deepStrictEqual(viaMsgpack, m);
      assert.deepStrictEqual(viaJson, viaMsgpack);
    }),
    { numRuns: 500 },
  );
});

test('property: both codecs agree on what fc.jsonValue gives (-0 aside)', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (m) => {
      // JSON writes -0 as 0; msgpack keeps it (see msgpack.ts).
      assert.deepStrictEqual(JSON.parse(JSON.stringify(roundTrip(msgpackCodec, m))), roundTrip(jsonCodec, m));
    }),
    { numRuns: 300 },
  );
});
