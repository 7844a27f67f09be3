/**
 * Sessions of the realtime layer over real loopback sockets: authentication (refusal,
 * token refresh without reconnecting, expiry), authorization of subscribes and publishes,
 * subscription limits and server-side subscriptions.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeError, type AuthContext, type ClientState, type Session, type StateChange } from '../../src/realtime/index.js';
import { eventually, Harness, once, record, rejection, sessionOf, sleep, waitState, within } from './realtime-harness.js';

const T = { timeout: 8000 };

describe('realtime sessions: authentication', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('authenticate gets the token; user and info land on the session; onConnect and onDisconnect run', T, async () => {
    const connects: string[] = [];
    const disconnects: Array<[string, number]> = [];
    const contexts: AuthContext[] = [];
    const { rt, url } = await h.server({
      authenticate: async (token, ctx) => {
        contexts.push(ctx);
        await sleep(5);
        return { user: { token }, info: { shown: true } };
      },
      onConnect: (s) => connects.push(s.id),
      onDisconnect: (s, code) => disconnects.push([s.id, code]),
    });
    const c = await h.connected(url, { token: { jwt: 'abc' } });
    const s = sessionOf(rt, c);
    assert.deepStrictEqual(s.user, { token: { jwt: 'abc' } });
    assert.deepStrictEqual(s.info, { shown: true });
    assert.equal(s.expiresAt, undefined);
    assert.equal(s.open, true);
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0]!.session, undefined);
    assert.equal(contexts[0]!.request!.protocols[0], 'tether.v1.json');
    assert.equal(contexts[0]!.request!.remoteAddress, '127.0.0.1');
    // Kept only until connected; the address and target stay.
    assert.equal(s.upgradeRequest, null);
    assert.equal(s.remoteAddress, '127.0.0.1');
    assert.equal(s.url, '/');
    assert.deepStrictEqual(connects, [c.sessionId]);
    const id = c.sessionId;
    c.close();
    await eventually(() => disconnects.length === 1, 2000, 'onDisconnect');
    assert.deepStrictEqual(disconnects, [[id, 1000]]);
    assert.equal(rt.sessions.size, 0);
  });

  for (const [how, authenticate] of [
    ['returns false', () => false as const],
    ['throws a RealtimeError', () => {
      throw new RealtimeError('unauthorized', 'bad token');
    }],
  ] as const) {
    test(`authenticate ${how}: closed with 4001, the client stops (no reconnection)`, T, async () => {
      let calls = 0;
      let connects = 0;
      const { rt, url } = await h.server({
        authenticate: (token) => {
          calls++;
          assert.equal(token, 'wrong');
          return authenticate();
        },
        onConnect: () => connects++,
      });
      const states: StateChange[] = [];
      const errors: Error[] = [];
      const c = h.client(url, { token: 'wrong', reconnect: { minDelay: 10, maxDelay: 20 } });
      c.onState((ch) => states.push(ch));
      c.onError((e) => errors.push(e));
      // A request made while connecting is queued, then fails with the refusal.
      const queued = c.request('anything');
      const closed = await waitState(c, 'closed', 2000);
      assert.equal(closed.code, 4001);
      const err = await rejection(queued, 1000, 'queued request');
      assert.equal((err as RealtimeError).code, 'unauthorized');
      assert.ok(errors.some((e) => e instanceof RealtimeError && e.code === 'unauthorized'));
      // Well past the reconnect delay, no other attempt was made.
      await sleep(150);
      assert.equal(calls, 1);
      assert.equal(connects, 0);
      assert.equal(c.state, 'closed');
      assert.equal(c.sessionId, '');
      assert.deepStrictEqual(states.map((s) => s.state), ['closed']); // 'connecting' came before the listener
      assert.equal(rt.sessions.size, 0);
    });
  }

  test('token refresh: a function token is refreshed before expiry, the session stays up', T, async () => {
    const LIFE = 600;
    const seen: Array<{ token: unknown; refresh: boolean }> = [];
    const disconnects: number[] = [];
    const { rt, url } = await h.server({
      authenticate: (token, ctx) => {
        seen.push({ token, refresh: ctx.session !== undefined });
        if (typeof token !== 'string' || !token.startsWith('fresh-')) return false;
        return { user: token, expiresAt: Date.now() + LIFE };
      },
      onDisconnect: (_s, code) => disconnects.push(code),
    });
    let n = 0;
    const c = h.client(url, { token: async () => `fresh-${++n}`, refreshMargin: 200 });
    await waitState(c, 'connected', 2000);
    const states: ClientState[] = [];
    c.onState((ch) => states.push(ch.state));
    const id = c.sessionId;
    const s = sessionOf(rt, c);
    const firstExpiry = s.expiresAt!;
    assert.ok(firstExpiry > Date.now() && firstExpiry <= Date.now() + LIFE);
    // Well past the first token's expiry (and the server's check of it).
    await sleep(LIFE * 2 + 300);
    assert.equal(c.state, 'connected');
    assert.deepStrictEqual(states, []);
    assert.equal(c.sessionId, id);
    assert.equal(rt.sessions.size, 1);
    assert.equal(sessionOf(rt, c), s);
    assert.ok(s.expiresAt! > firstExpiry, 'the session has a later expiry');
    assert.ok(s.expiresAt! > Date.now());
    assert.deepStrictEqual(disconnects, []);
    // The connect and at least two refreshes, each with a new token, the latest in session.user.
    assert.ok(seen.length >= 3, `authenticate calls: ${seen.length}`);
    assert.deepStrictEqual(seen[0], { token: 'fresh-1', refresh: false });
    for (const [i, x] of seen.entries()) assert.deepStrictEqual(x, { token: `fresh-${i + 1}`, refresh: i > 0 });
    assert.equal(s.user, `fresh-${seen.length}`);
    // Requests keep working on the same session.
    rt.handle('who', (_d, session) => session.id);
    assert.equal(await within(c.request('who'), 2000, 'who'), id);
  });

  test('refresh refused: refresh() rejects with unauthorized, the session keeps its old token', T, async () => {
    const { rt, url } = await h.server({
      authenticate: (token) => (token === 'good' ? { user: 'u', info: 'i' } : false),
    });
    let token = 'good';
    const errors: Error[] = [];
    const c = h.client(url, { token: () => token });
    c.onError((e) => errors.push(e));
    await waitState(c, 'connected', 2000);
    const id = c.sessionId;
    token = 'bad';
    const err = await rejection(c.refresh(), 2000, 'refresh');
    assert.ok(err instanceof RealtimeError);
    assert.equal(err.code, 'unauthorized');
    assert.equal(errors.length, 1);
    await sleep(30);
    assert.equal(c.state, 'connected');
    assert.equal(c.sessionId, id);
    assert.equal(sessionOf(rt, c).user, 'u');
  });

  test('a token that cannot be refreshed expires: the server closes with 4002', T, async () => {
    const disconnects: number[] = [];
    let accepted = 0;
    const { url } = await h.server({
      authenticate: () => {
        accepted++;
        return { expiresAt: Date.now() + 300 };
      },
      onDisconnect: (_s, code) => disconnects.push(code),
    });
    const c = h.client(url, { token: 'static', reconnect: { minDelay: 1000, maxDelay: 2000 } });
    await waitState(c, 'connected', 2000);
    const t0 = Date.now();
    const change = await waitState(c, 'disconnected', 2000);
    const elapsed = Date.now() - t0;
    assert.equal(change.code, 4002);
    assert.equal(change.reason, 'token expired');
    assert.ok(elapsed >= 250 && elapsed < 1200, `closed after ${elapsed} ms`);
    assert.ok(typeof change.delay === 'number' && change.delay >= 500);
    await eventually(() => disconnects.length === 1, 1000, 'onDisconnect');
    assert.deepStrictEqual(disconnects, [4002]);
    assert.equal(accepted, 1);
  });
});

describe('realtime sessions: authorization and limits', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('authorize.subscribe refusing: sub.ready rejects with forbidden and the subscription is removed', T, async () => {
    const asked: Array<[string, string]> = [];
    const { rt, url } = await h.server({
      authorize: {
        subscribe: async (session, topic) => {
          asked.push([session.id, topic]);
          await sleep(5);
          return !topic.startsWith('admin:');
        },
      },
    });
    const c = await h.connected(url);
    const sub = c.subscribe('admin:secrets');
    assert.equal(c.subscription('admin:secrets'), sub);
    const subErrors: Error[] = [];
    sub.on('error', (e) => subErrors.push(e));
    const err = await rejection(sub.ready, 2000, 'admin subscribe');
    assert.ok(err instanceof RealtimeError);
    assert.equal(err.code, 'forbidden');
    assert.equal(sub.state, 'unsubscribed');
    assert.equal(c.subscription('admin:secrets'), undefined);
    assert.deepStrictEqual(subErrors, [err]);
    assert.deepStrictEqual(sessionOf(rt, c).topics, []);
    // Publications to it do not reach the client.
    const stray: unknown[] = [];
    c.onPublication((t, d) => stray.push([t, d]));
    sub.on('message', (d) => stray.push(d));
    await rt.publish('admin:secrets', 'hidden');
    // An allowed topic works, and its messages come after anything sent before.
    const ok = c.subscribe('public');
    const rec = record(ok);
    await within(ok.ready, 2000, 'public subscribe');
    await rt.publish('public', 'visible');
    await rec.wait(1);
    assert.deepStrictEqual(stray, []);
    assert.deepStrictEqual(asked, [
      [c.sessionId, 'admin:secrets'],
      [c.sessionId, 'public'],
    ]);
    assert.deepStrictEqual(sessionOf(rt, c).topics, ['public']);
    // Subscribing again after the refusal asks again (and is refused again).
    const again = c.subscribe('admin:secrets');
    assert.notEqual(again, sub);
    assert.equal(((await rejection(again.ready, 2000, 'again')) as RealtimeError).code, 'forbidden');
  });

  test('publish: forbidden without authorize.publish, forbidden when it refuses; nothing is published', T, async () => {
    const closed = await h.server();
    const c1 = await h.connected(closed.url);
    const e1 = await rejection(c1.publish('any', 1), 2000, 'publish without hook');
    assert.ok(e1 instanceof RealtimeError);
    assert.equal(e1.code, 'forbidden');
    assert.equal((await closed.rt.history('any')).offset, 0);

    const { rt, url } = await h.server({ authorize: { publish: (s, topic) => topic === `own:${String(s.user)}` } });
    const c2 = await h.connected(url);
    const watcher = await h.connected(url);
    const rec = record(watcher.subscribe('shared'));
    await within(watcher.subscription('shared')!.ready, 2000, 'watcher subscribed');
    const e2 = await rejection(c2.publish('shared', 'nope'), 2000, 'refused publish');
    assert.equal((e2 as RealtimeError).code, 'forbidden');
    assert.match((e2 as RealtimeError).message, /shared/);
    assert.equal((await rt.history('shared')).offset, 0);
    // The server may still publish there; the refused message never took an offset.
    await rt.publish('shared', 'from server');
    await rec.wait(1);
    await sleep(20);
    assert.deepStrictEqual(rec.messages, ['from server']);
    assert.deepStrictEqual(rec.offsets, [1]);
    // An allowed topic: user is undefined without authenticate.
    assert.deepStrictEqual(await within(c2.publish('own:undefined', 'mine'), 2000, 'allowed publish'), { offset: 1 });
    assert.equal(c2.state, 'connected');
  });

  test('maxSubscriptions: the subscription past the limit is refused with bad_request', T, async () => {
    const { rt, url } = await h.server({ maxSubscriptions: 2 });
    const c = await h.connected(url);
    const a = c.subscribe('a');
    const b = c.subscribe('b');
    await within(Promise.all([a.ready, b.ready]), 2000, 'two subscriptions');
    const err = await rejection(c.subscribe('c').ready, 2000, 'third');
    assert.equal((err as RealtimeError).code, 'bad_request');
    assert.deepStrictEqual(sessionOf(rt, c).topics.sort(), ['a', 'b']);
    await within(a.unsubscribe(), 2000, 'unsubscribe a');
    await within(c.subscribe('c').ready, 2000, 'third after unsubscribe');
    assert.deepStrictEqual(sessionOf(rt, c).topics.sort(), ['b', 'c']);
  });

  test('server-side subscribe and unsubscribe: onPublication, and the client is told when it ends', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.connected(url);
    const s: Session = sessionOf(rt, c);
    const pubs: unknown[] = [];
    c.onPublication((topic, data, offset) => pubs.push([topic, data, offset]));
    await s.subscribe('alerts');
    assert.deepStrictEqual(s.topics, ['alerts']);
    await rt.publish('alerts', { level: 'high' });
    await rt.publish('alerts', { level: 'low' });
    await eventually(() => pubs.length === 2, 2000, 'server-side publications');
    assert.deepStrictEqual(pubs, [
      ['alerts', { level: 'high' }, 1],
      ['alerts', { level: 'low' }, 2],
    ]);
    // A client subscription ended by the server.
    const sub = c.subscribe('room');
    await within(sub.ready, 2000, 'room');
    const reason = once<string>((fn) => sub.on('unsubscribed', fn), 2000, 'unsubscribed');
    await s.unsubscribe('room', 'kicked');
    assert.equal(await reason, 'kicked');
    assert.equal(sub.state, 'unsubscribed');
    assert.equal(c.subscription('room'), undefined);
    assert.deepStrictEqual(s.topics, ['alerts']);
  });
});
