/** MessagePack decoding (see msgpack.ts for the value mapping and the checks). */
import { MAX_DEPTH, MsgpackError } from './msgpack-shared.js';

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------

const hex = (b: number) => '0x' + b.toString(16).padStart(2, '0');

/** Longest map key kept in the key cache, in bytes. */
const CACHED_KEY_BYTES = 16;
const KEY_CACHE_SIZE = 1024;
/**
 * Short map keys seen before, by a hash of their bytes: a message's keys are usually the
 * same as the last one's, and handing back the same string saves building it (and V8
 * internalizing it again when it becomes a property name).
 */
const keyCache: Array<{ bytes: Uint8Array; key: string } | undefined> = new Array(KEY_CACHE_SIZE);

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The big-endian float64 at bytes[at], without a DataView (making one costs more than the read). */
function readFloat64(bytes: Uint8Array, at: number): number {
  if (littleEndian) for (let i = 0; i < 8; i++) float64Bytes[i] = bytes[at + 7 - i]!;
  else for (let i = 0; i < 8; i++) float64Bytes[i] = bytes[at + i]!;
  return float64[0]!;
}

class Decoder {
  readonly bytes: Uint8Array;
  readonly end: number;
  pos = 0;
  private dataView: DataView | null = null;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.end = bytes.length;
  }

  /** Made when a number that needs one is read (float32, 32/64-bit signed, 64-bit): most messages need none. */
  get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new MsgpackError(`truncated input: ${what} needs ${n} byte(s) at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    const v = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    this.pos += 4;
    return v;
  }

  decode(depth: number): unknown {
    if (this.pos >= this.end) throw new MsgpackError(`truncated input: expected a value at offset ${this.pos}`);
    const b = this.bytes[this.pos++]!;
    if (b < 0x80) return b; // positive fixint
    if (b < 0x90) return this.readMap(b & 0x0f, depth);
    if (b < 0xa0) return this.readArray(b & 0x0f, depth);
    if (b < 0xc0) return this.readString(b & 0x1f);
    if (b >= 0xe0) return b - 0x100; // negative fixint
    switch (b) {
      case 0xc0:
        return null;
      case 0xc1:
        throw new MsgpackError(`reserved byte 0xc1 at offset ${this.pos - 1}`);
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.readBinary(this.u8('bin8 length'));
      case 0xc5:
        return this.readBinary(this.u16('bin16 length'));
      case 0xc6:
        return this.readBinary(this.u32('bin32 length'));
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return this.rejectExt(b);
      case 0xca: {
        this.need(4, 'float32');
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xcb: {
        this.need(8, 'float64');
        const v = readFloat64(this.bytes, this.pos);
        this.pos += 8;
        return v;
      }
      case 0xcc:
        return this.u8('uint8');
      case 0xcd:
        return this.u16('uint16');
      case 0xce:
        return this.u32('uint32');
      case 0xcf: {
        this.need(8, 'uint64');
        const at = this.pos;
        const hi = this.u32('uint64');
        const lo = this.u32('uint64');
        // Below 2^53 when the high word is below 2^21.
        if (hi < 0x200000) return hi * 0x100000000 + lo;
        return this.view.getBigUint64(at);
      }
      case 0xd0: {
        this.need(1, 'int8');
        return this.view.getInt8(this.pos++);
      }
      case 0xd1: {
        this.need(2, 'int16');
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xd2: {
        this.need(4, 'int32');
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        this.need(8, 'int64');
        const hi = this.view.getInt32(this.pos);
        const lo = this.view.getUint32(this.pos + 4);
        const at = this.pos;
        this.pos += 8;
        // Within ±(2^53 - 1) when the high word is in [-2^21, 2^21), excluding -2^53.
        if (hi >= -0x200000 && hi < 0x200000 && !(hi === -0x200000 && lo === 0)) return hi * 0x100000000 + lo;
        return this.view.getBigInt64(at);
      }
      case 0xd9:
        return this.readString(this.u8('str8 length'));
      case 0xda:
        return this.readString(this.u16('str16 length'));
      case 0xdb:
        return this.readString(this.u32('str32 length'));
      case 0xdc:
        return this.readArray(this.u16('array16 length'), depth);
      case 0xdd:
        return this.readArray(this.u32('array32 length'), depth);
      case 0xde:
        return this.readMap(this.u16('map16 length'), depth);
      case 0xdf:
        return this.readMap(this.u32('map32 length'), depth);
      default:
        // Unreachable: every byte value is handled above.
        throw new MsgpackError(`unknown format byte ${hex(b)}`);
    }
  }

  rejectExt(b: number): never {
    const at = this.pos - 1;
    let type: number | undefined;
    if (b >= 0xd4) type = this.pos < this.end ? this.view.getInt8(this.pos) : undefined;
    else {
      const lenSize = b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4;
      if (this.end - this.pos > lenSize) type = this.view.getInt8(this.pos + lenSize);
    }
    throw new MsgpackError(`ext types are not supported (format ${hex(b)}${type === undefined ? '' : `, type ${type}`} at offset ${at})`);
  }

  readString(n: number): string {
    if (n > this.end - this.pos) {
      throw new MsgpackError(`str length ${n} exceeds the ${this.end - this.pos} byte(s) left at offset ${this.pos}`);
    }
    const bytes = this.bytes;
    const start = this.pos;
    const stop = start + n;
    this.pos = stop;
    if (n <= 32) {
      // Short ASCII strings are common (map keys); build them without TextDecoder.
      let s = '';
      let i = start;
      for (; i < stop; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === stop) return s;
    }
    try {
      return textDecoder.decode(bytes.subarray(start, stop));
    } catch {
      throw new MsgpackError(`invalid UTF-8 in str at offset ${start}`);
    }
  }

  readBinary(n: number): Uint8Array {
    if (n > this.end - this.pos) {
      throw new MsgpackError(`bin length ${n} exceeds the ${this.end - this.pos} byte(s) left at offset ${this.pos}`);
    }
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  readArray(n: number, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) throw new MsgpackError(`nesting deeper than ${MAX_DEPTH} levels at offset ${this.pos}`);
    // Every element takes at least one byte.
    if (n > this.end - this.pos) {
      throw new MsgpackError(`array length ${n} exceeds the ${this.end - this.pos} byte(s) left at offset ${this.pos}`);
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.decode(depth + 1);
    return out;
  }

  readMap(n: number, depth: number): Record<string, unknown> {
    if (depth >= MAX_DEPTH) throw new MsgpackError(`nesting deeper than ${MAX_DEPTH} levels at offset ${this.pos}`);
    // Every entry takes at least two bytes (a key and a value).
    if (n > (this.end - this.pos) / 2) {
      throw new MsgpackError(`map length ${n} exceeds the ${this.end - this.pos} byte(s) left at offset ${this.pos}`);
    }
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.readKey();
      const value = this.decode(depth + 1);
      if (key === '__proto__') {
        // Assignment would replace the prototype; make it an own property as JSON.parse does.
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = value;
      }
    }
    return out;
  }

  /** A fixstr key of n bytes (1..CACHED_KEY_BYTES, all present) through the key cache. */
  cachedKey(n: number): string {
    const bytes = this.bytes;
    const start = this.pos;
    let h = n;
    for (let i = start; i < start + n; i++) h = (h * 31 + bytes[i]!) | 0;
    const slot = h & (KEY_CACHE_SIZE - 1);
    const hit = keyCache[slot];
    if (hit !== undefined && hit.bytes.length === n) {
      const kb = hit.bytes;
      let i = 0;
      while (i < n && kb[i] === bytes[start + i]) i++;
      if (i === n) {
        this.pos = start + n;
        return hit.key;
      }
    }
    const key = this.readString(n); // Checks the UTF-8 before it is cached.
    keyCache[slot] = { bytes: bytes.slice(start, start + n), key };
    return key;
  }

  readKey(): string {
    const at = this.pos;
    const b = this.u8('map key');
    if (b >= 0xa0 && b < 0xc0) {
      const n = b & 0x1f;
      return n > 0 && n <= CACHED_KEY_BYTES && n <= this.end - this.pos ? this.cachedKey(n) : this.readString(n);
    }
    if (b === 0xd9) return this.readString(this.u8('str8 length'));
    if (b === 0xda) return this.readString(this.u16('str16 length'));
    if (b === 0xdb) return this.readString(this.u32('str32 length'));
    throw new MsgpackError(`map key at offset ${at} is not a string (format ${hex(b)})`);
  }
}

/**
 * Decodes exactly one MessagePack value filling all of `bytes`. Throws
 * {@link MsgpackError} for truncated input, trailing bytes, the reserved byte 0xc1,
 * ext types, non-string map keys, invalid UTF-8, nesting deeper than {@link MAX_DEPTH}
 * and declared lengths longer than the remaining input.
 */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  const d = new Decoder(bytes);
  const value = d.decode(0);
  if (d.pos !== d.end) throw new MsgpackError(`${d.end - d.pos} trailing byte(s) after the value at offset ${d.pos}`);
  return value;
}

