/**
 * The realtime layer's messaging over real loopback sockets, run once per codec: topic
 * fan-out, "except" delivery, direct and broadcast events, events and requests both ways,
 * binary payloads, presence, several nodes sharing an adapter, and recovery after a
 * reconnect. MessagePack and JSON must behave the same.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAdapter, RealtimeError, type RealtimeClient, type SubscribeResult } from '../../src/realtime/index.js';
import { eventually, Harness, once, record, recordEvents, rejection, sessionOf, sleep, waitState, within } from './realtime-harness.js';

const T = { timeout: 8000 };

/** Subscribes each client to topic and waits until every subscription is live. */
async function subscribeAll(clients: RealtimeClient[], topic: string, info?: unknown) {
  const subs = clients.map((c) => c.subscribe(topic, info === undefined ? {} : { info }));
  await within(Promise.all(subs.map((s) => s.ready)), 2000, `subscribe ${topic}`);
  return subs;
}

for (const codec of ['json', 'msgpack'] as const) {
  describe(`realtime messaging (${codec})`, () => {
    const h = new Harness();
    afterEach(() => h.cleanup());
    const client = (url: string, o: Parameters<Harness['client']>[1] = {}) => h.connected(url, { codec, ...o });

    test('the server speaks the codec the client chose', T, async () => {
      const { rt, url } = await h.server();
      const c = await client(url);
      assert.equal(c.codec.name, codec);
      assert.equal(sessionOf(rt, c).codec.name, codec);
      assert.match(c.sessionId, /^[A-Za-z0-9_-]{16}$/);
    });

    test('topic fan-out: every subscriber gets every message, in order, offsets 1, 2, 3...', T, async () => {
      const { rt, url } = await h.server();
      const clients = await Promise.all([client(url), client(url), client(url)]);
      const subs = await subscribeAll(clients, 'news');
      const recs = subs.map(record);
      for (let i = 1; i <= 10; i++) {
        const r = await rt.publish('news', { n: i });
        assert.equal(r.offset, i);
        assert.match(r.epoch, /^[0-9a-f]{16}$/);
      }
      for (const [i, rec] of recs.entries()) {
        await rec.wait(10);
        assert.deepStrictEqual(rec.messages, Array.from({ length: 10 }, (_, k) => ({ n: k + 1 })), `subscriber ${i}`);
        assert.deepStrictEqual(rec.offsets, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `subscriber ${i}`);
        assert.equal(subs[i]!.offset, 10);
      }
      // All subscribers see the same stream (same epoch as the server's).
      const epochs = new Set(subs.map((s) => s.epoch));
      assert.equal(epochs.size, 1);
      assert.equal([...epochs][0], (await rt.history('news')).epoch);
      // A client that never subscribed to the topic gets nothing of it.
      const other = await client(url);
      const stray: unknown[] = [];
      other.onPublication((topic, data) => stray.push([topic, data]));
      await rt.publish('news', { n: 11 });
      for (const rec of recs) await rec.wait(11);
      assert.deepStrictEqual(stray, []);
    });

    test('client publish with exceptSelf: the sender does not get it, the others do', T, async () => {
      const { url } = await h.server({ authorize: { publish: () => true } });
      const [a, b, c] = await Promise.all([client(url), client(url), client(url)]);
      const subs = await subscribeAll([a, b, c], 'chat');
      const [ra, rb, rc] = subs.map(record);
      assert.deepStrictEqual(await within(a.publish('chat', 'from a, not to a', { exceptSelf: true }), 2000, 'publish 1'), { offset: 1 });
      assert.deepStrictEqual(await within(a.publish('chat', 'from a, to all'), 2000, 'publish 2'), { offset: 2 });
      assert.deepStrictEqual(await within(b.publish('chat', 'from b', { exceptSelf: true }), 2000, 'publish 3'), { offset: 3 });
      await rb!.wait(2);
      await rc!.wait(3);
      await ra!.wait(2);
      await sleep(30);
      assert.deepStrictEqual(ra!.messages, ['from a, to all', 'from b']);
      assert.deepStrictEqual(ra!.offsets, [2, 3]);
      assert.deepStrictEqual(rb!.messages, ['from a, not to a', 'from a, to all']);
      assert.deepStrictEqual(rb!.offsets, [1, 2]);
      assert.deepStrictEqual(rc!.messages, ['from a, not to a', 'from a, to all', 'from b']);
      // The skipped offsets still count: nobody is behind (no resync needed).
      for (const s of subs) assert.equal(s.offset, 3);
    });

    test('server publish with except: a session (or its id) is left out', T, async () => {
      const { rt, url } = await h.server();
      const [a, b] = await Promise.all([client(url), client(url)]);
      const [ra, rb] = (await subscribeAll([a, b], 'feed')).map(record);
      await rt.publish('feed', 'not a (session)', { except: sessionOf(rt, a) });
      await rt.publish('feed', 'not b (id)', { except: b.sessionId });
      await rt.publish('feed', 'all');
      await ra!.wait(2);
      await rb!.wait(2);
      assert.deepStrictEqual(ra!.messages, ['not b (id)', 'all']);
      assert.deepStrictEqual(ra!.offsets, [2, 3]);
      assert.deepStrictEqual(rb!.messages, ['not a (session)', 'all']);
      assert.deepStrictEqual(rb!.offsets, [1, 3]);
    });

    test('emitTo reaches exactly one session', T, async () => {
      const { rt, url } = await h.server();
      const [a, b] = await Promise.all([client(url), client(url)]);
      const da = recordEvents(a, 'direct');
      const db = recordEvents(b, 'direct');
      const enda = recordEvents(a, 'end');
      const endb = recordEvents(b, 'end');
      await rt.emitTo(a.sessionId, 'direct', { to: 'a', n: 1 });
      await rt.emitTo(a.sessionId, 'direct', { to: 'a', n: 2 });
      await rt.emitTo('no-such-session', 'direct', 'lost');
      await rt.emitAll('end');
      await enda.wait(1);
      await endb.wait(1);
      // Events on one connection arrive in order, so 'end' comes after anything sent before it.
      assert.deepStrictEqual(da.list, [{ to: 'a', n: 1 }, { to: 'a', n: 2 }]);
      assert.deepStrictEqual(db.list, []);
      assert.deepStrictEqual(enda.list, [null]);
    });

    test('emitAll reaches every session except the one left out', T, async () => {
      const { rt, url } = await h.server();
      const cs = await Promise.all([client(url), client(url), client(url)]);
      const recs = cs.map((c) => recordEvents(c, 'news'));
      await rt.emitAll('news', 'not b', { except: cs[1]!.sessionId });
      await rt.emitAll('news', 'not c', { except: sessionOf(rt, cs[2]!) });
      await rt.emitAll('news', 'everyone');
      await recs[0]!.wait(3);
      await recs[1]!.wait(2);
      await recs[2]!.wait(2);
      assert.deepStrictEqual(recs[0]!.list, ['not b', 'not c', 'everyone']);
      assert.deepStrictEqual(recs[1]!.list, ['not c', 'everyone']);
      assert.deepStrictEqual(recs[2]!.list, ['not b', 'everyone']);
    });

    test('client emit reaches the server handler with its session; session.emit reaches client listeners', T, async () => {
      const got: Array<[unknown, string]> = [];
      const { rt, url } = await h.server();
      rt.on('move', (data, session) => got.push([data, session.id]));
      const c = await client(url);
      c.emit('move', { x: 1 });
      c.emit('move', { x: 2 });
      c.emit('unhandled', 'ignored');
      c.emit('move');
      await eventually(() => got.length >= 3, 2000, 'three move events');
      assert.deepStrictEqual(got, [
        [{ x: 1 }, c.sessionId],
        [{ x: 2 }, c.sessionId],
        [null, c.sessionId],
      ]);
      assert.equal(c.state, 'connected');

      const seen: unknown[] = [];
      const seen2: unknown[] = [];
      const off = c.on('tick', (d) => seen.push(d));
      c.on('tick', (d) => seen2.push(d));
      const s = sessionOf(rt, c);
      assert.equal(s.emit('tick', 1), true);
      assert.equal(s.emit('tick', { n: 2 }), true);
      await eventually(() => seen.length >= 2 && seen2.length >= 2, 2000, 'two ticks');
      off();
      s.emit('tick', 3);
      await eventually(() => seen2.length >= 3, 2000, 'third tick');
      assert.deepStrictEqual(seen, [1, { n: 2 }]);
      assert.deepStrictEqual(seen2, [1, { n: 2 }, 3]);
    });

    test('binary payloads (Uint8Array inside data) round-trip every way', T, async () => {
      const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
      const big = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
      const received: unknown[] = [];
      const { rt, url } = await h.server({ authorize: { publish: () => true } });
      rt.on('bin', (data) => received.push(data));
      rt.handle('echo', (data) => ({ back: (data as { blob: Uint8Array }).blob, extra: new Uint8Array([9]) }));
      const c = await client(url);
      c.handle('flip', (data) => (data as Uint8Array).slice().reverse());

      // Publication, both from the server and from a client.
      const rec = record((await subscribeAll([c], 'bin'))[0]!);
      await rt.publish('bin', { blob: bytes, list: [bytes, new Uint8Array(0)] });
      await c.publish('bin', big);
      await rec.wait(2);
      assert.deepStrictEqual(rec.messages[0], { blob: bytes, list: [bytes, new Uint8Array(0)] });
      assert.ok(rec.messages[1] instanceof Uint8Array);
      assert.deepStrictEqual(rec.messages[1], big);

      // Request and reply.
      assert.deepStrictEqual(await within(c.request('echo', { blob: bytes }), 2000, 'echo'), { back: bytes, extra: new Uint8Array([9]) });
      // Events both ways.
      c.emit('bin', { b: bytes });
      await eventually(() => received.length === 1, 2000, 'bin event');
      assert.deepStrictEqual(received[0], { b: bytes });
      const ev = once<unknown>((fn) => c.on('bin-back', fn), 2000, 'bin-back');
      sessionOf(rt, c).emit('bin-back', [bytes]);
      assert.deepStrictEqual(await ev, [bytes]);
      // Server to client request.
      assert.deepStrictEqual(await within(sessionOf(rt, c).request('flip', bytes), 2000, 'flip'), new Uint8Array([255, 254, 128, 127, 2, 1, 0]));
    });

    test('client request: reply, RealtimeError, internal error, unknown method', T, async () => {
      const errors: unknown[] = [];
      const { rt, url } = await h.server({ onError: (err) => errors.push(err) });
      rt.handle('add', (data, session) => {
        const { a, b } = data as { a: number; b: number };
        return { sum: a + b, session: session.id };
      });
      rt.handle('slowAdd', async (data) => {
        await sleep(20);
        return (data as number[]).reduce((x, y) => x + y, 0);
      });
      rt.handle('nothing', () => undefined);
      rt.handle('refuse', () => {
        throw new RealtimeError('nope', 'you may not');
      });
      rt.handle('refuseLater', async () => {
        throw new RealtimeError('later_nope', 'not now either');
      });
      rt.handle('crash', () => {
        throw new Error('secret database password in here');
      });
      const c = await client(url);
      assert.deepStrictEqual(await within(c.request('add', { a: 2, b: 3 }), 2000, 'add'), { sum: 5, session: c.sessionId });
      assert.equal(await within(c.request('slowAdd', [1, 2, 3, 4]), 2000, 'slowAdd'), 10);
      assert.equal(await within(c.request('nothing'), 2000, 'nothing'), null);

      const refused = await rejection(c.request('refuse'), 2000, 'refuse');
      assert.ok(refused instanceof RealtimeError);
      assert.equal(refused.code, 'nope');
      assert.equal(refused.message, 'you may not');
      const later = await rejection(c.request('refuseLater'), 2000, 'refuseLater');
      assert.ok(later instanceof RealtimeError);
      assert.equal(later.code, 'later_nope');
      assert.equal(later.message, 'not now either');

      const crashed = await rejection(c.request('crash'), 2000, 'crash');
      assert.ok(crashed instanceof RealtimeError);
      assert.equal(crashed.code, 'internal');
      assert.equal(crashed.message, 'internal error');
      assert.equal(errors.length, 1);
      assert.match((errors[0] as Error).message, /secret database password/);

      const missing = await rejection(c.request('noSuchMethod', 1), 2000, 'missing');
      assert.ok(missing instanceof RealtimeError);
      assert.equal(missing.code, 'not_found');
      // RealtimeErrors are the handler's answer, not failures to report.
      assert.equal(errors.length, 1);
      // Several requests in flight are matched to their replies by id.
      const many = await within(Promise.all([1, 2, 3, 4, 5].map((n) => c.request('add', { a: n, b: n }))), 2000, 'many');
      assert.deepStrictEqual(many.map((r) => (r as { sum: number }).sum), [2, 4, 6, 8, 10]);
    });

    test('client request timeout: a handler that never answers rejects with timeout', T, async () => {
      const { rt, url } = await h.server();
      let calls = 0;
      rt.handle('hang', () => {
        calls++;
        return new Promise(() => {});
      });
      const c = await client(url);
      const t0 = Date.now();
      const err = await rejection(c.request('hang', null, { timeout: 200 }), 2000, 'hang');
      const elapsed = Date.now() - t0;
      assert.ok(err instanceof RealtimeError);
      assert.equal(err.code, 'timeout');
      assert.ok(elapsed >= 190 && elapsed < 1500, `timed out after ${elapsed} ms`);
      assert.equal(calls, 1);
      // The connection is still usable.
      rt.handle('ping', () => 'pong');
      assert.equal(await within(c.request('ping'), 2000, 'ping'), 'pong');
      // The client's requestTimeout option is the default.
      const c2 = await client(url, { requestTimeout: 150 });
      const t1 = Date.now();
      const err2 = await rejection(c2.request('hang'), 2000, 'hang (default timeout)');
      assert.equal((err2 as RealtimeError).code, 'timeout');
      assert.ok(Date.now() - t1 >= 140);
    });

    test('server request: client handler replies, throws RealtimeError, throws other errors, is missing', T, async () => {
      const { rt, url } = await h.server();
      const c = await client(url);
      c.handle('double', (n) => (n as number) * 2);
      c.handle('later', async (s) => {
        await sleep(10);
        return `later ${String(s)}`;
      });
      c.handle('deny', () => {
        throw new RealtimeError('denied', 'the user said no');
      });
      c.handle('denyLater', () => Promise.reject(new RealtimeError('denied_later', 'no, later')));
      c.handle('crash', () => {
        throw new TypeError('private details');
      });
      const s = sessionOf(rt, c);
      assert.equal(await within(s.request('double', 21), 2000, 'double'), 42);
      assert.equal(await within(s.request('later', 'x'), 2000, 'later'), 'later x');
      const many = await within(Promise.all([1, 2, 3].map((n) => s.request('double', n))), 2000, 'many');
      assert.deepStrictEqual(many, [2, 4, 6]);

      const denied = await rejection(s.request('deny'), 2000, 'deny');
      assert.ok(denied instanceof RealtimeError);
      assert.equal(denied.code, 'denied');
      assert.equal(denied.message, 'the user said no');
      const deniedLater = await rejection(s.request('denyLater'), 2000, 'denyLater');
      assert.equal((deniedLater as RealtimeError).code, 'denied_later');
      assert.equal((deniedLater as RealtimeError).message, 'no, later');
      const crashed = await rejection(s.request('crash'), 2000, 'crash');
      assert.equal((crashed as RealtimeError).code, 'internal');
      assert.equal((crashed as RealtimeError).message, 'internal error');
      const missing = await rejection(s.request('unknown'), 2000, 'unknown');
      assert.equal((missing as RealtimeError).code, 'not_found');
      assert.equal(c.state, 'connected');
    });

    test('server request timeout (per call and the requestTimeout option); a closed session rejects pending requests', T, async () => {
      const { rt, url } = await h.server({ requestTimeout: 150 });
      const c = await client(url);
      c.handle('hang', () => new Promise(() => {}));
      const s = sessionOf(rt, c);
      let t0 = Date.now();
      const e1 = await rejection(s.request('hang', 1, { timeout: 250 }), 2000, 'hang');
      assert.equal((e1 as RealtimeError).code, 'timeout');
      assert.ok(Date.now() - t0 >= 240);
      t0 = Date.now();
      const e2 = await rejection(s.request('hang'), 2000, 'hang (default)');
      assert.equal((e2 as RealtimeError).code, 'timeout');
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 140 && elapsed < 1000, `timed out after ${elapsed} ms`);
      // Pending when the connection goes: rejected with disconnected, without waiting.
      const pending = s.request('hang', null, { timeout: 5000 });
      c.close();
      const e3 = await rejection(pending, 2000, 'hang (closed)');
      assert.equal((e3 as RealtimeError).code, 'disconnected');
      const e4 = await rejection(s.request('hang'), 500, 'after close');
      assert.equal((e4 as RealtimeError).code, 'disconnected');
    });

    test('presence: info from subscribe and from authenticate, join and leave (unsubscribe, disconnect), members', T, async () => {
      const { rt, url } = await h.server({
        authenticate: (token) => ({ user: { id: token }, info: { name: String(token) } }),
        topics: (name) => (name.startsWith('room:') ? { presence: true } : undefined),
      });
      const alice = await client(url, { token: 'alice' });
      const bob = await client(url, { token: 'bob' });
      const carol = await client(url, { token: 'carol' });
      const ids = { alice: alice.sessionId, bob: bob.sessionId, carol: carol.sessionId };

      const sa = alice.subscribe('room:1', { info: { name: 'Alice', status: 'busy' } });
      // Listening from the start: a subscriber is never told of its own join.
      const joins: unknown[] = [];
      const leaves: unknown[] = [];
      sa.on('join', (m) => joins.push(m));
      sa.on('leave', (m) => leaves.push(m));
      await within(sa.ready, 2000, 'alice subscribed');
      assert.deepStrictEqual([...sa.members], [[ids.alice, { name: 'Alice', status: 'busy' }]]);

      // Bob brings no info of his own: authenticate's is used.
      const sb = bob.subscribe('room:1');
      const bobJoins: unknown[] = [];
      const bobLeaves: unknown[] = [];
      sb.on('join', (m) => bobJoins.push(m));
      sb.on('leave', (m) => bobLeaves.push(m));
      await within(sb.ready, 2000, 'bob subscribed');
      assert.deepStrictEqual(new Map(sb.members), new Map<string, unknown>([[ids.alice, { name: 'Alice', status: 'busy' }], [ids.bob, { name: 'bob' }]]));
      await eventually(() => joins.length === 1, 2000, 'bob join');
      assert.deepStrictEqual(joins[0], { sessionId: ids.bob, info: { name: 'bob' } });

      const sc = carol.subscribe('room:1', { info: 'carol-info' });
      await within(sc.ready, 2000, 'carol subscribed');
      await eventually(() => joins.length === 2 && bobJoins.length === 1, 2000, 'carol join');
      assert.deepStrictEqual(joins[1], { sessionId: ids.carol, info: 'carol-info' });
      assert.deepStrictEqual(bobJoins[0], { sessionId: ids.carol, info: 'carol-info' });
      assert.equal(sa.members.size, 3);
      assert.equal(sa.members.get(ids.carol), 'carol-info');

      const expectAll = [
        { sessionId: ids.alice, info: { name: 'Alice', status: 'busy' } },
        { sessionId: ids.bob, info: { name: 'bob' } },
        { sessionId: ids.carol, info: 'carol-info' },
      ];
      const byId = (a: { sessionId: string }, b: { sessionId: string }) => (a.sessionId < b.sessionId ? -1 : 1);
      assert.deepStrictEqual((await within(sb.presence(), 2000, 'presence query')).sort(byId), [...expectAll].sort(byId));
      assert.deepStrictEqual((await rt.presence('room:1')).sort(byId), [...expectAll].sort(byId));

      // Leave on unsubscribe.
      await within(sb.unsubscribe(), 2000, 'bob unsubscribes');
      await eventually(() => leaves.length === 1, 2000, 'bob leave');
      assert.deepStrictEqual(leaves[0], { sessionId: ids.bob, info: { name: 'bob' } });
      assert.equal(sa.members.has(ids.bob), false);
      assert.deepStrictEqual(sessionOf(rt, bob).topics, []);
      // Leave on disconnect.
      carol.close();
      await eventually(() => leaves.length === 2, 2000, 'carol leave');
      assert.deepStrictEqual(leaves[1], { sessionId: ids.carol, info: 'carol-info' });
      assert.deepStrictEqual([...sa.members.keys()], [ids.alice]);
      assert.deepStrictEqual(await rt.presence('room:1'), [{ sessionId: ids.alice, info: { name: 'Alice', status: 'busy' } }]);
      // Bob, unsubscribed, heard of none of that.
      assert.deepStrictEqual(bobLeaves, []);
      // No duplicate notifications arrived meanwhile.
      await sleep(30);
      assert.equal(joins.length, 2);
      assert.equal(leaves.length, 2);
    });

    test('presence queries: forbidden before subscribing, bad_request on a topic without presence', T, async () => {
      const { url } = await h.server({ topics: (name) => (name === 'p' ? { presence: true } : undefined) });
      const c = await client(url);
      const plain = c.subscribe('plain');
      await within(plain.ready, 2000, 'subscribe plain');
      assert.equal(plain.members.size, 0);
      const e1 = await rejection(plain.presence(), 2000, 'presence of plain');
      assert.equal((e1 as RealtimeError).code, 'bad_request');
      const p = c.subscribe('p');
      await within(p.ready, 2000, 'subscribe p');
      await within(p.unsubscribe(), 2000, 'unsubscribe p');
      const e2 = await rejection(p.presence(), 2000, 'presence after unsubscribe');
      assert.equal((e2 as RealtimeError).code, 'forbidden');
    });

    test('two nodes sharing a MemoryAdapter: publications, presence and direct events cross nodes', T, async () => {
      const adapter = new MemoryAdapter();
      const opts = {
        adapter,
        authenticate: (token: unknown) => ({ info: { name: token } }),
        authorize: { publish: () => true },
        topics: (name: string) => (name === 'lobby' ? { presence: true } : undefined),
      };
      const A = await h.server(opts);
      const B = await h.server(opts);
      const onA = await client(A.url, { token: 'a' });
      const onA2 = await client(A.url, { token: 'a2' });
      const onB = await client(B.url, { token: 'b' });
      assert.ok(A.rt.sessions.has(onA.sessionId) && !B.rt.sessions.has(onA.sessionId));
      assert.ok(B.rt.sessions.has(onB.sessionId) && !A.rt.sessions.has(onB.sessionId));

      // Subscribers on node A get what is published on node B, by the server and by a client, in one sequence.
      const [ra, ra2] = (await subscribeAll([onA, onA2], 'prices')).map(record);
      await B.rt.publish('prices', 1);
      await within(onB.publish('prices', 2), 2000, 'client publish on B');
      await A.rt.publish('prices', 3);
      await B.rt.publish('prices', 4, { except: onA2.sessionId });
      await ra!.wait(4);
      await ra2!.wait(3);
      assert.deepStrictEqual(ra!.messages, [1, 2, 3, 4]);
      assert.deepStrictEqual(ra!.offsets, [1, 2, 3, 4]);
      assert.deepStrictEqual(ra2!.messages, [1, 2, 3]);
      assert.equal((await A.rt.history('prices')).epoch, (await B.rt.history('prices')).epoch);

      // Presence across nodes.
      const la = onA.subscribe('lobby');
      await within(la.ready, 2000, 'lobby on A');
      const joins: unknown[] = [];
      const leaves: unknown[] = [];
      la.on('join', (m) => joins.push(m));
      la.on('leave', (m) => leaves.push(m));
      const lb = onB.subscribe('lobby');
      await within(lb.ready, 2000, 'lobby on B');
      assert.deepStrictEqual(new Map(lb.members), new Map([[onA.sessionId, { name: 'a' }], [onB.sessionId, { name: 'b' }]]));
      await eventually(() => joins.length === 1, 2000, 'join from B');
      assert.deepStrictEqual(joins[0], { sessionId: onB.sessionId, info: { name: 'b' } });
      assert.equal((await A.rt.presence('lobby')).length, 2);
      assert.equal((await B.rt.presence('lobby')).length, 2);

      // Direct events and broadcasts to sessions of the other node.
      const direct = recordEvents(onB, 'direct');
      const notDirect = recordEvents(onA2, 'direct');
      await A.rt.emitTo(onB.sessionId, 'direct', { from: 'A' });
      await direct.wait(1);
      assert.deepStrictEqual(direct.list, [{ from: 'A' }]);
      const all = [onA, onA2, onB].map((c) => recordEvents(c, 'all'));
      await B.rt.emitAll('all', 'hello', { except: onA.sessionId });
      await all[1]!.wait(1);
      await all[2]!.wait(1);
      await A.rt.emitAll('all', 'again');
      for (const r of all) await r.wait(r === all[0] ? 1 : 2);
      assert.deepStrictEqual(all.map((r) => r.list), [['again'], ['hello', 'again'], ['hello', 'again']]);
      assert.deepStrictEqual(notDirect.list, []);

      // A client on B leaving is seen on A.
      const bId = onB.sessionId;
      onB.close();
      await eventually(() => leaves.length === 1, 2000, 'leave from B');
      assert.deepStrictEqual(leaves[0], { sessionId: bId, info: { name: 'b' } });
      assert.deepStrictEqual((await A.rt.presence('lobby')).map((m) => m.sessionId), [onA.sessionId]);
    });

    test('reconnect with recovery: messages published while down arrive once, in order', T, async () => {
      const { rt, url } = await h.server();
      const c = await client(url);
      const sub = c.subscribe('log');
      const rec = record(sub);
      const events: SubscribeResult[] = [];
      sub.on('subscribed', (r) => events.push(r));
      const unrecoverable: unknown[] = [];
      sub.on('unrecoverable', (r) => unrecoverable.push(r));
      await within(sub.ready, 2000, 'subscribed');
      assert.deepStrictEqual(events.map((e) => [e.resumed, e.recovered]), [[false, false]]);
      for (let i = 1; i <= 5; i++) await rt.publish('log', i);
      await rec.wait(5);
      const firstSession = c.sessionId;

      // Cut the connection from the server side; publish while the client is away.
      const down = waitState(c, 'disconnected', 2000);
      sessionOf(rt, c).socket.terminate();
      const change = await down;
      assert.equal(change.code, 1006);
      assert.ok(typeof change.delay === 'number' && change.delay >= 10 && change.delay <= 20, `delay ${change.delay}`);
      for (let i = 6; i <= 10; i++) await rt.publish('log', i);

      await waitState(c, 'connected', 2000);
      assert.notEqual(c.sessionId, firstSession);
      await rec.wait(10);
      await eventually(() => events.length === 2, 2000, 'resubscribed');
      // Live again: the next one follows.
      await rt.publish('log', 11);
      await rec.wait(11);
      await sleep(30);
      assert.deepStrictEqual(rec.messages, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.deepStrictEqual(rec.offsets, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.equal(events[1]!.resumed, true);
      assert.equal(events[1]!.recovered, true);
      assert.equal(events[1]!.epoch, events[0]!.epoch);
      assert.deepStrictEqual(unrecoverable, []);
      assert.deepStrictEqual(sessionOf(rt, c).topics, ['log']);
    });

    test('reconnect with recovery: session.close() and a burst published while down', T, async () => {
      const { rt, url } = await h.server();
      const c = await client(url);
      const sub = c.subscribe('burst');
      const rec = record(sub);
      await within(sub.ready, 2000, 'subscribed');
      await rt.publish('burst', 'a');
      await rec.wait(1);
      const down = waitState(c, 'disconnected', 2000);
      sessionOf(rt, c).close(4000, 'go away');
      assert.equal((await down).code, 4000);
      const sent: number[] = [];
      for (let i = 0; i < 50; i++) sent.push((await rt.publish('burst', i)).offset);
      assert.deepStrictEqual(sent, Array.from({ length: 50 }, (_, i) => i + 2));
      await waitState(c, 'connected', 2000);
      await rec.wait(51);
      await sleep(30);
      assert.deepStrictEqual(rec.messages, ['a', ...Array.from({ length: 50 }, (_, i) => i)]);
      assert.deepStrictEqual(rec.offsets, Array.from({ length: 51 }, (_, i) => i + 1));
    });

    test('reconnect beyond history: unrecoverable, then what history still holds, then live', T, async () => {
      const { rt, url } = await h.server({ topics: () => ({ historySize: 3 }) });
      const c = await client(url);
      const sub = c.subscribe('short');
      const rec = record(sub);
      await within(sub.ready, 2000, 'subscribed');
      for (let i = 1; i <= 5; i++) await rt.publish('short', i);
      await rec.wait(5);
      let offsetAtEvent = -1;
      const lost = once<SubscribeResult>((fn) => sub.on('unrecoverable', (r) => {
        offsetAtEvent = sub.offset;
        fn(r);
      }), 3000, 'unrecoverable');
      const down = waitState(c, 'disconnected', 2000);
      sessionOf(rt, c).socket.terminate();
      await down;
      for (let i = 6; i <= 15; i++) await rt.publish('short', i);
      const r = await lost;
      assert.equal(r.resumed, true);
      assert.equal(r.recovered, false);
      assert.equal(r.offset, 15);
      // History (3 messages) still holds 13..15: they follow, 6..12 are lost.
      assert.equal(r.from, 12);
      assert.equal(offsetAtEvent, 12);
      await rt.publish('short', 16);
      await rec.wait(9);
      await sleep(30);
      assert.deepStrictEqual(rec.messages, [1, 2, 3, 4, 5, 13, 14, 15, 16]);
      assert.deepStrictEqual(rec.offsets, [1, 2, 3, 4, 5, 13, 14, 15, 16]);
    });
  });
}
