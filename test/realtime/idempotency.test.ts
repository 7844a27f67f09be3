/**
 * Exactly-once publishing: an idempotency key per publish, remembered per topic for a
 * bounded window across nodes, and the client's retries after a lost connection.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAdapter, RealtimeServer, type Adapter, type AdapterLink, type AdapterNode, type RealtimeClient } from '../../src/realtime/index.js';
import { MAX_IDEMPOTENCY_KEYS } from '../../src/realtime/adapters/adapter.js';
import { TopicStream } from '../../src/realtime/adapters/topic-stream.js';
import { eventually, Harness, record, sleep, waitState, within } from './realtime-harness.js';

const T = { timeout: 15_000 };

/**
 * A MemoryAdapter whose publish, while `cut` is set, drops every client connection of the
 * node right after the message is published: the publisher never sees its acknowledgement,
 * as when a connection fails with a Publish in flight.
 */
class CuttingAdapter implements Adapter {
  readonly inner = new MemoryAdapter();
  cut = 0;
  server: RealtimeServer | null = null;
  published = 0;

  attach(node: AdapterNode): AdapterLink {
    const link = this.inner.attach(node);
    const publish = link.publish.bind(link);
    link.publish = async (...args) => {
      const r = await publish(...args);
      if (!r.duplicate) this.published++;
      if (this.cut > 0) {
        this.cut--;
        for (const s of this.server!.sessions.values()) s.socket.terminate();
      }
      return r;
    };
    return link;
  }
}

describe('idempotent publishing', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('a repeated key publishes nothing and answers with the first offset, on every node of the adapter', T, async () => {
    const adapter = new MemoryAdapter();
    const { rt: a, url } = await h.server({ adapter });
    const { rt: b } = await h.server({ adapter });
    const c = await h.connected(url);
    const rec = record(c.subscribe('t'));
    await within(c.subscription('t')!.ready, 2000, 'subscribed');
    const first = await a.publish('t', 'once', { idempotencyKey: 'k1' });
    const again = await a.publish('t', 'once', { idempotencyKey: 'k1' });
    const elsewhere = await b.publish('t', 'once', { idempotencyKey: 'k1' });
    const other = await b.publish('t', 'twice', { idempotencyKey: 'k2' });
    assert.deepStrictEqual([first.offset, first.duplicate], [1, false]);
    assert.deepStrictEqual([again.offset, again.duplicate, again.epoch], [1, true, first.epoch]);
    assert.deepStrictEqual([elsewhere.offset, elsewhere.duplicate], [1, true]);
    assert.deepStrictEqual([other.offset, other.duplicate], [2, false]);
    await rec.wait(2);
    await sleep(20);
    assert.deepStrictEqual(rec.messages, ['once', 'twice']);
    await assert.rejects(a.publish('t', 1, { idempotencyKey: '' }), /idempotencyKey/);
    await assert.rejects(a.publish('t', 1, { idempotencyKey: 'x'.repeat(65) }), /idempotencyKey/);
  });

  test('keys are kept for the topic\'s idempotency window, then the same key publishes again', T, async () => {
    const { rt } = await h.server({ topics: () => ({ idempotencyWindow: 100 }) });
    assert.equal((await rt.publish('t', 1, { idempotencyKey: 'k' })).duplicate, false);
    assert.equal((await rt.publish('t', 1, { idempotencyKey: 'k' })).duplicate, true);
    await sleep(150);
    const later = await rt.publish('t', 1, { idempotencyKey: 'k' });
    assert.deepStrictEqual([later.offset, later.duplicate], [2, false]);
    assert.throws(() => new RealtimeServer({ topics: () => ({ idempotencyWindow: -1 }) }).policy('x'), /idempotencyWindow/);
  });

  test(`a topic remembers at most ${MAX_IDEMPOTENCY_KEYS} keys, forgetting the oldest first`, () => {
    const s = new TopicStream();
    const policy = { mode: 'reliable' as const, historySize: 0, historyTtl: 1000, presence: false, idempotencyWindow: 3_600_000 };
    const now = Date.now();
    for (let i = 1; i <= MAX_IDEMPOTENCY_KEYS + 5; i++) s.remember(`k${i}`, i, now);
    for (let i = 1; i <= 5; i++) assert.equal(s.recall(`k${i}`, now, policy), undefined, `k${i}`);
    assert.equal(s.recall('k6', now, policy), 6);
    assert.equal(s.recall(`k${MAX_IDEMPOTENCY_KEYS + 5}`, now, policy), MAX_IDEMPOTENCY_KEYS + 5);
  });

  for (const codec of ['json', 'msgpack'] as const) {
    test(`on the wire: Publish with idempotencyKey, its repeat answered { offset, duplicate: true }; a malformed key closes with 4000 (${codec})`, T, async () => {
      const { url } = await h.server({ authorize: { publish: () => true } });
      const c = await h.session(url, codec);
      c.send([4, 1, 't', 'x', { idempotencyKey: 'abc' }]);
      c.send([4, 2, 't', 'x', { idempotencyKey: 'abc' }]);
      c.send([4, 3, 't', 'y', {}]);
      const answers = await c.take(3);
      answers.sort((p, q) => (p[1] as number) - (q[1] as number));
      assert.deepStrictEqual(answers, [[7, 1, { offset: 1 }], [7, 2, { offset: 1, duplicate: true }], [7, 3, { offset: 2 }]]);
      for (const bad of [5, '', 'x'.repeat(65), 'a\nb']) {
        const d = await h.session(url, codec);
        d.send([4, 1, 't', 'x', { idempotencyKey: bad }]);
        const closed = await d.waitClose();
        assert.equal(closed.code, 4000, JSON.stringify(bad));
        assert.match(closed.reason, /idempotencyKey/);
      }
    });
  }
});

describe('publishing from a flaky connection', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  async function setup(): Promise<{ adapter: CuttingAdapter; url: string; rt: RealtimeServer }> {
    const adapter = new CuttingAdapter();
    const { rt, url } = await h.server({ adapter, authorize: { publish: () => true } });
    adapter.server = rt;
    return { adapter, url, rt };
  }

  test('a publish whose acknowledgement was lost is sent again after reconnecting and published exactly once', T, async () => {
    const { adapter, url } = await setup();
    const watcher = await h.connected(url);
    const seen = record(watcher.subscribe('t'));
    await within(watcher.subscription('t')!.ready, 2000, 'watcher subscribed');
    const c: RealtimeClient = await h.connected(url);
    const results: Array<{ offset: number; duplicate?: boolean }> = [];
    for (let i = 1; i <= 6; i++) {
      adapter.cut = i % 2; // Every other publish loses its connection right after publishing.
      const lost = i % 2 === 1 ? waitState(c, 'disconnected', 3000) : null;
      const r = c.publish('t', i);
      if (lost) await lost;
      results.push(await within(r, 5000, `publish ${i}`));
      await waitState(c, 'connected', 3000);
    }
    assert.deepStrictEqual(results.map((r) => r.offset), [1, 2, 3, 4, 5, 6]);
    assert.deepStrictEqual(results.map((r) => r.duplicate === true), [true, false, true, false, true, false]);
    await seen.wait(6, 5000);
    await sleep(30);
    assert.deepStrictEqual(seen.messages, [1, 2, 3, 4, 5, 6]);
    assert.equal(adapter.published, 6);
  });

  test('"except me" holds across a reconnect: the publisher does not get its own message back from history', T, async () => {
    const { adapter, url } = await setup();
    const c = await h.connected(url);
    const sub = c.subscribe('t');
    const mine = record(sub);
    await within(sub.ready, 2000, 'subscribed');
    const watcher = await h.connected(url);
    const all = record(watcher.subscribe('t'));
    await within(watcher.subscription('t')!.ready, 2000, 'watcher subscribed');
    adapter.cut = 1;
    const lost = waitState(c, 'disconnected', 3000);
    const r = c.publish('t', 'from me', { exceptSelf: true });
    await lost;
    assert.equal((await within(r, 5000, 'publish')).offset, 1);
    // The watcher (cut too) reconnected and recovered it; the publisher skipped it, also in its replay.
    await all.wait(1, 3000);
    assert.deepStrictEqual(all.messages, ['from me']);
    await eventually(() => sub.offset === 1, 3000, 'the publisher moved past its own message');
    await (await h.server({ adapter: adapter.inner })).rt.publish('t', 'next');
    await mine.wait(1, 3000);
    assert.deepStrictEqual(mine.messages, ['next']);
    assert.deepStrictEqual(mine.offsets, [2]);
  });

  test('Connect meta: previous must be a short list of session ids, or the connection closes with 4000', T, async () => {
    const { url } = await h.server();
    for (const bad of ['abc', [1], ['a b'], Array.from({ length: 9 }, (_, i) => `s${i}`)]) {
      const c = await h.wire(url);
      c.send([0, null, { previous: bad }]);
      const closed = await c.waitClose();
      assert.equal(closed.code, 4000, JSON.stringify(bad));
      assert.match(closed.reason, /previous/);
    }
    const ok = await h.session(url, 'json', null, { previous: ['abc-DEF_1'], other: 'ignored' });
    assert.ok(ok.sessionId.length > 0);
    const odd = await h.session(url, 'json', null, 'not an object');
    assert.ok(odd.sessionId.length > 0, 'a meta that is not an object is ignored');
  });
});
