/**
 * Failures with real processes, on Redis and on NATS: three nodes in three processes, a
 * publisher on A, subscribers reaching B and C through a round-robin TCP proxy; B is killed
 * with SIGKILL mid-stream and its clients move to C; every subscriber ends with every message
 * exactly once, in order. And the broker paused with SIGSTOP for 5 s while publishing: each
 * publish either succeeds (after the pause) or fails with an error to the publisher, and
 * nothing is delivered twice.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RealtimeClient } from '../../src/realtime/index.js';
import { within } from '../helpers.js';
import { balancer } from './tcp-balancer.js';
import { startNats } from './nats-fixture.js';
import { startRedis } from './redis-fixture.js';

const ENTRY = fileURLToPath(new URL('../../src/realtime/index.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

const children = new Set<ChildProcess>();
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** A RealtimeServer in its own process on the given adapter; resolves with its port. */
async function nodeProcess(adapter: string): Promise<{ child: ChildProcess; port: number }> {
  const script = `
    import { RealtimeServer, RedisAdapter, NatsAdapter } from ${JSON.stringify(ENTRY)};
    const rt = new RealtimeServer({ adapter: ${adapter}, authorize: { publish: () => true }, websocket: { heartbeatInterval: 0 } });
    const { port } = await rt.listen(0, '127.0.0.1');
    console.log('port ' + port);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await within(new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`node exited (${code}): ${out}`)));
  }), 15_000, 'node process ready');
  return { child, port };
}

const brokers = {
  redis: async () => {
    const r = await startRedis();
    return { adapter: (prefix: string) => `new RedisAdapter({ port: ${r.port}, prefix: '${prefix}:' })`, pause: (on: boolean) => process.kill(r.pid, on ? 'SIGSTOP' : 'SIGCONT'), stop: () => r.stop() };
  },
  nats: async () => {
    const n = await startNats();
    return { adapter: (prefix: string) => `new NatsAdapter({ connect: { servers: '${n.url}', reconnectTimeWait: 100 }, prefix: '${prefix}', storage: 'memory', publishTimeout: 3000 })`, pause: (on: boolean) => (on ? n.pause() : n.resume()), stop: () => n.stop() };
  },
};

for (const [name, start] of Object.entries(brokers)) {
  describe(`failover on ${name}`, { timeout: 60_000 }, () => {
    test('three node processes; node B SIGKILLed mid-stream; its subscribers move to C through the proxy and get every message once, in order', async () => {
      const broker = await start();
      const clients: RealtimeClient[] = [];
      try {
        const prefix = `f${process.pid}`;
        const [a, b, c] = await Promise.all([0, 1, 2].map(() => nodeProcess(broker.adapter(prefix))));
        let bAlive = true;
        let turn = 0;
        const lb = await balancer(() => (bAlive && turn++ % 2 === 0 ? b!.port : c!.port));
        const N = 60;
        const gots: number[][] = [];
        for (let i = 0; i < 6; i++) {
          const cl = new RealtimeClient(`ws://127.0.0.1:${lb.port}/`, { reconnect: { minDelay: 50, maxDelay: 300 }, requestTimeout: 10_000 });
          clients.push(cl);
          const got: number[] = [];
          gots.push(got);
          const sub = cl.subscribe('stream');
          sub.on('message', (d) => got.push(d as number));
          await within(sub.ready, 10_000, 'subscribed');
        }
        const pub = new RealtimeClient(`ws://127.0.0.1:${a!.port}/`, { requestTimeout: 10_000 });
        clients.push(pub);
        for (let i = 0; i < N; i++) {
          if (i === N / 3) {
            bAlive = false;
            b!.child.kill('SIGKILL');
          }
          await within(pub.publish('stream', i), 15_000, `publish ${i}`);
        }
        await eventually(() => gots.every((g) => g.length >= N), 20_000, `every subscriber has all ${N} (${gots.map((g) => g.length)})`);
        await sleep(200);
        for (const g of gots) assert.deepEqual(g, Array.from({ length: N }, (_, i) => i));
        await lb.close();
        for (const n of [a!, c!]) n.child.kill('SIGTERM');
      } finally {
        for (const cl of clients) cl.close();
        await broker.stop();
      }
    });

    test('the broker paused (SIGSTOP) for 5 s while publishing: each publish succeeds after the pause or fails with an error; nothing is delivered twice', async () => {
      const broker = await start();
      const clients: RealtimeClient[] = [];
      try {
        const prefix = `p${process.pid}`;
        const [a, c] = await Promise.all([0, 1].map(() => nodeProcess(broker.adapter(prefix))));
        const sub = new RealtimeClient(`ws://127.0.0.1:${c!.port}/`, { requestTimeout: 20_000 });
        const pub = new RealtimeClient(`ws://127.0.0.1:${a!.port}/`, { requestTimeout: 20_000 });
        clients.push(sub, pub);
        const got: string[] = [];
        const s = sub.subscribe('p');
        s.on('message', (d) => got.push(d as string));
        await within(s.ready, 10_000, 'subscribed');
        await within(pub.publish('p', 'before'), 10_000, 'first publish');
        broker.pause(true);
        const outcomes = Array.from({ length: 5 }, (_, i) => pub.publish('p', `during ${i}`).then(() => 'ok', (err: Error) => `error: ${err.message}`));
        await sleep(5000);
        broker.pause(false);
        const results = await within(Promise.all(outcomes), 30_000, 'publishes settle');
        await within(pub.publish('p', 'after'), 15_000, 'publish after the pause');
        await eventually(() => got.includes('after'), 15_000, 'the publication after the pause');
        await sleep(300);
        assert.equal(new Set(got).size, got.length, `nothing twice: ${got}`);
        for (let i = 0; i < 5; i++) {
          if (results[i] === 'ok') assert.ok(got.includes(`during ${i}`), `publish ${i} succeeded, so it was delivered`);
          else assert.match(results[i]!, /^error: .+/, 'a failure reaches the publisher with a message');
        }
        assert.equal(got[0], 'before');
        assert.equal(got.at(-1), 'after');
        for (const n of [a!, c!]) n.child.kill('SIGTERM');
      } finally {
        broker.pause(false);
        for (const cl of clients) cl.close();
        await broker.stop();
      }
    });
  });
}
