/** MessagePack encoding (see msgpack.ts for the value mapping). */
import { MAX_DEPTH, MAX_UINT64, MIN_INT64, MsgpackError } from './msgpack-shared.js';

const INITIAL_SIZE = 256;
/** Strings at most this long are UTF-8 encoded by hand; longer ones use TextEncoder. */
const SHORT_STRING = 64;

const textEncoder = new TextEncoder();

// ---------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------

class Encoder {
  buf: Uint8Array;
  view: DataView;
  /** Where the message being encoded starts in `buf`. */
  start = 0;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /**
   * Makes room for `n` more bytes: the message so far (from `start`) moves to a buffer
   * at least twice its size, what came before it stays behind.
   */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    let size = Math.max(this.buf.length, 64) * 2;
    while (size < used + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = used;
  }

  /** Goes on in a new buffer: what was written stays, untouched, in the old one. */
  restart(size: number): void {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.start = 0;
    this.pos = 0;
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

/**
 * Encodings are carved one after another out of a shared slab, as Node's Buffer pool does:
 * one allocation per SLAB_SIZE bytes instead of one per message. A result is a view that is
 * never written again (the next encoding starts after it); a message that does not fit in
 * what is left of the slab gets a new one. So a result's `.buffer` may hold other results.
 */
const SLAB_SIZE = 16 * 1024;
let shared: Encoder | null = new Encoder(SLAB_SIZE);

/** Encodes `value` as MessagePack; throws {@link MsgpackError} for unsupported values. */
export function encodeMsgpack(value: unknown): Uint8Array {
  // A getter that encodes while we encode gets an encoder of its own.
  const e = shared;
  if (e === null) return encodeAlone(value);
  shared = null;
  e.start = e.pos;
  try {
    e.encode(value, 0);
    const out = e.buf.subarray(e.start, e.pos);
    // Grown past a slab (a large message) or nearly full: the next message starts a new slab.
    if (e.buf.length > SLAB_SIZE || e.buf.length - e.pos < 512) e.restart(SLAB_SIZE);
    else e.pos = (e.pos + 7) & ~7;
    return out;
  } catch (err) {
    e.pos = e.start;
    throw err;
  } finally {
    shared = e;
  }
}

function encodeAlone(value: unknown): Uint8Array {
  const e = new Encoder(INITIAL_SIZE);
  e.encode(value, 0);
  return e.buf.subarray(0, e.pos);
}
