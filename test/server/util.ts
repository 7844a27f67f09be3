/**
 * Helpers shared by the server tests: raw HTTP requests over TCP, `ws` clients that
 * resolve once open, and small waiting utilities. Loopback only.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';
import { within } from '../helpers.js';

export interface RawResponse {
  status: number;
  statusLine: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
  raw: string;
  /** The server closed the connection (we saw the end of the stream). */
  closed: boolean;
}

/** A syntactically valid handshake request, with header overrides (null removes a header). */
export function upgradeRequest(opts: { method?: string; path?: string; version?: string; headers?: Record<string, string | null> } = {}): string {
  const base: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
  };
  const merged: Record<string, string | null> = { ...base };
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    for (const key of Object.keys(merged)) if (key.toLowerCase() === k.toLowerCase()) delete merged[key];
    merged[k] = v;
  }
  const lines = Object.entries(merged).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `${opts.method ?? 'GET'} ${opts.path ?? '/'} ${opts.version ?? 'HTTP/1.1'}\r\n${lines}\r\n`;
}

/**
 * Writes `request` on a fresh TCP connection and reads everything the server sends until
 * it closes the connection. Rejects if the connection is still open after `ms`.
 */
export function rawRequest(port: number, request: string | Buffer, ms = 4000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let ended = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${ms} ms; received: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, ms);
    socket.on('error', () => {});
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => (ended = true));
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parseResponse(raw), closed: ended });
    });
    socket.write(request);
  });
}

export function parseResponse(raw: string): Omit<RawResponse, 'closed'> {
  const end = raw.indexOf('\r\n\r\n');
  const headText = end < 0 ? raw : raw.slice(0, end);
  const lines = headText.split('\r\n');
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/1\.1 (\d{3})( .*)?$/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  return { status: m ? Number(m[1]) : -1, statusLine, headers, body: end < 0 ? '' : raw.slice(end + 4), raw };
}

/** A standalone server on 127.0.0.1 with a free port (heartbeats off unless asked for). */
export async function startServer<U = unknown>(options: ServerOptions<U> = {}): Promise<{ server: WebSocketServer<U>; port: number; url: string }> {
  const server = new WebSocketServer<U>({ heartbeatInterval: 0, ...options });
  const addr = await server.listen(0, '127.0.0.1');
  return { server, port: addr.port, url: `ws://127.0.0.1:${addr.port}` };
}

/** A `ws` client, resolved once open; rejects on an error or unexpected response. */
export function openWs(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions): Promise<WebSocket> {
  return within(
    new Promise<WebSocket>((resolve, reject) => {
      const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`unexpected response ${res.statusCode}`));
        ws.terminate();
      });
    }),
    5000,
    `opening ${url}`,
  );
}

/** Resolves with the close code and reason a `ws` client saw. */
export function wsClosed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' });
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** The next message a `ws` client receives. */
export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolve function, for handlers that report to the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `cond` every 5 ms until it holds, within `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}
