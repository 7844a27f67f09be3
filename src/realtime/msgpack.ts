/**
 * MessagePack encoder and decoder, written from the specification
 * (https://github.com/msgpack/msgpack/blob/master/spec.md), without dependencies.
 *
 * Value mapping:
 * - `null` and `undefined` → nil (decodes as `null`). Object properties whose value is
 *   `undefined` are left out, as `JSON.stringify` does, so both realtime codecs agree.
 * - booleans → true/false.
 * - numbers: safe integers use the shortest of positive/negative fixint, uint8/16/32/64
 *   and int8/16/32/64; everything else (fractions, -0, NaN, ±Infinity, integers beyond
 *   ±2^53-1) is float64, so a number always decodes as the same number.
 * - bigints → uint64 (non-negative) or int64 (negative); outside the 64-bit range they
 *   throw. A 64-bit integer decodes as a number when it is a safe integer and as a
 *   bigint otherwise (so `5n` decodes as `5`).
 * - strings → fixstr/str8/16/32, UTF-8 (a lone surrogate is encoded as U+FFFD, as
 *   `TextEncoder` does). Decoding rejects invalid UTF-8.
 * - `Uint8Array` (so `Buffer` too) and `ArrayBuffer` → bin8/16/32; bin decodes as a
 *   `Uint8Array` that owns its bytes (a copy, never a view into the input).
 * - arrays → fixarray/array16/32.
 * - plain objects (prototype `Object.prototype` or `null`) → fixmap/map16/32 with str
 *   keys; decoded maps are plain objects. Other objects (Map, Date, class instances,
 *   other typed arrays), functions and symbols throw.
 * - float32 is decoded but never produced. Ext types (including the timestamp type -1)
 *   are not supported: encountering one while decoding throws.
 *
 * Both directions refuse nesting deeper than {@link MAX_DEPTH} (which also stops
 * encoding of cyclic structures). Every malformed input makes the decoder throw a
 * {@link MsgpackError}; lengths declared in the input are checked against the bytes
 * that remain before anything is allocated.
 */

export class MsgpackError extends Error {
  override name = 'MsgpackError';
}

/** Deepest nesting of arrays and maps accepted by the encoder and the decoder. */
export const MAX_DEPTH = 100;

const INITIAL_SIZE = 256;
/** Strings at most this long are UTF-8 encoded by hand; longer ones use TextEncoder. */
const SHORT_STRING = 64;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);

// ---------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------

class Encoder {
  buf = new Uint8Array(INITIAL_SIZE);
  view = new DataView(this.buf.buffer);
  pos = 0;

  /** Makes room for `n` more bytes, doubling the buffer as often as needed. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  result(): Uint8Array {
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }

  encode(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = 0xc0;
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'number':
        this.encodeNumber(value);
        return;
      case 'bigint':
        this.encodeBigInt(value);
        return;
      case 'string':
        this.encodeString(value);
        return;
      case 'object':
        if (value === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
          return;
        }
        this.encodeObject(value, depth);
        return;
      default:
        throw new MsgpackError(`cannot encode a value of type ${typeof value}`);
    }
  }

  encodeNumber(v: number): void {
    this.ensure(9);
    const buf = this.buf;
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) {
        if (v < 0x80) {
          buf[this.pos++] = v;
        } else if (v < 0x100) {
          buf[this.pos++] = 0xcc;
          buf[this.pos++] = v;
        } else if (v < 0x10000) {
          buf[this.pos++] = 0xcd;
          this.view.setUint16(this.pos, v);
          this.pos += 2;
        } else if (v < 0x100000000) {
          buf[this.pos++] = 0xce;
          this.view.setUint32(this.pos, v);
          this.pos += 4;
        } else {
          buf[this.pos++] = 0xcf;
          this.view.setUint32(this.pos, Math.floor(v / 0x100000000));
          this.view.setUint32(this.pos + 4, v >>> 0);
          this.pos += 8;
        }
      } else if (v >= -32) {
        buf[this.pos++] = v & 0xff;
      } else if (v >= -0x80) {
        buf[this.pos++] = 0xd0;
        this.view.setInt8(this.pos++, v);
      } else if (v >= -0x8000) {
        buf[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else if (v >= -0x80000000) {
        buf[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      } else {
        buf[this.pos++] = 0xd3;
        // Two's complement over 64 bits: the high word is floor(v / 2^32), the low word
        // is what remains (always in [0, 2^32)).
        const hi = Math.floor(v / 0x100000000);
        this.view.setInt32(this.pos, hi);
        this.view.setUint32(this.pos + 4, v - hi * 0x100000000);
        this.pos += 8;
      }
      return;
    }
    buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  encodeBigInt(v: bigint): void {
    this.ensure(9);
    if (v >= 0n) {
      if (v > MAX_UINT64) throw new MsgpackError(`bigint ${v} does not fit in uint64`);
      this.buf[this.pos++] = 0xcf;
      this.view.setBigUint64(this.pos, v);
    } else {
      if (v < MIN_INT64) throw new MsgpackError(`bigint ${v} does not fit in int64`);
      this.buf[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, v);
    }
    this.pos += 8;
  }

  encodeString(s: string): void {
    const len = s.length;
    if (len <= SHORT_STRING) {
      // At most 3 bytes per UTF-16 unit; a surrogate pair is 4 bytes for 2 units. The
      // header is 1 (fixstr) or 2 (str8) bytes since 64 * 3 < 256.
      this.ensure(2 + len * 3);
      const start = this.pos;
      const headerSize = len * 3 < 32 ? 1 : 2;
      const n = writeUtf8(s, this.buf, start + headerSize);
      if (headerSize === 1) {
        this.buf[start] = 0xa0 | n;
      } else if (n < 32) {
        // Fits a fixstr after all: slide the bytes one to the left.
        this.buf.copyWithin(start + 1, start + 2, start + 2 + n);
        this.buf[start] = 0xa0 | n;
        this.pos = start + 1 + n;
        return;
      } else {
        this.buf[start] = 0xd9;
        this.buf[start + 1] = n;
      }
      this.pos = start + headerSize + n;
      return;
    }
    const bytes = textEncoder.encode(s);
    this.writeStrHeader(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  writeStrHeader(n: number): void {
    this.ensure(5);
    if (n < 32) {
      this.buf[this.pos++] = 0xa0 | n;
    } else if (n < 0x100) {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xda;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n <= 0xffffffff) {
      this.buf[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      throw new MsgpackError(`string of ${n} bytes is too long for str32`);
    }
  }

  encodeBinary(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(5 + n);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n <= 0xffffffff) {
      this.buf[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      throw new MsgpackError(`binary of ${n} bytes is too long for bin32`);
    }
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  /** Writes an array or map header: fix form below 16, then 16-bit and 32-bit forms. */
  writeContainerHeader(n: number, fix: number, b16: number, b32: number): void {
    this.ensure(5);
    if (n < 16) {
      this.buf[this.pos++] = fix | n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = b16;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = b32;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  encodeObject(value: object, depth: number): void {
    if (value instanceof Uint8Array) {
      this.encodeBinary(value);
      return;
    }
    if (value instanceof ArrayBuffer) {
      this.encodeBinary(new Uint8Array(value));
      return;
    }
    if (depth >= MAX_DEPTH) throw new MsgpackError(`nesting deeper than ${MAX_DEPTH} levels (or a cycle)`);
    if (Array.isArray(value)) {
      const n = value.length;
      this.writeContainerHeader(n, 0x90, 0xdc, 0xdd);
      for (let i = 0; i < n; i++) this.encode(value[i], depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new MsgpackError(`cannot encode ${typeof name === 'string' && name ? name : 'this object'}: only plain objects, arrays and binary are supported`);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    let count = 0;
    for (let i = 0; i < keys.length; i++) if (record[keys[i]!] !== undefined) count++;
    this.writeContainerHeader(count, 0x80, 0xde, 0xdf);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = record[key];
      if (v === undefined) continue;
      this.encodeString(key);
      this.encode(v, depth + 1);
    }
  }
}

/**
 * Writes `s` as UTF-8 at `buf[at]` (room for `s.length * 3` bytes is assumed) and
 * returns the number of bytes written. Lone surrogates become U+FFFD like TextEncoder.
 */
function writeUtf8(s: string, buf: Uint8Array, at: number): number {
  let p = at;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - at;
}

/** Encodes `value` as MessagePack; throws {@link MsgpackError} for unsupported values. */
export function encodeMsgpack(value: unknown): Uint8Array {
  const e = new Encoder();
  e.encode(value, 0);
  return e.result();
}

// ---------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------

const hex = (b: number) => '0x' + b.toString(16).padStart(2, '0');

class Decoder {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly end: number;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
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
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
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
        const v = this.view.getFloat64(this.pos);
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
        const hi = this.view.getUint32(this.pos);
        const lo = this.view.getUint32(this.pos + 4);
        const at = this.pos;
        this.pos += 8;
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

  readKey(): string {
    const at = this.pos;
    const b = this.u8('map key');
    if (b >= 0xa0 && b < 0xc0) return this.readString(b & 0x1f);
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
