/**
 * MessagePack encoder and decoder, written from the specification
 * (https://github.com/msgpack/msgpack/blob/master/spec.md), without dependencies.
 * Kept rather than msgpackr because msgpackr writes integers beyond 32 bits (a timestamp
 * in ms) as float64, accepts what the protocol refuses (ext types, nesting without bound,
 * invalid UTF-8) and would double the browser bundle; this one is as fast on a typical
 * publication (`node bench/codec.mjs`).
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
 * An encoding is a view into a shared slab that is never written again: its `.buffer` may
 * hold other encodings (copy it before transferring it).
 *
 * Both directions refuse nesting deeper than {@link MAX_DEPTH} (which also stops
 * encoding of cyclic structures). Every malformed input makes the decoder throw a
 * {@link MsgpackError}; lengths declared in the input are checked against the bytes
 * that remain before anything is allocated.
 */

export { MsgpackError, MAX_DEPTH } from './msgpack-shared.js';
export { encodeMsgpack } from './msgpack-encode.js';
export { decodeMsgpack } from './msgpack-decode.js';
