/** RealtimeServer.history(topic, { last }): what a newcomer is shown, from the topic's history (memory adapter). */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './realtime-harness.js';

const h = new Harness();
afterEach(() => h.cleanup());

test('history { last }: the latest publications in order; fewer when history holds fewer; bad values refused', async () => {
  const { rt } = await h.server({ topics: (t) => (t === 'small' ? { historySize: 4 } : t === 'prices' ? { mode: 'conflated' } : undefined) });
  const empty = await rt.history('room', { last: 10 });
  assert.deepEqual({ offset: empty.offset, publications: empty.publications }, { offset: 0, publications: [] });
  for (let i = 1; i <= 6; i++) await rt.publish('room', { i });
  const h3 = await rt.history('room', { last: 3 });
  assert.equal(h3.offset, 6);
  assert.deepEqual(h3.publications.map((p) => [p.offset, p.data]), [[4, { i: 4 }], [5, { i: 5 }], [6, { i: 6 }]]);
  assert.equal(h3.epoch, (await rt.history('room')).epoch);
  assert.deepEqual((await rt.history('room', { last: 100 })).publications.map((p) => p.offset), [1, 2, 3, 4, 5, 6]);
  // Without `last` or `since`: only the position.
  assert.deepEqual((await rt.history('room')).publications, []);

  for (let i = 1; i <= 10; i++) await rt.publish('small', i);
  assert.deepEqual((await rt.history('small', { last: 100 })).publications.map((p) => p.data), [7, 8, 9, 10]);
  // Conflated topics give every key, as for any read.
  await rt.publish('prices', 1, { key: 'a' });
  await rt.publish('prices', 2, { key: 'b' });
  await rt.publish('prices', 3, { key: 'a' });
  assert.deepEqual((await rt.history('prices', { last: 1 })).publications.map((p) => [p.key, p.data]), [['b', 2], ['a', 3]]);

  assert.throws(() => rt.history('room', { last: -1 }), /last must be an integer >= 0/);
  assert.throws(() => rt.history('room', { last: 1.5 }), TypeError);
  assert.throws(() => rt.history('', { last: 1 }), /topic must be/);
});
