/** The part of the WebSocket API the client uses: the browser's, Tether's, or any compatible one. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: any) => WebSocketLike;

export interface RealtimeClientOptions {
  /** Sent in the Connect message; a function is called before every connection and refresh (it may return a promise). */
  token?: unknown;
  /** Wire codec: 'json' (default, text frames) or 'msgpack' (binary frames, binary data without base64). */
  codec?: 'json' | 'msgpack';
  /** The WebSocket class. Default: the browser's global one; on Node, tether-ws's client. */
  WebSocket?: WebSocketConstructor;
  /** Third constructor argument for the WebSocket class (Node: headers, tls options...). */
  webSocketOptions?: unknown;
  /** Reconnection backoff, in ms; false disables reconnection. */
  reconnect?: false | { minDelay?: number; maxDelay?: number; factor?: number };
  /** A connection silent this long past the heartbeat interval is considered dead, in ms. Default 10 s. */
  heartbeatTimeout?: number;
  /** A connection attempt without a Connected reply in this time is abandoned, in ms. Default 10 s. */
  connectTimeout?: number;
  /** Default timeout of requests, publishes and subscribes, in ms. Default 10 s. */
  requestTimeout?: number;
  /** Most messages held while offline; beyond, emit throws and requests reject with `queue_full`. Default 1000. */
  offlineQueue?: number;
  /** Refresh the token this long before it expires (at most a fifth of its remaining life), in ms. Default 30 s. */
  refreshMargin?: number;
  /** Connect at construction. Default true. */
  autoConnect?: boolean;
}

export interface ResolvedClientOptions {
  token: unknown;
  codec: 'json' | 'msgpack';
  WebSocket: WebSocketConstructor;
  webSocketOptions: unknown;
  reconnect: false | { minDelay: number; maxDelay: number; factor: number };
  heartbeatTimeout: number;
  connectTimeout: number;
  requestTimeout: number;
  offlineQueue: number;
  refreshMargin: number;
  autoConnect: boolean;
}

let defaultWebSocket: WebSocketConstructor | undefined;

/** Sets the WebSocket class used when none is given (the Node entry point installs tether-ws's). */
export function setDefaultWebSocket(ctor: WebSocketConstructor): void {
  defaultWebSocket = ctor;
}

const KNOWN = new Set(['token', 'codec', 'WebSocket', 'webSocketOptions', 'reconnect', 'heartbeatTimeout', 'connectTimeout', 'requestTimeout', 'offlineQueue', 'refreshMargin', 'autoConnect']);

function ms(o: Record<string, unknown>, name: string, fallback: number, label = name): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${label} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

export function resolveClientOptions(input: RealtimeClientOptions): ResolvedClientOptions {
  if (typeof input !== 'object' || input === null) throw new TypeError('options must be an object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new TypeError(`unknown option ${k}`);
  if (o.codec !== undefined && o.codec !== 'json' && o.codec !== 'msgpack') throw new TypeError('codec must be "json" or "msgpack"');
  const ctor = (o.WebSocket ?? defaultWebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as WebSocketConstructor | undefined;
  if (typeof ctor !== 'function') throw new TypeError('WebSocket: no WebSocket class available; pass options.WebSocket');
  let reconnect: ResolvedClientOptions['reconnect'] = { minDelay: 500, maxDelay: 30_000, factor: 2 };
  if (o.reconnect === false) reconnect = false;
  else if (o.reconnect !== undefined) {
    const r = o.reconnect as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) throw new TypeError('reconnect must be false or an object');
    for (const k of Object.keys(r)) if (k !== 'minDelay' && k !== 'maxDelay' && k !== 'factor') throw new TypeError(`unknown option reconnect.${k}`);
    reconnect = {
      minDelay: ms(r, 'minDelay', 500, 'reconnect.minDelay'),
      maxDelay: ms(r, 'maxDelay', 30_000, 'reconnect.maxDelay'),
      factor: ms(r, 'factor', 2, 'reconnect.factor'),
    };
    if (reconnect.factor < 1) throw new TypeError('reconnect.factor must be >= 1');
    if (reconnect.maxDelay < reconnect.minDelay) throw new TypeError('reconnect.maxDelay must be >= reconnect.minDelay');
  }
  const offlineQueue = ms(o, 'offlineQueue', 1000);
  if (!Number.isInteger(offlineQueue)) throw new TypeError('offlineQueue must be an integer');
  if (o.autoConnect !== undefined && typeof o.autoConnect !== 'boolean') throw new TypeError('autoConnect must be a boolean');
  return {
    token: o.token,
    codec: (o.codec as 'json' | 'msgpack' | undefined) ?? 'json',
    WebSocket: ctor,
    webSocketOptions: o.webSocketOptions,
    reconnect,
    heartbeatTimeout: ms(o, 'heartbeatTimeout', 10_000) || 1,
    connectTimeout: ms(o, 'connectTimeout', 10_000) || 1,
    requestTimeout: ms(o, 'requestTimeout', 10_000),
    offlineQueue,
    refreshMargin: ms(o, 'refreshMargin', 30_000),
    autoConnect: o.autoConnect !== false,
  };
}
