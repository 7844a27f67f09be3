/**
 * RealtimeServer.stats(): sessions, subscriptions, topics, publishes, deliveries,
 * recovery outcomes, conflation, rate limiting and auth failures against what happened.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeError } from '../../src/realtime/index.js';
import { eventually, Harness, sessionOf, waitState, within } from './realtime-harness.js';

const h = new Harness();
afterEach(() => h.cleanup());

test('realtime stats: sessions, subscriptions, topics, publishes and deliveries', async () => {
  const { rt, url } = await h.server({ authorize: { publish: () => true } });
  const zero = rt.stats();
  assert.deepEqual({ ...zero, websocket: undefined }, {
    sessions: 0, sessionsConnecting: 0, subscriptions: 0, topics: 0, sessionsOpened: 0, authFailures: 0,
    publishes: 0, deliveries: 0, conflated: 0, recovered: 0, unrecoverable: 0, rateLimited: 0,
    adapter: { requests: 0, errors: 0, seconds: 0, connected: true }, websocket: undefined,
  });
  assert.equal(zero.websocket.connections, 0);

  const a = await h.connected(url);
  const b = await h.connected(url);
  const subs = [a.subscribe('news'), a.subscribe('sports'), b.subscribe('news')];
  await Promise.all(subs.map((s) => within(s.ready, 3000, 'subscribed')));
  const got: unknown[] = [];
  subs[0]!.on('message', (d) => got.push(d));
  subs[2]!.on('message', (d) => got.push(d));
  await rt.publish('news', 1);                         // 2 deliveries
  await b.publish('news', 2, { exceptSelf: true });    // 1 delivery (b gets a Skip)
  await rt.publish('sports', 3);                       // 1 delivery
  await rt.publish('nobody', 4);                       // 0
  await eventually(() => got.length === 3, 3000, 'messages');
  let s = rt.stats();
  assert.equal(s.sessions, 2);
  assert.equal(s.sessionsOpened, 2);
  assert.equal(s.subscriptions, 3);
  assert.equal(s.topics, 2);
  assert.equal(s.publishes, 4);
  assert.equal(s.deliveries, 4);
  assert.equal(s.websocket.connections, 2);
  // Each client sent Connect, its Subscribes and b its Publish; messages out include replies and Skips.
  assert.equal(s.websocket.messagesIn, 2 + 3 + 1);

  // A late subscriber with history replayed (since its first offset): replayed publications are deliveries.
  const c = await h.connected(url);
  const late = c.subscribe('news');
  await within(late.ready, 3000, 'late subscribed');
  s = rt.stats();
  assert.equal(s.subscriptions, 4);
  assert.equal(s.deliveries, 4, 'a first subscribe replays nothing');

  await subs[1]!.unsubscribe();
  b.close();
  await eventually(() => rt.stats().sessions === 2, 3000, 'b gone');
  s = rt.stats();
  assert.equal(s.subscriptions, 2);
  assert.equal(s.topics, 1);
  assert.equal(s.sessionsOpened, 3);
});

test('realtime stats: recovered and unrecoverable resubscribes, replayed deliveries', async () => {
  // The reconnect's Connect waits at this gate until the test has published what it misses.
  let gate: Promise<unknown> = Promise.resolve();
  let open: (v?: unknown) => void = () => {};
  const { rt, url } = await h.server({ topics: (t) => (t === 'short' ? { historySize: 1 } : undefined), authenticate: () => gate.then(() => true) });
  const a = await h.connected(url);
  const got: Record<string, unknown[]> = { long: [], short: [] };
  const long = a.subscribe('long');
  const short = a.subscribe('short');
  long.on('message', (d) => got.long!.push(d));
  short.on('message', (d) => got.short!.push(d));
  await within(Promise.all([long.ready, short.ready]), 3000, 'subscribed');
  // One message each before the cut, received live (a topic that never had one would be forgotten).
  await rt.publish('long', 'first');
  await rt.publish('short', 'first');
  await eventually(() => got.long!.length + got.short!.length === 2, 3000, 'live messages');
  gate = new Promise((resolve) => (open = resolve));
  sessionOf(rt, a).close(4000, 'cut');
  await waitState(a, 'disconnected', 3000);
  await eventually(() => rt.stats().subscriptions === 0, 3000, 'session gone');
  // Missed while away: 3 on 'long' (all in history), 3 on 'short' (history keeps 1: unrecoverable).
  for (let i = 0; i < 3; i++) {
    await rt.publish('long', i);
    await rt.publish('short', i);
  }
  open();
  await waitState(a, 'connected', 3000);
  await eventually(() => rt.stats().recovered + rt.stats().unrecoverable === 2, 3000, 'resubscribed');
  await eventually(() => got.long!.length === 4 && got.short!.length === 2, 3000, `replays ${JSON.stringify(got)}`);
  const s = rt.stats();
  assert.equal(s.recovered, 1);
  assert.equal(s.unrecoverable, 1);
  // 2 live; then 3 replayed on 'long', and on the unrecoverable 'short' what its history still holds (1).
  assert.equal(s.deliveries, 6);
  assert.deepEqual(got, { long: ['first', 0, 1, 2], short: ['first', 2] });
  assert.deepEqual(s.websocket.closesByCode, { '4000': 1 });
});

test('realtime stats: auth failures and rate limiting', async () => {
  const { rt, url } = await h.server({
    authenticate: (token) => {
      if (token !== 'ok') throw new RealtimeError('unauthorized', 'bad token');
      return {};
    },
    rateLimit: { messages: 1, burst: 2 },
  });
  const bad = h.client(url, { token: 'nope' });
  await waitState(bad, 'closed', 3000);
  const ok = await h.connected(url, { token: 'ok' });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => ok.request('missing', null)));
  const limited = results.filter((r) => r.status === 'rejected' && (r.reason as RealtimeError).code === 'rate_limited').length;
  assert.ok(limited >= 2, `rate limited ${limited}`);
  const s = rt.stats();
  assert.equal(s.authFailures, 1);
  assert.equal(s.rateLimited, limited);
  assert.equal(s.sessionsOpened, 1);
  assert.equal(s.websocket.closesByCode['4001'], 1);
});
