import { Opcode } from './constants.js';
import { maskInto, nextMaskKey, unmaskInPlace } from './mask.js';

/**
 * Frame serialization (RFC 6455 §5.2). Server frames go out unmasked; client frames are
 * masked with a fresh key each. Small frames are built as one buffer (header and payload
 * together) so that a write is one syscall; large unmasked payloads are returned as
 * [header, payload] to avoid copying them.
 */

/** Unmasked payloads at least this large are written separately from their header. */
export const COPY_LIMIT = 16 * 1024;

export function headerLength(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
  return masked ? base + 4 : base;
}

/** An unmasked final frame's header at buf[at..]; returns where the payload starts. */
export function writeServerHeader(buf: Uint8Array, at: number, opcode: number, payloadLength: number, rsv1: boolean): number {
  buf[at] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (payloadLength < 126) {
    buf[at + 1] = payloadLength;
    return at + 2;
  }
  if (payloadLength < 65536) {
    buf[at + 1] = 126;
    buf[at + 2] = payloadLength >>> 8;
    buf[at + 3] = payloadLength & 0xff;
    return at + 4;
  }
  return at + writeHeader(buf.subarray(at), opcode, payloadLength, true, rsv1, null);
}

/** Writes a frame header at buf[0..]; returns the offset where the payload starts. */
export function writeHeader(
  buf: Uint8Array,
  opcode: number,
  payloadLength: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | null,
): number {
  buf[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey ? 0x80 : 0;
  let offset: number;
  if (payloadLength < 126) {
    buf[1] = maskBit | payloadLength;
    offset = 2;
  } else if (payloadLength < 65536) {
    buf[1] = maskBit | 126;
    buf[2] = payloadLength >>> 8;
    buf[3] = payloadLength & 0xff;
    offset = 4;
  } else {
    buf[1] = maskBit | 127;
    const hi = Math.floor(payloadLength / 0x100000000);
    const lo = payloadLength >>> 0;
    buf[2] = 0; buf[3] = 0;
    buf[4] = (hi >>> 8) & 0xff; buf[5] = hi & 0xff;
    buf[6] = lo >>> 24; buf[7] = (lo >>> 16) & 0xff; buf[8] = (lo >>> 8) & 0xff; buf[9] = lo & 0xff;
    offset = 10;
  }
  if (maskKey) {
    buf[offset] = maskKey[0]!; buf[offset + 1] = maskKey[1]!; buf[offset + 2] = maskKey[2]!; buf[offset + 3] = maskKey[3]!;
    offset += 4;
  }
  return offset;
}

/** One frame with a binary payload. Returns one buffer or [header, payload]. */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  rsv1: boolean,
  masked: boolean,
): Buffer | [Buffer, Uint8Array] {
  const len = payload.length;
  if (masked) {
    const key = nextMaskKey();
    const frame = Buffer.allocUnsafe(headerLength(len, true) + len);
    const off = writeHeader(frame, opcode, len, fin, rsv1, key);
    maskInto(payload, frame, off, key);
    return frame;
  }
  if (len >= COPY_LIMIT) {
    const header = Buffer.allocUnsafe(headerLength(len, false));
    writeHeader(header, opcode, len, fin, rsv1, null);
    return [header, payload];
  }
  const frame = Buffer.allocUnsafe(headerLength(len, false) + len);
  const off = writeHeader(frame, opcode, len, fin, rsv1, null);
  frame.set(payload, off);
  return frame;
}

/** One unfragmented text frame, encoding the string straight into the frame buffer. */
export function encodeTextFrame(text: string, masked: boolean): Buffer {
  const len = Buffer.byteLength(text);
  if (masked) {
    const key = nextMaskKey();
    const frame = Buffer.allocUnsafe(headerLength(len, true) + len);
    const off = writeHeader(frame, Opcode.Text, len, true, false, key);
    frame.write(text, off);
    // The frame buffer is ours, so the payload is masked where it was written.
    unmaskInPlace(frame, off, frame.length, key, 0);
    return frame;
  }
  const frame = Buffer.allocUnsafe(headerLength(len, false) + len);
  frame.write(text, writeHeader(frame, Opcode.Text, len, true, false, null));
  return frame;
}

/** Close frame payload: 2-byte code then UTF-8 reason; empty when code is undefined. */
export function encodeClosePayload(code: number | undefined, reason: string): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/** Splits a message into frames of at most `fragmentSize` payload bytes each. */
export function encodeFragments(
  opcode: number,
  payload: Uint8Array,
  fragmentSize: number,
  masked: boolean,
  rsv1 = false,
): Array<Buffer | Uint8Array> {
  const out: Array<Buffer | Uint8Array> = [];
  let pos = 0;
  do {
    const end = Math.min(payload.length, pos + fragmentSize);
    const frame = encodeFrame(pos === 0 ? opcode : Opcode.Continuation, payload.subarray(pos, end), end === payload.length, rsv1 && pos === 0, masked);
    if (Array.isArray(frame)) out.push(frame[0], frame[1]);
    else out.push(frame);
    pos = end;
  } while (pos < payload.length);
  return out;
}
