/**
 * `for await (const msg of subscription)`: the topic's messages in order, each once, typed
 * as subscribe<T>() says; the loop ends with the subscription and throws when it is refused.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeError } from '../../src/realtime/index.js';
import { Harness, within } from './realtime-harness.js';

const T = { timeout: 20_000 };

interface Tick { n: number }

describe('subscription as an async iterable', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('yields the messages in order, also those that arrive while the body runs; ends on unsubscribe()', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.connected(url);
    const sub = c.subscribe<Tick>('ticks');
    await within(sub.ready, 3000, 'subscribed');
    for (let n = 1; n <= 20; n++) await rt.publish('ticks', { n });
    const got: number[] = [];
    let unsubscribed: Promise<void> | undefined;
    await within(
      (async () => {
        for await (const tick of sub) {
          got.push(tick.n); // typed: Tick
          if (got.length === 1) await new Promise((r) => setTimeout(r, 50)); // a slow body: the rest wait
          if (got.length === 20) unsubscribed = sub.unsubscribe(); // the loop ends with it
        }
      })(),
      5000,
      'the loop',
    );
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i + 1));
    await within(unsubscribed!, 3000, 'unsubscribe answered');
  });

  test('ends when the server ends the subscription; leaving the loop early keeps the subscription', T, async () => {
    const { rt, url } = await h.server();
    const c = await h.connected(url);
    const sub = c.subscribe<Tick>('ticks');
    await within(sub.ready, 3000, 'subscribed');
    await rt.publish('ticks', { n: 1 });
    for await (const tick of sub) {
      assert.equal(tick.n, 1);
      break;
    }
    assert.equal(sub.state, 'subscribed', 'break does not unsubscribe');
    await rt.publish('ticks', { n: 2 });
    const session = rt.sessions.get(c.sessionId)!;
    const loop = (async () => {
      const seen: number[] = [];
      for await (const tick of sub) {
        seen.push(tick.n);
        if (tick.n === 2) await session.unsubscribe('ticks');
      }
      return seen;
    })();
    assert.deepEqual(await within(loop, 5000, 'the loop ends with the subscription'), [2]);
  });

  test('throws when the subscription is refused', T, async () => {
    const { url } = await h.server({ authorize: { subscribe: () => false } });
    const c = await h.connected(url);
    const sub = c.subscribe('secret');
    const loop = (async () => {
      for await (const _ of sub) throw new Error('no message expected');
    })();
    await assert.rejects(within(loop, 5000, 'the loop'), (e: unknown) => e instanceof RealtimeError && e.code === 'forbidden');
  });
});
