import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopicStream } from '../../src/realtime/adapters/topic-stream.js';
import { MemoryAdapter } from '../../src/realtime/adapters/memory-adapter.js';
import type { AdapterNode, Member, Publication, TopicPolicy } from '../../src/realtime/index.js';

// Reproducible runs; set FC_SEED to explore other inputs.
fc.configureGlobal({ seed: Number(process.env['FC_SEED'] ?? 20261125) });

const HOUR = 3_600_000;
const reliable = (historySize: number, historyTtl = HOUR): TopicPolicy => ({ mode: 'reliable', historySize, historyTtl, presence: false });
const conflated = (historySize: number, historyTtl = HOUR): TopicPolicy => ({ mode: 'conflated', historySize, historyTtl, presence: false });

/** Appends the next message the way an adapter does: it assigns the offset, the stream stores it. */
function push(stream: TopicStream, policy: TopicPolicy, data: unknown, opts: { key?: string; time?: number } = {}): Publication {
  const pub: Publication = { topic: 't', data, offset: ++stream.offset, epoch: stream.epoch, time: opts.time ?? Date.now() };
  if (opts.key !== undefined) pub.key = opts.key;
  stream.append(pub, policy);
  return pub;
}

const offsets = (pubs: Publication[]) => pubs.map((p) => p.offset);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

// ---- TopicStream: reliable ------------------------------------------------------------

test('reliable: without since, read gives the position and no messages; recovered is false (nothing was asked)', () => {
  const s = new TopicStream();
  const p = reliable(10);
  assert.deepStrictEqual(s.read(p, Date.now()), { epoch: s.epoch, offset: 0, publications: [], recovered: false });
  for (let i = 0; i < 3; i++) push(s, p, i);
  assert.deepStrictEqual(s.read(p, Date.now()), { epoch: s.epoch, offset: 3, publications: [], recovered: false });
});

test('reliable: since 0 on a fresh stream reads everything, in order, with the data', () => {
  const s = new TopicStream();
  const p = reliable(10);
  for (let i = 0; i < 5; i++) push(s, p, `m${i}`);
  const r = s.read(p, Date.now(), { epoch: s.epoch, offset: 0 });
  assert.equal(r.recovered, true);
  assert.equal(r.offset, 5);
  assert.deepStrictEqual(offsets(r.publications), [1, 2, 3, 4, 5]);
  assert.deepStrictEqual(r.publications.map((x) => x.data), ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('reliable: the ring keeps the last historySize messages and wraps correctly', () => {
  const s = new TopicStream();
  const p = reliable(4);
  for (let i = 1; i <= 11; i++) push(s, p, i); // wraps twice and a bit: holds 8..11
  const now = Date.now();
  const since = (offset: number) => s.read(p, now, { epoch: s.epoch, offset });
  // Every since inside the ring returns exactly the missing ones, in order.
  assert.deepStrictEqual(offsets(since(7).publications), [8, 9, 10, 11]);
  assert.deepStrictEqual(offsets(since(8).publications), [9, 10, 11]);
  assert.deepStrictEqual(offsets(since(9).publications), [10, 11]);
  assert.deepStrictEqual(offsets(since(10).publications), [11]);
  assert.deepStrictEqual(since(10).publications.map((x) => x.data), [11]);
  for (const k of [7, 8, 9, 10]) assert.equal(since(k).recovered, true, `since ${k}`);
  // since == top: nothing missed.
  assert.deepStrictEqual(since(11), { epoch: s.epoch, offset: 11, publications: [], recovered: true });
  // Older than the ring: 7 is gone, so since 6 cannot be honoured; what the ring holds is still replayed.
  for (const k of [0, 3, 6]) {
    const r = since(k);
    assert.equal(r.recovered, false, `since ${k}`);
    assert.deepStrictEqual(offsets(r.publications), [8, 9, 10, 11], `since ${k}`);
  }
  // Past the top, or another epoch: not this stream's position; everything held is replayed.
  assert.equal(since(12).recovered, false);
  assert.deepStrictEqual(offsets(since(12).publications), [8, 9, 10, 11]);
  const other = s.read(p, now, { epoch: 'another-epoch', offset: 10 });
  assert.equal(other.recovered, false);
  assert.deepStrictEqual(offsets(other.publications), [8, 9, 10, 11]);
  assert.equal(other.epoch, s.epoch);
});

test('reliable: ring exactly full, and a ring of one', () => {
  const s = new TopicStream();
  const p = reliable(3);
  for (let i = 1; i <= 3; i++) push(s, p, i);
  assert.deepStrictEqual(offsets(s.read(p, Date.now(), { epoch: s.epoch, offset: 0 }).publications), [1, 2, 3]);
  push(s, p, 4);
  assert.equal(s.read(p, Date.now(), { epoch: s.epoch, offset: 0 }).recovered, false);
  assert.deepStrictEqual(offsets(s.read(p, Date.now(), { epoch: s.epoch, offset: 0 }).publications), [2, 3, 4]);
  assert.deepStrictEqual(offsets(s.read(p, Date.now(), { epoch: s.epoch, offset: 1 }).publications), [2, 3, 4]);

  const one = new TopicStream();
  const p1 = reliable(1);
  for (let i = 1; i <= 5; i++) push(one, p1, i);
  assert.deepStrictEqual(offsets(one.read(p1, Date.now(), { epoch: one.epoch, offset: 4 }).publications), [5]);
  assert.equal(one.read(p1, Date.now(), { epoch: one.epoch, offset: 3 }).recovered, false);
});

test('reliable: historySize 0 keeps nothing', () => {
  const s = new TopicStream();
  const p = reliable(0);
  for (let i = 0; i < 5; i++) push(s, p, i);
  assert.equal(s.offset, 5);
  assert.equal(s.empty, true);
  assert.deepStrictEqual(s.read(p, Date.now(), { epoch: s.epoch, offset: 5 }), { epoch: s.epoch, offset: 5, publications: [], recovered: true });
  assert.deepStrictEqual(s.read(p, Date.now(), { epoch: s.epoch, offset: 4 }), { epoch: s.epoch, offset: 5, publications: [], recovered: false });
});

test('reliable: ttl drops old messages (on read with a later now)', () => {
  const s = new TopicStream();
  const p = reliable(100, 5_000);
  for (let i = 1; i <= 3; i++) push(s, p, i, { time: 1_000 });
  for (let i = 4; i <= 6; i++) push(s, p, i, { time: 10_000 });
  // At 12 000 the cutoff is 7 000: 1..3 expired, 4..6 kept.
  assert.deepStrictEqual(offsets(s.read(p, 12_000, { epoch: s.epoch, offset: 3 }).publications), [4, 5, 6]);
  assert.deepStrictEqual(offsets(s.read(p, 12_000, { epoch: s.epoch, offset: 4 }).publications), [5, 6]);
  assert.equal(s.read(p, 12_000, { epoch: s.epoch, offset: 2 }).recovered, false);
  // Far in the future: everything expired; only since == top is still honoured.
  assert.deepStrictEqual(s.read(p, 10_000 + HOUR, { epoch: s.epoch, offset: 5 }), { epoch: s.epoch, offset: 6, publications: [], recovered: false });
  assert.deepStrictEqual(s.read(p, 10_000 + HOUR, { epoch: s.epoch, offset: 6 }), { epoch: s.epoch, offset: 6, publications: [], recovered: true });
  assert.equal(s.empty, true);
});

test('reliable: ttl on append, on a wrapped ring, then the ring keeps working', () => {
  const s = new TopicStream();
  const p = reliable(4, 2_500);
  // Offset n published at time n * 1000; the ring (size 4) wraps at 5 and 6.
  for (let i = 1; i <= 6; i++) push(s, p, i, { time: i * 1_000 });
  // Appending 6 (time 6 000) expired everything before 3 500: 4, 5, 6 remain.
  assert.deepStrictEqual(offsets(s.read(p, 6_000, { epoch: s.epoch, offset: 3 }).publications), [4, 5, 6]);
  assert.equal(s.read(p, 6_000, { epoch: s.epoch, offset: 2 }).recovered, false);
  // Refill and wrap again after the compaction.
  for (let i = 7; i <= 9; i++) push(s, p, i, { time: 6_000 });
  assert.deepStrictEqual(offsets(s.read(p, 6_000, { epoch: s.epoch, offset: 5 }).publications), [6, 7, 8, 9]);
  assert.equal(s.read(p, 6_000, { epoch: s.epoch, offset: 4 }).recovered, false);
  assert.deepStrictEqual(s.read(p, 6_000, { epoch: s.epoch, offset: 5 }).publications.map((x) => x.data), [6, 7, 8, 9]);
});

// ---- TopicStream: conflated -----------------------------------------------------------

test('conflated: keeps the latest message per key; read returns all of them sorted by offset', () => {
  const s = new TopicStream();
  const p = conflated(10);
  push(s, p, 'a1', { key: 'a' }); // 1
  push(s, p, 'b1', { key: 'b' }); // 2
  push(s, p, 'a2', { key: 'a' }); // 3
  push(s, p, 'c1', { key: 'c' }); // 4
  push(s, p, 'b2', { key: 'b' }); // 5
  const r = s.read(p, Date.now());
  assert.equal(r.recovered, false, 'no since: nothing to recover');
  assert.equal(r.offset, 5);
  assert.deepStrictEqual(r.publications.map((x) => [x.offset, x.key, x.data]), [
    [3, 'a', 'a2'],
    [4, 'c', 'c1'],
    [5, 'b', 'b2'],
  ]);
  // A since does not narrow the snapshot (the client filters per key), it only decides `recovered`.
  const same = s.read(p, Date.now(), { epoch: s.epoch, offset: 4 });
  assert.equal(same.recovered, true);
  assert.deepStrictEqual(offsets(same.publications), [3, 4, 5]);
  const other = s.read(p, Date.now(), { epoch: 'elsewhere', offset: 4 });
  assert.equal(other.recovered, false);
  assert.deepStrictEqual(offsets(other.publications), [3, 4, 5]);
  const ahead = s.read(p, Date.now(), { epoch: s.epoch, offset: 6 });
  assert.equal(ahead.recovered, false);
  assert.deepStrictEqual(offsets(ahead.publications), [3, 4, 5]);
});

test('conflated: no key is the single value under key ""', () => {
  const s = new TopicStream();
  const p = conflated(10);
  for (let i = 0; i < 4; i++) push(s, p, i);
  const r = s.read(p, Date.now());
  assert.deepStrictEqual(r.publications.map((x) => [x.offset, x.data]), [[4, 3]]);
});

test('conflated: bounded by historySize, evicting the least recently updated key', () => {
  const s = new TopicStream();
  const p = conflated(3);
  push(s, p, 1, { key: 'a' }); // 1
  push(s, p, 1, { key: 'b' }); // 2
  push(s, p, 1, { key: 'c' }); // 3
  push(s, p, 2, { key: 'a' }); // 4: a is now the most recent, b the least
  push(s, p, 1, { key: 'd' }); // 5: evicts b
  assert.deepStrictEqual(s.read(p, Date.now()).publications.map((x) => [x.key, x.offset]), [
    ['c', 3],
    ['a', 4],
    ['d', 5],
  ]);
  push(s, p, 2, { key: 'c' }); // 6
  push(s, p, 1, { key: 'e' }); // 7: evicts a
  assert.deepStrictEqual(s.read(p, Date.now()).publications.map((x) => [x.key, x.offset]), [
    ['d', 5],
    ['c', 6],
    ['e', 7],
  ]);
});

test('conflated: ttl drops keys not updated recently; historySize 0 keeps nothing', () => {
  const s = new TopicStream();
  const p = conflated(10, 5_000);
  push(s, p, 1, { key: 'a', time: 1_000 });
  push(s, p, 1, { key: 'b', time: 2_000 });
  push(s, p, 2, { key: 'a', time: 8_000 });
  // At 9 000 (cutoff 4 000): b expired, a's update is recent.
  assert.deepStrictEqual(s.read(p, 9_000).publications.map((x) => [x.key, x.offset]), [['a', 3]]);
  assert.deepStrictEqual(s.read(p, 8_000 + HOUR).publications, []);
  assert.equal(s.empty, true);

  const none = new TopicStream();
  const p0 = conflated(0);
  for (let i = 0; i < 3; i++) push(none, p0, i, { key: 'k' });
  assert.equal(none.empty, true);
  assert.deepStrictEqual(none.read(p0, Date.now(), { epoch: none.epoch, offset: 3 }), { epoch: none.epoch, offset: 3, publications: [], recovered: true });
});

test('every stream has its own epoch', () => {
  const epochs = new Set(Array.from({ length: 100 }, () => new TopicStream().epoch));
  assert.equal(epochs.size, 100);
  for (const e of epochs) assert.match(e, /^[0-9a-f]{16}$/);
});

test('property: read(since k) returns exactly k+1..top, or recovered false when history no longer reaches k', () => {
  fc.assert(
    fc.property(fc.nat(60), fc.nat(20), fc.nat(70), (count, size, kRaw) => {
      const s = new TopicStream();
      const p = reliable(size);
      for (let i = 0; i < count; i++) push(s, p, i);
      const top = count;
      const k = kRaw % (top + 4); // includes a few positions past the top
      const r = s.read(p, Date.now(), { epoch: s.epoch, offset: k });
      assert.equal(r.offset, top);
      assert.equal(r.epoch, s.epoch);
      if (k > top || k < top - size) {
        assert.equal(r.recovered, false, `k=${k} top=${top} size=${size}`);
        // Everything history holds (the last min(size, top) offsets) is still replayed.
        assert.deepStrictEqual(offsets(r.publications), range(top - Math.min(size, top) + 1, top));
      } else {
        assert.equal(r.recovered, true, `k=${k} top=${top} size=${size}`);
        assert.deepStrictEqual(offsets(r.publications), range(k + 1, top));
        assert.deepStrictEqual(r.publications.map((x) => x.data), range(k, top - 1));
      }
    }),
    { numRuns: 500 },
  );
});

// ---- MemoryAdapter ---------------------------------------------------------------------

type Call = ['deliver', string, number, unknown] | ['presence', string, boolean, string, unknown] | ['session', string, string, unknown] | ['all', string, unknown, string | undefined];

function recorder(): AdapterNode & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    deliver: (p) => void calls.push(['deliver', p.topic, p.offset, p.data]),
    deliverPresence: (topic, joined, m: Member) => void calls.push(['presence', topic, joined, m.sessionId, m.info]),
    deliverToSession: (id, event, data) => void calls.push(['session', id, event, data]),
    deliverToAll: (event, data, except) => void calls.push(['all', event, data, except]),
  };
}

const withPresence: TopicPolicy = { mode: 'reliable', historySize: 100, historyTtl: HOUR, presence: true };

test('MemoryAdapter: offsets start at 1; every listening node gets each publication, in order, before publish resolves', async () => {
  const hub = new MemoryAdapter();
  const a = recorder(), b = recorder(), c = recorder();
  const la = hub.attach(a), lb = hub.attach(b), lc = hub.attach(c);
  await la.listen('t');
  await lb.listen('t');
  await lc.listen('other');
  const p = reliable(100);
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    const pub = await (i % 2 ? la : lc).publish('t', i, p);
    seen.push(pub.offset);
    // Synchronous delivery: both nodes have it already.
    assert.deepStrictEqual(a.calls.at(-1), ['deliver', 't', pub.offset, i]);
    assert.deepStrictEqual(b.calls.at(-1), ['deliver', 't', pub.offset, i]);
  }
  assert.deepStrictEqual(seen, [1, 2, 3, 4, 5]);
  const expected = [0, 1, 2, 3, 4].map((i) => ['deliver', 't', i + 1, i]);
  assert.deepStrictEqual(a.calls, expected);
  assert.deepStrictEqual(b.calls, expected);
  assert.deepStrictEqual(c.calls, []);
  // Topics have their own offsets and epochs.
  const o = await la.publish('other', 'x', p);
  assert.equal(o.offset, 1);
  const e1 = (await la.history('t', p)).epoch;
  assert.notEqual(o.epoch, e1);
  assert.deepStrictEqual(c.calls, [['deliver', 'other', 1, 'x']]);
  // History is shared by every node.
  const h = await lb.history('t', p, { epoch: e1, offset: 2 });
  assert.equal(h.recovered, true);
  assert.deepStrictEqual(h.publications.map((x) => x.data), [2, 3, 4]);
  await Promise.all([la.close(), lb.close(), lc.close()]);
});

test('MemoryAdapter: key and except travel with the publication', async () => {
  const hub = new MemoryAdapter();
  const got: Publication[] = [];
  const l = hub.attach({ ...recorder(), deliver: (p) => void got.push(p) });
  await l.listen('c');
  const pub = await l.publish('c', 1, conflated(10), { key: 'k', except: 'sess' });
  assert.equal(got.length, 1);
  assert.equal(got[0], pub);
  assert.equal(pub.key, 'k');
  assert.equal(pub.except, 'sess');
  assert.equal(typeof pub.time, 'number');
  const plain = await l.publish('c', 2, conflated(10));
  assert.equal('key' in plain, false);
  assert.equal('except' in plain, false);
  await l.close();
});

test('MemoryAdapter: unlisten stops delivery to that node only', async () => {
  const hub = new MemoryAdapter();
  const a = recorder(), b = recorder();
  const la = hub.attach(a), lb = hub.attach(b);
  await la.listen('t');
  await lb.listen('t');
  const p = reliable(10);
  await la.publish('t', 1, p);
  await lb.unlisten('t');
  await la.publish('t', 2, p);
  assert.deepStrictEqual(a.calls, [['deliver', 't', 1, 1], ['deliver', 't', 2, 2]]);
  assert.deepStrictEqual(b.calls, [['deliver', 't', 1, 1]]);
  await la.unlisten('t');
  await lb.publish('t', 3, p);
  assert.equal(a.calls.length, 2);
  // Unlistened topics keep their history (and epoch) while it holds something.
  const h = await lb.history('t', p, { epoch: (await lb.history('t', p)).epoch, offset: 0 });
  assert.deepStrictEqual(h.publications.map((x) => x.data), [1, 2, 3]);
  await la.close();
  await lb.close();
});

test('MemoryAdapter: an unused topic keeps its stream for its TTL, then is forgotten and comes back with a new epoch', async () => {
  const hub = new MemoryAdapter();
  const l = hub.attach(recorder());
  // Nobody listens and history keeps nothing: the stream (epoch and offset) still lives on.
  const p = reliable(0);
  const first = await l.publish('t', 1, p);
  const second = await l.publish('t', 2, p);
  assert.equal(first.offset, 1);
  assert.equal(second.offset, 2);
  assert.equal(first.epoch, second.epoch);
  const kept = reliable(10);
  const x = await l.publish('u', 1, kept);
  const y = await l.publish('u', 2, kept);
  assert.equal(y.offset, 2);
  assert.equal(x.epoch, y.epoch);
  // A sweep within the TTL keeps both...
  hub.sweep(Date.now() + HOUR / 2);
  assert.equal((await l.publish('u', 3, kept)).epoch, x.epoch);
  // ...one after it forgets them.
  hub.sweep(Date.now() + 2 * HOUR);
  const z = await l.publish('u', 4, kept);
  assert.equal(z.offset, 1);
  assert.notEqual(z.epoch, x.epoch);
  assert.notEqual((await l.publish('t', 3, p)).epoch, first.epoch);
  await l.close();
});

test('MemoryAdapter: presence joins and leaves reach every listening node', async () => {
  const hub = new MemoryAdapter();
  const a = recorder(), b = recorder(), c = recorder();
  const la = hub.attach(a), lb = hub.attach(b);
  const lc = hub.attach(c); // not listening: hears nothing
  await la.listen('room');
  await lb.listen('room');
  await la.presenceJoin('room', { sessionId: 's1', info: { name: 'ann' } });
  await lb.presenceJoin('room', { sessionId: 's2', info: null });
  // Joining again (new info) is not a new join.
  await la.presenceJoin('room', { sessionId: 's1', info: { name: 'ann2' } });
  assert.deepStrictEqual(await lb.presence('room'), [
    { sessionId: 's1', info: { name: 'ann2' } },
    { sessionId: 's2', info: null },
  ]);
  await la.presenceLeave('room', 's1');
  await la.presenceLeave('room', 's1'); // not a member any more: no second leave
  await la.presenceLeave('nowhere', 's1');
  const expected = [
    ['presence', 'room', true, 's1', { name: 'ann' }],
    ['presence', 'room', true, 's2', null],
    ['presence', 'room', false, 's1', { name: 'ann2' }],
  ];
  assert.deepStrictEqual(a.calls, expected);
  assert.deepStrictEqual(b.calls, expected);
  assert.deepStrictEqual(c.calls, []);
  assert.deepStrictEqual(await la.presence('room'), [{ sessionId: 's2', info: null }]);
  assert.deepStrictEqual(await la.presence('nowhere'), []);
  await Promise.all([la.close(), lb.close(), lc.close()]);
});

test('MemoryAdapter: closing a link removes its presence members with leave notifications, and stops its deliveries', async () => {
  const hub = new MemoryAdapter();
  const a = recorder(), b = recorder();
  const la = hub.attach(a), lb = hub.attach(b);
  for (const l of [la, lb]) {
    await l.listen('r1');
    await l.listen('r2');
  }
  await la.presenceJoin('r1', { sessionId: 'a1', info: 1 });
  await la.presenceJoin('r2', { sessionId: 'a2', info: 2 });
  await lb.presenceJoin('r1', { sessionId: 'b1', info: 3 });
  b.calls.length = 0;
  await la.close();
  await la.close(); // idempotent
  assert.deepStrictEqual(b.calls, [
    ['presence', 'r1', false, 'a1', 1],
    ['presence', 'r2', false, 'a2', 2],
  ]);
  assert.deepStrictEqual(await lb.presence('r1'), [{ sessionId: 'b1', info: 3 }]);
  assert.deepStrictEqual(await lb.presence('r2'), []);
  const before = a.calls.length;
  await lb.publish('r1', 'x', withPresence);
  await lb.presenceJoin('r1', { sessionId: 'b2', info: 4 });
  assert.equal(a.calls.length, before);
  assert.deepStrictEqual(b.calls.slice(-2), [
    ['deliver', 'r1', 1, 'x'],
    ['presence', 'r1', true, 'b2', 4],
  ]);
  await lb.close();
});

test('MemoryAdapter: direct messages and broadcasts reach every node', async () => {
  const hub = new MemoryAdapter();
  const a = recorder(), b = recorder();
  const la = hub.attach(a);
  const lb = hub.attach(b);
  await la.sendToSession('s9', 'hello', { x: 1 });
  await la.broadcast('all', 2, 's1');
  for (const r of [a, b]) assert.deepStrictEqual(r.calls, [['session', 's9', 'hello', { x: 1 }], ['all', 'all', 2, 's1']]);
  await la.close();
  await la.broadcast('after', 3);
  assert.equal(a.calls.length, 2);
  assert.equal(b.calls.length, 3);
  await lb.close();
});
