/**
 * The realtime wire protocol (tether.v1), shared by the server and the client and written
 * down for other implementations in docs/protocol.md. Every WebSocket message carries one
 * codec-encoded array whose first element is the message type. Arrays rather than objects:
 * shorter on the wire and cheaper to encode, and the same shape in JSON and MessagePack.
 *
 * Browser-safe: no Node imports here.
 */

/** Message types. Each is used in one direction unless marked both. */
export const Msg = {
  /** client → server `[0, token, meta]`: first message, authenticates the session. */
  Connect: 0,
  /** server → client `[1, sessionId, { heartbeat, expiresAt }]`: the session is open. */
  Connected: 1,
  /** client → server `[2, id, topic, { since?: [epoch, offset], info? }]`: subscribe (again, to resync). */
  Subscribe: 2,
  /** client → server `[3, id, topic]`. */
  Unsubscribe: 3,
  /** client → server `[4, id, topic, data, { key?, exceptSelf? }]`: publish (acknowledged with its offset). */
  Publish: 4,
  /** both `[5, event, data]`: a fire-and-forget event. */
  Event: 5,
  /** both `[6, id, method, data]`: a request that expects a Reply or an Error with the same id. */
  Request: 6,
  /** both `[7, id, result]`. */
  Reply: 7,
  /** both `[8, id, code, message]`: a failed request; id 0 reports an error about a message that had none. */
  Error: 8,
  /** client → server `[9, n]`: application heartbeat (browsers cannot send WebSocket pings). */
  Ping: 9,
  /** server → client `[10, n]`. */
  Pong: 10,
  /** client → server `[11, id, token]`: replaces the session's token without reconnecting. */
  Refresh: 11,
  /** server → client `[12, topic, data, offset, key?]`: one message of a topic (framed once for all subscribers). */
  Publication: 12,
  /** server → client `[13, topic, joined, sessionId, info]`: presence change (joined is 1 or 0). */
  Presence: 13,
  /** server → client `[14, topic, code, message]`: the server ended this subscription. */
  Unsubscribed: 14,
  /** client → server `[15, id, topic]`: who is subscribed to the topic (Reply: array of [sessionId, info]). */
  PresenceQuery: 15,
  /** server → client `[16, topic, offset]`: that offset exists but is not for you (you sent it, "except me"). Keeps gap detection exact. */
  Skip: 16,
  /** server → client `[17, topic, { epoch, offset, recovered, members? }]`: the server subscribed this session (its reply to no request). */
  Subscribed: 17,
} as const;

/** Close codes of the realtime layer (4000–4999 are for applications, RFC 6455 §7.4.2). */
export const RealtimeClose = {
  /** A message that is not valid tether.v1 (shape, type, or sent before Connect). */
  BadMessage: 4000,
  /** The authenticate hook refused the token. The client does not retry on its own. */
  Unauthorized: 4001,
  /** The session's token expired and was not refreshed in time. The client reconnects with a fresh token. */
  TokenExpired: 4002,
  /** No Connect message arrived within connectTimeout. */
  ConnectTimeout: 4003,
  /** The session kept sending after its rate limit refused messages. */
  RateLimited: 4029,
  /** The server is draining for a restart (RFC 6455's 1012); the reason carries the delay hint. */
  ServiceRestart: 1012,
} as const;

/** Error codes carried by Error messages and RealtimeError.code. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Timeout: 'timeout',
  RateLimited: 'rate_limited',
  Internal: 'internal',
  Unauthorized: 'unauthorized',
  Disconnected: 'disconnected',
  QueueFull: 'queue_full',
  /** Client-side: the message is over the limit the server announced in Connected (never on the wire). */
  TooLarge: 'too_large',
} as const;

/** The close reason of a drain: `retry after <ms> ms`. */
export function drainReason(delayMs: number): string {
  return `retry after ${Math.max(0, Math.round(delayMs))} ms`;
}

/** The delay hint of a drain's close reason, or undefined. */
export function parseDrainReason(reason: string): number | undefined {
  const m = /^retry after (\d{1,9}) ms$/.exec(reason);
  return m ? Number(m[1]) : undefined;
}

/** Largest request id; ids are positive integers that wrap around below this. */
export const MAX_ID = 2 ** 31 - 1;

export function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_ID;
}

/** Topic names: 1–200 characters, no control characters. */
export function isTopic(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20) return false;
  return true;
}

/** Event and method names: 1–100 characters. */
export function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 100;
}

/** Throws a TypeError naming `label` unless v is an event or method name. */
export function checkName(v: unknown, label: 'event' | 'method'): asserts v is string {
  if (!isName(v)) throw new TypeError(`${label} must be a string of 1 to 100 characters`);
}

/** Throws a TypeError unless v is a topic name. */
export function checkTopic(v: unknown): asserts v is string {
  if (!isTopic(v)) throw new TypeError('topic must be a string of 1 to 200 characters without control characters');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Most earlier session ids a Connect may name in `previous`. */
export const MAX_PREVIOUS_SESSIONS = 8;

/** Session ids as the server makes them: 1–64 characters of base64url. */
export function isSessionId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 64 && /^[A-Za-z0-9_-]+$/.test(v);
}

/** Idempotency keys of publishes: 1–64 characters, no control characters. */
export function isIdempotencyKey(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20) return false;
  return true;
}
