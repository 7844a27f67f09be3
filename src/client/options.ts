import type { ClientHttp2Session } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, resolveDeflateOptions, type PerMessageDeflateOptions, type ResolvedDeflateOptions } from '../protocol/index.js';

/** Node-only options, the third argument of `new WebSocket(url, protocols, options)`. */
export interface ClientOptions {
  /** Extra request headers (Authorization, Cookie, ...). Default: none. */
  headers?: Record<string, string>;
  /** The Origin header to send; browsers always send one, Node sends none by default. */
  origin?: string;
  /** Fail the connection if the opening handshake takes longer, in ms. Default 30 s; 0 disables. */
  handshakeTimeout?: number;
  /** Largest message accepted from the server, in bytes. Default 64 MiB. */
  maxPayload?: number;
  /** Most frames one message from the server may arrive in (1009 beyond). Default 16,384; Infinity for no limit. */
  maxFragments?: number;
  /** After sending a close frame, wait this long for the server before dropping, in ms. Default 5 s. */
  closeTimeout?: number;
  /** TLS options for wss:// (ca, cert, key, rejectUnauthorized, servername, ...). Default: Node's (the system's CAs, certificates checked). */
  tls?: TlsConnectionOptions;
  /** Shorthand for `tls.ca`: the certificate authorities to trust. Default: Node's. */
  ca?: TlsConnectionOptions['ca'];
  /** Shorthand for `tls.rejectUnauthorized`. Default true. */
  rejectUnauthorized?: boolean;
  /**
   * permessage-deflate (RFC 7692): `true` offers `permessage-deflate; client_max_window_bits`
   * as browsers do; an object sets what to offer (and threshold, level, memLevel). Default false.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Open the WebSocket on an HTTP/2 stream (RFC 8441). `true` shares one connection per
   * origin among the sockets that ask for it with the same TLS options (`tls`, `ca`,
   * `rejectUnauthorized`; buffers and functions compared by identity), closed when the
   * last one ends; a session from `http2.connect` is used as it is. When the server does
   * not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (or does not speak HTTP/2), the socket
   * opens over HTTP/1.1 instead. Default false.
   */
  http2?: boolean | ClientHttp2Session;
}

export interface ResolvedClientOptions {
  headers: Record<string, string> | undefined;
  origin: string | undefined;
  handshakeTimeout: number;
  maxPayload: number;
  maxFragments: number;
  closeTimeout: number;
  tls: TlsConnectionOptions;
  deflate: ResolvedDeflateOptions | null;
  /** null: HTTP/1.1; true: the pooled session of the origin; or the given session. */
  http2: true | ClientHttp2Session | null;
}

const KNOWN = new Set(['headers', 'origin', 'handshakeTimeout', 'maxPayload', 'maxFragments', 'closeTimeout', 'tls', 'ca', 'rejectUnauthorized', 'perMessageDeflate', 'http2']);

function integer(o: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const v = o[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new TypeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

export function resolveClientOptions(input: ClientOptions | undefined): ResolvedClientOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) throw new TypeError('options must be an object');
  const o = (input ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new TypeError(`unknown option ${k}`);
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null) throw new TypeError('headers must be an object of strings');
    for (const [k, v] of Object.entries(o.headers)) {
      if (typeof v !== 'string') throw new TypeError(`headers: the value of "${k}" must be a string`);
      if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new TypeError(`headers: invalid characters in "${k}"`);
    }
  }
  if (o.origin !== undefined && (typeof o.origin !== 'string' || /[\r\n]/.test(o.origin))) throw new TypeError('origin must be a string');
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null)) throw new TypeError('tls must be an object of tls.connect options');
  if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== 'boolean') throw new TypeError('rejectUnauthorized must be a boolean');
  if (o.perMessageDeflate !== undefined && typeof o.perMessageDeflate !== 'boolean' && (typeof o.perMessageDeflate !== 'object' || o.perMessageDeflate === null)) {
    throw new TypeError('perMessageDeflate must be a boolean or an object');
  }
  const h2 = o.http2;
  if (h2 !== undefined && typeof h2 !== 'boolean' && !(typeof h2 === 'object' && h2 !== null && typeof (h2 as ClientHttp2Session).request === 'function')) {
    throw new TypeError('http2 must be a boolean or a ClientHttp2Session from http2.connect()');
  }
  const tls: TlsConnectionOptions = { ...(o.tls as TlsConnectionOptions | undefined) };
  if (o.ca !== undefined) tls.ca = o.ca as TlsConnectionOptions['ca'];
  if (o.rejectUnauthorized !== undefined) tls.rejectUnauthorized = o.rejectUnauthorized as boolean;
  return {
    headers: o.headers as Record<string, string> | undefined,
    origin: o.origin as string | undefined,
    handshakeTimeout: integer(o, 'handshakeTimeout', 30_000, 0),
    maxPayload: integer(o, 'maxPayload', DEFAULT_MAX_PAYLOAD, 1),
    maxFragments: o.maxFragments === Infinity ? Infinity : integer(o, 'maxFragments', DEFAULT_MAX_FRAGMENTS, 1),
    closeTimeout: integer(o, 'closeTimeout', 5_000, 1),
    tls,
    deflate: resolveDeflateOptions(o.perMessageDeflate, 'perMessageDeflate', 'client'),
    http2: h2 === true ? true : typeof h2 === 'object' ? (h2 as ClientHttp2Session) : null,
  };
}
