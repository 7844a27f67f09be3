/**
 * The realtime server's guard rails over real loopback sockets: option validation, the
 * connect timeout, malformed and unexpected messages, subprotocol negotiation, rate
 * limits and the graceful drain.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from '../../src/client/index.js';
import { encodeMsgpack, RealtimeClient, RealtimeError, RealtimeServer, type StateChange } from '../../src/realtime/index.js';
import { eventually, Harness, rejection, sleep, waitState, within } from './realtime-harness.js';

const T = { timeout: 8000 };

/** Watches a plain WebSocket: its messages (decoded JSON for text), whether it opened, errored, and how it closed. */
function watch(ws: WebSocket) {
  const messages: unknown[] = [];
  let errored = false;
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (e: MessageEvent) => messages.push(typeof e.data === 'string' ? JSON.parse(e.data) : new Uint8Array(e.data as ArrayBuffer));
  ws.onerror = () => (errored = true);
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener('open', () => resolve(true));
    ws.addEventListener('close', () => resolve(false));
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => {
    ws.addEventListener('close', (e) => resolve({ code: (e as CloseEvent).code, reason: (e as CloseEvent).reason, at: Date.now() }));
  });
  return {
    messages,
    get errored() {
      return errored;
    },
    opened: within(opened, 2000, 'open'),
    closed: within(closed, 3000, 'close'),
  };
}

/** Sends an upgrade request by hand and returns the status line and body of the answer. */
function handshake(port: number, protocols: string): Promise<{ status: number; text: string }> {
  return within(
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let buf = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (buf += d));
      socket.on('error', reject);
      socket.on('close', () => resolve({ status: Number(buf.split(' ')[1]), text: buf }));
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols}\r\n\r\n`,
      );
      setTimeout(() => socket.destroy(), 1000).unref();
    }),
    2000,
    'handshake answer',
  );
}

describe('realtime server: options', () => {
  test('unknown and malformed server options throw a TypeError naming them', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ bogus: 1 }, /unknown option bogus/],
      [{ rateLimit: { messages: 0 } }, /rateLimit\.messages/],
      [{ rateLimit: { messages: -5 } }, /rateLimit\.messages/],
      [{ rateLimit: { messages: 'many' } }, /rateLimit\.messages/],
      [{ rateLimit: { messages: NaN } }, /rateLimit\.messages/],
      [{ rateLimit: { bytes: 0 } }, /rateLimit\.bytes/],
      [{ rateLimit: { burst: -1 } }, /rateLimit\.burst/],
      [{ rateLimit: { msgs: 5 } }, /rateLimit\.msgs/],
      [{ rateLimit: 5 }, /rateLimit/],
      [{ connectTimeout: 0 }, /connectTimeout/],
      [{ requestTimeout: 'soon' }, /requestTimeout/],
      [{ heartbeatInterval: -1 }, /heartbeatInterval/],
      [{ maxSubscriptions: 1.5 }, /maxSubscriptions/],
      [{ authenticate: 'yes' }, /authenticate/],
      [{ authorize: { read: () => true } }, /authorize\.read/],
      [{ authorize: { publish: true } }, /authorize\.publish/],
      [{ adapter: {} }, /adapter/],
      [{ onError: 1 }, /onError/],
    ];
    for (const [options, name] of bad) {
      assert.throws(() => new RealtimeServer(options as never), (e: unknown) => e instanceof TypeError && name.test(e.message), JSON.stringify(options));
    }
  });

  test('client options: a bad codec, an unknown option, a bad reconnect setting throw a TypeError', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ codec: 'xml' }, /codec/],
      [{ codec: 'JSON' }, /codec/],
      [{ tokn: 'x' }, /unknown option tokn/],
      [{ reconnect: { factor: 0.5 } }, /reconnect\.factor/],
      [{ reconnect: { minDelay: 100, maxDelay: 10 } }, /reconnect\.maxDelay/],
      [{ requestTimeout: -1 }, /requestTimeout/],
      [{ autoConnect: 'no' }, /autoConnect/],
    ];
    for (const [options, name] of bad) {
      assert.throws(() => new RealtimeClient('ws://127.0.0.1:1/', options as never), (e: unknown) => e instanceof TypeError && name.test(e.message), JSON.stringify(options));
    }
  });

  test('a topic policy that does not validate makes publish reject with a TypeError naming the topic', async () => {
    const rt = new RealtimeServer({ topics: (name) => (name === 'broken' ? { historySize: -1 } : undefined) });
    try {
      await assert.rejects(rt.publish('broken', 1), (e: unknown) => e instanceof TypeError && /topics\("broken"\)\.historySize/.test(e.message));
      assert.equal((await rt.publish('fine', 1)).offset, 1);
      await assert.rejects(rt.publish('', 1), TypeError);
    } finally {
      await rt.close();
    }
  });
});

describe('realtime server: connections and messages', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('connect timeout: a WebSocket that never sends Connect is closed with 4003', T, async () => {
    const { rt, url } = await h.server({ connectTimeout: 300 });
    const ws = h.socket(url, 'tether.v1.json');
    const w = watch(ws);
    assert.equal(await w.opened, true);
    const t0 = Date.now();
    assert.equal(ws.protocol, 'tether.v1.json');
    assert.equal(rt.sessions.size, 1);
    const closed = await w.closed;
    const elapsed = closed.at - t0;
    assert.equal(closed.code, 4003);
    assert.equal(closed.reason, 'no connect message in time');
    assert.ok(elapsed >= 250 && elapsed < 1500, `closed after ${elapsed} ms`);
    assert.deepStrictEqual(w.messages, []);
    await eventually(() => rt.sessions.size === 0, 1000, 'session gone');
  });

  test('a connected raw client is not closed by the connect timeout', T, async () => {
    const { url } = await h.server({ connectTimeout: 200 });
    const ws = h.socket(url, 'tether.v1.json');
    const w = watch(ws);
    await w.opened;
    ws.send(JSON.stringify([0, null, {}]));
    await eventually(() => w.messages.length === 1, 2000, 'connected');
    const [type, id, info] = w.messages[0] as [number, string, { heartbeat: number; expiresAt: null }];
    assert.equal(type, 1);
    assert.equal(typeof id, 'string');
    assert.deepStrictEqual(info, { heartbeat: 25_000, expiresAt: null, maxPayload: 1024 * 1024 });
    await sleep(600);
    assert.equal(ws.readyState, 1);
    // Application ping, answered with a pong carrying the same number.
    ws.send(JSON.stringify([9, 7]));
    await eventually(() => w.messages.length === 2, 2000, 'pong');
    assert.deepStrictEqual(w.messages[1], [10, 7]);
  });

  for (const [what, before, message, code, reason] of [
    ['a non-array message (after connect)', false, '{"type":"publish"}', 4000, /array/],
    ['a non-array message (before connect)', true, '"hello"', 4000, /array/],
    ['a message before connect', true, '[5,"event",1]', 4000, /first message must be connect/],
    ['an unknown message type', false, '[99,1]', 4000, /unknown message type 99/],
    ['a request with a bad id', false, '[6,-1,"m",null]', 4000, /request/],
    ['invalid JSON', false, '[1, 2', 1007, /undecodable/],
    ['invalid JSON (before connect)', true, 'not json at all', 1007, /undecodable/],
  ] as const) {
    test(`bad messages: ${what} closes with ${code}`, T, async () => {
      const errors: unknown[] = [];
      const { rt, url } = await h.server({ onError: (e) => errors.push(e) });
      const ws = h.socket(url, 'tether.v1.json');
      const w = watch(ws);
      await w.opened;
      if (!before) {
        ws.send(JSON.stringify([0, 'token', {}]));
        await eventually(() => w.messages.length === 1, 2000, 'connected');
        assert.equal((w.messages[0] as unknown[])[0], 1);
      }
      ws.send(message);
      const closed = await w.closed;
      assert.equal(closed.code, code);
      assert.match(closed.reason, reason);
      assert.equal(w.messages.length, before ? 0 : 1);
      await eventually(() => rt.sessions.size === 0, 1000, 'session gone');
      assert.deepStrictEqual(errors, []);
    });
  }

  test('message size: 1 MiB by default (1009 beyond, refused from the header), websocket.maxPayload raises it', T, async () => {
    const { url } = await h.server();
    const ws = h.socket(url, 'tether.v1.json');
    const w = watch(ws);
    await w.opened;
    ws.send(JSON.stringify([0, 'token', {}]));
    await eventually(() => w.messages.length === 1, 2000, 'connected');
    ws.send(JSON.stringify([5, 'big', 'x'.repeat(1024 * 1024)]));
    assert.equal((await w.closed).code, 1009);

    const roomy = await h.server({ websocket: { maxPayload: 4 * 1024 * 1024 } });
    roomy.rt.handle('size', (d) => (d as string).length);
    const c = await h.connected(roomy.url);
    assert.equal(await within(c.request('size', 'y'.repeat(2 * 1024 * 1024)), 3000, 'big request'), 2 * 1024 * 1024);
  });

  test('bad messages: undecodable MessagePack closes with 1007, a msgpack non-array with 4000', T, async () => {
    const { url } = await h.server();
    const ws1 = h.socket(url, 'tether.v1.msgpack');
    const w1 = watch(ws1);
    await w1.opened;
    assert.equal(ws1.protocol, 'tether.v1.msgpack');
    ws1.send(new Uint8Array([0xc1])); // never used in MessagePack
    assert.equal((await w1.closed).code, 1007);
    const ws2 = h.socket(url, 'tether.v1.msgpack');
    const w2 = watch(ws2);
    await w2.opened;
    ws2.send(encodeMsgpack({ not: 'an array' }));
    const c2 = await w2.closed;
    assert.equal(c2.code, 4000);
    assert.match(c2.reason, /array/);
  });

  test('subprotocols: only an unknown one offered → handshake refused with 400; one known among others is chosen', T, async () => {
    let opened = 0;
    const { rt, url, port } = await h.server({ onConnect: () => opened++ });
    const ws = h.socket(url, 'tether.v9.xml');
    const w = watch(ws);
    assert.equal(await w.opened, false);
    const closed = await w.closed;
    assert.equal(closed.code, 1006);
    assert.equal(w.errored, true);
    assert.equal(rt.sessions.size, 0);
    const answer = await handshake(port, 'tether.v9.xml, graphql-ws');
    assert.equal(answer.status, 400);
    assert.match(answer.text, /unsupported subprotocol/);

    const mixed = h.socket(url, ['tether.v9.xml', 'tether.v1.msgpack']);
    const wm = watch(mixed);
    assert.equal(await wm.opened, true);
    assert.equal(mixed.protocol, 'tether.v1.msgpack');
    // No subprotocol at all: JSON.
    const none = h.socket(url);
    const wn = watch(none);
    assert.equal(await wn.opened, true);
    assert.equal(none.protocol, '');
    none.send(JSON.stringify([0, null, {}]));
    await eventually(() => wn.messages.length === 1, 2000, 'connected over JSON');
    assert.equal((wn.messages[0] as unknown[])[0], 1);
    assert.equal(opened, 1);
  });

  test('rate limit: a burst of requests is partly refused with rate_limited, then recovers', T, async () => {
    const { rt, url } = await h.server({ rateLimit: { messages: 5, burst: 1 } });
    let handled = 0;
    rt.handle('work', (n) => {
      handled++;
      return n;
    });
    const c = await h.connected(url);
    const results = await within(Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.request('work', i))), 3000, 'burst');
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(ok.length >= 1 && ok.length <= 6, `${ok.length} accepted`);
    assert.equal(ok.length + refused.length, 20);
    assert.equal(handled, ok.length);
    for (const r of refused) {
      assert.ok(r.reason instanceof RealtimeError);
      assert.equal(r.reason.code, 'rate_limited');
    }
    // The accepted ones are the first ones, with their own answers.
    assert.deepStrictEqual(
      ok.map((r) => (r as PromiseFulfilledResult<unknown>).value),
      Array.from({ length: ok.length }, (_, i) => i),
    );
    // After a pause the allowance is back (5 per second: one every 200 ms).
    await sleep(250);
    assert.equal(await within(c.request('work', 'again'), 2000, 'after pause'), 'again');
    assert.equal(c.state, 'connected');
  });

  test('rate limit: a client that keeps sending over the limit is closed with 4029', T, async () => {
    const { url } = await h.server({ rateLimit: { messages: 5, burst: 1 } });
    const c = await h.connected(url, { reconnect: { minDelay: 1000, maxDelay: 1000 } });
    const errors: Error[] = [];
    c.onError((e) => errors.push(e));
    const down = waitState(c, 'disconnected', 3000);
    for (let i = 0; i < 150; i++) c.emit('spam', i);
    const change = await down;
    assert.equal(change.code, 4029);
    assert.equal(change.reason, 'rate limit exceeded');
    // Events have no id: their refusals arrive as errors of id 0.
    assert.ok(errors.length > 0);
    assert.ok(errors.every((e) => e instanceof RealtimeError && e.code === 'rate_limited'));
  });

  test('drain: every client is closed with 1012 and its own delay hint in [minDelay, maxDelay]', T, async () => {
    const disconnects: number[] = [];
    const { rt, url } = await h.server({ onDisconnect: (_s, code) => disconnects.push(code) });
    const clients = await Promise.all(Array.from({ length: 6 }, () => h.connected(url, { reconnect: { minDelay: 5000, maxDelay: 5000 } })));
    const changes = clients.map((c) => waitState(c, 'disconnected', 3000));
    const t0 = Date.now();
    await within(rt.drain({ minDelay: 100, maxDelay: 400 }), 3000, 'drain');
    assert.ok(Date.now() - t0 < 1000, 'drain waited for the clients, not for its timeout');
    const got: StateChange[] = await Promise.all(changes);
    const delays: number[] = [];
    for (const ch of got) {
      assert.equal(ch.code, 1012);
      const m = /^retry after (\d+) ms$/.exec(ch.reason ?? '');
      assert.ok(m, `reason ${ch.reason}`);
      const hinted = Number(m[1]);
      assert.ok(hinted >= 100 && hinted <= 400, `hint ${hinted}`);
      // The client waits what the server asked, not its own backoff (5 s).
      assert.equal(ch.delay, hinted);
      delays.push(hinted);
    }
    assert.ok(new Set(delays).size > 1, `delays all equal: ${delays.join(', ')}`);
    assert.equal(rt.sessions.size, 0);
    assert.equal(disconnects.length, 6);
    for (const c of clients) assert.equal(c.state, 'disconnected');
  });

  test('after close, pending server requests reject and new connections are refused', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.connected(url, { reconnect: false });
    c.handle('hang', () => new Promise(() => {}));
    const s = rt.sessions.get(c.sessionId)!;
    const pending = s.request('hang');
    const closed = waitState(c, 'closed', 3000);
    await within(rt.close(), 3000, 'close');
    assert.equal((await closed).code, 1001);
    assert.equal(((await rejection(pending, 1000, 'pending')) as RealtimeError).code, 'disconnected');
    const late = h.socket(url, 'tether.v1.json');
    const w = watch(late);
    assert.equal(await w.opened, false);
  });

  test('a handler result the codec cannot encode is answered internal (and reported), and the session goes on', T, async () => {
    const errors: unknown[] = [];
    const { rt, url } = await h.server({ onError: (err) => void errors.push(err) });
    rt.handle('big', () => 10n);
    rt.handle('later', async () => ({ n: 10n }));
    rt.handle('ok', () => 'fine');
    const c = await h.session(url);
    c.send([6, 1, 'big', null]);
    c.send([6, 2, 'later', null]);
    c.send([6, 3, 'ok', null]);
    const answers = (await c.take(3)).sort((a, b) => (a[1] as number) - (b[1] as number));
    assert.deepStrictEqual(answers, [[8, 1, 'internal', 'internal error'], [8, 2, 'internal', 'internal error'], [7, 3, 'fine']]);
    assert.equal(errors.length, 2);
  });
});
