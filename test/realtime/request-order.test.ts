/**
 * A session's requests are processed in the order it sent them, each gets exactly one
 * answer, and no ordering of its own requests corrupts its state: Subscribes back to back
 * for one topic, requests pipelined right after Connect (before Connected).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, sleep } from './realtime-harness.js';

const T = { timeout: 15_000 };

/** Answers by request id, from the messages a connection received. */
function answersById(messages: unknown[][]): Map<number, unknown[][]> {
  const byId = new Map<number, unknown[][]>();
  for (const m of messages) {
    if (m[0] !== 7 && m[0] !== 8) continue;
    const id = m[1] as number;
    byId.set(id, [...(byId.get(id) ?? []), m]);
  }
  return byId;
}

describe('requests for one topic, sent back to back', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  for (const codec of ['json', 'msgpack'] as const) {
    test(`two Subscribes in flight for one topic: one answer each, and the session stays subscribed (${codec})`, T, async () => {
      const { rt, url } = await h.server({ topics: () => ({ presence: true }) });
      const other = await h.session(url, codec);
      other.send([2, 1, 'room', {}]);
      assert.equal((await other.next())[0], 7);
      const c = await h.session(url, codec);
      c.send([2, 1, 'room', { info: 'me' }]);
      c.send([2, 2, 'room', { info: 'me' }]);
      c.send([15, 3, 'room']);
      const answers = await c.take(3);
      assert.deepStrictEqual(answers.map((m) => [m[0], m[1]]), [[7, 1], [7, 2], [7, 3]], JSON.stringify(answers));
      const first = answers[0]![2] as Record<string, unknown>;
      const second = answers[1]![2] as Record<string, unknown>;
      assert.equal(second.epoch, first.epoch);
      // The presence query sees this session once, with its info.
      const members = answers[2]![2] as Array<[string, unknown]>;
      assert.deepStrictEqual(members.filter(([id]) => id === c.sessionId), [[c.sessionId, 'me']]);
      // Still subscribed: a publication arrives.
      await rt.publish('room', 'hello');
      const pub = await c.next();
      assert.deepStrictEqual(pub.slice(0, 3), [12, 'room', 'hello']);
      // The other member saw exactly one join and no leave.
      await other.until(() => other.pending.some((m) => m[0] === 12), 2000, 'publication at the other member');
      const presence = other.pending.filter((m) => m[0] === 13);
      assert.deepStrictEqual(presence, [[13, 'room', 1, c.sessionId, 'me']]);
      assert.deepStrictEqual(c.pending, [], 'nothing else was sent');
    });
  }

  test('1,000 Subscribes to one topic in a burst: every id answered exactly once, all with a Reply', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.session(url);
    const N = 1000;
    for (let id = 1; id <= N; id++) c.send([2, id, 'burst', {}]);
    await c.until(() => answersById(c.received).size === N, 10_000, `${N} answers`);
    await rt.publish('burst', 'after');
    await c.until(() => c.received.some((m) => m[0] === 12), 3000, 'the publication');
    const byId = answersById(c.received);
    for (let id = 1; id <= N; id++) {
      const answers = byId.get(id) ?? [];
      assert.equal(answers.length, 1, `id ${id}: ${JSON.stringify(answers)}`);
      assert.equal(answers[0]![0], 7, `id ${id}: ${JSON.stringify(answers)}`);
    }
    assert.equal(c.received.filter((m) => m[0] === 12).length, 1, 'one publication, however many resubscribes');
  });

  test('Subscribe, Unsubscribe, Subscribe back to back end subscribed; Unsubscribe, Subscribe, Unsubscribe end unsubscribed', T, async () => {
    const { rt, url } = await h.server({ authorize: { subscribe: async () => (await sleep(5), true) } });
    const c = await h.session(url);
    c.send([2, 1, 't', {}]);
    c.send([3, 2, 't']);
    c.send([2, 3, 't', {}]);
    const answers = await c.take(3);
    assert.deepStrictEqual(answers.map((m) => [m[0], m[1]]), [[7, 1], [7, 2], [7, 3]]);
    await rt.publish('t', 1);
    assert.deepStrictEqual((await c.next()).slice(0, 3), [12, 't', 1]);
    c.send([3, 4, 't']);
    c.send([2, 5, 't', {}]);
    c.send([3, 6, 't']);
    assert.deepStrictEqual((await c.take(3)).map((m) => [m[0], m[1]]), [[7, 4], [7, 5], [7, 6]]);
    await rt.publish('t', 2);
    c.send([9, 7]);
    assert.deepStrictEqual(await c.next(), [10, 7], 'no publication after the last Unsubscribe');
  });
});

describe('pipelining after Connect', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('Connect then requests without waiting for Connected: held while the token is checked, then all answered (20 of 20)', T, async () => {
    const { rt, url } = await h.server({
      authenticate: async (token) => {
        await sleep(15);
        return token === 'ok' ? { user: token } : false;
      },
    });
    rt.handle('echo', (d) => d);
    for (let trial = 0; trial < 20; trial++) {
      const c = await h.wire(url);
      c.send([0, 'ok', {}]);
      c.send([2, 1, 'news', {}]);
      c.send([9, 5]);
      c.send([6, 2, 'echo', trial]);
      c.send([5, 'nobody-listens', null]);
      const got = await c.take(4);
      assert.equal(got[0]![0], 1, `trial ${trial}: ${JSON.stringify(got)}`);
      // Answers to asynchronous requests come when they are done: matched by id.
      const rest = got.slice(1).sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
      assert.deepStrictEqual(rest.map((m) => m.slice(0, 2)), [[7, 1], [7, 2], [10, 5]], `trial ${trial}`);
      assert.equal(rest[1]![2], trial);
      assert.equal((rest[0]![2] as Record<string, unknown>).recovered, false);
      c.close();
    }
  });

  test('any number of messages may follow Connect: 500 pipelined Pings are all answered, in order', T, async () => {
    const { url } = await h.server({
      authenticate: async () => {
        await sleep(30);
        return true;
      },
    });
    const c = await h.wire(url);
    c.send([0, null, {}]);
    for (let i = 1; i <= 500; i++) c.send([9, i]);
    const got = await c.take(501);
    assert.equal(got[0]![0], 1);
    assert.deepStrictEqual(got.slice(1), Array.from({ length: 500 }, (_, i) => [10, i + 1]));
  });

  test('a refused token: closed with 4001, nothing sent after Connect is processed', T, async () => {
    let handled = 0;
    const { rt, url } = await h.server({
      authenticate: async (token) => {
        await sleep(30);
        return token === 'ok';
      },
    });
    rt.handle('count', () => ++handled);
    const refused = await h.wire(url);
    refused.send([0, 'bad', {}]);
    refused.send([6, 1, 'count', null]);
    refused.send([9, 1]);
    assert.equal((await refused.waitClose()).code, 4001);
    assert.deepStrictEqual(refused.received, []);
    assert.equal(handled, 0);
  });
});
