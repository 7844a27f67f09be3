/**
 * SessionSubscriptions: one subscription in two fields, a Map from the second on; the
 * same answers as a Map through every transition (order of topics included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSubscriptions } from '../../src/realtime/server/session-subscriptions.js';

test('agrees with a Map through one, several, and back to one or none', () => {
  const subs = new SessionSubscriptions<number>();
  const map = new Map<string, number>();
  const same = (): void => {
    assert.equal(subs.size, map.size);
    assert.deepEqual(subs.keys(), [...map.keys()]);
    for (const k of ['a', 'b', 'c', 'x']) assert.equal(subs.get(k), map.get(k));
  };
  same();
  const steps: Array<['set', string, number] | ['delete', string]> = [
    ['set', 'a', 1], ['set', 'a', 2], ['delete', 'x'], ['delete', 'a'], ['delete', 'a'], ['set', 'b', 3],
    ['set', 'c', 4], ['set', 'b', 5], ['delete', 'b'], ['set', 'a', 6], ['delete', 'c'], ['delete', 'a'], ['set', 'c', 7],
  ];
  for (const step of steps) {
    if (step[0] === 'set') {
      subs.set(step[1], step[2]);
      map.set(step[1], step[2]);
    } else {
      assert.equal(subs.delete(step[1]), map.delete(step[1]));
    }
    same();
  }
});
