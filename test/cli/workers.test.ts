/**
 * `tether serve --realtime --workers 2`: real worker processes sharing one port; topics and
 * history shared through the primary; /metrics with one series per worker; workers killed
 * with SIGKILL one after the other are started again, and a subscriber ends with every
 * message exactly once, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RealtimeClient } from '../../src/realtime/index.js';
import { within } from '../helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('--workers 2: shared topics across workers, per-worker metrics, each worker SIGKILLed and restarted while a subscriber gets every message once, in order', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--realtime', '--workers', '2', '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const clients: RealtimeClient[] = [];
  const waitFor = async (pattern: RegExp, what: string): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = out.match(pattern);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`the hub exited (${child.exitCode}) before ${what}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`timed out: ${what}\n${out}`);
      await sleep(20);
    }
  };
  const pids = () => [...out.matchAll(/worker (\d+) \(pid (\d+)\) ready/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  try {
    const [, url] = await waitFor(/listening on (ws:\/\/127\.0\.0\.1:\d+\/) with 2 workers/, 'the hub to listen');
    await waitFor(/worker 2 \(pid \d+\) ready[\s\S]*|worker 1 \(pid \d+\) ready[\s\S]*worker 2/, 'both workers');
    await eventuallyAsync(async () => pids().length >= 2, 'both workers ready');
    const sub = new RealtimeClient(url!, { reconnect: { minDelay: 50, maxDelay: 300 }, requestTimeout: 10_000 });
    const pub = new RealtimeClient(url!, { reconnect: { minDelay: 50, maxDelay: 300 }, requestTimeout: 10_000 });
    clients.push(sub, pub);
    const s = sub.subscribe('feed');
    const got: number[] = [];
    s.on('message', (d) => got.push(d as number));
    await within(s.ready, 10_000, 'subscribed');
    await within(pub.publish('warm', 0), 10_000, 'publisher connected');

    // Both sessions are counted, one series per worker, on whichever worker answers /metrics.
    const base = url!.replace('ws://', 'http://');
    const metrics = await (await fetch(`${base}metrics`)).text();
    const sessions = [...metrics.matchAll(/^tether_sessions\{worker="(\d+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
    assert.equal(sessions.length, 2, `one series per worker:\n${metrics}`);
    assert.equal(sessions.reduce((n, [, v]) => n + v, 0), 2);
    assert.equal((await fetch(`${base}readyz`)).status, 200);

    let next = 0;
    const publish = async (n: number) => {
      for (const end = next + n; next < end; next++) {
        // A stalled publish says what the hub and its workers printed, for the next look at it.
        await within(pub.publish('feed', next), 20_000, `publish ${next}`).catch((err: Error) => {
          throw new Error(`${err.message} (subscriber has ${got.length}); the hub printed:\n${out}`, { cause: err });
        });
      }
    };
    await publish(20);
    for (const slot of [1, 2]) {
      const [, pid] = pids().filter(([s]) => s === slot).at(-1)!;
      const before = pids().length;
      process.kill(pid, 'SIGKILL');
      await publish(20);
      await eventuallyAsync(async () => pids().length > before, `worker ${slot} started again`);
    }
    await publish(20);
    await eventuallyAsync(async () => got.length >= next, `every message (have ${got.length} of ${next})`);
    await sleep(200);
    assert.deepEqual(got, Array.from({ length: next }, (_, i) => i), 'every message once, in order');
    assert.match(out, /worker 1 exited \(SIGKILL\); starting it again/);
    assert.match(out, /worker 2 exited \(SIGKILL\); starting it again/);

    child.kill('SIGTERM');
    assert.equal(await within(exited, 20_000, 'the hub to exit after draining'), 0);
  } finally {
    for (const c of clients) c.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const [, pid] of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
});

async function eventuallyAsync(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}
