/**
 * The recovery rules of docs/protocol.md §2.3 on the wire and in the client: `recovered`
 * only when `since` was given and honoured; a quiet topic keeps its stream after its last
 * subscriber leaves; after an epoch change nothing that history still holds is lost (the
 * Reply's `from`, the replay that follows, and a live stream restart).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAdapter, Subscription, type SubscribeResult } from '../../src/realtime/index.js';
import { eventually, Harness, once, record, sessionOf, waitState, within } from './realtime-harness.js';

const T = { timeout: 10_000 };

type Reply = { epoch: string; offset: number; recovered: boolean; from: number };

describe('recovery rules on the wire', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  for (const codec of ['json', 'msgpack'] as const) {
    test(`a Subscribe without since is never "recovered" (reliable and conflated) (${codec})`, T, async () => {
      const { rt, url } = await h.server({ topics: (t) => (t.startsWith('c/') ? { mode: 'conflated' } : undefined) });
      await rt.publish('r', 1);
      await rt.publish('c/x', 1, { key: 'k' });
      const c = await h.session(url, codec);
      c.send([2, 1, 'r', {}]);
      const r = (await c.next())[2] as Reply;
      assert.deepStrictEqual([r.offset, r.recovered, r.from], [1, false, 1]);
      c.send([2, 2, 'c/x']);
      const [reply, snapshot] = await c.take(2);
      assert.deepStrictEqual([(reply![2] as Reply).recovered, (reply![2] as Reply).from], [false, 0]);
      assert.deepStrictEqual(snapshot, [12, 'c/x', 1, 1, 'k']);
    });
  }

  test('a quiet topic keeps its epoch after its last subscriber leaves: resubscribing with since [epoch, 0] recovers', T, async () => {
    const adapter = new MemoryAdapter();
    const { rt, url } = await h.server({ adapter });
    const a = await h.session(url);
    a.send([2, 1, 'quiet', {}]);
    const first = (await a.next())[2] as Reply;
    assert.equal(first.offset, 0);
    a.close();
    await eventually(() => rt.sessions.size === 0 && !adapter.topics.get('quiet')?.listeners.size, 2000, 'the last subscriber left');
    const b = await h.session(url);
    b.send([2, 1, 'quiet', { since: [first.epoch, 0] }]);
    const again = (await b.next())[2] as Reply;
    assert.deepStrictEqual(again, { epoch: first.epoch, offset: 0, recovered: true, from: 0, mode: 'reliable' });
    // Once unused for longer than its TTL (history TTL or idempotency window, the longer), it is forgotten.
    b.close();
    await eventually(() => rt.sessions.size === 0 && !adapter.topics.get('quiet')?.listeners.size, 2000, 'the last subscriber left');
    adapter.sweep(Date.now() + 301_000);
    const c = await h.session(url);
    c.send([2, 1, 'quiet', { since: [first.epoch, 0] }]);
    const later = (await c.next())[2] as Reply;
    assert.notEqual(later.epoch, first.epoch);
    assert.equal(later.recovered, false);
  });

  test('after an epoch change, a resubscribe gets everything the new epoch still holds (from 0), not just the head', T, async () => {
    const adapter = new MemoryAdapter();
    const { rt, url } = await h.server({ adapter, topics: () => ({ historySize: 4 }) });
    const a = await h.session(url);
    a.send([2, 1, 't', {}]);
    const old = (await a.next())[2] as Reply;
    for (let i = 1; i <= 3; i++) await rt.publish('t', `old ${i}`);
    assert.equal((await a.take(3)).length, 3);
    a.close();
    await eventually(() => rt.sessions.size === 0, 2000, 'the subscriber left');
    adapter.sweep(Date.now() + 301_000); // The stream is forgotten: the next one has a new epoch.
    for (let i = 1; i <= 3; i++) await rt.publish('t', `new ${i}`);
    const b = await h.session(url);
    b.send([2, 1, 't', { since: [old.epoch, 3] }]);
    const [reply, ...replay] = await b.take(4);
    const r = reply![2] as Reply;
    assert.notEqual(r.epoch, old.epoch);
    assert.deepStrictEqual([r.offset, r.recovered, r.from], [3, false, 0]);
    assert.deepStrictEqual(replay, [[12, 't', 'new 1', 1], [12, 't', 'new 2', 2], [12, 't', 'new 3', 3]]);
    // History too short in the same epoch: what it still holds is replayed after `from`.
    for (let i = 4; i <= 9; i++) await rt.publish('t', `new ${i}`);
    assert.deepStrictEqual((await b.take(6)).map((m) => m[3]), [4, 5, 6, 7, 8, 9]);
    const c = await h.session(url);
    c.send([2, 1, 't', { since: [r.epoch, 2] }]);
    const [reply3, ...held] = await c.take(5);
    assert.deepStrictEqual([(reply3![2] as Reply).recovered, (reply3![2] as Reply).from], [false, 5]);
    assert.deepStrictEqual(held.map((m) => m[3]), [6, 7, 8, 9]);
    // A since past the head (a position this stream never had) is handled the same way.
    c.send([2, 2, 't', { since: [r.epoch, 50] }]);
    const [reply4, ...held4] = await c.take(5);
    assert.deepStrictEqual([(reply4![2] as Reply).recovered, (reply4![2] as Reply).from, (reply4![2] as Reply).offset], [false, 5, 9]);
    assert.deepStrictEqual(held4.map((m) => m[3]), [6, 7, 8, 9]);
  });
});

describe('recovery rules in the client', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('reconnecting across an epoch change: unrecoverable, then the new epoch from its first message', T, async () => {
    const adapter = new MemoryAdapter();
    const { rt, url } = await h.server({ adapter });
    const c = await h.connected(url, { reconnect: false });
    const sub = c.subscribe('t');
    const rec = record(sub);
    await within(sub.ready, 2000, 'subscribed');
    for (let i = 1; i <= 3; i++) await rt.publish('t', `old ${i}`);
    await rec.wait(3);
    const oldEpoch = sub.epoch;
    sessionOf(rt, c).socket.terminate();
    await waitState(c, 'closed', 2000);
    await eventually(() => rt.sessions.size === 0, 2000, 'the session ended');
    adapter.sweep(Date.now() + 301_000);
    for (let i = 1; i <= 5; i++) await rt.publish('t', `new ${i}`);
    const lost = once<SubscribeResult>((fn) => sub.on('unrecoverable', fn), 3000, 'unrecoverable');
    c.connect();
    const r = await lost;
    assert.notEqual(r.epoch, oldEpoch);
    assert.deepStrictEqual([r.recovered, r.from, r.offset], [false, 0, 5]);
    await rec.wait(8);
    assert.deepStrictEqual(rec.messages, ['old 1', 'old 2', 'old 3', 'new 1', 'new 2', 'new 3', 'new 4', 'new 5']);
    assert.deepStrictEqual(rec.offsets, [1, 2, 3, 1, 2, 3, 4, 5]);
  });

  test('a stream that restarts while subscribed (this node missed its first messages): Subscribed, then the new epoch replayed from 1', T, async () => {
    const adapter = new MemoryAdapter();
    const { rt, url } = await h.server({ adapter });
    const c = await h.connected(url);
    const sub = c.subscribe('t');
    const rec = record(sub);
    await within(sub.ready, 2000, 'subscribed');
    await rt.publish('t', 'old 1');
    await rec.wait(1);
    const events: SubscribeResult[] = [];
    sub.on('subscribed', (r) => events.push(r));
    // The broker loses the stream, and this node misses what is published next (as a node
    // that was reconnecting to its broker would), then receives the 4th message.
    const state = adapter.topics.get('t')!;
    const listeners = [...state.listeners];
    state.stream = null;
    state.listeners.clear();
    for (let i = 1; i <= 3; i++) await rt.publish('t', `new ${i}`);
    for (const l of listeners) state.listeners.add(l);
    await rt.publish('t', 'new 4');
    await rec.wait(5);
    assert.deepStrictEqual(rec.messages, ['old 1', 'new 1', 'new 2', 'new 3', 'new 4']);
    assert.deepStrictEqual(rec.offsets, [1, 1, 2, 3, 4]);
    assert.equal(events.length, 1);
    assert.deepStrictEqual([events[0]!.recovered, events[0]!.from], [false, 0]);
    await rt.publish('t', 'new 5');
    await rec.wait(6);
    assert.deepStrictEqual(rec.offsets, [1, 1, 2, 3, 4, 5]);
  });

  test('a Skip on a conflated topic only moves the highest offset (no resync); on a reliable topic a gap still asks for one', () => {
    const owner = { sendSubscribe: () => {}, sendUnsubscribe: async () => {}, queryPresence: async () => [] };
    const conflated = new Subscription('c', undefined, owner);
    conflated.subscribed({ epoch: 'e', offset: 0, recovered: false, from: 0, mode: 'conflated' }, false);
    assert.equal(conflated.mode, 'conflated');
    assert.equal(conflated.receive(6, undefined, undefined, true), false, 'no resync for a conflated topic');
    assert.equal(conflated.offset, 6);
    const reliable = new Subscription('r', undefined, owner);
    reliable.subscribed({ epoch: 'e', offset: 0, recovered: false, from: 0, mode: 'reliable' }, false);
    assert.equal(reliable.receive(6, undefined, undefined, true), true, 'a gap on a reliable topic');
    assert.equal(reliable.offset, 0);
  });
});
