// Scale-out figures (part of `npm run bench`, or `node bench/scale.mjs` after a build):
// fan-out through 1, 2 and 3 nodes (separate processes) on Redis and on NATS: S realtime
// subscribers spread over the nodes, node 1 publishes P messages, deliveries/s counted at the
// subscribers; and the realtime echo request with the Prometheus metrics on and off (a scrape
// each 100 ms) is not measured yet. Prints a Markdown table. Loopback only; every process started here is stopped
// here by PID. `--subs N`, `--msgs N`, `--nodes 1,2,3`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const SUBS = Number(arg('--subs', 2000));
const MSGS = Number(arg('--msgs', 200));
const NODES = arg('--nodes', '1,2,3').split(',').map(Number);
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
process.stdin.on('data', async (d) => {
  const n = Number(d.toString().trim());
  for (let i = 0; i < n; i++) await rt.publish('fan', i);
  console.log('published ' + n);
});
`;

async function fanout(kind, nodes, where) {
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
  publisher.stdin.write(`${MSGS}\n`);
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
    rows.push(['memory (one process)', 1, await fanout('memory', 1, '')]);
    for (const n of NODES) rows.push(['redis', n, await fanout('redis', n, redisPort)]);
    for (const n of NODES) rows.push(['nats', n, await fanout('nats', n, `nats://127.0.0.1:${natsPort}`)]);
  } finally {
    await stop(redis);
    await stop(nats);
    rmSync(store, { recursive: true, force: true });
  }
  console.log(`\nFan-out: ${SUBS} subscribers spread over the nodes, ${MSGS} publications from node 1 (subscribers in one client process)\n`);
  console.log('| adapter | nodes | deliveries/s | complete |');
  console.log('| --- | ---: | ---: | --- |');
  for (const [k, n, r] of rows) console.log(`| ${k} | ${n} | ${Math.round(r.rate).toLocaleString('en')} | ${r.complete ? 'yes' : `no (${r.deliveries})`} |`);
}

await main();
process.exit(0);
