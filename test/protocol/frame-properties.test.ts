import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { Opcode, encodeFrame } from '../../src/protocol/index.js';
import { Recorder, flat, type RecordedEvent } from './_harness.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

/**
 * Property tests over whole streams: random sequences of messages (text, binary,
 * fragmented at random byte positions with pings in between, pongs, large frames) are
 * serialized with the frame writer, parsed, and compared with what was sent, whatever
 * the chunking of the stream.
 */

type Piece =
  | { kind: 'frag'; binary: boolean; data: Uint8Array; cuts: number[]; pings: Array<Uint8Array | null> }
  | { kind: 'text'; text: string; cuts: number[]; pings: Array<Uint8Array | null> }
  | { kind: 'sendText'; text: string }
  | { kind: 'sendFragmented'; data: Uint8Array; text: string; binary: boolean; size: number }
  | { kind: 'ping'; payload: Uint8Array }
  | { kind: 'pong'; payload: Uint8Array }
  | { kind: 'big'; size: number; seed: number; binary: boolean };

const controlPayload = fc.uint8Array({ maxLength: 125 });
const cutsArb = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 });
const pingsArb = fc.array(fc.option(controlPayload, { freq: 2 }), { maxLength: 6 });
const textArb = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ maxLength: 200 }));

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('frag' as const), binary: fc.constant(true), data: fc.uint8Array({ maxLength: 300 }), cuts: cutsArb, pings: pingsArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), text: textArb, cuts: cutsArb, pings: pingsArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sendText' as const), text: textArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('sendFragmented' as const),
      data: fc.uint8Array({ maxLength: 200 }),
      text: textArb,
      binary: fc.boolean(),
      size: fc.integer({ min: 1, max: 50 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ping' as const), payload: controlPayload }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pong' as const), payload: controlPayload }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('big' as const),
      size: fc.constantFrom(125, 126, 127, 1000, 65535, 65536, 70001),
      seed: fc.nat(255),
      binary: fc.boolean(),
    }),
  },
);

function cutPositions(length: number, cuts: number[]): number[] {
  return cuts.map((c) => Math.round((c / 1000) * length)).sort((a, b) => a - b);
}

function bigPayload(size: number, seed: number, binary: boolean): Buffer {
  const b = Buffer.alloc(size);
  // Text: ASCII letters; binary: every byte value.
  for (let i = 0; i < size; i++) b[i] = binary ? (i * 13 + seed) & 0xff : 0x61 + ((i + seed) % 26);
  return b;
}

interface Stream {
  bytes: Buffer;
  expected: RecordedEvent[];
  /** Payloads of the pongs the receiver must transmit, in order. */
  pongs: Buffer[];
}

/**
 * Serializes pieces as the peer of `receiverRole` would (masked when the receiver is a
 * server), partly through a ProtocolConnection's send methods, partly frame by frame.
 */
function serialize(pieces: Piece[], receiverRole: 'server' | 'client'): Stream {
  const masked = receiverRole === 'server';
  const sender = new Recorder(receiverRole === 'server' ? 'client' : 'server');
  const out: Buffer[] = [];
  const expected: RecordedEvent[] = [];
  const pongs: Buffer[] = [];
  const flushSender = () => {
    out.push(...sender.sent);
    sender.sent = [];
  };
  const ping = (payload: Uint8Array) => {
    out.push(flat(encodeFrame(Opcode.Ping, payload, true, false, masked)));
    expected.push({ type: 'ping', payload: Buffer.from(payload) });
    pongs.push(Buffer.from(payload));
  };
  const fragmented = (opcode: number, data: Uint8Array, cuts: number[], pings: Array<Uint8Array | null>) => {
    const positions = [...cutPositions(data.length, cuts), data.length];
    let start = 0;
    positions.forEach((end, i) => {
      const last = i === positions.length - 1;
      out.push(flat(encodeFrame(i === 0 ? opcode : Opcode.Continuation, data.subarray(start, end), last, false, masked)));
      const p = pings[i];
      if (!last && p) ping(p);
      start = end;
    });
  };
  for (const piece of pieces) {
    switch (piece.kind) {
      case 'frag':
        fragmented(Opcode.Binary, piece.data, piece.cuts, piece.pings);
        expected.push({ type: 'message', data: Buffer.from(piece.data), binary: true });
        break;
      case 'text': {
        const bytes = Buffer.from(piece.text);
        fragmented(Opcode.Text, bytes, piece.cuts, piece.pings);
        expected.push({ type: 'message', data: bytes.toString(), binary: false });
        break;
      }
      case 'sendText':
        assert.equal(sender.sendText(piece.text), true);
        flushSender();
        expected.push({ type: 'message', data: Buffer.from(piece.text).toString(), binary: false });
        break;
      case 'sendFragmented': {
        // Text is cut at byte positions, so fragments may split a character.
        const data = piece.binary ? Buffer.from(piece.data) : Buffer.from(piece.text);
        assert.equal(sender.sendFragmented(data, piece.binary, piece.size), true);
        flushSender();
        expected.push({ type: 'message', data: piece.binary ? data : data.toString(), binary: piece.binary });
        break;
      }
      case 'ping':
        ping(piece.payload);
        break;
      case 'pong':
        assert.equal(sender.sendPong(piece.payload), true);
        flushSender();
        expected.push({ type: 'pong', payload: Buffer.from(piece.payload) });
        break;
      case 'big': {
        const data = bigPayload(piece.size, piece.seed, piece.binary);
        if (piece.binary) sender.sendBinary(data);
        else sender.sendText(data.toString('latin1'));
        flushSender();
        expected.push({ type: 'message', data: piece.binary ? data : data.toString('latin1'), binary: piece.binary });
        break;
      }
    }
  }
  return { bytes: Buffer.concat(out), expected, pongs };
}

/** Text pieces with invalid UTF-8 cannot be built from strings, so every message here is valid. */
function parse(role: 'server' | 'client', bytes: Buffer, splits: number[]): Recorder {
  const r = new Recorder(role);
  const copy = Buffer.from(bytes);
  let start = 0;
  for (const s of [...splits, copy.length]) {
    // Each chunk is a view of the copy: the reader may unmask in place and keep views.
    r.receive(copy.subarray(start, s));
    start = s;
  }
  return r;
}

function splitPoints(length: number, raw: number[]): number[] {
  return raw.map((x) => x % (length + 1)).sort((a, b) => a - b);
}

function checkPongs(r: Recorder, pongs: Buffer[]): void {
  const frames = r.sentFrames();
  assert.deepEqual(
    frames.map((f) => f.opcode),
    pongs.map(() => Opcode.Pong),
  );
  assert.deepEqual(
    frames.map((f) => f.payload),
    pongs,
  );
}

const RUNS = 150;

test('property: serialize then parse is the identity (text, binary, fragmented, pings, pongs), both roles', () => {
  fc.assert(
    fc.property(fc.array(pieceArb, { maxLength: 8 }), fc.constantFrom('server' as const, 'client' as const), (pieces, role) => {
      const stream = serialize(pieces, role);
      const r = parse(role, stream.bytes, []);
      assert.deepEqual(r.events, stream.expected);
      checkPongs(r, stream.pongs);
    }),
    { numRuns: RUNS },
  );
});

test('property: any chunking of the stream gives the same events as feeding it whole', () => {
  fc.assert(
    fc.property(
      fc.array(pieceArb, { maxLength: 8 }),
      fc.constantFrom('server' as const, 'client' as const),
      fc.array(fc.nat(), { maxLength: 40 }),
      (pieces, role, rawSplits) => {
        const stream = serialize(pieces, role);
        const whole = parse(role, stream.bytes, []);
        const chunked = parse(role, stream.bytes, splitPoints(stream.bytes.length, rawSplits));
        assert.deepEqual(chunked.events, whole.events);
        assert.deepEqual(chunked.events, stream.expected);
        assert.deepEqual(Buffer.concat(chunked.sent).length, Buffer.concat(whole.sent).length);
        checkPongs(chunked, stream.pongs);
      },
    ),
    { numRuns: RUNS },
  );
});

test('property: feeding one byte at a time gives the same events as feeding whole', () => {
  const smallPiece = pieceArb.filter((p) => p.kind !== 'big' || p.size < 2000);
  fc.assert(
    fc.property(fc.array(smallPiece, { maxLength: 6 }), fc.constantFrom('server' as const, 'client' as const), (pieces, role) => {
      const stream = serialize(pieces, role);
      const splits = Array.from({ length: Math.max(0, stream.bytes.length - 1) }, (_, i) => i + 1);
      const r = parse(role, stream.bytes, splits);
      assert.deepEqual(r.events, stream.expected);
      checkPongs(r, stream.pongs);
    }),
    { numRuns: 100 },
  );
});

test('property: binary messages handed out stay intact while later chunks are parsed', () => {
  // The reader says the receiver may keep the Buffer it gets: later parsing must not overwrite it.
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 100 }), { minLength: 2, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (datas, rawSplits) => {
      const pieces: Piece[] = datas.map((d, i) => ({ kind: 'frag', binary: true, data: d, cuts: i % 2 ? [500] : [], pings: [] }));
      const stream = serialize(pieces, 'server');
      const r = parse('server', stream.bytes, splitPoints(stream.bytes.length, rawSplits));
      assert.deepEqual(
        r.events.map((e) => (e.type === 'message' ? Buffer.from(e.data as Buffer) : null)),
        datas.map((d) => Buffer.from(d)),
      );
    }),
    { numRuns: 100 },
  );
});

// ---- text validation and size limits across fragments and chunks ----

const INTERESTING = [0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff];
const maybeTextBytes = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => Buffer.from(s)),
  fc.array(fc.constantFrom(...INTERESTING), { maxLength: 24 }).map((a) => Buffer.from(a)),
  fc
    .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.nat(), fc.constantFrom(...INTERESTING))
    .map(([s, at, byte]) => {
      const b = Buffer.from(s);
      b[at % b.length] = byte;
      return b;
    }),
);

/** Index of the first byte after which `b` cannot be the start of valid UTF-8, or -1. */
function firstDeadByte(b: Buffer): number {
  const ok = (x: Buffer) => x.length === 0 || isUtf8(x);
  const extendable = (p: Buffer): boolean => {
    if (ok(p)) return true;
    const conts = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf];
    const go = (s: number[]): boolean => ok(Buffer.concat([p, Buffer.from(s)])) || (s.length < 3 && conts.some((c) => go([...s, c])));
    return conts.some((c) => go([c]));
  };
  for (let i = 0; i < b.length; i++) if (!extendable(b.subarray(0, i + 1))) return i;
  return -1;
}

test('property: a text message split into random fragments and chunks fails with 1007 iff it is not UTF-8, no later than the first bad byte', () => {
  fc.assert(
    fc.property(maybeTextBytes, cutsArb, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts, rawSplits) => {
      const positions = [...cutPositions(bytes.length, cuts), bytes.length];
      const frames: Buffer[] = [];
      /** Stream offset of each payload byte. */
      const offsetOf: number[] = [];
      let start = 0;
      let streamPos = 0;
      positions.forEach((end, i) => {
        const f = flat(encodeFrame(i === 0 ? Opcode.Text : Opcode.Continuation, bytes.subarray(start, end), i === positions.length - 1, false, true));
        const header = f.length - (end - start);
        for (let k = 0; k < end - start; k++) offsetOf.push(streamPos + header + k);
        frames.push(f);
        streamPos += f.length;
        start = end;
      });
      const stream = Buffer.concat(frames);
      const valid = bytes.length === 0 || isUtf8(bytes);
      const r = parse('server', stream, splitPoints(stream.length, rawSplits));
      if (valid) {
        assert.deepEqual(r.events, [{ type: 'message', data: bytes.toString(), binary: false }]);
      } else {
        assert.deepEqual(r.events.map((e) => [e.type, (e as { code?: number }).code]), [['failure', 1007]]);
      }
      const dead = firstDeadByte(bytes);
      if (dead >= 0) {
        const upTo = offsetOf[dead]! + 1;
        const before = parse('server', stream.subarray(0, upTo - 1), splitPoints(upTo - 1, rawSplits));
        assert.deepEqual(before.events, [], 'no failure before the first bad byte');
        const at = parse('server', stream.subarray(0, upTo), splitPoints(upTo, rawSplits));
        assert.deepEqual(at.events.map((e) => [e.type, (e as { code?: number }).code]), [['failure', 1007]], 'failed by the first bad byte');
      }
    }),
    { numRuns: 400 },
  );
});

test('property: a fragmented message fails with 1009 iff its total exceeds maxPayload, before its excess bytes arrive', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(40), { minLength: 1, maxLength: 8 }), fc.nat(200), fc.boolean(), (sizes, max, binary) => {
      const frames = sizes.map((n, i) =>
        flat(encodeFrame(i === 0 ? (binary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation, Buffer.alloc(n, 0x61), i === sizes.length - 1, false, true)),
      );
      const total = sizes.reduce((a, b) => a + b, 0);
      const r = new Recorder('server', max);
      let failedAt = -1;
      frames.forEach((f, i) => {
        // Only the header of each frame first: a refusal must come from it.
        const header = f.subarray(0, f.length - sizes[i]!);
        r.feed(header);
        if (failedAt < 0 && r.failures().length > 0) failedAt = i;
        r.feed(f.subarray(header.length));
      });
      if (total > max) {
        let sum = 0;
        const crossing = sizes.findIndex((n) => (sum += n) > max);
        assert.equal(failedAt, crossing);
        assert.deepEqual(r.events.map((e) => [e.type, (e as { code?: number }).code]), [['failure', 1009]]);
      } else {
        assert.equal(r.events.length, 1);
        assert.equal(r.events[0]!.type, 'message');
      }
    }),
    { numRuns: 300 },
  );
});
