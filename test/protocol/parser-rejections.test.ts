import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/index.js';
import { BIG_MAX, KEY, Recorder, assertFailed, cframe, frame } from './_harness.js';

const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const TOO_BIG = 1009;

/** Server (expects masked frames) fed `bytes` whole and one byte at a time; both must fail with `code`. */
function expectFailure(bytes: Buffer, code: number, role: 'server' | 'client' = 'server', maxPayload?: number): Recorder {
  const whole = new Recorder(role, maxPayload).feed(bytes);
  assertFailed(whole, code);
  const byByte = new Recorder(role, maxPayload);
  for (const b of bytes) byByte.feed(Buffer.from([b]));
  assertFailed(byByte, code);
  // Later bytes, even a valid message, produce no events and no transmissions.
  const later = role === 'server' ? cframe(Opcode.Text, 'after') : frame(Opcode.Text, 'after');
  for (const r of [whole, byByte]) {
    const events = r.events.length;
    const sent = r.sent.length;
    r.feed(later, cframe(Opcode.Ping, 'p'), frame(Opcode.Ping, 'p'));
    assert.equal(r.events.length, events, 'no events after a failure');
    assert.equal(r.sent.length, sent, 'nothing transmitted after a failure');
  }
  return whole;
}

test('an unmasked frame at the server is a protocol error', () => {
  expectFailure(frame(Opcode.Text, 'Hello'), PROTOCOL_ERROR, 'server');
  expectFailure(frame(Opcode.Ping), PROTOCOL_ERROR, 'server');
});

test('a masked frame at the client is a protocol error', () => {
  expectFailure(cframe(Opcode.Text, 'Hello'), PROTOCOL_ERROR, 'client');
  expectFailure(cframe(Opcode.Close, Buffer.from([0x03, 0xe8])), PROTOCOL_ERROR, 'client');
});

test('the failure is reported from the first two header bytes alone', () => {
  const r = new Recorder('server').feed(Buffer.from([0x81, 0x05]));
  assertFailed(r, PROTOCOL_ERROR);
});

test('RSV bits without a negotiated extension are a protocol error', () => {
  for (const rsv of [1, 2, 4, 3, 7]) {
    expectFailure(cframe(Opcode.Text, 'x', { rsv }), PROTOCOL_ERROR);
    expectFailure(cframe(Opcode.Binary, 'x', { rsv }), PROTOCOL_ERROR);
    expectFailure(cframe(Opcode.Ping, 'x', { rsv }), PROTOCOL_ERROR);
  }
  // On a continuation frame too.
  expectFailure(Buffer.concat([cframe(Opcode.Text, 'a', { fin: false }), cframe(Opcode.Continuation, 'b', { rsv: 4 })]), PROTOCOL_ERROR);
});

test('reserved opcodes 3-7 and 0xB-0xF are a protocol error', () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    expectFailure(cframe(op, 'x'), PROTOCOL_ERROR);
    expectFailure(cframe(op), PROTOCOL_ERROR);
    expectFailure(frame(op, 'x'), PROTOCOL_ERROR, 'client');
  }
});

test('a control frame over 125 bytes is a protocol error', () => {
  for (const op of [Opcode.Ping, Opcode.Pong, Opcode.Close]) {
    expectFailure(cframe(op, Buffer.alloc(126)), PROTOCOL_ERROR);
    // Refused from the header: the announced length alone decides.
    const r = new Recorder('server').feed(Buffer.from([0x80 | op, 0x80 | 126, 0x00]));
    assertFailed(r, PROTOCOL_ERROR);
  }
  // 125 is fine.
  const ok = new Recorder('server').feed(cframe(Opcode.Ping, Buffer.alloc(125, 1)));
  assert.equal(ok.events.length, 1);
  assert.equal(ok.events[0]!.type, 'ping');
});

test('a fragmented control frame is a protocol error', () => {
  for (const op of [Opcode.Ping, Opcode.Pong, Opcode.Close]) {
    expectFailure(cframe(op, 'x', { fin: false }), PROTOCOL_ERROR);
  }
});

test('a continuation frame without a message is a protocol error', () => {
  expectFailure(cframe(Opcode.Continuation, 'x'), PROTOCOL_ERROR);
  expectFailure(cframe(Opcode.Continuation, 'x', { fin: false }), PROTOCOL_ERROR);
  // After a complete message too.
  const r = new Recorder('server').feed(cframe(Opcode.Text, 'a', { fin: false }), cframe(Opcode.Continuation, 'b'));
  assert.deepEqual(r.events, [{ type: 'message', data: 'ab', binary: false }]);
  r.feed(cframe(Opcode.Continuation, 'c'));
  assert.equal(r.failures().length, 1);
  assert.equal((r.failures()[0] as { code: number }).code, PROTOCOL_ERROR);
});

test('a new data frame inside a fragmented message is a protocol error', () => {
  for (const first of [Opcode.Text, Opcode.Binary]) {
    for (const second of [Opcode.Text, Opcode.Binary]) {
      expectFailure(Buffer.concat([cframe(first, 'a', { fin: false }), cframe(second, 'b')]), PROTOCOL_ERROR);
      expectFailure(Buffer.concat([cframe(first, 'a', { fin: false }), cframe(Opcode.Continuation, 'b', { fin: false }), cframe(second, 'c', { fin: false })]), PROTOCOL_ERROR);
    }
  }
});

test('a message over maxPayload is refused from the header, before the payload arrives (1009)', () => {
  const max = 1000;
  // Exactly maxPayload is fine.
  const ok = new Recorder('server', max).feed(cframe(Opcode.Binary, Buffer.alloc(max, 7)));
  assert.equal(ok.events.length, 1);
  assert.equal(ok.events[0]!.type, 'message');
  // One more byte: the 8-byte header (16-bit length and mask key) is enough to refuse it.
  const header = cframe(Opcode.Binary, Buffer.alloc(max + 1)).subarray(0, 8);
  const r = new Recorder('server', max).feed(header);
  assertFailed(r, TOO_BIG);
  // 64-bit lengths, announced but never sent.
  for (const len of [70000, 2 ** 32, 2 ** 40, 2 ** 53 - 1, 2 ** 62]) {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    const r2 = new Recorder('server', max).feed(Buffer.concat([Buffer.from([0x82, 0xff]), big, KEY]));
    assertFailed(r2, TOO_BIG);
  }
  expectFailure(cframe(Opcode.Text, 'x'.repeat(max + 1)), TOO_BIG, 'server', max);
});

test('a fragmented message whose total exceeds maxPayload is refused at the header of the fragment that crosses it', () => {
  const max = 1000;
  const r = new Recorder('server', max).feed(
    cframe(Opcode.Binary, Buffer.alloc(400), { fin: false }),
    cframe(Opcode.Continuation, Buffer.alloc(400), { fin: false }),
  );
  assert.deepEqual(r.events, []);
  // 400 + 400 + 201 > 1000: the 8-byte header alone fails it.
  r.feed(cframe(Opcode.Continuation, Buffer.alloc(201)).subarray(0, 8));
  assertFailed(r, TOO_BIG);
  // 400 + 400 + 200 = 1000 is delivered.
  const ok = new Recorder('server', max).feed(
    cframe(Opcode.Text, 'a'.repeat(400), { fin: false }),
    cframe(Opcode.Continuation, 'b'.repeat(400), { fin: false }),
    cframe(Opcode.Continuation, 'c'.repeat(200)),
  );
  assert.deepEqual(ok.events, [{ type: 'message', data: 'a'.repeat(400) + 'b'.repeat(400) + 'c'.repeat(200), binary: false }]);
  // Control frames do not count towards the message.
  const ctl = new Recorder('server', max).feed(
    cframe(Opcode.Binary, Buffer.alloc(990), { fin: false }),
    cframe(Opcode.Ping, Buffer.alloc(100)),
    cframe(Opcode.Continuation, Buffer.alloc(10)),
  );
  assert.deepEqual(ctl.events.map((e) => e.type), ['ping', 'message']);
  expectFailure(
    Buffer.concat([cframe(Opcode.Text, 'a'.repeat(600), { fin: false }), cframe(Opcode.Continuation, 'b'.repeat(401))]),
    TOO_BIG,
    'server',
    max,
  );
});

test('the maxPayload count starts afresh for each message', () => {
  const max = 100;
  const r = new Recorder('server', max);
  for (let i = 0; i < 5; i++) {
    r.feed(cframe(Opcode.Binary, Buffer.alloc(60), { fin: false }), cframe(Opcode.Continuation, Buffer.alloc(40)));
    r.feed(cframe(Opcode.Text, 'z'.repeat(100)));
  }
  assert.equal(r.events.length, 10);
  assert.equal(r.failures().length, 0);
});

test('invalid UTF-8 in a text message is refused (1007)', () => {
  for (const bad of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
    expectFailure(cframe(Opcode.Text, Buffer.from([0x41, ...bad])), INVALID_PAYLOAD);
    expectFailure(cframe(Opcode.Text, Buffer.from(bad)), INVALID_PAYLOAD);
  }
  // A message ending in the middle of a sequence.
  expectFailure(Buffer.concat([cframe(Opcode.Text, Buffer.from([0x41, 0xe2]), { fin: false }), cframe(Opcode.Continuation, Buffer.from([0x82]))]), INVALID_PAYLOAD);
  // Binary messages are not checked.
  const r = new Recorder('server').feed(cframe(Opcode.Binary, Buffer.from([0xff, 0xc0])));
  assert.equal(r.events.length, 1);
});

test('invalid UTF-8 is detected mid-frame, before the frame is complete', () => {
  // A 100-byte text frame whose 11th byte is invalid; only 20 bytes of payload arrive.
  const payload = Buffer.alloc(100, 0x61);
  payload[10] = 0xff;
  const f = cframe(Opcode.Text, payload);
  const r = new Recorder('server').feed(f.subarray(0, 6 + 20));
  assertFailed(r, INVALID_PAYLOAD);
  // A sequence that is invalid at its second byte, truncated there.
  const p2 = Buffer.concat([Buffer.from('abc'), Buffer.from([0xe0, 0x80]), Buffer.alloc(50, 0x61)]);
  const r2 = new Recorder('server').feed(cframe(Opcode.Text, p2).subarray(0, 6 + 5));
  assertFailed(r2, INVALID_PAYLOAD);
  // Byte by byte: the failure comes exactly with the offending byte.
  const f3 = cframe(Opcode.Text, p2);
  const r3 = new Recorder('server');
  for (let i = 0; i < 6 + 4; i++) r3.feed(f3.subarray(i, i + 1));
  assert.equal(r3.events.length, 0, 'E0 alone may still start a valid sequence');
  r3.feed(f3.subarray(10, 11));
  assertFailed(r3, INVALID_PAYLOAD);
});

test('invalid UTF-8 is detected across fragment boundaries, before the message ends', () => {
  // "€" is E2 82 AC: split across fragments it is fine.
  const ok = new Recorder('server').feed(
    cframe(Opcode.Text, Buffer.from([0x61, 0xe2]), { fin: false }),
    cframe(Opcode.Continuation, Buffer.from([0x82]), { fin: false }),
    cframe(Opcode.Continuation, Buffer.from([0xac, 0x62])),
  );
  assert.deepEqual(ok.events, [{ type: 'message', data: 'a€b', binary: false }]);
  // E2 then 0x28 in the next (non-final) fragment: refused at that fragment.
  const r = new Recorder('server').feed(
    cframe(Opcode.Text, Buffer.from([0x61, 0xe2]), { fin: false }),
    cframe(Opcode.Continuation, Buffer.from([0x28]), { fin: false }),
  );
  assertFailed(r, INVALID_PAYLOAD);
  // The first fragment alone is invalid: refused before any continuation arrives.
  const r2 = new Recorder('server').feed(cframe(Opcode.Text, Buffer.from([0x61, 0xf5]), { fin: false }));
  assertFailed(r2, INVALID_PAYLOAD);
  // A fragment that is partly received and invalid so far.
  // F0 9F then 80 completes nothing yet; 0x61 where the last continuation byte belongs fails.
  const f = cframe(Opcode.Continuation, Buffer.from([0x80, 0x61, 0x61, 0x61, 0x61, 0x61]), { fin: false });
  const r3 = new Recorder('server').feed(cframe(Opcode.Text, Buffer.from([0xf0, 0x9f]), { fin: false }), f.subarray(0, 6 + 2));
  assertFailed(r3, INVALID_PAYLOAD);
});

test('a close frame with a 1-byte payload is a protocol error', () => {
  expectFailure(cframe(Opcode.Close, Buffer.from([0x03])), PROTOCOL_ERROR);
});

test('invalid close codes are a protocol error', () => {
  for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    const r = expectFailure(cframe(Opcode.Close, p), PROTOCOL_ERROR);
    assert.equal(r.closeReceived, false, `code ${code}`);
  }
});

test('valid close codes are accepted and echoed', () => {
  const codes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  for (const code of codes) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    for (const role of ['server', 'client'] as const) {
      const bytes = role === 'server' ? cframe(Opcode.Close, Buffer.concat([p, Buffer.from('bye ✓')])) : frame(Opcode.Close, Buffer.concat([p, Buffer.from('bye ✓')]));
      const r = new Recorder(role).feed(bytes);
      assert.deepEqual(r.events, [{ type: 'close', code, reason: 'bye ✓' }], `code ${code}`);
      const sent = r.sentFrames();
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.opcode, Opcode.Close);
      assert.equal(sent[0]!.payload.readUInt16BE(0), code, 'the code is echoed');
      assert.equal(r.closeCode, code);
      assert.equal(r.closeReason, 'bye ✓');
    }
  }
});

test('a close reason that is not UTF-8 is refused (1007)', () => {
  expectFailure(cframe(Opcode.Close, Buffer.from([0x03, 0xe8, 0x61, 0xff])), INVALID_PAYLOAD);
  expectFailure(cframe(Opcode.Close, Buffer.from([0x03, 0xe8, 0xe2, 0x82])), INVALID_PAYLOAD);
  expectFailure(cframe(Opcode.Close, Buffer.from([0x03, 0xe8, 0xed, 0xa0, 0x80])), INVALID_PAYLOAD);
});

test('a 64-bit length with the most significant bit set is a protocol error', () => {
  for (const raw of ['8000000000000000', 'ffffffffffffffff', '8000000000000005']) {
    const r = new Recorder('server').feed(Buffer.concat([Buffer.from([0x82, 0xff]), Buffer.from(raw, 'hex'), KEY]));
    assertFailed(r, PROTOCOL_ERROR);
    const r2 = new Recorder('client').feed(frame(Opcode.Binary, 'abc', { rawLength64: Buffer.from(raw, 'hex') }));
    assertFailed(r2, PROTOCOL_ERROR);
  }
});

test('after a failure nothing more is parsed, even in the same chunk', () => {
  const r = new Recorder('server').feed(
    Buffer.concat([cframe(Opcode.Text, 'ok'), cframe(Opcode.Text, Buffer.from([0xff])), cframe(Opcode.Text, 'after'), cframe(Opcode.Ping, 'p')]),
  );
  assert.deepEqual(r.events.map((e) => e.type), ['message', 'failure']);
  assert.deepEqual(r.events[0], { type: 'message', data: 'ok', binary: false });
  assertFailed(r, INVALID_PAYLOAD);
});

test('a 4 MiB message in 64-byte fragments (65,536 frames, over the default maxFragments) is delivered intact with maxFragments 65,536', () => {
  const total = 4 * 1024 * 1024;
  const data = Buffer.alloc(total);
  for (let i = 0; i < total; i++) data[i] = (i * 131 + (i >>> 9)) & 0xff;
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < total; pos += 64) {
    chunks.push(cframe(pos === 0 ? Opcode.Binary : Opcode.Continuation, data.subarray(pos, pos + 64), { fin: pos + 64 >= total }));
  }
  const r = new Recorder('server', 8 * 1024 * 1024, 65_536);
  // Fed in chunks of ~100 KB that do not line up with frame boundaries.
  const stream = Buffer.concat(chunks);
  for (let pos = 0; pos < stream.length; pos += 100_003) r.receive(stream.subarray(pos, pos + 100_003));
  assert.equal(r.events.length, 1);
  const e = r.events[0]!;
  assert.ok(e.type === 'message' && e.binary);
  assert.ok(data.equals(e.data as Buffer), '4 MiB delivered intact');
});

test('maxFragments: a message in exactly that many frames is delivered; one more frame is refused (1009) at its header', () => {
  const ok = new Recorder('server', BIG_MAX, 4);
  ok.feed(Buffer.concat([cframe(Opcode.Text, 'a', { fin: false }), cframe(Opcode.Continuation, 'b', { fin: false }), cframe(Opcode.Continuation, 'c', { fin: false }), cframe(Opcode.Continuation, 'd')]));
  assert.deepEqual(ok.events, [{ type: 'message', data: 'abcd', binary: false }]);
  // The count starts again with each message.
  ok.feed(Buffer.concat([cframe(Opcode.Binary, 'e', { fin: false }), cframe(Opcode.Continuation, 'f', { fin: false }), cframe(Opcode.Continuation, 'g', { fin: false }), cframe(Opcode.Continuation, 'h')]));
  assert.equal(ok.events.length, 2);
  const over = new Recorder('server', BIG_MAX, 4);
  const fifth = cframe(Opcode.Continuation, 'e');
  over.feed(Buffer.concat([cframe(Opcode.Text, 'a', { fin: false }), ...['b', 'c', 'd'].map((x) => cframe(Opcode.Continuation, x, { fin: false })), fifth.subarray(0, 6)]));
  // Only the fifth frame's header (6 bytes with the mask key) has arrived, none of its payload.
  assertFailed(over, TOO_BIG);
  assert.deepEqual(over.events.at(-1), { type: 'failure', code: TOO_BIG, reason: 'too many fragments' });
});

test('a flood of empty continuation fragments is refused (1009)', () => {
  const r = new Recorder('server');
  const frames: Buffer[] = [cframe(Opcode.Binary, Buffer.alloc(0), { fin: false })];
  for (let i = 0; i < 20_000; i++) frames.push(cframe(Opcode.Continuation, Buffer.alloc(0), { fin: false }));
  r.feed(Buffer.concat(frames));
  assertFailed(r, TOO_BIG);
  // Also for 1-byte fragments.
  const r2 = new Recorder('server');
  const tiny: Buffer[] = [cframe(Opcode.Text, 'a', { fin: false })];
  for (let i = 0; i < 20_000; i++) tiny.push(cframe(Opcode.Continuation, 'a', { fin: false }));
  r2.feed(Buffer.concat(tiny));
  assertFailed(r2, TOO_BIG);
  // A few thousand empty fragments are tolerated.
  const r3 = new Recorder('server');
  const some: Buffer[] = [cframe(Opcode.Text, '', { fin: false })];
  for (let i = 0; i < 4000; i++) some.push(cframe(Opcode.Continuation, '', { fin: false }));
  some.push(cframe(Opcode.Continuation, 'end'));
  r3.feed(Buffer.concat(some));
  assert.deepEqual(r3.events, [{ type: 'message', data: 'end', binary: false }]);
});
