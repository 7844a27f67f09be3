import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue } from '../../src/protocol/async-queue.js';

test('AsyncQueue: values in order, to a waiting consumer or queued; the backlog hook follows the queue', async () => {
  const backlog: boolean[] = [];
  const q = new AsyncQueue<number>({ backlog: (w) => backlog.push(w) });
  const first = q.next();
  q.push(1); // straight to the waiting next(): no backlog
  assert.deepEqual(await first, { value: 1, done: false });
  q.push(2);
  q.push(3);
  assert.deepEqual(backlog, [true]);
  assert.deepEqual(await q.next(), { value: 2, done: false });
  assert.deepEqual(await q.next(), { value: 3, done: false });
  assert.deepEqual(backlog, [true, false]);
  q.end();
  q.push(4); // after end: ignored
  assert.deepEqual(await q.next(), { value: undefined, done: true });
});

test('AsyncQueue: after end(failure) the waiting values come first, then the failure once, then the end', async () => {
  const q = new AsyncQueue<string>();
  q.push('a');
  q.end(new Error('boom'));
  assert.deepEqual(await q.next(), { value: 'a', done: false });
  await assert.rejects(q.next(), /boom/);
  assert.deepEqual(await q.next(), { value: undefined, done: true });
  // A consumer already waiting gets the failure, once.
  const w = new AsyncQueue<string>();
  const pending = w.next();
  w.end(new Error('refused'));
  await assert.rejects(pending, /refused/);
  assert.deepEqual(await w.next(), { value: undefined, done: true });
});

test('AsyncQueue: one next() at a time; return() drops the values, settles the waiter and calls stop once', async () => {
  let stops = 0;
  const q = new AsyncQueue<number>({ stop: () => void stops++ });
  const pending = q.next();
  await assert.rejects(q.next(), /before the previous call settled/);
  assert.deepEqual(await q.return(), { value: undefined, done: true });
  assert.deepEqual(await pending, { value: undefined, done: true });
  await q.return();
  assert.equal(stops, 1);
  const r = new AsyncQueue<number>({ stop: () => void stops++ });
  r.push(1);
  const seen: number[] = [];
  for await (const v of r) {
    seen.push(v);
    break; // leaving the loop calls return()
  }
  assert.deepEqual(seen, [1]);
  assert.equal(stops, 2);
});
