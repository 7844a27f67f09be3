import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { DEFAULT_COMPRESSED_MAX_PAYLOAD, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, resolveDeflateOptions, type PerMessageDeflateOptions, type ResolvedDeflateOptions } from '../protocol/index.js';
import type { ServerSocket } from './server-socket.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** What the verify hook may answer: accept (true/undefined) or refuse with an HTTP status. */
export type VerifyResult = boolean | void | undefined | { status: number; message?: string; headers?: Record<string, string> };

/**
 * Server-level handlers: one function per event for all connections, no emitter per socket.
 * `U` is the type of `ws.data` (what the verify hook puts in `request.data`).
 */
export interface ServerHandlers<U = unknown> {
  open?(ws: ServerSocket<U>, request: UpgradeRequest<U>): void;
  message?(ws: ServerSocket<U>, data: string | Buffer, isBinary: boolean): void;
  /** The socket's write buffer emptied after a send returned SendStatus.Backpressure. */
  drain?(ws: ServerSocket<U>): void;
  /** The connection ended. code is the peer's close code, 1005 without one, 1006 if none arrived. */
  close?(ws: ServerSocket<U>, code: number, reason: string): void;
  ping?(ws: ServerSocket<U>, payload: Buffer): void;
  pong?(ws: ServerSocket<U>, payload: Buffer): void;
  /**
   * The peer broke the protocol (or sent a message over maxPayload): a close frame with
   * `code` has been sent and the connection is ending; the close handler follows.
   */
  protocolError?(ws: ServerSocket<U>, code: number, reason: string): void;
  /**
   * A hook of yours threw (or rejected) while an upgrade was handled: `verify`,
   * `selectProtocol`, an `origins` function (the client got 500) or a `path` function (404;
   * `request` is undefined then). Without this handler the error is logged with console.error.
   */
  error?(error: unknown, request: UpgradeRequest<U> | undefined): void;
}

export interface ServerOptions<U = unknown> extends ServerHandlers<U> {
  /** Standalone: port to listen on (0 picks a free one). Default: none, not standalone (use listen(), attach() or handleUpgrade()). */
  port?: number;
  /** Standalone: address to bind; defaults to all interfaces as net.Server does. */
  host?: string;
  /** Standalone over TLS (wss://): key, cert, and any tls.createServer options. */
  tls?: TlsOptions & SecureContextOptions;
  /**
   * Only upgrades for this path are accepted (404 otherwise); the query string is ignored.
   * A function decides per path instead (for a prefix with names under it, `/docs/<name>`).
   * Default: every path.
   */
  path?: string | ((path: string) => boolean);
  /**
   * Largest message accepted, in bytes, fragmented or not, compressed or inflated. Default
   * 64 MiB, and 16 MiB on connections that negotiated permessage-deflate (where a message
   * of a few KB can inflate to megabytes); a value given here applies to both.
   */
  maxPayload?: number;
  /**
   * Most frames one message may arrive in: a message in more fragments is refused with 1009
   * at the header of the frame past the limit. Default 16,384; Infinity for no limit.
   */
  maxFragments?: number;
  /** Most bytes a socket may have queued for writing before the backpressure policy applies. Default 1 MiB. */
  maxBackpressure?: number;
  /** 'close' closes a slow consumer with 1008; 'drop' drops messages while it is over the limit. Default 'close'. */
  backpressurePolicy?: 'close' | 'drop';
  /** Ping idle peers this often and drop the ones that did not answer the previous ping, in ms; 0 disables. Default 30 s. */
  heartbeatInterval?: number;
  /** Close connections with no incoming message for this long, in ms; 0 (default) disables. */
  idleTimeout?: number;
  /** Drop sockets that have not completed the opening handshake within this time, in ms. Default 10 s. */
  handshakeTimeout?: number;
  /** After a close frame is sent, wait this long for the peer before dropping the connection, in ms. Default 5 s. */
  closeTimeout?: number;
  /** Largest opening-handshake head, in bytes (431 beyond). Default 16 KiB. */
  maxHeaderSize?: number;
  /** Most simultaneous connections, handshakes in progress included (503 beyond). Default unlimited. */
  maxConnections?: number;
  /** Accepted Origin values (browsers send one); others get 403. Requests without Origin are accepted. Default: every origin. */
  origins?: string[] | ((origin: string) => boolean);
  /** Subprotocols the server speaks, in its order of preference. Default: none (a client offering some gets none). */
  protocols?: string[];
  /** Chooses the subprotocol among those offered; return undefined/false to choose none. Overrides `protocols`. */
  selectProtocol?(offered: string[], request: UpgradeRequest<U>): string | false | undefined;
  /**
   * permessage-deflate (RFC 7692): `true` accepts what browsers offer with safe defaults;
   * an object sets the parameters, `threshold`, `level`, `memLevel` and `maxContexts`.
   * Default false (no compression).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Authentication and policy hook, sync or async, called before the 101 response: true or
   * nothing accepts, false refuses with 401, `{ status, message, headers }` with that status;
   * set `request.data` to what `ws.data` should hold. If it throws, the client gets 500 and the
   * error handler the error. Default: every request is accepted.
   */
  verify?(request: UpgradeRequest<U>): VerifyResult | Promise<VerifyResult>;
  /** Answer pings with pongs automatically. Default true; with false, answer them in the ping handler (ws.sendPong). */
  autoPong?: boolean;
  /** Deliver text messages to the message handler as UTF-8 bytes (a Buffer) instead of strings. Default false. */
  textAsBytes?: boolean;
  /** Check that text messages and close reasons are UTF-8. Default true; false trusts the peer (invalid bytes are not refused). */
  validateUtf8?: boolean;
  /** When the peer closes, our close frame repeats its reason as well as its code. Default false (code only). */
  echoCloseReason?: boolean;
}

export interface ResolvedServerOptions {
  deflate: ResolvedDeflateOptions | null;
  path: string | ((path: string) => boolean) | undefined;
  maxPayload: number;
  /** maxPayload on connections with permessage-deflate. */
  compressedMaxPayload: number;
  maxFragments: number;
  maxBackpressure: number;
  dropOnBackpressure: boolean;
  heartbeatInterval: number;
  idleTimeout: number;
  handshakeTimeout: number;
  closeTimeout: number;
  maxHeaderSize: number;
  maxConnections: number;
  autoPong: boolean;
  textAsBytes: boolean;
  validateUtf8: boolean;
  echoCloseReason: boolean;
}

const HANDLER_NAMES = ['open', 'message', 'drain', 'close', 'ping', 'pong', 'protocolError', 'error', 'verify', 'selectProtocol'] as const;
const FLAGS = ['autoPong', 'textAsBytes', 'validateUtf8', 'echoCloseReason'] as const;
const KNOWN = new Set<string>([
  ...HANDLER_NAMES, ...FLAGS, 'port', 'host', 'tls', 'path', 'maxPayload', 'maxFragments', 'maxBackpressure', 'backpressurePolicy', 'heartbeatInterval',
  'idleTimeout', 'handshakeTimeout', 'closeTimeout', 'maxHeaderSize', 'maxConnections', 'origins', 'protocols', 'perMessageDeflate',
]);

/** Node timers turn longer delays (Infinity included) into 1 ms. */
const MAX_TIMER = 2 ** 31 - 1;

function count(options: Record<string, unknown>, name: string, fallback: number, min = 0, max = Infinity): number {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (v !== Infinity && !Number.isInteger(v))) {
    throw new TypeError(`${name} must be an integer >= ${min}${max === Infinity ? '' : ` and <= ${max}`}, got ${String(v)}`);
  }
  return v;
}

/** Validates options up front; a wrong one throws a TypeError naming it. */
export function resolveServerOptions(input: ServerOptions<never> | undefined): ResolvedServerOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw new TypeError('options must be an object');
  const o = (input ?? {}) as unknown as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new TypeError(`unknown option ${key}`);
  }
  for (const name of HANDLER_NAMES) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new TypeError(`${name} must be a function`);
  }
  for (const name of FLAGS) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  }
  if (o.port !== undefined) count(o, 'port', 0);
  if (typeof o.port === 'number' && o.port > 65535) throw new TypeError('port must be between 0 and 65535');
  if (o.host !== undefined && typeof o.host !== 'string') throw new TypeError('host must be a string');
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null)) throw new TypeError('tls must be an object of tls.createServer options');
  if (o.path !== undefined && typeof o.path !== 'function' && (typeof o.path !== 'string' || !o.path.startsWith('/'))) {
    throw new TypeError('path must be a string starting with "/" or a function');
  }
  if (o.backpressurePolicy !== undefined && o.backpressurePolicy !== 'close' && o.backpressurePolicy !== 'drop') {
    throw new TypeError('backpressurePolicy must be "close" or "drop"');
  }
  if (o.origins !== undefined && typeof o.origins !== 'function' && !(Array.isArray(o.origins) && o.origins.every((x) => typeof x === 'string'))) {
    throw new TypeError('origins must be an array of strings or a function');
  }
  if (o.protocols !== undefined && !(Array.isArray(o.protocols) && o.protocols.every((x) => typeof x === 'string'))) {
    throw new TypeError('protocols must be an array of strings');
  }
  if (o.perMessageDeflate !== undefined && typeof o.perMessageDeflate !== 'boolean' && (typeof o.perMessageDeflate !== 'object' || o.perMessageDeflate === null)) {
    throw new TypeError('perMessageDeflate must be a boolean or an object');
  }
  return {
    deflate: resolveDeflateOptions(o.perMessageDeflate, 'perMessageDeflate', 'server'),
    path: o.path as ResolvedServerOptions['path'],
    maxPayload: count(o, 'maxPayload', DEFAULT_MAX_PAYLOAD, 1),
    compressedMaxPayload: count(o, 'maxPayload', DEFAULT_COMPRESSED_MAX_PAYLOAD, 1),
    maxFragments: count(o, 'maxFragments', DEFAULT_MAX_FRAGMENTS, 1),
    maxBackpressure: count(o, 'maxBackpressure', 1024 * 1024, 1),
    dropOnBackpressure: o.backpressurePolicy === 'drop',
    heartbeatInterval: count(o, 'heartbeatInterval', 30_000, 0, MAX_TIMER),
    idleTimeout: count(o, 'idleTimeout', 0, 0, MAX_TIMER),
    handshakeTimeout: count(o, 'handshakeTimeout', 10_000, 1, MAX_TIMER),
    closeTimeout: count(o, 'closeTimeout', 5_000, 1, MAX_TIMER),
    maxHeaderSize: count(o, 'maxHeaderSize', 16 * 1024, 256),
    maxConnections: count(o, 'maxConnections', Infinity, 1),
    autoPong: o.autoPong !== false,
    textAsBytes: o.textAsBytes === true,
    validateUtf8: o.validateUtf8 !== false,
    echoCloseReason: o.echoCloseReason === true,
  };
}
