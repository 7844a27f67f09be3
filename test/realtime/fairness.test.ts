/**
 * One client's burst must not hold up everyone else: each session gets a bounded number of
 * messages processed per turn of the event loop, and the default configuration has a rate
 * limit. These tests observe order (what had been processed when another client was
 * answered), not time, so that they hold on a loaded machine.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeServer } from '../../src/realtime/index.js';
import { DEFAULT_RATE_LIMIT } from '../../src/realtime/server/realtime-options.js';
import { MESSAGES_PER_TURN } from '../../src/realtime/server/session-inbox.js';
import { Harness } from './realtime-harness.js';

const T = { timeout: 20_000 };

/** Keeps the CPU busy for about `ms` (a handler doing real work). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('fair processing across sessions', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('a burst of 5,000 events from one client: another client is answered after a few turns, not after the burst', T, async () => {
    const FLOOD = 5000;
    let processed = 0;
    let processedAtEcho = -1;
    const { rt, url } = await h.server({ rateLimit: false });
    const flooder = await h.session(url);
    const other = await h.session(url);
    rt.handle('echo', (d) => {
      processedAtEcho = processed;
      return d;
    });
    rt.on('work', () => {
      // The other client asks as soon as the server has started on the burst.
      if (processed++ === 0) other.send([6, 1, 'echo', 'still there?']);
      busy(0.05);
    });
    for (let i = 0; i < FLOOD; i++) flooder.send([5, 'work', null]);
    assert.deepStrictEqual(await other.next(10_000), [7, 1, 'still there?']);
    await flooder.until(() => processed === FLOOD, 15_000, 'the whole burst');
    // Fair: a few turns of MESSAGES_PER_TURN went by. Unfair: a whole socket read (thousands).
    assert.ok(processedAtEcho >= 1 && processedAtEcho <= 8 * MESSAGES_PER_TURN, `processed ${processedAtEcho} of the burst before answering the other client`);
  });

  test('two flooding clients: each one\'s messages are processed in the order it sent them', T, async () => {
    const N = 2000;
    const seen: Array<[string, number]> = [];
    const { rt, url } = await h.server({ rateLimit: false });
    const a = await h.session(url);
    const b = await h.session(url);
    rt.on('n', (d, s) => void seen.push([s.id, d as number]));
    for (let i = 0; i < N; i++) {
      a.send([5, 'n', i]);
      b.send([5, 'n', i]);
    }
    await a.until(() => seen.length === 2 * N, 15_000, 'both bursts');
    for (const c of [a, b]) {
      const mine = seen.filter(([id]) => id === c.sessionId).map(([, n]) => n);
      assert.deepStrictEqual(mine, Array.from({ length: N }, (_, i) => i));
    }
  });

  test('the default configuration has a rate limit; rateLimit: false turns it off', () => {
    const rt = new RealtimeServer();
    assert.deepStrictEqual(rt.options.rateLimit, { messages: DEFAULT_RATE_LIMIT.messages, bytes: DEFAULT_RATE_LIMIT.bytes, burst: DEFAULT_RATE_LIMIT.burst });
    const big = new RealtimeServer({ websocket: { maxPayload: 64 * 1024 * 1024 } });
    assert.equal(big.options.rateLimit!.bytes, 64 * 1024 * 1024, 'a message of the largest size always fits the byte budget');
    assert.equal(new RealtimeServer({ rateLimit: false }).options.rateLimit, null);
    assert.throws(() => new RealtimeServer({ rateLimit: true as never }), /rateLimit must be an object or false/);
  });

  test('with the defaults, a burst far beyond the limit is refused with rate_limited and then closed with 4029', T, async () => {
    const { url } = await h.server();
    const c = await h.session(url);
    const burst = DEFAULT_RATE_LIMIT.messages * DEFAULT_RATE_LIMIT.burst;
    for (let i = 1; i <= burst + 1000; i++) c.send([9, i]);
    const closed = await c.waitClose(10_000);
    assert.equal(closed.code, 4029);
    const pongs = c.received.filter((m) => m[0] === 10).length;
    const refused = c.received.filter((m) => m[0] === 8 && m[1] === 0 && m[2] === 'rate_limited').length;
    // Accepted Pings still waiting when the connection closed are not answered.
    assert.ok(pongs <= burst + 500, `${pongs} pongs`);
    // Closed at the 101st refusal in a row (a message accepted as the bucket refills starts the count again).
    assert.ok(refused >= 100, `${refused} refused`);
  });

  test('a refused message that has an id is answered rate_limited with that id (every request type), others with id 0', T, async () => {
    const { url } = await h.server({ rateLimit: { messages: 1, burst: 1 }, authorize: { publish: () => true } });
    const c = await h.session(url); // Connect used the only token.
    const requests: unknown[][] = [[2, 1, 't', {}], [3, 2, 't'], [4, 3, 't', 1, {}], [6, 4, 'm', null], [11, 5, null], [15, 6, 't'], [5, 'e', null], [9, 7]];
    for (const m of requests) c.send(m);
    const answers = await c.take(requests.length);
    assert.deepStrictEqual(answers.map((m) => [m[0], m[1], m[2]]), [1, 2, 3, 4, 5, 6, 0, 0].map((id) => [8, id, 'rate_limited']));
  });
});
