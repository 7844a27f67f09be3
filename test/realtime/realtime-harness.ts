/**
 * Shared helpers for the realtime tests: servers and clients on 127.0.0.1 that are all
 * closed after each test, and bounded waits for what the tests observe.
 */
import { WebSocket } from '../../src/client/index.js';
import { RealtimeClient, RealtimeServer, type ClientState, type RealtimeClientOptions, type RealtimeServerOptions, type Session, type StateChange, type Subscription } from '../../src/realtime/index.js';
import { within } from '../helpers.js';
import { WireClient, type CodecName } from './wire-client.js';

export { within };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every few ms until it holds; rejects after `ms`. */
export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

/** Everything a test opened, closed in reverse order by cleanup(). */
export class Harness {
  private servers: RealtimeServer[] = [];
  private clients: RealtimeClient[] = [];
  private sockets: WebSocket[] = [];
  private wires: WireClient[] = [];

  /** A realtime server listening on 127.0.0.1 (no WebSocket-level pings: tests stay quiet). */
  async server(options: RealtimeServerOptions = {}): Promise<{ rt: RealtimeServer; url: string; port: number }> {
    const rt = new RealtimeServer({ ...options, websocket: { heartbeatInterval: 0, ...options.websocket } });
    this.servers.push(rt);
    const addr = await rt.listen(0, '127.0.0.1');
    return { rt, url: `ws://127.0.0.1:${addr.port}/`, port: addr.port };
  }

  /** A realtime client; reconnects quickly by default. */
  client(url: string, options: RealtimeClientOptions = {}): RealtimeClient {
    const c = new RealtimeClient(url, { reconnect: { minDelay: 20, maxDelay: 100 }, requestTimeout: 3000, ...options });
    this.clients.push(c);
    return c;
  }

  /** A client that is connected (bounded wait). */
  async connected(url: string, options: RealtimeClientOptions = {}): Promise<RealtimeClient> {
    const c = this.client(url, options);
    await waitState(c, 'connected', 3000);
    return c;
  }

  /** A plain Tether WebSocket (for speaking the wire protocol by hand). */
  socket(url: string, protocols?: string | string[]): WebSocket {
    const ws = new WebSocket(url, protocols);
    this.sockets.push(ws);
    return ws;
  }

  /** A connection speaking the wire protocol by hand, open (not yet connected). */
  async wire(url: string, codec: CodecName = 'json', protocols?: string[]): Promise<WireClient> {
    const w = new WireClient(url, codec, protocols);
    this.wires.push(w);
    await within(w.opened, 3000, 'websocket open');
    return w;
  }

  /** A hand-spoken connection after Connect/Connected (its session id in `sessionId`). */
  async session(url: string, codec: CodecName = 'json', token: unknown = null, meta: unknown = {}): Promise<WireClient & { sessionId: string }> {
    const w = (await this.wire(url, codec)) as WireClient & { sessionId: string };
    w.send([0, token, meta]);
    const connected = await w.next();
    if (connected[0] !== 1) throw new Error(`expected Connected, got ${JSON.stringify(connected)}`);
    w.sessionId = connected[1] as string;
    return w;
  }

  async cleanup(): Promise<void> {
    for (const w of this.wires.splice(0)) w.close();
    for (const c of this.clients.splice(0)) c.close();
    for (const ws of this.sockets.splice(0)) if (ws.readyState < 2) ws.close();
    await Promise.all(this.servers.splice(0).map((rt) => rt.close({ timeout: 500 })));
  }
}

/** Resolves with the next state change matching `state` (at once if the client is already in it and no predicate is given). */
export function waitState(c: RealtimeClient, state: ClientState, ms: number, pred: (ch: StateChange) => boolean = () => true): Promise<StateChange> {
  if (c.state === state && state === 'connected') return Promise.resolve({ state });
  let off: () => void = () => {};
  const p = new Promise<StateChange>((resolve) => {
    off = c.onState((ch) => {
      if (ch.state === state && pred(ch)) resolve(ch);
    });
  });
  return within(p, ms, `client state ${state}`).finally(() => off());
}

/** The server-side session of a connected client. */
export function sessionOf(rt: RealtimeServer, c: RealtimeClient): Session {
  const s = rt.sessions.get(c.sessionId);
  if (s === undefined) throw new Error(`no session ${c.sessionId} on this server`);
  return s;
}

/** Records a subscription's messages as [data, offset] pairs. */
export function record(sub: Subscription): { messages: unknown[]; offsets: number[]; wait(n: number, ms?: number): Promise<void> } {
  const messages: unknown[] = [];
  const offsets: number[] = [];
  sub.on('message', (data, meta) => {
    messages.push(data);
    offsets.push(meta.offset);
  });
  return { messages, offsets, wait: (n, ms = 2000) => eventually(() => messages.length >= n, ms, `${n} messages on ${sub.topic} (have ${messages.length})`) };
}

/** Records the events of one name a client receives. */
export function recordEvents(c: RealtimeClient, event: string): { list: unknown[]; wait(n: number, ms?: number): Promise<void> } {
  const list: unknown[] = [];
  c.on(event, (d) => list.push(d));
  return { list, wait: (n, ms = 2000) => eventually(() => list.length >= n, ms, `${n} ${event} events (have ${list.length})`) };
}

/** Resolves with the next value `register` hands to its callback, within ms. */
export function once<T>(register: (fn: (v: T) => void) => (() => void) | void, ms: number, what: string): Promise<T> {
  let off: (() => void) | void;
  const p = new Promise<T>((resolve) => {
    off = register((v) => resolve(v));
  });
  return within(p, ms, what).finally(() => off?.());
}

/** Rejects when the promise resolves; resolves with the rejection reason. */
export async function rejection(p: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  return within(
    p.then(
      (v) => {
        throw new Error(`${what}: expected a rejection, got ${JSON.stringify(v)}`);
      },
      (err: unknown) => err,
    ),
    ms,
    what,
  );
}
