import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Packs four mask bytes, starting at `phase`, into one 32-bit word in memory order. */
function maskWord(key: Uint8Array, phase: number): number {
  const a = key[phase & 3]!, b = key[(phase + 1) & 3]!, c = key[(phase + 2) & 3]!, d = key[(phase + 3) & 3]!;
  return LITTLE_ENDIAN ? (a | (b << 8) | (c << 16) | (d << 24)) : ((a << 24) | (b << 16) | (c << 8) | d);
}

/** Below this many bytes a plain byte loop beats setting up a 32-bit view. */
const WORD_THRESHOLD = 64;

/**
 * XORs buf[start, end) in place with the 4-byte key, the first byte using key[phase & 3].
 * Works in 32-bit words over the aligned middle of the range.
 */
export function unmaskInPlace(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): void {
  let i = start;
  let p = phase & 3;
  if (end - start >= WORD_THRESHOLD) {
    while ((buf.byteOffset + i) & 3) {
      buf[i++] ^= key[p]!;
      p = (p + 1) & 3;
    }
    const words = (end - i) >>> 2;
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    const w = maskWord(key, p);
    for (let k = 0; k < words; k++) view[k] ^= w;
    i += words << 2;
  }
  for (; i < end; i++) {
    buf[i] ^= key[p]!;
    p = (p + 1) & 3;
  }
}

/** Copies src into dst at offset, masked with key (phase 0). Used for client frames. */
export function maskInto(src: Uint8Array, dst: Uint8Array, offset: number, key: Uint8Array): void {
  dst.set(src, offset);
  unmaskInPlace(dst, offset, offset + src.length, key, 0);
}

const KEY_POOL_SIZE = 4096;
let keyPool = Buffer.allocUnsafe(0);
let keyPoolPos = 0;

/** A fresh random mask key; keys come from a batch of `randomFillSync` output. */
export function nextMaskKey(): Buffer {
  if (keyPoolPos + 4 > keyPool.length) {
    keyPool = randomFillSync(Buffer.allocUnsafe(KEY_POOL_SIZE));
    keyPoolPos = 0;
  }
  const key = keyPool.subarray(keyPoolPos, keyPoolPos + 4);
  keyPoolPos += 4;
  return key;
}
