/**
 * The reconnecting client on its own terms: backoff, the offline queue, the application
 * heartbeat that detects dead connections. Servers here are real; the "dead" one is a plain
 * Tether WebSocketServer that speaks just enough tether.v1 and then stops answering.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type ServerSocket } from '../../src/server/index.js';
import { RealtimeError, RealtimeServer, jsonCodec } from '../../src/realtime/index.js';
import { backoffDelay } from '../../src/realtime/client/listeners.js';
import { Harness, eventually, recordEvents, rejection, waitState, within } from './realtime-harness.js';

const T = { timeout: 15_000 };

describe('backoff', () => {
  test('grows by the factor up to maxDelay, with full jitter and a floor of minDelay / 2', () => {
    const top = (n: number) => backoffDelay(n, 100, 5000, 2, () => 1);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 40].map(top), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    assert.equal(backoffDelay(3, 100, 5000, 2, () => 0), 50);
    assert.equal(backoffDelay(3, 100, 5000, 2, () => 0.5), 400);
    // Random draws spread over the range instead of landing on the same value.
    const draws = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(5, 100, 5000, 2))));
    assert.ok(draws.size > 20, `only ${draws.size} distinct delays`);
    for (const d of draws) assert.ok(d >= 50 && d <= 3200, String(d));
  });
});

describe('offline queue', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('events and requests sent before the connection are delivered after it, in order; the queue is bounded', T, async () => {
    const { rt, url } = await h.server();
    const seen: unknown[] = [];
    rt.on('note', (d) => seen.push(d));
    rt.handle('twice', (n) => (n as number) * 2);
    const c = h.client(url, { autoConnect: false, offlineQueue: 4 });
    assert.equal(c.state, 'idle');
    c.emit('note', 1);
    const answer = c.request('twice', 21);
    c.emit('note', 2);
    const expired = c.request('twice', 5, { timeout: 50 });
    // Full: a fifth message is refused with queue_full, an event by throwing, a request by rejecting.
    assert.throws(() => c.emit('note', 3), (e: unknown) => e instanceof RealtimeError && e.code === 'queue_full');
    const refused = await rejection(c.request('twice', 1), 1000, 'request over the queue');
    assert.equal((refused as RealtimeError).code, 'queue_full');
    // A queued request that times out fails with timeout and is not sent later; its slot frees up.
    assert.equal(((await rejection(expired, 1000, 'queued request timeout')) as RealtimeError).code, 'timeout');
    c.emit('note', 3);
    c.connect();
    assert.equal(await within(answer, 3000, 'queued request'), 42);
    await eventually(() => seen.length === 3, 3000, 'queued events');
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('close() fails what is queued with disconnected and refuses new messages', T, async () => {
    const { url } = await h.server();
    const c = h.client(url, { autoConnect: false });
    const queued = c.request('anything');
    c.close();
    assert.equal(((await rejection(queued, 1000, 'queued request')) as RealtimeError).code, 'disconnected');
    assert.throws(() => c.emit('x'), (e: unknown) => e instanceof RealtimeError && e.code === 'disconnected');
    assert.equal(c.state, 'closed');
  });
});

describe('application heartbeat', () => {
  const h = new Harness();
  const servers: WebSocketServer<unknown>[] = [];
  afterEach(async () => {
    await h.cleanup();
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
  });

  test('answered pings keep an idle connection up across many heartbeat intervals', T, async () => {
    // Intervals long enough that a loaded machine's event-loop stalls do not look like a dead peer.
    const { url } = await h.server({ heartbeatInterval: 250 });
    const c = await h.connected(url, { heartbeatTimeout: 1000 });
    const id = c.sessionId;
    const changes: string[] = [];
    c.onState((s) => changes.push(s.state));
    await new Promise((r) => setTimeout(r, 2000)); // 8 intervals
    assert.equal(c.state, 'connected');
    assert.equal(c.sessionId, id);
    assert.deepEqual(changes, []);
  });

  test('a server that stops answering is detected as dead: disconnected (1006, heartbeat timed out), then a new connection', T, async () => {
    const pings: number[] = [];
    let connections = 0;
    const server = new WebSocketServer({
      heartbeatInterval: 0,
      protocols: [jsonCodec.subprotocol],
      open() {
        connections++;
      },
      message(ws: ServerSocket<unknown>, data) {
        const m = jsonCodec.decode(data) as unknown[];
        // Connected with a 50 ms heartbeat, then silence: pings are read but never answered.
        if (m[0] === 0) ws.send(jsonCodec.encode([1, `s${connections}`, { heartbeat: 50, expiresAt: null }]) as string);
        if (m[0] === 9) pings.push(m[1] as number);
      },
    });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const c = h.client(`ws://127.0.0.1:${port}/`, { heartbeatTimeout: 100, reconnect: { minDelay: 20, maxDelay: 40 } });
    await waitState(c, 'connected', 3000);
    assert.equal(c.sessionId, 's1');
    const lost = await waitState(c, 'disconnected', 3000);
    assert.equal(lost.code, 1006);
    assert.equal(lost.reason, 'heartbeat timed out');
    assert.ok(pings.length >= 1, 'the client sent pings before giving up');
    await waitState(c, 'connected', 3000);
    assert.equal(c.sessionId, 's2');
    assert.equal(connections, 2);
  });

  test('a connection that never gets Connected is abandoned after connectTimeout and retried', T, async () => {
    let connections = 0;
    const server = new WebSocketServer({ heartbeatInterval: 0, protocols: [jsonCodec.subprotocol], open: () => void connections++ });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const c = h.client(`ws://127.0.0.1:${port}/`, { connectTimeout: 150, reconnect: { minDelay: 20, maxDelay: 40 } });
    const lost = await waitState(c, 'disconnected', 3000);
    assert.equal(lost.reason, 'connect timed out');
    await eventually(() => connections >= 2, 3000, 'a second attempt');
  });
});

describe('server events reach every listener', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('two listeners of one event both run; removing one stops only it', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.connected(url);
    const a = recordEvents(c, 'tick');
    const b: unknown[] = [];
    const off = c.on('tick', (d) => b.push(d));
    const s = rt.sessions.get(c.sessionId)!;
    s.emit('tick', 1);
    await a.wait(1);
    off();
    s.emit('tick', 2);
    await a.wait(2);
    assert.deepEqual(a.list, [1, 2]);
    assert.deepEqual(b, [1]);
  });
});

describe('refusals say why', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('authenticate throwing a RealtimeError: closed with 4001 and its message as the reason; onError gets it too', T, async () => {
    const { url } = await h.server({
      authenticate: (token) => {
        if (token === 'old') throw new RealtimeError('unauthorized', 'token expired at 12:00');
        return true;
      },
    });
    const c = h.client(url, { token: 'old' });
    const errors: RealtimeError[] = [];
    c.onError((e) => errors.push(e as RealtimeError));
    const closed = await waitState(c, 'closed', 3000);
    assert.equal(closed.code, 4001);
    assert.equal(closed.reason, 'token expired at 12:00');
    assert.equal(errors[0]?.code, 'unauthorized');
    assert.equal(errors[0]?.message, 'token expired at 12:00');
    // true accepts (an anonymous session).
    const ok = await h.connected(url, { token: 'fresh' });
    assert.equal(ok.state, 'connected');
  });
});

describe('a slow subscriber on a reliable topic', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('is disconnected at maxBackpressure instead of buffering without bound, then recovers every message in order', { timeout: 30_000 }, async () => {
    const { default: WsWebSocket } = await import('ws');
    const { rt, url } = await h.server({
      topics: () => ({ historySize: 5000 }),
      websocket: { maxBackpressure: 256 * 1024, closeTimeout: 200 },
    });
    const sockets: InstanceType<typeof WsWebSocket>[] = [];
    // The ws package's client, with the browser API the realtime client needs plus pause().
    class PausableWebSocket extends WsWebSocket {
      constructor(u: string, protocols?: string | string[]) {
        super(u, protocols);
        this.on('error', () => {});
        sockets.push(this);
      }
    }
    const fast = await h.connected(url);
    const slow = await h.connected(url, { WebSocket: PausableWebSocket as never, heartbeatTimeout: 20_000 });
    const got = { fast: [] as number[], slow: [] as number[] };
    const subs = [fast.subscribe('feed'), slow.subscribe('feed')];
    subs[0]!.on('message', (d) => got.fast.push((d as { n: number }).n));
    subs[1]!.on('message', (d) => got.slow.push((d as { n: number }).n));
    await Promise.all(subs.map((s) => within(s.ready, 3000, 'subscribed')));
    const lost: number[] = [];
    slow.onState((s) => s.state === 'disconnected' && lost.push(s.code ?? 0));

    sockets[0]!.pause();
    const N = 2000;
    const pad = 'x'.repeat(4096);
    const slowSession = rt.sessions.get(slow.sessionId)!;
    let closedAt = -1;
    for (let n = 0; n < N; n++) {
      await rt.publish('feed', { n, pad });
      if (closedAt < 0 && slowSession.socket.readyState !== 1) closedAt = n;
      if (n % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    // The server gave up on the slow one (8 MB published, far over 256 KiB plus kernel buffers)...
    assert.ok(closedAt > 0, 'the slow subscriber was not disconnected');
    assert.ok(slowSession.socket.bufferedAmount <= 256 * 1024 + 8192, `buffered ${slowSession.socket.bufferedAmount}`);
    sockets[0]!.resume();
    // ...and once it reads again, it reconnects and recovers the rest from history.
    await eventually(() => got.fast.length === N && got.slow.length === N, 20_000, `all messages (fast ${got.fast.length}, slow ${got.slow.length})`);
    const expected = Array.from({ length: N }, (_, i) => i);
    assert.deepEqual(got.fast, expected);
    assert.deepEqual(got.slow, expected);
    assert.ok(lost.length >= 1 && lost.every((c) => c === 1006 || c === 1008), `disconnect codes ${lost.join(',')}`);
  });
});

describe('typed sessions', () => {
  const h = new Harness();
  const servers: RealtimeServer<{ name: string; admin: boolean }>[] = [];
  afterEach(async () => {
    await h.cleanup();
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
  });

  test('session.user takes its type from authenticate, in hooks and handlers', T, async () => {
    // This test is also a compile-time check: s.user.admin and session.user.name must type-check.
    const rt = new RealtimeServer({
      websocket: { heartbeatInterval: 0 },
      authenticate: (token) => ({ user: { name: String(token), admin: token === 'root' } }),
      authorize: { subscribe: (s, topic) => !topic.startsWith('admin:') || s.user.admin },
    });
    servers.push(rt);
    rt.handle('whoami', (_data, session) => session.user.name);
    const general: RealtimeServer = rt; // A typed server is still a RealtimeServer.
    assert.equal(general, rt);
    const { port } = await rt.listen(0, '127.0.0.1');
    const url = `ws://127.0.0.1:${port}/`;
    const guest = await h.connected(url, { token: 'guest' });
    const root = await h.connected(url, { token: 'root' });
    assert.equal(await within(guest.request('whoami'), 3000, 'whoami'), 'guest');
    const refused = await rejection(guest.subscribe('admin:logs').ready, 3000, 'guest subscribe');
    assert.equal((refused as RealtimeError).code, 'forbidden');
    await within(root.subscribe('admin:logs').ready, 3000, 'root subscribe');
  });
});
