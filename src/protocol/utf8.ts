import { isUtf8 } from 'node:buffer';

/**
 * Incremental UTF-8 validator. Fails as soon as the bytes seen so far cannot be the
 * start of valid UTF-8, so a peer cannot make us buffer an invalid text message.
 *
 * The bulk of each piece is checked with the native `isUtf8`; only the few bytes of a
 * sequence split across pieces go through the byte-level state machine below.
 */
export class Utf8Validator {
  /** Continuation bytes still expected by the sequence in progress. */
  private need = 0;
  /** Allowed range for the next continuation byte (narrower after E0, ED, F0, F4). */
  private lo = 0x80;
  private hi = 0xbf;

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** True when no multi-byte sequence is left open. */
  get complete(): boolean {
    return this.need === 0;
  }

  /** Feeds bytes [start, end) of buf; returns false once the stream is invalid. */
  push(buf: Uint8Array, start: number, end: number): boolean {
    let i = start;
    while (this.need !== 0 && i < end) {
      if (!this.step(buf[i]!)) return false;
      i++;
    }
    if (i >= end) return true;
    // Find an incomplete sequence at the tail: it is validated bytewise so that its
    // state carries over to the next piece.
    let tail = end;
    const back = Math.min(3, end - i);
    for (let k = 1; k <= back; k++) {
      const b = buf[end - k]!;
      if ((b & 0xc0) === 0x80) continue;
      if (b >= 0xc0) {
        const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        if (k < len) tail = end - k;
      }
      break;
    }
    if (tail > i && !isUtf8(buf.subarray(i, tail))) return false;
    for (let j = tail; j < end; j++) if (!this.step(buf[j]!)) return false;
    return true;
  }

  private step(b: number): boolean {
    if (this.need === 0) {
      if (b < 0x80) return true;
      if (b >= 0xc2 && b <= 0xdf) this.need = 1;
      else if (b === 0xe0) (this.need = 2), (this.lo = 0xa0);
      else if (b === 0xed) (this.need = 2), (this.hi = 0x9f);
      else if (b >= 0xe1 && b <= 0xef) this.need = 2;
      else if (b === 0xf0) (this.need = 3), (this.lo = 0x90);
      else if (b >= 0xf1 && b <= 0xf3) this.need = 3;
      else if (b === 0xf4) (this.need = 3), (this.hi = 0x8f);
      else return false;
      return true;
    }
    if (b < this.lo || b > this.hi) return false;
    this.need--;
    this.lo = 0x80;
    this.hi = 0xbf;
    return true;
  }
}

/** Whole-buffer check for complete messages. */
export function isValidUtf8(buf: Uint8Array): boolean {
  return buf.length === 0 || isUtf8(buf);
}

type FastSlices = Buffer & { latin1Slice?(start: number, end: number): string };

/** Below this length an ASCII scan in JS beats a native call. */
const SHORT_TEXT = 64;

/**
 * Validates and decodes a whole text payload in one step; null if it is not UTF-8.
 * Short ASCII payloads (the common case for chat-sized messages) skip the native
 * validator and decode as Latin-1, which is the same string for ASCII.
 */
export function decodeUtf8(buf: Buffer): string | null {
  const n = buf.length;
  if (n <= SHORT_TEXT) {
    let i = 0;
    while (i < n && buf[i]! < 0x80) i++;
    if (i === n) {
      const fast = (buf as FastSlices).latin1Slice;
      return fast !== undefined ? fast.call(buf, 0, n) : buf.toString('latin1');
    }
  }
  return n === 0 || isUtf8(buf) ? buf.toString('utf8') : null;
}
