// Scale-out figures (part of `npm run bench`, or `node bench/scale.mjs` after a build):
// fan-out through 1, 2 and 3 nodes (separate processes) on Redis and on NATS: S realtime
// subscribers (RealtimeClients in this process) spread over the nodes, node 1 publishes P
// messages with `rt.publish`, one at a time (each awaited before the next: one broker round
// trip per publication on the critical path) and with W in flight; deliveries/s counted at the
// subscribers. Prints a Markdown table. Loopback only; every process started here is stopped
// here by PID. `--subs N`, `--msgs N`, `--nodes 1,2,3`, `--inflight 1,16`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const SUBS = Number(arg('--subs', 1000));
const MSGS = Number(arg('--msgs', 50));
const NODES = arg('--nodes', '1,2,3').split(',').map(Number);
const INFLIGHT = arg('--inflight', '1,16').split(',').map(Number);
const { RealtimeClient } = await import(`${root}dist/src/realtime/index.js`);

const procs = new Set();
process.on('exit', () => procs.forEach((p) => p.kill('SIGKILL')));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function start(cmd, args, ready) {
  const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  procs.add(p);
  p.on('exit', () => procs.delete(p));
  let out = '';
  return new Promise((resolve, reject) => {
    const check = (d) => {
      out += d.toString();
      const m = ready(out);
      if (m) resolve({ p, m });
    };
    p.stdout.on('data', check);
    p.stderr.on('data', check);
    p.on('exit', (c) => reject(new Error(`${cmd} exited ${c}: ${out}`)));
    setTimeout(() => reject(new Error(`${cmd} not ready: ${out}`)), 15_000);
  });
}

async function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await Promise.race([new Promise((r) => p.once('exit', r)), sleep(3000).then(() => p.kill('SIGKILL'))]);
}

// One node: a RealtimeServer on the adapter named in argv, publishing on request over stdin.
const NODE_SCRIPT = `
import { RealtimeServer, RedisAdapter, NatsAdapter, MemoryAdapter } from ${JSON.stringify(`${root}dist/src/realtime/index.js`)};
const [kind, where, prefix] = process.argv.slice(1);
const adapter = kind === 'redis' ? new RedisAdapter({ port: Number(where), prefix }) : kind === 'nats' ? new NatsAdapter({ connect: { servers: where }, prefix, storage: 'memory' }) : new MemoryAdapter();
const rt = new RealtimeServer({ adapter, websocket: { heartbeatInterval: 0 } });
const { port } = await rt.listen(0, '127.0.0.1');
console.log('port ' + port);
// "<count> <in flight>": publishes count messages, keeping up to <in flight> unanswered.
process.stdin.on('data', async (d) => {
  const [n, window] = d.toString().trim().split(' ').map(Number);
  let sent = 0, answered = 0;
  await new Promise((resolve, reject) => {
    const pump = () => {
      while (sent < n && sent - answered < window) {
        rt.publish('fan', sent++).then(() => (++answered === n ? resolve() : pump()), reject);
      }
    };
    pump();
  });
  console.log('published ' + n);
});
`;

async function fanout(kind, nodes, where, inflight) {
  const prefix = `b${Date.now()}`;
  const servers = [];
  for (let i = 0; i < nodes; i++) {
    const { p, m } = await start(process.execPath, ['--input-type=module', '-e', NODE_SCRIPT, kind, String(where), prefix], (o) => o.match(/port (\d+)/));
    servers.push({ p, port: Number(m[1]) });
  }
  // Subscribers, spread round robin over the nodes.
  const clients = [];
  let delivered = 0;
  for (let i = 0; i < SUBS; i++) {
    const c = new RealtimeClient(`ws://127.0.0.1:${servers[i % nodes].port}/`, { reconnect: false });
    clients.push(c);
    c.subscribe('fan').on('message', () => delivered++);
  }
  await Promise.all(clients.map((c) => c.subscribe('fan').ready));
  const publisher = servers[0].p;
  const target = SUBS * MSGS;
  const t0 = performance.now();
  publisher.stdin.write(`${MSGS} ${inflight}\n`);
  const deadline = Date.now() + 120_000;
  while (delivered < target && Date.now() < deadline) await sleep(2);
  const ms = performance.now() - t0;
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => stop(s.p)));
  return { deliveries: delivered, rate: delivered / (ms / 1000), complete: delivered === target };
}

async function main() {
  const rows = [];
  const redisPort = await freePort();
  const redis = (await start('/usr/bin/redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], (o) => o.match(/Ready to accept/))).p;
  const natsPort = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'tether-bench-nats-'));
  const nats = (await start('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', store], (o) => o.match(/Server is ready/))).p;
  try {
    // In flight interleaved per configuration: the before/after of each row in the same minute.
    const row = async (label, kind, n, where) => rows.push([label, n, await (async () => {
      const out = [];
      for (const w of INFLIGHT) out.push(await fanout(kind, n, where, w));
      return out;
    })()]);
    await row('memory (one process)', 'memory', 1, '');
    for (const n of NODES) await row('redis', 'redis', n, redisPort);
    for (const n of NODES) await row('nats', 'nats', n, `nats://127.0.0.1:${natsPort}`);
  } finally {
    await stop(redis);
    await stop(nats);
    rmSync(store, { recursive: true, force: true });
  }
  console.log(`\nFan-out: ${SUBS} subscribers spread over the nodes, ${MSGS} publications from node 1 (subscribers in one client process); deliveries/s with 1 and with more publishes in flight\n`);
  console.log(`| adapter | nodes | ${INFLIGHT.map((w) => `${w} in flight`).join(' | ')} | complete |`);
  console.log(`| --- | ---: | ${INFLIGHT.map(() => '---:').join(' | ')} | --- |`);
  for (const [k, n, rs] of rows) {
    const incomplete = rs.filter((r) => !r.complete).map((r) => r.deliveries);
    console.log(`| ${k} | ${n} | ${rs.map((r) => Math.round(r.rate).toLocaleString('en')).join(' | ')} | ${incomplete.length === 0 ? 'yes' : `no (${incomplete.join(', ')})`} |`);
  }
}

await main();
process.exit(0);
