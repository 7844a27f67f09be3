import type { ServerOptions, UpgradeRequest } from '../../server/index.js';
import { DEFAULT_IDEMPOTENCY_WINDOW, type Adapter, type TopicPolicy } from '../adapters/adapter.js';
import type { RateLimitOptions } from './rate-limit.js';
import type { Session } from './session.js';

/** Handles an event clients emit (RealtimeServer.on). */
export type EventHandler<U = unknown, T = unknown> = (data: T, session: Session<U>) => void;
/** Answers a request (RealtimeServer.handle): its return value (or promise) is the reply, a thrown RealtimeError the error. */
export type RequestHandler<U = unknown, Req = unknown, Res = unknown> = (data: Req, session: Session<U>) => Res | Promise<Res>;

/** What authenticate returns for an accepted token. */
export interface AuthResult<U = unknown> {
  /** Private data about the user, kept on the session (session.user). */
  user?: U;
  /** Public data shown to others as presence info, unless a subscription brings its own. */
  info?: unknown;
  /** When the token expires (ms since 1970): the session is closed with 4002 unless refreshed before. */
  expiresAt?: number;
}

export interface AuthContext<U = unknown> {
  /** At connect time: the upgrade request (headers, address, query) of the session's connection. */
  request?: UpgradeRequest;
  /** At a token refresh: the session (its upgrade request is no longer kept, see Session.upgradeRequest). */
  session?: Session<U>;
}

/** Per-topic settings; topics() may answer a part, the rest takes the defaults. */
export type TopicOptions = Partial<TopicPolicy>;

type WebSocketOptions = Omit<ServerOptions<Session<any>>, 'open' | 'message' | 'drain' | 'close' | 'ping' | 'pong' | 'protocols' | 'selectProtocol' | 'port' | 'host' | 'tls'>;

/**
 * U is the type of session.user (what authenticate returns as `user`). Hooks are declared
 * as methods so that a RealtimeServer<User> can be used where a RealtimeServer is expected.
 */
export interface RealtimeServerOptions<U = unknown> {
  /** Standalone: port to listen on (0 picks one). Without it, use attach() or handleUpgrade(). */
  port?: number;
  host?: string;
  tls?: ServerOptions['tls'];
  /** Options of the underlying WebSocketServer (path, maxPayload (default here 1 MiB), perMessageDeflate, verify, limits...). */
  websocket?: WebSocketOptions;
  /**
   * Checks the token the client sent in its Connect message (or in a Refresh). Return an
   * AuthResult (or true) to accept. Return false, or throw a RealtimeError whose message
   * says why, to refuse: a new session is closed with 4001 and that message as the close
   * reason; a refresh is answered with an `unauthorized` error. Without this hook every
   * client is accepted as anonymous.
   */
  authenticate?(token: unknown, context: AuthContext<U>): AuthResult<U> | boolean | Promise<AuthResult<U> | boolean>;
  /** Authorization hooks; a refusal reaches the client as a `forbidden` error. */
  authorize?: {
    /** May this session subscribe to topic? Default: yes. */
    subscribe?(session: Session<U>, topic: string): boolean | Promise<boolean>;
    /** May this session publish to topic? Default: no (clients publish only where this hook allows it). */
    publish?(session: Session<U>, topic: string): boolean | Promise<boolean>;
  };
  /** Settings per topic name. Default: reliable, history of 1000 messages for 5 minutes, no presence, idempotency keys kept 2 minutes. */
  topics?(topic: string): TopicOptions | undefined;
  /** Where fan-out, history and presence live. Default: a MemoryAdapter of its own. */
  adapter?: Adapter;
  /** Close connections that send no Connect message within this many ms (4003). Default 10 s. */
  connectTimeout?: number;
  /** How often clients should send their application heartbeat, in ms (told in Connected). Default 25 s. */
  heartbeatInterval?: number;
  /** Default timeout of session.request(), in ms. Default 10 s. */
  requestTimeout?: number;
  /** Most topics one session may subscribe to. Default 1000. */
  maxSubscriptions?: number;
  /**
   * Per-session limits on incoming messages; over them a message is refused with
   * `rate_limited`. Default: DEFAULT_RATE_LIMIT (1000 messages and max(16 MiB, maxPayload)
   * bytes per second, bursts of 2 seconds' worth). false: no limit.
   */
  rateLimit?: RateLimitOptions | false;
  /** A session was authenticated. */
  onConnect?(session: Session<U>): void;
  /** A session ended (code and reason of the WebSocket close). */
  onDisconnect?(session: Session<U>, code: number, reason: string): void;
  /** An event or request handler threw (requests also answer `internal`). Default: console.error. */
  onError?(err: unknown, session: Session<U> | undefined): void;
}

export interface ResolvedRealtimeOptions {
  connectTimeout: number;
  heartbeatInterval: number;
  requestTimeout: number;
  maxSubscriptions: number;
  rateLimit: { messages: number; bytes: number; burst: number } | null;
  /** The connection's largest incoming message, in bytes (announced to clients in Connected). */
  maxPayload: number;
}

const KNOWN = new Set([
  'port', 'host', 'tls', 'websocket', 'authenticate', 'authorize', 'topics', 'adapter', 'connectTimeout', 'heartbeatInterval',
  'requestTimeout', 'maxSubscriptions', 'rateLimit', 'onConnect', 'onDisconnect', 'onError',
]);

function positive(o: Record<string, unknown>, name: string, fallback: number, label = name): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0) || (v !== Infinity && !Number.isFinite(v))) throw new TypeError(`${label} must be a number > 0, got ${String(v)}`);
  return v;
}

/** The default per-session rate limit: messages per second, bytes per second (at least maxPayload), seconds of burst. */
export const DEFAULT_RATE_LIMIT = { messages: 1000, bytes: 16 * 1024 * 1024, burst: 2 } as const;

/** Validates options up front; a wrong one throws a TypeError naming it. `maxPayload` is the connection's message limit. */
export function resolveRealtimeOptions(input: unknown, maxPayload: number): ResolvedRealtimeOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw new TypeError('options must be an object');
  const o = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) throw new TypeError(`unknown option ${key}`);
  for (const name of ['authenticate', 'topics', 'onConnect', 'onDisconnect', 'onError']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new TypeError(`${name} must be a function`);
  }
  if (o.authorize !== undefined) {
    if (typeof o.authorize !== 'object' || o.authorize === null) throw new TypeError('authorize must be an object');
    for (const [k, v] of Object.entries(o.authorize)) {
      if (k !== 'subscribe' && k !== 'publish') throw new TypeError(`unknown option authorize.${k}`);
      if (v !== undefined && typeof v !== 'function') throw new TypeError(`authorize.${k} must be a function`);
    }
  }
  if (o.adapter !== undefined && (typeof o.adapter !== 'object' || o.adapter === null || typeof (o.adapter as { attach?: unknown }).attach !== 'function')) {
    throw new TypeError('adapter must be an object with an attach() method');
  }
  if (o.websocket !== undefined && (typeof o.websocket !== 'object' || o.websocket === null)) throw new TypeError('websocket must be an object');
  let rateLimit: ResolvedRealtimeOptions['rateLimit'] = { ...DEFAULT_RATE_LIMIT, bytes: Math.max(DEFAULT_RATE_LIMIT.bytes, maxPayload) };
  if (o.rateLimit === false) {
    rateLimit = null;
  } else if (o.rateLimit !== undefined) {
    const r = o.rateLimit as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) throw new TypeError('rateLimit must be an object or false');
    for (const k of Object.keys(r)) if (k !== 'messages' && k !== 'bytes' && k !== 'burst') throw new TypeError(`unknown option rateLimit.${k}`);
    rateLimit = {
      messages: positive(r, 'messages', Infinity, 'rateLimit.messages'),
      bytes: positive(r, 'bytes', Infinity, 'rateLimit.bytes'),
      burst: positive(r, 'burst', 1, 'rateLimit.burst'),
    };
  }
  const maxSubscriptions = positive(o, 'maxSubscriptions', 1000);
  if (!Number.isInteger(maxSubscriptions) && maxSubscriptions !== Infinity) throw new TypeError('maxSubscriptions must be an integer');
  return {
    connectTimeout: positive(o, 'connectTimeout', 10_000),
    heartbeatInterval: positive(o, 'heartbeatInterval', 25_000),
    requestTimeout: positive(o, 'requestTimeout', 10_000),
    maxSubscriptions,
    rateLimit,
    maxPayload,
  };
}

export const DEFAULT_TOPIC: TopicPolicy = { mode: 'reliable', historySize: 1000, historyTtl: 300_000, presence: false, idempotencyWindow: DEFAULT_IDEMPOTENCY_WINDOW };

/** Merges a topic's options over the defaults, checking them (a TypeError names the topic and field). */
export function resolveTopicPolicy(topic: string, options: TopicOptions | undefined): TopicPolicy {
  if (options === undefined) return DEFAULT_TOPIC;
  const p = { ...DEFAULT_TOPIC, ...options };
  if (p.mode !== 'reliable' && p.mode !== 'conflated') throw new TypeError(`topics("${topic}").mode must be "reliable" or "conflated"`);
  if (!Number.isInteger(p.historySize) || p.historySize < 0) throw new TypeError(`topics("${topic}").historySize must be an integer >= 0`);
  if (typeof p.historyTtl !== 'number' || !(p.historyTtl >= 0)) throw new TypeError(`topics("${topic}").historyTtl must be a number >= 0`);
  if (typeof p.presence !== 'boolean') throw new TypeError(`topics("${topic}").presence must be a boolean`);
  if (typeof p.idempotencyWindow !== 'number' || !(p.idempotencyWindow >= 0) || p.idempotencyWindow === Infinity) throw new TypeError(`topics("${topic}").idempotencyWindow must be a finite number >= 0`);
  return p;
}
