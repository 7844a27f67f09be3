/**
 * The NATS adapter under RealtimeServers against a real nats-server with JetStream
 * (Debian's; these tests fail, not skip, when it is missing): nodes that share nothing but
 * NATS, clients moving between them, and the server restarted with and without its storage.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import { NatsAdapter, RealtimeClient, RealtimeServer, type RealtimeClientOptions, type RealtimeServerOptions } from '../../src/realtime/index.js';
import type { AdapterNode, TopicPolicy } from '../../src/realtime/adapters/adapter.js';
import { fromToken } from '../../src/realtime/adapters/nats-streams.js';
import { within } from '../helpers.js';
import { startNats, type NatsInstance } from './nats-fixture.js';
import { balancer } from './tcp-balancer.js';

const T = { timeout: 30_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

describe('NATS adapter', () => {
  let nats: NatsInstance;
  const servers: RealtimeServer[] = [];
  const clients: RealtimeClient[] = [];
  const closers: Array<() => Promise<void>> = [];
  let prefixCount = 0;

  before(async () => {
    nats = await startNats();
  });
  after(async () => {
    await nats?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
    for (const close of closers.splice(0)) await close();
  });

  let prefix = '';
  async function node(options: RealtimeServerOptions = {}, storage: 'file' | 'memory' = 'memory', url = nats.url): Promise<{ rt: RealtimeServer; url: string; port: number }> {
    const rt = new RealtimeServer({ adapter: new NatsAdapter({ connect: { servers: url, reconnectTimeWait: 100 }, prefix, storage }), authorize: { publish: () => true }, ...options, websocket: { heartbeatInterval: 0 } });
    servers.push(rt);
    const { port } = await rt.listen(0, '127.0.0.1');
    return { rt, url: `ws://127.0.0.1:${port}/`, port };
  }
  function client(url: string, options: RealtimeClientOptions = {}): RealtimeClient {
    const c = new RealtimeClient(url, { reconnect: { minDelay: 20, maxDelay: 200 }, requestTimeout: 10_000, ...options });
    clients.push(c);
    return c;
  }
  afterEach(() => {
    prefix = `n${++prefixCount}x${process.pid}`;
  });
  before(() => {
    prefix = `n0x${process.pid}`;
  });

  test('publications cross nodes in order with offsets; a client cut from node A reconnects to node B and recovers exactly what it missed', T, async () => {
    const a = await node();
    const b = await node();
    let target = a.port;
    const lb = await balancer(() => target);
    closers.push(lb.close);
    const c = client(`ws://127.0.0.1:${lb.port}/`, { codec: 'msgpack' });
    const sub = c.subscribe('feed');
    const got: Array<[unknown, number]> = [];
    sub.on('message', (d, m) => got.push([d, m.offset]));
    const results: Array<{ resumed: boolean; recovered: boolean }> = [];
    sub.on('subscribed', (r) => results.push(r));
    await within(sub.ready, 5000, 'subscribed');
    const publisher = client(b.url);
    for (let i = 0; i < 10; i++) await publisher.publish('feed', { i, bin: new Uint8Array([i]) });
    await eventually(() => got.length === 10, 5000, 'first ten');
    assert.deepEqual(got.map(([, o]) => o), Array.from({ length: 10 }, (_, i) => i + 1));
    assert.deepEqual(got[3]![0], { i: 3, bin: new Uint8Array([3]) });
    target = b.port;
    lb.cutAll();
    for (let i = 10; i < 30; i++) await publisher.publish('feed', { i, bin: new Uint8Array([i]) });
    await eventually(() => got.length === 30, 10_000, `all thirty (have ${got.length})`);
    assert.deepEqual(got.map(([d]) => (d as { i: number }).i), Array.from({ length: 30 }, (_, i) => i));
    assert.ok(b.rt.sessions.has(c.sessionId), 'the client is now on node B');
    assert.equal(results.at(-1)!.resumed, true);
    assert.equal(results.at(-1)!.recovered, true);
  });

  test('presence across nodes and a direct message to a session on the other node', T, async () => {
    const a = await node({ topics: () => ({ presence: true }) });
    const b = await node({ topics: () => ({ presence: true }) });
    const w = client(a.url);
    const watcher = w.subscribe('room', { info: { name: 'w' } });
    await within(watcher.ready, 15_000, 'watcher');
    const joined = new Promise((r) => watcher.on('join', r));
    const other = client(b.url);
    const otherSub = other.subscribe('room', { info: { name: 'o' } });
    await within(otherSub.ready, 15_000, 'other');
    assert.deepEqual(await within(joined, 5000, 'join across nodes'), { sessionId: other.sessionId, info: { name: 'o' } });
    assert.deepEqual(new Set((await a.rt.presence('room')).map((m) => m.sessionId)), new Set([w.sessionId, other.sessionId]));
    const direct = new Promise((r) => other.on('hello', r));
    await a.rt.emitTo(other.sessionId, 'hello', { from: 'A' });
    assert.deepEqual(await within(direct, 5000, 'direct'), { from: 'A' });
    const left = new Promise((r) => watcher.on('leave', r));
    const otherId = other.sessionId;
    other.close();
    assert.equal(((await within(left, 5000, 'leave across nodes')) as { sessionId: string }).sessionId, otherId);
  });

  for (const wipe of [false, true]) {
    test(`nats-server restarted ${wipe ? 'without' : 'with'} its JetStream storage: ${wipe ? 'an explicit unrecoverable, then the new epoch' : 'full recovery, nothing lost or doubled'}`, T, async () => {
      const own = await startNats();
      closers.push(() => own.stop());
      const a = await node({}, 'file', own.url);
      const b = await node({}, 'file', own.url);
      const c = client(a.url);
      const sub = c.subscribe('r');
      const got: Array<[unknown, number]> = [];
      sub.on('message', (d, m) => got.push([d, m.offset]));
      const notices: Array<{ recovered: boolean; epoch: string }> = [];
      sub.on('unrecoverable', (n) => notices.push(n));
      await within(sub.ready, 5000, 'subscribed');
      for (let i = 0; i < 5; i++) await b.rt.publish('r', `before ${i}`);
      await eventually(() => got.length === 5, 5000, 'before the restart');
      const oldEpoch = sub.epoch;
      await own.restart({ wipe });
      // Publishing waits for b to reconnect.
      for (let i = 0; i < 3; i++) await within(b.rt.publish('r', `after ${i}`), 15_000, 'publish after the restart');
      await eventually(() => got.length === 8, 15_000, `after the restart (${got.length})`);
      await sleep(200);
      if (wipe) {
        assert.equal(notices.length, 1, 'told once that the stream restarted');
        assert.notEqual(notices[0]!.epoch, oldEpoch);
        assert.deepEqual(got.slice(5), [['after 0', 1], ['after 1', 2], ['after 2', 3]]);
      } else {
        assert.equal(notices.length, 0);
        assert.equal(sub.epoch, oldEpoch);
        assert.deepEqual(got.map(([, o]) => o), [1, 2, 3, 4, 5, 6, 7, 8]);
      }
      assert.equal(got.length, 8, 'nothing delivered twice');
    });
  }

  test('streams of topics that are gone (empty for their max age, no live node listening) are deleted; a listened one is kept until its last listener leaves', T, async () => {
    const policy: TopicPolicy = { mode: 'reliable', historySize: 10, historyTtl: 1000, presence: false, idempotencyWindow: 1000 };
    const quiet: AdapterNode = { deliver() {}, deliverPresence() {}, deliverToSession() {}, deliverToAll() {} };
    const a = new NatsAdapter({ connect: { servers: nats.url }, prefix, storage: 'memory', sweepInterval: 200 }).attach(quiet);
    const b = new NatsAdapter({ connect: { servers: nats.url }, prefix, storage: 'memory', sweepInterval: 200 }).attach(quiet);
    const nc = await connect({ servers: nats.url });
    closers.push(async () => {
      await Promise.all([a.close(), b.close()]);
      await nc.close();
    });
    const jsm = await nc.jetstreamManager();
    const streams = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for await (const info of jsm.streams.list()) if (info.config.name.startsWith(`${prefix}_`)) out.set(fromToken(info.config.description!), info.state.messages);
      return out;
    };
    await b.listen('kept');
    await a.publish('gone', 1, policy);
    await a.publish('kept', 1, policy);
    assert.deepEqual(await streams(), new Map([['gone', 1], ['kept', 1]]), 'a stream with a message is never swept');
    const waitFor = async (check: (s: Map<string, number>) => boolean, what: string): Promise<Map<string, number>> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const s = await streams();
        if (check(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out: ${what} (${JSON.stringify([...s])})`);
        await sleep(100);
      }
    };
    await waitFor((s) => !s.has('gone'), 'the unlistened topic swept');
    // 'kept' is as old and as empty as 'gone' once its message expires: a topic emptied later
    // and swept proves that a sweep saw 'kept' eligible too, and kept it for its listener.
    await waitFor((s) => s.get('kept') === 0, "kept's message expired");
    await a.publish('later', 1, policy);
    await waitFor((s) => !s.has('later'), 'a topic emptied after kept swept');
    assert.equal((await streams()).get('kept'), 0, 'the listened topic is kept');
    await b.unlisten('kept');
    await waitFor((s) => !s.has('kept'), 'swept once its last listener left');
    // Published again: a new stream, from offset 1 under a new epoch.
    const first = await a.publish('gone', 2, policy);
    assert.equal(first.offset, 1);
  });

  test('bad options throw a TypeError naming them', () => {
    assert.throws(() => new NatsAdapter({ colour: 1 } as never), /unknown option colour/);
    assert.throws(() => new NatsAdapter({ prefix: 'a.b' }), /prefix/);
    assert.throws(() => new NatsAdapter({ storage: 'disk' as never }), /storage/);
    assert.throws(() => new NatsAdapter({ nodeTtl: 5 }), /nodeTtl/);
    assert.throws(() => new NatsAdapter({ sweepInterval: 50 }), /sweepInterval must be an integer >= 100/);
    assert.throws(() => new NatsAdapter({ connection: {} as never }), /connection must be a NatsConnection/);
    assert.throws(() => new NatsAdapter({ connect: 'x' as never }), /connect must be an object/);
  });
});
