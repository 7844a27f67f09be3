import { fromBase64, toBase64 } from './base64.js';
import { decodeMsgpack, encodeMsgpack } from './msgpack.js';

/**
 * How realtime messages travel in WebSocket frames. The codec is chosen by the
 * subprotocol negotiated in the handshake (`Sec-WebSocket-Protocol`).
 *
 * `encode` returns a string for a text frame or bytes for a binary frame. `decode`
 * throws a {@link CodecError} (with the underlying error as `cause`) for anything it
 * cannot read, so the connection layer can close with 1007/1003 without caring which
 * codec is in use. Encoding errors (unsupported values) are programming errors and
 * propagate as they are.
 */
export interface Codec {
  name: 'json' | 'msgpack';
  subprotocol: string;
  encode(message: unknown): string | Uint8Array;
  decode(data: string | Uint8Array): unknown;
}

export class CodecError extends Error {
  override name = 'CodecError';
}

/** The JSON key that carries binary data in {@link jsonCodec}. */
export const BINARY_KEY = '$bin';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // Look at the raw property: `value` has already been through toJSON (Buffer has one).
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return { [BINARY_KEY]: toBase64(raw) };
  if (raw instanceof ArrayBuffer) return { [BINARY_KEY]: toBase64(new Uint8Array(raw)) };
  return value;
}

function jsonReviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const b64 = record[BINARY_KEY];
    if (typeof b64 === 'string' && b64.length % 4 === 0 && BASE64.test(b64)) {
      let keys = 0;
      for (const _ in record) if (++keys > 1) return value;
      return fromBase64(b64);
    }
  }
  return value;
}

/**
 * JSON in text frames (subprotocol `tether.v1.json`).
 *
 * JSON has no binary type, so a `Uint8Array` (or `Buffer`, or `ArrayBuffer`) anywhere in
 * a message is sent as `{"$bin": "<base64>"}` and decoded back into a `Uint8Array`. An
 * object whose only key is `"$bin"` with a base64 string value is therefore reserved:
 * it always decodes as binary. Everything else follows `JSON.stringify`/`JSON.parse`
 * (undefined properties are dropped, NaN and ±Infinity become null, bigint throws, a
 * top-level `undefined` is sent as `null`). Binary frames are accepted on decode and
 * read as UTF-8 JSON.
 */
export const jsonCodec: Codec = {
  name: 'json',
  subprotocol: 'tether.v1.json',
  encode(message: unknown): string {
    return JSON.stringify(message, jsonReplacer) ?? 'null';
  },
  decode(data: string | Uint8Array): unknown {
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else {
      try {
        text = utf8.decode(data);
      } catch (err) {
        throw new CodecError('json codec: binary frame is not valid UTF-8', { cause: err });
      }
    }
    try {
      return JSON.parse(text, jsonReviver);
    } catch (err) {
      throw new CodecError(`json codec: ${(err as Error).message}`, { cause: err });
    }
  },
};

/**
 * MessagePack in binary frames (subprotocol `tether.v1.msgpack`); binary data is carried
 * natively as bin. See `msgpack.ts` for the value mapping. Text frames are refused.
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  subprotocol: 'tether.v1.msgpack',
  encode(message: unknown): Uint8Array {
    return encodeMsgpack(message);
  },
  decode(data: string | Uint8Array): unknown {
    if (typeof data === 'string') throw new CodecError('msgpack codec: expected a binary frame, got a text frame');
    try {
      return decodeMsgpack(data);
    } catch (err) {
      throw new CodecError(`msgpack codec: ${(err as Error).message}`, { cause: err });
    }
  },
};

/** Every codec, in order of preference when offering subprotocols. */
export const codecs: readonly Codec[] = [msgpackCodec, jsonCodec];

/** The codec for a negotiated subprotocol name, or undefined when it is not one of ours. */
export function codecForSubprotocol(name: string): Codec | undefined {
  for (const c of codecs) if (c.subprotocol === name) return c;
  return undefined;
}
