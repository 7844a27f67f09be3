/**
 * Test harness for the sans-I/O protocol engine: a ProtocolConnection subclass that
 * records every event and every transmitted byte, a frame builder and a frame parser.
 * Not a test file itself (the runner only picks *.test.js).
 */
import assert from 'node:assert/strict';
import { ProtocolConnection } from '../../src/protocol/index.js';

export type RecordedEvent =
  | { type: 'message'; data: string | Buffer; binary: boolean }
  | { type: 'ping'; payload: Buffer }
  | { type: 'pong'; payload: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'failure'; code: number; reason: string };

export const BIG_MAX = 64 * 1024 * 1024;

export class Recorder extends ProtocolConnection {
  events: RecordedEvent[] = [];
  /** Every chunk given to transmit, copied at the time it was transmitted. */
  sent: Buffer[] = [];
  readonly role: 'server' | 'client';

  constructor(role: 'server' | 'client', maxPayload = BIG_MAX, maxFragments?: number) {
    super({ role, maxPayload, maxFragments });
    this.role = role;
  }

  protected override transmit(frame: Buffer | Uint8Array): void {
    this.sent.push(Buffer.from(frame));
  }
  protected override onMessage(data: string | Buffer, isBinary: boolean): void {
    // Views are kept as handed out: the reader promises that the receiver may keep them.
    this.events.push({ type: 'message', data, binary: isBinary });
  }
  protected override onPing(payload: Buffer): void {
    this.events.push({ type: 'ping', payload: Buffer.from(payload) });
  }
  protected override onPong(payload: Buffer): void {
    this.events.push({ type: 'pong', payload: Buffer.from(payload) });
  }
  protected override onCloseHandshake(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  protected override onFailure(code: number, reason: string): void {
    this.events.push({ type: 'failure', code, reason });
  }

  /** Feeds a copy of each chunk (the reader unmasks in place). */
  feed(...chunks: Uint8Array[]): this {
    for (const c of chunks) this.receive(Buffer.from(c));
    return this;
  }

  /** Parses everything transmitted so far; our frames must be masked iff we are a client. */
  sentFrames(): ParsedFrame[] {
    const { frames, rest } = parseFrames(Buffer.concat(this.sent));
    assert.equal(rest.length, 0, 'transmitted bytes end on a frame boundary');
    for (const f of frames) assert.equal(f.masked, this.role === 'client', 'mask bit of transmitted frames');
    return frames;
  }

  failures(): RecordedEvent[] {
    return this.events.filter((e) => e.type === 'failure');
  }
}

export interface FrameOptions {
  fin?: boolean;
  /** RSV bits as a 3-bit number (4 = RSV1). */
  rsv?: number;
  /** A 4-byte key, or null for an unmasked frame. */
  mask?: Uint8Array | null;
  /** Length to announce in the header instead of the payload's. */
  length?: number;
  /** Force the 64-bit length form with this raw 8-byte value. */
  rawLength64?: Buffer;
}

export const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** Builds one frame by hand, byte by byte. */
export function frame(opcode: number, payload: Uint8Array | string = Buffer.alloc(0), opts: FrameOptions = {}): Buffer {
  const data = Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload);
  const fin = opts.fin ?? true;
  const len = opts.length ?? data.length;
  const key = opts.mask === undefined ? null : opts.mask;
  const m = key ? 0x80 : 0;
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  if (opts.rawLength64) head.push(m | 127, ...opts.rawLength64);
  else if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    head.push(m | 127, ...big);
  }
  if (!key) return Buffer.concat([Buffer.from(head), data]);
  for (let i = 0; i < data.length; i++) data[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, data]);
}

/** A frame masked with KEY (as a client sends it). */
export function cframe(opcode: number, payload: Uint8Array | string = Buffer.alloc(0), opts: FrameOptions = {}): Buffer {
  return frame(opcode, payload, { mask: KEY, ...opts });
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  key: Buffer | null;
  payload: Buffer;
}

/** Reference parser: every complete frame in buf (unmasked), and the leftover bytes. */
export function parseFrames(buf: Buffer): { frames: ParsedFrame[]; rest: Buffer } {
  const frames: ParsedFrame[] = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const b0 = buf[pos]!;
    const b1 = buf[pos + 1]!;
    let len = b1 & 0x7f;
    let off = pos + 2;
    if (len === 126) {
      if (buf.length < off + 2) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (buf.length < off + 8) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      if (buf.length < off + 4) break;
      key = Buffer.from(buf.subarray(off, off + 4));
      off += 4;
    }
    if (buf.length < off + len) break;
    const payload = Buffer.from(buf.subarray(off, off + len));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, key, payload });
    pos = off + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

/** Flattens encodeFrame's result (one buffer or [header, payload]). */
export function flat(x: Buffer | Uint8Array | [Buffer, Uint8Array] | Array<Buffer | Uint8Array>): Buffer {
  return Array.isArray(x) ? Buffer.concat(x) : Buffer.from(x);
}

/** The close frame payload code of a parsed frame. */
export function closeCodeOf(f: ParsedFrame): number | undefined {
  return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined;
}

/**
 * Asserts that the connection failed exactly once with `code`, that the failure is the
 * last event, and that the last frame transmitted is the only close frame, carrying `code`.
 */
export function assertFailed(r: Recorder, code: number): void {
  const failures = r.failures();
  assert.equal(failures.length, 1, `one failure expected, events: ${JSON.stringify(r.events)}`);
  assert.equal((failures[0] as { code: number }).code, code);
  assert.equal(r.events[r.events.length - 1]!.type, 'failure', 'the failure is the last event');
  const frames = r.sentFrames();
  const closes = frames.filter((f) => f.opcode === 0x8);
  assert.equal(closes.length, 1, 'exactly one close frame transmitted');
  assert.equal(frames[frames.length - 1]!.opcode, 0x8, 'the close frame is the last frame');
  assert.equal(closeCodeOf(closes[0]!), code);
  assert.equal(r.closeSent, true);
}
