/**
 * Helpers for the Yjs server tests: a raw y-websocket peer (Tether's WebSocket, messages
 * built by hand) and the stock y-websocket provider running on Tether's WebSocket.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WsWebSocket from 'ws';
import { WebSocket } from '../../src/client/index.js';
import { YjsServer, type YjsServerOptions } from '../../src/yjs/index.js';
import { WireReader } from '../../src/yjs/wire.js';
import { within } from '../helpers.js';

export async function startYjs(options: YjsServerOptions = {}): Promise<{ server: YjsServer; url: string }> {
  const server = new YjsServer({ prefix: '/docs', ...options, websocket: { heartbeatInterval: 0, ...options.websocket } });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, url: `ws://127.0.0.1:${port}/docs` };
}

export interface Decoded {
  type: number;
  /** Sync: the sync message type. */
  step?: number;
  /** Sync and awareness: the payload. */
  payload?: Uint8Array;
}

export function decode(message: Uint8Array): Decoded {
  const r = new WireReader(message);
  const type = r.varUint();
  if (type === 0) return { type, step: r.varUint(), payload: r.bytesField() };
  if (type === 1) return { type, payload: r.bytesField() };
  return { type };
}

/** Awareness entries of an awareness update. */
export function decodeAwareness(update: Uint8Array): Array<{ id: number; clock: number; state: unknown }> {
  const r = new WireReader(update);
  const out = [];
  for (let n = r.varUint(); n > 0; n--) out.push({ id: r.varUint(), clock: r.varUint(), state: JSON.parse(new TextDecoder().decode(r.bytesField())) as unknown });
  return out;
}

/** A y-websocket peer driven by hand (a `ws` client, which can also vanish without a close): sends raw bytes, collects what arrives. */
export class RawPeer {
  readonly ws: WsWebSocket;
  readonly received: Decoded[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WsWebSocket(url);
    this.ws.on('message', (data: Buffer) => {
      this.received.push(decode(new Uint8Array(data)));
      for (const w of this.waiters.splice(0)) w();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', () => reject(new Error(`could not open ${url}`)));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string): Promise<RawPeer> {
    const p = new RawPeer(url);
    await within(p.opened, 5000, `opening ${url}`);
    return p;
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Waits for (and removes) the first received message that matches. */
  async next(match: (m: Decoded) => boolean, what: string, ms = 5000): Promise<Decoded> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.received.findIndex(match);
      if (i >= 0) return this.received.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await within(new Promise<void>((r) => this.waiters.push(r)), left, what).catch(() => {});
    }
  }

  close(): void {
    this.ws.close();
  }

  /** Cuts the TCP connection without a close frame. */
  vanish(): void {
    this.ws.terminate();
  }
}

/** The stock y-websocket provider on Tether's WebSocket, without the cross-tab channel (it would sync without the server). */
export function provider(url: string, name: string, doc = new Y.Doc()): WebsocketProvider {
  return new WebsocketProvider(url, name, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
}

/** Destroys a provider and its document (the document's awareness holds a timer). */
export function closeProvider(p: WebsocketProvider | undefined): void {
  if (p === undefined) return;
  p.destroy();
  p.doc.destroy();
}

export function synced(p: WebsocketProvider, what: string): Promise<void> {
  if (p.synced) return Promise.resolve();
  return within(new Promise<void>((r) => p.once('sync', (s: boolean) => s && r())), 5000, what);
}

/** Polls until cond holds. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
