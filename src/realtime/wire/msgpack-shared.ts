/** Shared definitions of the MessagePack encoder and decoder (see msgpack.ts). */

export class MsgpackError extends Error {
  override name = 'MsgpackError';
}

/** Deepest nesting of arrays and maps accepted by the encoder and the decoder. */
export const MAX_DEPTH = 100;

export const MAX_UINT64 = (1n << 64n) - 1n;
export const MIN_INT64 = -(1n << 63n);
