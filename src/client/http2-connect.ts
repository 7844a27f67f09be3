import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Http2Headers } from '../protocol/index.js';

/**
 * Opening a WebSocket on an HTTP/2 stream (RFC 8441), client side. Sockets to the same
 * origin with the same TLS options share one connection: a pool keeps one session per
 * origin and TLS options while it carries WebSockets, and closes it when the last one
 * ends. A server that does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (or does not
 * speak HTTP/2 at all) means HTTP/1.1.
 */
export type DialResult = { stream: ClientHttp2Stream } | { fallback: true } | { error: Error };

interface PooledSession {
  session: ClientHttp2Session;
  /** WebSockets opening or open on it. */
  users: number;
  /** Resolves with whether the server takes extended CONNECT. */
  ready: Promise<boolean>;
}

const pool = new Map<string, PooledSession>();

/** Resolves with whether the session's server advertised enableConnectProtocol. */
function connectProtocolSupported(session: ClientHttp2Session): Promise<boolean> {
  if (session.remoteSettings?.enableConnectProtocol === true) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (ok: boolean): void => {
      session.removeListener('remoteSettings', onSettings);
      session.removeListener('close', onGone);
      session.removeListener('error', onGone);
      resolve(ok);
    };
    const onSettings = (s: { enableConnectProtocol?: boolean }): void => settle(s.enableConnectProtocol === true);
    const onGone = (): void => settle(false);
    session.on('remoteSettings', onSettings);
    session.once('close', onGone);
    session.once('error', onGone);
    // A session that got its SETTINGS before we listened: a server sends SETTINGS before it
    // acknowledges a PING, so after the PING's answer the settings are known.
    if (!session.connecting && !session.destroyed) {
      try {
        session.ping(() => settle(session.remoteSettings?.enableConnectProtocol === true));
      } catch {
        settle(false);
      }
    }
  });
}

/**
 * Which TLS options a pooled session was made with: a socket may only share a session whose
 * connection was set up (and verified) the way its own would have been. A socket that trusts
 * only its own CA, or verifies at all, must not ride on a session another socket opened with
 * `rejectUnauthorized: false`. Primitives and strings compare by value; buffers, functions
 * and other objects (a `ca` Buffer, `checkServerIdentity`, a `secureContext`) by identity,
 * so equal options built from new buffers open a session of their own, never a wrong one.
 */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function tlsKey(tls: TlsConnectionOptions): string {
  const part = (v: unknown): unknown => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return v;
    if (Array.isArray(v)) return v.map(part);
    let id = identities.get(v);
    if (id === undefined) identities.set(v, (id = ++nextIdentity));
    return { id };
  };
  const record = tls as Record<string, unknown>;
  const names = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return JSON.stringify(names.map((k) => [k, part(record[k])]));
}

function pooledSession(url: URL, tls: TlsConnectionOptions): PooledSession {
  const secure = url.protocol === 'wss:';
  const key = secure ? `${url.origin} ${tlsKey(tls)}` : url.origin;
  let entry = pool.get(key);
  if (entry !== undefined && !entry.session.destroyed && !entry.session.closed) return entry;
  const origin = `${secure ? 'https' : 'http'}://${url.host}`;
  const session = http2Connect(origin, secure ? { ...tls } : {});
  session.on('error', noop);
  const created: PooledSession = { session, users: 0, ready: connectProtocolSupported(session) };
  session.once('close', () => {
    if (pool.get(key) === created) pool.delete(key);
  });
  pool.set(key, created);
  return created;
}

function release(entry: PooledSession | null): void {
  if (entry === null) return;
  if (--entry.users === 0) entry.session.close();
}

/**
 * Opens an extended CONNECT stream for a WebSocket, on `session` if one is given, else on
 * the pooled session for the URL's origin. Calls `done` once.
 */
export function dialHttp2(url: URL, session: ClientHttp2Session | null, tls: TlsConnectionOptions, headers: Http2Headers, done: (result: DialResult) => void): void {
  const entry = session === null ? pooledSession(url, tls) : null;
  const s = entry?.session ?? session!;
  if (entry !== null) entry.users++;
  const ready = entry?.ready ?? connectProtocolSupported(s);
  ready.then((ok) => {
    if (!ok || s.destroyed || s.closed) {
      release(entry);
      return done({ fallback: true });
    }
    let stream: ClientHttp2Stream;
    try {
      stream = s.request(headers as Record<string, string>, { endStream: false });
    } catch (err) {
      release(entry);
      return done({ error: err as Error });
    }
    stream.once('close', () => release(entry));
    done({ stream });
  }, (err: Error) => done({ error: err }));
}

/** Pooled HTTP/2 connections, for tests and for a process that wants to exit promptly. */
export function http2PoolSize(): number {
  return pool.size;
}

function noop(): void {}
