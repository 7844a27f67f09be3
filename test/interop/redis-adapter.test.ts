/**
 * The Redis adapter against a real redis-server (Debian's; these tests fail, not skip, when it
 * is missing): nodes that share nothing but Redis, in this process and in another one.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RealtimeClient, RealtimeServer, RedisAdapter, type RealtimeClientOptions, type RealtimeServerOptions } from '../../src/realtime/index.js';
import { RespClient } from '../../src/realtime/adapters/resp-client.js';
import { freePort, within } from '../helpers.js';
import { balancer } from './tcp-balancer.js';
import { startRedis } from './redis-fixture.js';

const T = { timeout: 30_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

describe('Redis adapter', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const servers: RealtimeServer[] = [];
  const clients: RealtimeClient[] = [];
  const closers: Array<() => Promise<void>> = [];
  let prefixCount = 0;
  let prefix = '';

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 500 })));
    for (const close of closers.splice(0)) await close();
  });

  /** A node: its own RealtimeServer and its own Redis connections, sharing a per-test prefix. */
  async function node(options: RealtimeServerOptions = {}): Promise<{ rt: RealtimeServer; port: number; url: string }> {
    const rt = new RealtimeServer({
      adapter: new RedisAdapter({ port: redis.port, prefix, nodeTtl: 1000 }),
      authorize: { publish: () => true },
      ...options,
      websocket: { heartbeatInterval: 0, ...options.websocket },
    });
    servers.push(rt);
    const { port } = await rt.listen(0, '127.0.0.1');
    return { rt, port, url: `ws://127.0.0.1:${port}/` };
  }

  function client(url: string, options: RealtimeClientOptions = {}): RealtimeClient {
    const c = new RealtimeClient(url, { reconnect: { minDelay: 10, maxDelay: 50 }, requestTimeout: 5000, ...options });
    clients.push(c);
    return c;
  }

  afterEach(() => {
    prefix = `t${++prefixCount}-${process.pid}:`;
  });
  before(() => {
    prefix = `t0-${process.pid}:`;
  });

  for (const codec of ['json', 'msgpack'] as const) {
    test(`${codec}: publications cross nodes in order, with offsets; except-sender and direct messages too`, T, async () => {
      const a = await node();
      const b = await node();
      const sub = client(a.url, { codec }).subscribe('news');
      const got: Array<[unknown, number]> = [];
      sub.on('message', (d, m) => got.push([d, m.offset]));
      await within(sub.ready, 5000, 'subscribed on A');
      const publisher = client(b.url, { codec });
      const own: unknown[] = [];
      const ownSub = publisher.subscribe('news');
      ownSub.on('message', (d) => own.push(d));
      await within(ownSub.ready, 5000, 'subscribed on B');
      for (let i = 1; i <= 20; i++) await b.rt.publish('news', { i, bin: new Uint8Array([i, 255]) });
      await publisher.publish('news', 'not for me', { exceptSelf: true });
      await eventually(() => got.length === 21 && own.length === 20, 5000, `deliveries (A ${got.length}, B ${own.length})`);
      assert.deepEqual(got.map(([, o]) => o), Array.from({ length: 21 }, (_, k) => k + 1));
      assert.deepEqual(got[0]![0], { i: 1, bin: new Uint8Array([1, 255]) });
      assert.equal(got[20]![0], 'not for me');
      assert.ok(!own.includes('not for me'));

      const direct = new Promise((resolve) => publisher.on('direct', resolve));
      await a.rt.emitTo(publisher.sessionId, 'direct', { from: 'A' });
      assert.deepEqual(await within(direct, 5000, 'direct message across nodes'), { from: 'A' });
      const everyone: string[] = [];
      const listenerA = clients[0]!;
      listenerA.on('all', () => everyone.push('a'));
      publisher.on('all', () => everyone.push('b'));
      await a.rt.emitAll('all', null, { except: a.rt.sessions.get(listenerA.sessionId) });
      await eventually(() => everyone.length === 1, 5000, 'emitAll');
      await sleep(50);
      assert.deepEqual(everyone, ['b']);
    });
  }

  test('presence across nodes: join and leave reach the other node, and presence() lists both', T, async () => {
    const a = await node({ topics: () => ({ presence: true }) });
    const b = await node({ topics: () => ({ presence: true }) });
    const w = client(a.url);
    const watcher = w.subscribe('room', { info: { name: 'w' } });
    await within(watcher.ready, 5000, 'watcher');
    const joined = new Promise((r) => watcher.on('join', r));
    const other = client(b.url);
    const otherSub = other.subscribe('room', { info: { name: 'o' } });
    await within(otherSub.ready, 5000, 'other');
    assert.deepEqual(await within(joined, 5000, 'join across nodes'), { sessionId: other.sessionId, info: { name: 'o' } });
    assert.deepEqual(new Set((await a.rt.presence('room')).map((m) => m.sessionId)), new Set([w.sessionId, other.sessionId]));
    const left = new Promise((r) => watcher.on('leave', r));
    await otherSub.unsubscribe();
    assert.equal(((await within(left, 5000, 'leave across nodes')) as { sessionId: string }).sessionId, other.sessionId);
  });

  test('recovery across nodes: a client cut from node A reconnects to node B and gets exactly what it missed', T, async () => {
    const a = await node();
    const b = await node();
    let target = a.port;
    const lb = await balancer(() => target);
    closers.push(lb.close);
    const c = client(`ws://127.0.0.1:${lb.port}/`);
    const sub = c.subscribe('feed');
    const got: number[] = [];
    sub.on('message', (d) => got.push(d as number));
    const results: Array<{ resumed: boolean; recovered: boolean }> = [];
    sub.on('subscribed', (r) => results.push(r));
    await within(sub.ready, 5000, 'subscribed');
    const firstSession = c.sessionId;
    for (let i = 0; i < 10; i++) await a.rt.publish('feed', i);
    await eventually(() => got.length === 10, 5000, 'first ten');
    target = b.port;
    lb.cutAll();
    for (let i = 10; i < 30; i++) await a.rt.publish('feed', i);
    await eventually(() => got.length === 30, 10_000, `all thirty (have ${got.length})`);
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
    assert.ok(b.rt.sessions.has(c.sessionId) && c.sessionId !== firstSession, 'the client is now on node B');
    const last = results.at(-1)!;
    assert.equal(last.resumed, true);
    assert.equal(last.recovered, true);
  });

  test('history too short across nodes: recovery is refused plainly', T, async () => {
    const a = await node({ topics: () => ({ historySize: 3 }) });
    const b = await node({ topics: () => ({ historySize: 3 }) });
    let target = a.port;
    const lb = await balancer(() => target);
    closers.push(lb.close);
    const c = client(`ws://127.0.0.1:${lb.port}/`);
    const sub = c.subscribe('short');
    await within(sub.ready, 5000, 'subscribed');
    const unrecoverable = new Promise((r) => sub.on('unrecoverable', r));
    await a.rt.publish('short', 'x'); // Delivered live, then the connection is cut.
    await sleep(50);
    // Nowhere to reconnect to until the ten messages are published (a closed port refuses).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    target = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    lb.cutAll();
    for (let i = 0; i < 10; i++) await a.rt.publish('short', i);
    target = b.port;
    const r = (await within(unrecoverable, 10_000, 'unrecoverable')) as { recovered: boolean; offset: number };
    assert.equal(r.recovered, false);
    assert.equal(r.offset, 11);
  });

  test('history { last }: the latest publications still in history, in order, from any node', T, async () => {
    const a = await node({ topics: () => ({ historySize: 5 }) });
    const b = await node({ topics: () => ({ historySize: 5 }) });
    assert.deepEqual((await b.rt.history('room', { last: 3 })).publications, []);
    for (let i = 1; i <= 8; i++) await a.rt.publish('room', `m${i}`);
    const h = await b.rt.history('room', { last: 3 });
    assert.equal(h.offset, 8);
    assert.deepEqual(h.publications.map((p) => [p.offset, p.data]), [[6, 'm6'], [7, 'm7'], [8, 'm8']]);
    // More than history holds: what it holds (5).
    assert.deepEqual((await b.rt.history('room', { last: 50 })).publications.map((p) => p.offset), [4, 5, 6, 7, 8]);
    assert.deepEqual((await b.rt.history('room', { last: 0 })).publications, []);
  });

  test('chaos across two nodes: 2,000 messages, 20 subscribers cut at random and reconnected to either node: each gets every message once, in order', { timeout: 60_000 }, async () => {
    const nodes = [await node({ topics: () => ({ historySize: 5000 }) }), await node({ topics: () => ({ historySize: 5000 }) })];
    let flip = 0;
    const lb = await balancer(() => nodes[flip++ % 2]!.port);
    closers.push(lb.close);
    const N = 2000;
    let drops = 0;
    const subs = Array.from({ length: 20 }, () => {
      const c = client(`ws://127.0.0.1:${lb.port}/`, { codec: flip % 2 ? 'json' : 'msgpack' });
      c.onState((st) => void (st.state === 'disconnected' && drops++));
      const got: number[] = [];
      const s = c.subscribe('chaos');
      s.on('message', (d) => got.push(d as number));
      return { c, s, got };
    });
    await Promise.all(subs.map((x) => within(x.s.ready, 10_000, 'subscribed')));
    let cuts = 0;
    let publishing = true;
    // Cuts go on until publishing is over and at least 40 happened (a fast machine publishes
    // quickly; cuts after the last publish still have to be recovered from).
    const cutter = (async () => {
      while (publishing || cuts < 40) {
        await sleep(10 + Math.random() * 20);
        const all = [...nodes[0]!.rt.sessions.values(), ...nodes[1]!.rt.sessions.values()];
        const victim = all[Math.floor(Math.random() * all.length)];
        if (victim) {
          victim.socket.terminate();
          cuts++;
        }
      }
    })();
    for (let i = 0; i < N; i++) {
      await nodes[i % 2]!.rt.publish('chaos', i);
      if (i % 20 === 19) await sleep(1);
    }
    publishing = false;
    await cutter;
    await eventually(() => subs.every((x) => x.got.length >= N), 30_000, `every subscriber complete (${subs.map((x) => x.got.length).join(',')})`);
    const expected = Array.from({ length: N }, (_, i) => i);
    for (const x of subs) assert.deepEqual(x.got, expected);
    assert.ok(drops >= 30, `the clients saw only ${drops} disconnections (${cuts} cuts)`);
  });

  test('a node in another process: its publications reach this one; when it is killed, its presence members leave', T, async () => {
    const here = await node({ topics: () => ({ presence: true }) });
    const entry = fileURLToPath(new URL('../../src/realtime/index.js', import.meta.url));
    const script = `
      import { RealtimeServer, RedisAdapter, RealtimeClient } from ${JSON.stringify(entry)};
      const rt = new RealtimeServer({ adapter: new RedisAdapter({ port: ${redis.port}, prefix: ${JSON.stringify(prefix)}, nodeTtl: 1000 }), topics: () => ({ presence: true }), websocket: { heartbeatInterval: 0 } });
      const { port } = await rt.listen(0, '127.0.0.1');
      const c = new RealtimeClient('ws://127.0.0.1:' + port + '/');
      await c.subscribe('room', { info: { name: 'remote' } }).ready;
      console.log('ready ' + c.sessionId);
      process.stdin.on('data', async () => { for (let i = 0; i < 100; i++) await rt.publish('room', i); console.log('published'); });
    `;
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    closers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => /ready \S+/.test(out), 10_000, 'child node ready');
    const remoteId = /ready (\S+)/.exec(out)![1]!;

    const c = client(here.url);
    const sub = c.subscribe('room', { info: { name: 'local' } });
    const got: number[] = [];
    sub.on('message', (d) => got.push(d as number));
    await within(sub.ready, 5000, 'local subscriber');
    assert.ok(sub.members.has(remoteId), 'the remote member is listed');
    child.stdin!.write('go\n');
    await eventually(() => got.length === 100, 10_000, `publications from the other process (${got.length})`);
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));

    const left = new Promise((r) => sub.on('leave', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The dead node's liveness key expires after nodeTtl (1 s); reading presence then drops its member.
    await sleep(1300);
    const members = await here.rt.presence('room');
    assert.deepEqual(members.map((m) => m.sessionId), [c.sessionId]);
    assert.equal(((await within(left, 5000, 'leave of the dead member')) as { sessionId: string }).sessionId, remoteId);
  });

  test('a node whose Redis connections are killed reconnects and delivers what was published meanwhile, once, in order', T, async () => {
    const a = await node({ topics: () => ({ presence: true }) });
    const b = await node({ topics: () => ({ presence: true }) });
    const c = client(a.url);
    const sub = c.subscribe('live', { info: 'on-a' });
    const got: number[] = [];
    sub.on('message', (d) => got.push(d as number));
    await within(sub.ready, 5000, 'subscribed on A');
    const admin = await RespClient.connect({ port: redis.port });
    closers.push(() => admin.close());
    const nodeId = (a.rt.link as unknown as { nodeId: string }).nodeId;
    const kill = async (): Promise<number> => {
      const list = ((await admin.command(['CLIENT', 'LIST'])) as Buffer).toString();
      const addrs = list.split('\n').filter((l) => l.includes(`name=${prefix}node-${nodeId}`)).map((l) => /addr=(\S+)/.exec(l)![1]!);
      // Killing one makes the node drop the other itself: it may be gone by the second KILL.
      for (const addr of addrs) await admin.command(['CLIENT', 'KILL', addr]).catch(() => {});
      return addrs.length;
    };
    const N = 600;
    let killed = 0;
    for (let i = 0; i < N; i++) {
      await b.rt.publish('live', i);
      if (i === 150 || i === 400) killed += await kill();
      if (i % 10 === 9) await sleep(2);
    }
    assert.equal(killed, 4, 'node A had its two named connections both times');
    await eventually(() => got.length === N, 15_000, `all messages on A (${got.length})`);
    // The last ones are published while A is away and nothing follows them: no client could
    // notice a gap, so only A's catch-up from history after reconnecting delivers them.
    await kill();
    for (let i = N; i < N + 5; i++) await b.rt.publish('live', i);
    await eventually(() => got.length === N + 5, 15_000, `the messages published while A was away (${got.length})`);
    assert.deepEqual(got, Array.from({ length: N + 5 }, (_, i) => i));
    // Its presence member is still known after the reconnections, on both nodes.
    assert.deepEqual((await b.rt.presence('live')).map((m) => m.info), ['on-a']);
  });

  test('Redis restarted without its data: nodes reconnect, subscribers are told the stream restarted and continue in the new epoch', T, async () => {
    // A Redis of its own, restarted on the same port in the middle of the test.
    let own = await startRedis();
    closers.push(() => own.stop());
    const at = (port: number) => new RealtimeServer({ adapter: new RedisAdapter({ port, prefix, nodeTtl: 1000 }), websocket: { heartbeatInterval: 0 } });
    const a = at(own.port);
    const b = at(own.port);
    servers.push(a, b);
    const { port } = await a.listen(0, '127.0.0.1');
    const c = client(`ws://127.0.0.1:${port}/`);
    const sub = c.subscribe('r');
    const got: Array<[unknown, number]> = [];
    sub.on('message', (d, m) => got.push([d, m.offset]));
    const lost = new Promise<{ recovered: boolean; epoch: string }>((r) => sub.on('unrecoverable', r));
    await within(sub.ready, 5000, 'subscribed');
    for (let i = 0; i < 5; i++) await b.publish('r', `before ${i}`);
    await eventually(() => got.length === 5, 5000, 'before the restart');
    const oldEpoch = sub.epoch;
    await own.stop();
    own = await startRedis(own.port);
    // Publishing waits for b to reconnect; the new stream starts again at offset 1.
    for (let i = 0; i < 3; i++) await within(b.publish('r', `after ${i}`), 10_000, 'publish after the restart');
    const notice = await within(lost, 10_000, 'restart notice');
    assert.equal(notice.recovered, false);
    assert.notEqual(notice.epoch, oldEpoch);
    await eventually(() => got.length === 8, 10_000, `after the restart (${got.length})`);
    assert.deepEqual(got.slice(5), [['after 0', 1], ['after 1', 2], ['after 2', 3]]);
    assert.equal(sub.epoch, notice.epoch);
  });

  test('idempotency keys across nodes: a publish repeated on another node publishes nothing and answers the first offset', T, async () => {
    const a = await node();
    const b = await node({ topics: () => ({ idempotencyWindow: 300 }) });
    const c = client(a.url);
    const sub = c.subscribe('once');
    const got: unknown[] = [];
    sub.on('message', (d) => got.push(d));
    await within(sub.ready, 5000, 'subscribed');
    const first = await a.rt.publish('once', 'x', { idempotencyKey: 'k' });
    const again = await b.rt.publish('once', 'x', { idempotencyKey: 'k' });
    const other = await b.rt.publish('once', 'y', { idempotencyKey: 'k2' });
    assert.deepEqual([first.offset, first.duplicate, again.offset, again.duplicate, again.epoch], [1, false, 1, true, first.epoch]);
    assert.deepEqual([other.offset, other.duplicate], [2, false]);
    // b's window for this topic is 300 ms: after it the key publishes again.
    await sleep(400);
    const later = await b.rt.publish('once', 'z', { idempotencyKey: 'k2' });
    assert.deepEqual([later.offset, later.duplicate], [3, false]);
    await eventually(() => got.length === 3, 5000, `deliveries (${got.length})`);
    await sleep(50);
    assert.deepEqual(got, ['x', 'y', 'z']);
  });

  test('history rules: recovered only with since honoured; otherwise everything history still holds of the current epoch', T, async () => {
    const a = await node({ topics: () => ({ historySize: 3 }) });
    for (let i = 1; i <= 6; i++) await a.rt.publish('h', i);
    const head = await a.rt.history('h');
    assert.deepEqual([head.offset, head.recovered, head.publications.length], [6, false, 0]);
    const e = head.epoch;
    const offsets = (r: { publications: Array<{ offset: number }> }) => r.publications.map((p) => p.offset);
    const within3 = await a.rt.history('h', { epoch: e, offset: 4 });
    assert.deepEqual([within3.recovered, offsets(within3)], [true, [5, 6]]);
    const atHead = await a.rt.history('h', { epoch: e, offset: 6 });
    assert.deepEqual([atHead.recovered, offsets(atHead)], [true, []]);
    for (const since of [{ epoch: e, offset: 1 }, { epoch: e, offset: 10 }, { epoch: 'another', offset: 2 }]) {
      const r = await a.rt.history('h', since);
      assert.deepEqual([r.recovered, offsets(r)], [false, [4, 5, 6]], JSON.stringify(since));
    }
  });

  test('a topic nobody publishes to keeps its epoch while it has subscribers, beyond the adapter\'s metaTtl', T, async () => {
    const short = { topics: () => ({ historyTtl: 100, idempotencyWindow: 100 }) };
    const rt = new RealtimeServer({ adapter: new RedisAdapter({ port: redis.port, prefix, nodeTtl: 1000, metaTtl: 1000 }), websocket: { heartbeatInterval: 0 }, ...short });
    servers.push(rt);
    const { port } = await rt.listen(0, '127.0.0.1');
    const c = client(`ws://127.0.0.1:${port}/`);
    const sub = c.subscribe('quiet');
    await within(sub.ready, 5000, 'subscribed');
    const epoch = sub.epoch;
    await sleep(1600); // Longer than metaTtl: the node keeps the topic's meta alive meanwhile.
    const r = await rt.history('quiet', { epoch: epoch!, offset: 0 });
    assert.equal(r.epoch, epoch);
    assert.equal(r.recovered, true);
  });

  test('close() releases every Redis connection, even right after construction: the process exits by itself (issue 12, broken 3)', T, async () => {
    const entry = fileURLToPath(new URL('../../src/realtime/index.js', import.meta.url));
    // Closed at once (still connecting), once connected, and with nobody listening on the port.
    const script = `
      import { RealtimeServer, RedisAdapter } from ${JSON.stringify(entry)};
      const adapter = (port) => new RedisAdapter({ port, prefix: ${JSON.stringify(prefix)} });
      const early = new RealtimeServer({ adapter: adapter(${redis.port}) });
      await early.close();
      const later = new RealtimeServer({ adapter: adapter(${redis.port}) });
      await later.listen(0, '127.0.0.1');
      await later.presence('warm-up');
      await later.close();
      const nowhere = new RealtimeServer({ adapter: adapter(${await freePort()}) });
      await nowhere.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    closers.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const code = await within(exited, 15_000, 'the process to exit after close() (something it opened is still open)');
    assert.equal(code, 0);
    assert.equal(out.trim(), 'closed');
    // Redis saw every connection of these nodes go.
    const admin = await RespClient.connect({ port: redis.port });
    closers.push(() => admin.close());
    const list = String(await admin.command(['CLIENT', 'LIST']));
    assert.ok(!list.includes(`name=${prefix}node-`), `connections left:\n${list}`);
  });

  test('bad options throw a TypeError naming them', () => {
    assert.throws(() => new RedisAdapter({ port: 0 }), /port/);
    assert.throws(() => new RedisAdapter({ nodeTtl: 5 }), /nodeTtl/);
    assert.throws(() => new RedisAdapter({ bogus: 1 } as never), /unknown option bogus/);
  });
});
