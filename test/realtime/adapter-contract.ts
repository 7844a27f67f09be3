/**
 * The adapter contract (src/realtime/adapter.ts), as one suite every adapter runs: memory,
 * cluster IPC, Redis and NATS. Two or three nodes share a backend; each node is an
 * AdapterNode that records what reaches it. Waits are bounded; nothing is timing-sensitive
 * beyond "arrives within a few seconds".
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Adapter, AdapterLink, AdapterNode, Member, Publication, TopicPolicy } from '../../src/realtime/index.js';

export interface ContractBackend {
  /** A fresh adapter for one more node on the shared backend (a namespace per call of `scope`). */
  adapter(scope: string): Adapter;
  close?(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

export class RecordingNode implements AdapterNode {
  readonly publications: Publication[] = [];
  readonly presenceEvents: Array<[string, boolean, Member]> = [];
  readonly direct: Array<[string, string, unknown]> = [];
  readonly all: Array<[string, unknown, string | undefined]> = [];
  deliver(p: Publication): void {
    this.publications.push(p);
  }
  deliverPresence(topic: string, joined: boolean, member: Member): void {
    this.presenceEvents.push([topic, joined, member]);
  }
  deliverToSession(sessionId: string, event: string, data: unknown): void {
    this.direct.push([sessionId, event, data]);
  }
  deliverToAll(event: string, data: unknown, except: string | undefined): void {
    this.all.push([event, data, except]);
  }
  of(topic: string): Publication[] {
    return this.publications.filter((p) => p.topic === topic);
  }
}

const reliable = (o: Partial<TopicPolicy> = {}): TopicPolicy => ({ mode: 'reliable', historySize: 100, historyTtl: 60_000, presence: false, ...o });

export function adapterContract(name: string, setup: () => Promise<ContractBackend>): void {
  describe(`adapter contract: ${name}`, { timeout: 60_000 }, () => {
    let backend: ContractBackend;
    let links: AdapterLink[] = [];
    let scopeCount = 0;
    let scope = '';
    before(async () => {
      backend = await setup();
    });
    after(async () => {
      await backend?.close?.();
    });
    afterEach(async () => {
      await Promise.all(links.splice(0).map((l) => l.close()));
    });
    /** `n` nodes on one fresh namespace. */
    function nodes(n: number): Array<{ node: RecordingNode; link: AdapterLink }> {
      scope = `c${process.pid}x${++scopeCount}`;
      return Array.from({ length: n }, () => {
        const node = new RecordingNode();
        const link = backend.adapter(scope).attach(node);
        links.push(link);
        return { node, link };
      });
    }

    test('publish: offsets 1..n in one epoch, delivered in order to listening nodes only, except and key carried', async () => {
      const [a, b, c] = nodes(3);
      await a!.link.listen('t');
      await b!.link.listen('t');
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await a!.link.publish('t', { i, bin: new Uint8Array([i]) }, reliable(), i === 3 ? { except: 'sess-1' } : {}));
      assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(new Set(results.map((r) => r.epoch)).size, 1);
      for (const n of [a!, b!]) {
        await eventually(() => n.node.of('t').length === 20, 'deliveries');
        assert.deepEqual(n.node.of('t').map((p) => p.offset), results.map((r) => r.offset));
        assert.deepEqual(n.node.of('t').map((p) => (p.data as { i: number }).i), Array.from({ length: 20 }, (_, i) => i));
        assert.deepEqual([...((n.node.of('t')[5]!.data as { bin: Uint8Array }).bin)], [5]);
        assert.equal(n.node.of('t')[3]!.except, 'sess-1');
        assert.equal(n.node.of('t')[0]!.epoch, results[0]!.epoch);
      }
      await sleep(100);
      assert.equal(c!.node.publications.length, 0, 'a node that does not listen gets nothing');
    });

    test('publishes from three nodes at once: every listener gets every offset once, in order', async () => {
      const ns = nodes(3);
      for (const n of ns) await n.link.listen('race');
      await Promise.all(ns.map((n, k) => Promise.all(Array.from({ length: 30 }, (_, i) => n.link.publish('race', `${k}:${i}`, reliable())))));
      for (const n of ns) {
        await eventually(() => n.node.of('race').length >= 90, 'all deliveries');
        await sleep(50);
        assert.deepEqual(n.node.of('race').map((p) => p.offset), Array.from({ length: 90 }, (_, i) => i + 1));
      }
      // Per publisher, its messages keep their order.
      for (let k = 0; k < 3; k++) {
        const mine = ns[0]!.node.of('race').map((p) => p.data as string).filter((d) => d.startsWith(`${k}:`));
        assert.deepEqual(mine, Array.from({ length: 30 }, (_, i) => `${k}:${i}`));
      }
    });

    test('unlisten stops deliveries', async () => {
      const [a, b] = nodes(2);
      await b!.link.listen('u');
      await a!.link.publish('u', 1, reliable());
      await eventually(() => b!.node.of('u').length === 1, 'first');
      await b!.link.unlisten('u');
      await a!.link.publish('u', 2, reliable());
      await sleep(150);
      assert.equal(b!.node.of('u').length, 1);
    });

    test('history: recovered after `since`; another epoch or too short: everything held, not recovered; no since: position only', async () => {
      const [a, b] = nodes(2);
      const policy = reliable({ historySize: 5 });
      for (let i = 1; i <= 8; i++) await a!.link.publish('h', i, policy);
      const none = await b!.link.history('h', policy);
      assert.equal(none.offset, 8);
      assert.deepEqual([none.publications.length, none.recovered], [0, false]);
      const epoch = none.epoch;
      const ok = await b!.link.history('h', policy, { epoch, offset: 5 });
      assert.deepEqual([ok.recovered, ok.publications.map((p) => p.data)], [true, [6, 7, 8]]);
      const head = await b!.link.history('h', policy, { epoch, offset: 8 });
      assert.deepEqual([head.recovered, head.publications.length], [true, 0]);
      const short = await b!.link.history('h', policy, { epoch, offset: 1 });
      assert.equal(short.recovered, false, 'history holds 4..8 only');
      assert.deepEqual(short.publications.map((p) => p.offset), [4, 5, 6, 7, 8]);
      const other = await b!.link.history('h', policy, { epoch: 'not-this-one', offset: 6 });
      assert.equal(other.recovered, false);
      assert.deepEqual(other.publications.map((p) => p.data), [4, 5, 6, 7, 8]);
      assert.ok(other.publications.every((p) => p.epoch === epoch && p.topic === 'h' && typeof p.time === 'number'));
    });

    test('conflated: history is the latest value per key, in offset order', async () => {
      const [a, b] = nodes(2);
      const policy: TopicPolicy = { mode: 'conflated', historySize: 10, historyTtl: 60_000, presence: false };
      await a!.link.publish('q', 'x1', policy, { key: 'x' });
      await a!.link.publish('q', 'y1', policy, { key: 'y' });
      await b!.link.publish('q', 'x2', policy, { key: 'x' });
      const h = await b!.link.history('q', policy);
      assert.deepEqual(h.publications.map((p) => [p.key, p.data, p.offset]), [['y', 'y1', 2], ['x', 'x2', 3]]);
      assert.equal(h.offset, 3);
    });

    test('idempotency keys across nodes: a repeat publishes nothing and answers the first offset', async () => {
      const [a, b] = nodes(2);
      await a!.link.listen('i');
      const first = await a!.link.publish('i', 'once', reliable(), { idempotencyKey: 'k1' });
      const again = await b!.link.publish('i', 'once', reliable(), { idempotencyKey: 'k1' });
      assert.equal(first.duplicate, undefined);
      assert.deepEqual([again.offset, again.epoch, again.duplicate], [first.offset, first.epoch, true]);
      const next = await b!.link.publish('i', 'next', reliable());
      assert.equal(next.offset, first.offset + 1);
      await eventually(() => a!.node.of('i').length === 2, 'deliveries');
      await sleep(100);
      assert.deepEqual(a!.node.of('i').map((p) => p.data), ['once', 'next']);
    });

    test('presence: joins and leaves reach listening nodes, presence() lists members of every node, close() makes a node\'s members leave', async () => {
      const [a, b, c] = nodes(3);
      await c!.link.listen('room');
      await a!.link.presenceJoin('room', { sessionId: 's-a', info: { name: 'a' } });
      await b!.link.presenceJoin('room', { sessionId: 's-b', info: { name: 'b' } });
      await b!.link.presenceJoin('room', { sessionId: 's-b', info: { name: 'b' } }); // again: no second join
      await eventually(() => c!.node.presenceEvents.length >= 2, 'joins');
      const list = await c!.link.presence('room');
      assert.deepEqual(list.map((m) => m.sessionId).sort(), ['s-a', 's-b']);
      assert.deepEqual(list.find((m) => m.sessionId === 's-a')!.info, { name: 'a' });
      await a!.link.presenceLeave('room', 's-a');
      await eventually(() => c!.node.presenceEvents.length >= 3, 'leave');
      await b!.link.close();
      await eventually(() => c!.node.presenceEvents.length >= 4, 'close leaves');
      assert.deepEqual(c!.node.presenceEvents.map(([, joined, m]) => [joined, m.sessionId]), [[true, 's-a'], [true, 's-b'], [false, 's-a'], [false, 's-b']]);
      assert.deepEqual(await c!.link.presence('room'), []);
    });

    test('direct messages and broadcasts reach every node', async () => {
      const [a, b] = nodes(2);
      // A node hears direct messages and broadcasts once its subscription is up; a message
      // published before that is not for it (it holds no session yet), so wait for both.
      await eventually(() => a!.link.connected !== false && b!.link.connected !== false, 'both nodes connected');
      await a!.link.sendToSession('s-9', 'hello', { n: 1 });
      await b!.link.broadcast('news', [1, 2], 's-3');
      for (const n of [a!, b!]) {
        await eventually(() => n.node.direct.length === 1 && n.node.all.length === 1, 'direct and broadcast');
        assert.deepEqual(n.node.direct[0], ['s-9', 'hello', { n: 1 }]);
        assert.deepEqual(n.node.all[0], ['news', [1, 2], 's-3']);
      }
    });
  });
}
