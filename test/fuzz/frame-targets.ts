/**
 * Fuzz targets for the frame reader and the connection state machine, without and with
 * permessage-deflate. Each input is read as: options, a chunking seed, then the byte
 * stream the peer sends. Properties:
 * - no exception escapes, whatever the bytes;
 * - the events are well formed: at most one failure, nothing after the failure or the
 *   peer's close, failure codes are those RFC 6455 gives for the faults (1002, 1007,
 *   1008, 1009), and our last frame after a failure is a close frame with that code;
 * - what we send parses as frames, masked exactly when we are the client, with valid
 *   close codes;
 * - messages are within maxPayload, and the reassembly buffer holds at most about twice
 *   what arrived (memory follows the input, not what headers announce);
 * - the same bytes give the same events however they are cut into chunks, and (with
 *   deflate) whether large messages are processed at once or in slices.
 */
import assert from 'node:assert/strict';
import { constants, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { isValidWireCloseCode, PerMessageDeflate, ZLIB_SLICE, type DeflateAgreement } from '../../src/protocol/index.js';
import { parseFrames, Recorder, type RecordedEvent } from '../protocol/_harness.js';
import { chunked, FuzzInput } from './fuzz-input.js';

const MAX_PAYLOADS = [125, 1000, 65536, 1024 * 1024];
const FAILURE_CODES = new Set([1002, 1007, 1008, 1009]);

/** A connection whose zlib slices wait until the fuzz target runs them (the I/O layer's part). */
class SlicedRecorder extends Recorder {
  pending = 0;
  protected override scheduleZlibSlice(): boolean {
    this.pending++;
    return true;
  }
  runSlices(): void {
    for (let guard = 0; this.pending > 0; guard++) {
      if (guard > 1_000_000) throw new Error('slices never end');
      this.pending--;
      this.runZlibSlice();
    }
  }
}

interface Setup {
  role: 'server' | 'client';
  maxPayload: number;
  chunkMode: number;
  seed: number;
  agreement: DeflateAgreement | null;
  stream: Uint8Array;
}

function readSetup(bytes: Uint8Array, deflate: boolean): Setup {
  const input = new FuzzInput(bytes);
  const options = input.byte();
  const seed = (input.byte() << 8) | input.byte();
  const agreementBits = deflate ? input.byte() : 0;
  return {
    role: options & 1 ? 'client' : 'server',
    maxPayload: MAX_PAYLOADS[(options >> 1) & 3]!,
    chunkMode: (options >> 3) & 3,
    seed,
    agreement: deflate
      ? {
          serverNoContextTakeover: (agreementBits & 1) === 1,
          clientNoContextTakeover: (agreementBits & 2) === 2,
          serverMaxWindowBits: 8 + ((agreementBits >> 2) & 7),
          clientMaxWindowBits: 8 + ((agreementBits >> 5) & 7),
        }
      : null,
    stream: input.rest(),
  };
}

function connection(s: Setup, sliced: boolean): Recorder {
  const r = sliced ? new SlicedRecorder(s.role, s.maxPayload) : new Recorder(s.role, s.maxPayload);
  if (s.agreement !== null) r.enableDeflate(new PerMessageDeflate(s.agreement, s.role, { threshold: 32, level: 1, memLevel: 8 }));
  return r;
}

/** Feeds the chunks; a sliced connection gets a fresh turn's credit per chunk and runs its slices after each. */
function feed(r: Recorder, chunks: Uint8Array[]): void {
  for (const c of chunks) {
    r.zlibCredit = ZLIB_SLICE;
    r.feed(c);
    if (r instanceof SlicedRecorder) r.runSlices();
  }
}

/** The reassembly buffer's capacity (private: this is the memory property). */
function reassemblyCapacity(r: Recorder): number {
  return (r as unknown as { messageBuffer: Buffer | null }).messageBuffer?.length ?? 0;
}

function checkConnection(r: Recorder, s: Setup): void {
  const events = r.events;
  const failures = events.filter((e) => e.type === 'failure');
  assert.ok(failures.length <= 1, 'at most one failure');
  const end = events.findIndex((e) => e.type === 'failure' || e.type === 'close');
  assert.ok(end === -1 || end === events.length - 1, 'no event after a failure or the close handshake');
  for (const e of events) {
    if (e.type === 'failure') assert.ok(FAILURE_CODES.has(e.code), `failure code ${e.code} (${e.reason})`);
    if (e.type === 'message') assert.ok((typeof e.data === 'string' ? Buffer.byteLength(e.data) : e.data.length) <= s.maxPayload, 'message within maxPayload');
    if (e.type === 'close') assert.ok(e.code === 1005 || isValidWireCloseCode(e.code), `peer close code ${e.code}`);
  }
  const { frames, rest } = parseFrames(Buffer.concat(r.sent));
  assert.equal(rest.length, 0, 'what we sent ends on a frame boundary');
  for (const f of frames) {
    assert.equal(f.masked, s.role === 'client', 'our frames are masked exactly on the client side');
    if (f.opcode === 0x8 && f.payload.length >= 2) assert.ok(isValidWireCloseCode(f.payload.readUInt16BE(0)), 'our close code is valid on the wire');
  }
  if (failures.length === 1) {
    const last = frames[frames.length - 1];
    assert.ok(last !== undefined && last.opcode === 0x8, 'a failure sends a close frame last');
    assert.equal(last.payload.readUInt16BE(0), (failures[0] as { code: number }).code);
  }
  assert.ok(reassemblyCapacity(r) <= 2 * s.stream.length + 8192, `reassembly buffer ${reassemblyCapacity(r)} for ${s.stream.length} bytes in`);
}

/** Events and sent frames without what may differ between equivalent runs (mask keys). */
function summary(r: Recorder): unknown {
  const sent = parseFrames(Buffer.concat(r.sent)).frames.map((f) => [f.fin, f.rsv, f.opcode, f.payload.toString('hex')]);
  const events = r.events.map((e: RecordedEvent) =>
    e.type === 'message' ? [e.type, e.binary, typeof e.data === 'string' ? e.data : e.data.toString('hex')] : e.type === 'ping' || e.type === 'pong' ? [e.type, e.payload.toString('hex')] : [e.type, e.code],
  );
  return { events, sent };
}

function runFrames(bytes: Uint8Array, deflate: boolean): void {
  const s = readSetup(bytes, deflate);
  // One connection gets the stream cut into chunks (and, with deflate, does large messages
  // in slices); the other gets it whole, all at once. Both must say the same.
  const cut = connection(s, deflate);
  // Byte-sized chunks for streams small enough to afford them.
  feed(cut, chunked(s.stream, s.stream.length > 4096 && s.chunkMode !== 0 ? 3 : s.chunkMode, s.seed));
  checkConnection(cut, s);
  const whole = connection(s, false);
  feed(whole, [s.stream]);
  checkConnection(whole, s);
  assert.deepEqual(summary(cut), summary(whole), 'the same events however the input is cut (and sliced)');
}

// --- Generators ---------------------------------------------------------------------

function frameBytes(f: { fin: boolean; rsv: number; opcode: number; payload: Uint8Array; mask: Uint8Array | null; announced: number | null }): Buffer {
  const len = f.announced ?? f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const m = f.mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(m | 127, ...b);
  }
  const payload = Buffer.from(f.payload);
  if (f.mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= f.mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), f.mask ? Buffer.from(f.mask) : Buffer.alloc(0), payload]);
}

const textBytes = fc.string({ unit: 'grapheme', maxLength: 80 }).map((t) => new Uint8Array(Buffer.from(t)));
const closePayload = fc.tuple(fc.oneof(fc.constantFrom(1000, 1001, 1002, 1005, 1006, 1015, 2999, 3000, 4999, 5000), fc.nat({ max: 65535 })), textBytes).map(([code, reason]) => {
  const b = Buffer.alloc(2 + reason.length);
  b.writeUInt16BE(code);
  b.set(reason, 2);
  return new Uint8Array(b);
});
const payloadArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 3, arbitrary: textBytes },
  { weight: 1, arbitrary: closePayload },
  { weight: 1, arbitrary: fc.constantFrom(126, 1001, 65_535, 65_536, 70_000).map((n) => new Uint8Array(n).fill(0x41)) },
);

/** Bombs: a few sizes around the limits, compressed once (compressing megabytes for each input would slow the run). */
const BOMBS = [1000, 65_536, 70_000, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024].map((n) => deflate(Buffer.alloc(n, 0x61)));

/** Compressed payloads: valid deflate of repetitive or random data (sometimes far larger inflated than the limit), or noise. */
const deflatedArb = fc.oneof(
  fc.constantFrom(...BOMBS),
  fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.nat({ max: 255 })).map(([n, v]) => deflate(Buffer.alloc(n, v))),
  fc.uint8Array({ maxLength: 3000 }).map((b) => deflate(Buffer.from(b))),
  textBytes.map((b) => deflate(Buffer.from(b))),
  fc.uint8Array({ maxLength: 64 }),
);

function deflate(data: Buffer): Uint8Array {
  return new Uint8Array(deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4));
}

function streamArb(withDeflate: boolean): fc.Arbitrary<Uint8Array> {
  const frame = fc
    .record({
      fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      rsv: withDeflate ? fc.constantFrom(0, 0, 4, 4, 2) : fc.constantFrom(0, 0, 0, 0, 4, 2, 1),
      opcode: fc.constantFrom(0x1, 0x2, 0x2, 0x0, 0x0, 0x8, 0x9, 0x9, 0xa, 0x3, 0xb),
      payload: withDeflate ? fc.oneof(payloadArb, deflatedArb) : payloadArb,
      masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      announced: fc.option(fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(126, 127, 65535, 65536, 2 ** 31, 2 ** 40)), { freq: 8 }),
    })
    .map((f) => frameBytes({ ...f, mask: f.masked ? f.key : null }));
  return fc
    .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(frame, { maxLength: 12 }), fc.uint8Array({ maxLength: 8 }))
    .map(([head, frames, tail]) => new Uint8Array(Buffer.concat([Buffer.from(head), ...frames, Buffer.from(tail)])));
}

/** Bytes a client sends must be masked: a setup byte with the server role is the likely case. */
export const frameTargets = [
  {
    name: 'frames',
    description: 'frame reader and connection state machine (server and client roles)',
    generate: () => streamArb(false),
    run: (bytes: Uint8Array) => runFrames(bytes, false),
  },
  {
    name: 'frames-deflate',
    description: 'the same with permessage-deflate (shared and own contexts, windows 8-15), large messages in slices',
    generate: () => streamArb(true),
    run: (bytes: Uint8Array) => runFrames(bytes, true),
  },
];
