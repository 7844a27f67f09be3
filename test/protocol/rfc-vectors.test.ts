import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Opcode,
  encodeClosePayload,
  encodeFragments,
  encodeFrame,
  encodeTextFrame,
  headerLength,
  maskInto,
  writeHeader,
} from '../../src/protocol/index.js';
import { KEY, Recorder, flat, parseFrames } from './_harness.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 6455 §5.7 examples.
const UNMASKED_HELLO = hex('81 05 48 65 6c 6c 6f');
const MASKED_HELLO = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
const FRAG_HEL = hex('01 03 48 65 6c');
const FRAG_LO = hex('80 02 6c 6f');
const UNMASKED_PING = hex('89 05 48 65 6c 6c 6f');
const MASKED_PONG = hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58');

const payload256 = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7 + 3) & 0xff));
const payload64k = Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
const BIN256 = Buffer.concat([hex('82 7e 01 00'), payload256]);
const BIN64K = Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), payload64k]);

/** Feeds the bytes whole, then in one-byte chunks, then split at every position; all must agree. */
function parseAllWays(role: 'server' | 'client', bytes: Buffer[], check: (r: Recorder) => void): void {
  const whole = new Recorder(role).feed(Buffer.concat(bytes));
  check(whole);
  const byByte = new Recorder(role);
  for (const b of Buffer.concat(bytes)) byByte.feed(Buffer.from([b]));
  check(byByte);
  const all = Buffer.concat(bytes);
  const step = all.length > 1000 ? 997 : 1;
  for (let cut = 1; cut < all.length; cut += step) {
    const r = new Recorder(role).feed(all.subarray(0, cut), all.subarray(cut));
    check(r);
  }
}

test('§5.7 parse: single-frame unmasked text "Hello" (client side)', () => {
  parseAllWays('client', [UNMASKED_HELLO], (r) => {
    assert.deepEqual(r.events, [{ type: 'message', data: 'Hello', binary: false }]);
    assert.equal(r.sent.length, 0);
  });
});

test('§5.7 parse: single-frame masked text "Hello" (server side)', () => {
  parseAllWays('server', [MASKED_HELLO], (r) => {
    assert.deepEqual(r.events, [{ type: 'message', data: 'Hello', binary: false }]);
    assert.equal(r.sent.length, 0);
  });
});

test('§5.7 parse: fragmented unmasked text "Hel" + "lo"', () => {
  parseAllWays('client', [FRAG_HEL, FRAG_LO], (r) => {
    assert.deepEqual(r.events, [{ type: 'message', data: 'Hello', binary: false }]);
  });
  // Nothing is delivered before the final fragment.
  const r = new Recorder('client').feed(FRAG_HEL);
  assert.deepEqual(r.events, []);
  r.feed(FRAG_LO);
  assert.deepEqual(r.events, [{ type: 'message', data: 'Hello', binary: false }]);
});

test('§5.7 parse: unmasked ping "Hello" is reported and answered with a masked pong "Hello"', () => {
  parseAllWays('client', [UNMASKED_PING], (r) => {
    assert.deepEqual(r.events, [{ type: 'ping', payload: Buffer.from('Hello') }]);
    const frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Pong);
    assert.equal(frames[0]!.fin, true);
    assert.equal(frames[0]!.masked, true);
    assert.deepEqual(frames[0]!.payload, Buffer.from('Hello'));
  });
});

test('§5.7 parse: masked pong "Hello" (server side)', () => {
  parseAllWays('server', [MASKED_PONG], (r) => {
    assert.deepEqual(r.events, [{ type: 'pong', payload: Buffer.from('Hello') }]);
    assert.equal(r.sent.length, 0, 'a pong is not answered');
  });
});

test('§5.7 parse: 256-byte unmasked binary with a 16-bit length', () => {
  parseAllWays('client', [BIN256], (r) => {
    assert.deepEqual(r.events, [{ type: 'message', data: payload256, binary: true }]);
  });
});

test('§5.7 parse: 64 KiB unmasked binary with a 64-bit length', () => {
  parseAllWays('client', [BIN64K], (r) => {
    assert.equal(r.events.length, 1);
    const e = r.events[0]!;
    assert.equal(e.type, 'message');
    assert.ok(e.type === 'message' && e.binary && Buffer.isBuffer(e.data));
    assert.ok(e.type === 'message' && payload64k.equals(e.data as Buffer));
  });
});

test('§5.7 parse: the masked 256-byte and 64 KiB forms at the server side', () => {
  for (const [payload, head] of [
    [payload256, hex('82 fe 01 00')],
    [payload64k, hex('82 ff 00 00 00 00 00 01 00 00')],
  ] as const) {
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= KEY[i & 3]!;
    parseAllWays('server', [head, KEY, masked], (r) => {
      assert.equal(r.events.length, 1);
      const e = r.events[0]!;
      assert.ok(e.type === 'message' && e.binary && payload.equals(e.data as Buffer));
    });
  }
});

test('§5.7 serialize: unmasked text "Hello"', () => {
  assert.deepEqual(encodeTextFrame('Hello', false), UNMASKED_HELLO);
  assert.deepEqual(flat(encodeFrame(Opcode.Text, Buffer.from('Hello'), true, false, false)), UNMASKED_HELLO);
});

test('§5.7 serialize: masked text "Hello" with the RFC key gives the RFC bytes', () => {
  const payload = Buffer.from('Hello');
  const buf = Buffer.alloc(headerLength(payload.length, true) + payload.length);
  const off = writeHeader(buf, Opcode.Text, payload.length, true, false, KEY);
  assert.equal(off, 6);
  maskInto(payload, buf, off, KEY);
  assert.deepEqual(buf, MASKED_HELLO);
});

test('§5.7 serialize: masked frames carry their key in the header and unmask to the payload', () => {
  for (const produce of [
    () => encodeTextFrame('Hello', true),
    () => flat(encodeFrame(Opcode.Text, Buffer.from('Hello'), true, false, true)),
  ]) {
    const f = produce();
    assert.equal(f.length, 11);
    assert.equal(f[0], 0x81);
    assert.equal(f[1], 0x85);
    const key = f.subarray(2, 6);
    const p = Buffer.from(f.subarray(6));
    for (let i = 0; i < p.length; i++) p[i]! ^= key[i & 3]!;
    assert.equal(p.toString(), 'Hello');
  }
  // A masked pong "Hello": same shape as the RFC's, with whatever key was chosen.
  const pong = flat(encodeFrame(Opcode.Pong, Buffer.from('Hello'), true, false, true));
  const { frames, rest } = parseFrames(pong);
  assert.equal(rest.length, 0);
  assert.equal(pong[0], 0x8a);
  assert.equal(pong[1], 0x85);
  assert.deepEqual(frames[0]!.key, pong.subarray(2, 6));
  assert.deepEqual(frames[0]!.payload, Buffer.from('Hello'));
  // Masked with the RFC key, the pong matches the RFC bytes exactly.
  const buf = Buffer.alloc(11);
  maskInto(Buffer.from('Hello'), buf, writeHeader(buf, Opcode.Pong, 5, true, false, KEY), KEY);
  assert.deepEqual(buf, MASKED_PONG);
});

test('§5.7 serialize: masked keys differ between frames', () => {
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) keys.add(encodeTextFrame('x', true).subarray(2, 6).toString('hex'));
  assert.ok(keys.size > 40, `only ${keys.size} distinct keys in 50 frames`);
});

test('§5.7 serialize: fragmented "Hel" + "lo"', () => {
  assert.deepEqual(flat(encodeFrame(Opcode.Text, Buffer.from('Hel'), false, false, false)), FRAG_HEL);
  assert.deepEqual(flat(encodeFrame(Opcode.Continuation, Buffer.from('lo'), true, false, false)), FRAG_LO);
  const parts = encodeFragments(Opcode.Text, Buffer.from('Hello'), 3, false);
  assert.equal(parts.length, 2);
  assert.deepEqual(Buffer.from(parts[0]!), FRAG_HEL);
  assert.deepEqual(Buffer.from(parts[1]!), FRAG_LO);
});

test('§5.7 serialize: unmasked ping "Hello"', () => {
  assert.deepEqual(flat(encodeFrame(Opcode.Ping, Buffer.from('Hello'), true, false, false)), UNMASKED_PING);
});

test('§5.7 serialize: 256-byte binary and 64 KiB binary', () => {
  assert.deepEqual(flat(encodeFrame(Opcode.Binary, payload256, true, false, false)), BIN256);
  const big = encodeFrame(Opcode.Binary, payload64k, true, false, false);
  assert.deepEqual(flat(big), BIN64K);
  // Masked forms: the same headers with the mask bit, then key and masked payload.
  for (const [payload, head] of [
    [payload256, hex('82 fe 01 00')],
    [payload64k, hex('82 ff 00 00 00 00 00 01 00 00')],
  ] as const) {
    const f = flat(encodeFrame(Opcode.Binary, payload, true, false, true));
    assert.deepEqual(f.subarray(0, head.length), head);
    const { frames, rest } = parseFrames(f);
    assert.equal(rest.length, 0);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.payload.equals(payload));
  }
});

test('header length boundaries: 125/126/65535/65536 bytes', () => {
  const cases: Array<[number, string]> = [
    [0, '8200'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
  ];
  for (const [n, head] of cases) {
    const f = flat(encodeFrame(Opcode.Binary, Buffer.alloc(n, 0xab), true, false, false));
    assert.equal(f.subarray(0, head.length / 2).toString('hex'), head, `length ${n}`);
    assert.equal(f.length, head.length / 2 + n);
    assert.equal(headerLength(n, false), head.length / 2);
    assert.equal(headerLength(n, true), head.length / 2 + 4);
  }
  // RSV1 and FIN flags in the first byte.
  assert.equal(flat(encodeFrame(Opcode.Binary, Buffer.alloc(1), false, true, false))[0], 0x42);
  // A 2^32 + 5 byte length is written in 64 bits (header only, no payload allocated).
  const h = Buffer.alloc(10);
  writeHeader(h, Opcode.Binary, 2 ** 32 + 5, true, false, null);
  assert.equal(h.toString('hex'), '827f0000000100000005');
});

test('close payloads: code and UTF-8 reason, or empty', () => {
  assert.deepEqual(encodeClosePayload(1000, ''), hex('03 e8'));
  assert.deepEqual(encodeClosePayload(4001, 'bye é'), Buffer.concat([hex('0f a1'), Buffer.from('bye é')]));
  assert.deepEqual(encodeClosePayload(undefined, 'ignored'), Buffer.alloc(0));
});

test('sendText/sendBinary of a server produce the RFC unmasked bytes', () => {
  const r = new Recorder('server');
  assert.equal(r.sendText('Hello'), true);
  assert.deepEqual(Buffer.concat(r.sent), UNMASKED_HELLO);
  r.sent = [];
  r.sendBinary(payload64k);
  assert.deepEqual(Buffer.concat(r.sent), BIN64K);
  r.sent = [];
  r.sendFragmented(Buffer.from('Hello'), false, 3);
  assert.deepEqual(Buffer.concat(r.sent), Buffer.concat([FRAG_HEL, FRAG_LO]));
  r.sent = [];
  r.sendPing(Buffer.from('Hello'));
  assert.deepEqual(Buffer.concat(r.sent), UNMASKED_PING);
});
