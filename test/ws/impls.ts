/**
 * The side-by-side harness: every behaviour test runs once against the real `ws` 8 and once
 * against `tether-ws/ws`, with the same code, and must pass on both. Not a test file itself.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as ws from 'ws';
import * as facade from '../../src/ws/index.js';

/** What a test uses of either implementation (typed as ws's API: the facade must fit it). */
export interface Impl {
  name: string;
  WebSocket: typeof ws.WebSocket;
  WebSocketServer: typeof ws.WebSocketServer;
  createWebSocketStream: typeof ws.createWebSocketStream;
}

export const IMPLS: Impl[] = [
  { name: 'ws', WebSocket: ws.WebSocket, WebSocketServer: ws.WebSocketServer, createWebSocketStream: ws.createWebSocketStream },
  {
    name: 'tether-ws/ws',
    WebSocket: facade.WebSocket as unknown as typeof ws.WebSocket,
    WebSocketServer: facade.WebSocketServer as unknown as typeof ws.WebSocketServer,
    createWebSocketStream: facade.createWebSocketStream as unknown as typeof ws.createWebSocketStream,
  },
];

export type Server = InstanceType<Impl['WebSocketServer']>;
export type Socket = InstanceType<Impl['WebSocket']>;

/** A server of `impl` on 127.0.0.1, a free port. */
export async function listen(impl: Impl, options: ws.ServerOptions = {}): Promise<{ wss: Server; port: number; url: string }> {
  const wss = new impl.WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return { wss, port, url: `ws://127.0.0.1:${port}` };
}

/** Closes the server and terminates its clients (ws 8's close() leaves clients open). */
export async function shut(wss: Server): Promise<void> {
  for (const c of wss.clients ?? []) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** A client of `impl` that resolves once open. */
export async function open(impl: Impl, url: string, protocols?: string | string[], options?: ws.ClientOptions): Promise<Socket> {
  const c = new impl.WebSocket(url, protocols, options);
  await once(c, 'open');
  return c;
}

/** The next 'connection' of a server, with its request. */
export async function nextConnection(wss: Server): Promise<Socket> {
  const [s] = await once(wss, 'connection');
  return s as Socket;
}

/** Resolves with the 'close' event's arguments. */
export function closed(s: Socket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => s.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

/** Records the named events of a socket in order, with their arguments made comparable. */
export function record(s: Socket, names: string[]): unknown[][] {
  const log: unknown[][] = [];
  for (const name of names) {
    s.on(name, (...args: unknown[]) => log.push([name, ...args.map(plain)]));
  }
  return log;
}

function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `buf:${v.toString('latin1')}`;
  if (v instanceof Error) return `${v.constructor.name}:${(v as Error & { code?: string }).code ?? ''}:${v.message}`;
  if (v instanceof ArrayBuffer) return `ab:${Buffer.from(v).toString('latin1')}`;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` is true (for conditions with no event), within `ms`. */
export async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** A client of `impl` and the server's side of it, both open. */
export async function pair(impl: Impl, wss: Server, url: string, protocols?: string | string[], options?: ws.ClientOptions): Promise<[Socket, Socket]> {
  const [s, c] = await Promise.all([nextConnection(wss), open(impl, url, protocols, options)]);
  return [c, s];
}
