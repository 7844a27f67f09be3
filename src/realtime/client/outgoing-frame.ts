import type { Codec } from '../wire/codec.js';
import { RealtimeError } from '../wire/realtime-error.js';
import { ErrorCode } from '../wire/wire-protocol.js';

/** A protocol message encoded for one WebSocket message: text (JSON) or bytes (MessagePack). */
export type OutgoingFrame = string | Uint8Array;

/**
 * Encodes a message when the application gives it, so that a value the codec cannot carry
 * (a BigInt or a cycle in JSON, a function...) is refused by the call that gave it, not
 * thrown later from inside an event listener when the message would be sent.
 */
export function encodeNow(codec: Codec, message: unknown[], what: string): OutgoingFrame {
  try {
    return codec.encode(message);
  } catch (err) {
    throw new TypeError(`${what}: the data cannot be encoded with the ${codec.name} codec (${(err as Error)?.message ?? String(err)})`, { cause: err });
  }
}

let encoder: TextEncoder | undefined;

/** The frame's payload size in bytes (UTF-8 for text), as the server's maxPayload counts it. */
export function frameSize(frame: OutgoingFrame): number {
  if (typeof frame !== 'string') return frame.byteLength;
  return (encoder ??= new TextEncoder()).encode(frame).byteLength;
}

/** Whether the frame may be over `limit` bytes (cheap: only long strings are measured). */
function mayExceed(frame: OutgoingFrame, limit: number): boolean {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most strings need no encoding to tell.
  return typeof frame === 'string' ? frame.length * 3 > limit : frame.byteLength > limit;
}

/**
 * The `too_large` error for a frame over the server's announced limit, or null when it fits
 * (or no limit is known yet).
 */
export function oversize(frame: OutgoingFrame, limit: number | undefined, what: string): RealtimeError | null {
  if (limit === undefined || !mayExceed(frame, limit)) return null;
  const size = frameSize(frame);
  if (size <= limit) return null;
  return new RealtimeError(ErrorCode.TooLarge, `${what}: the message is ${size} bytes, over the server's limit of ${limit} bytes (its maxPayload)`);
}
