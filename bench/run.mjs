// `npm run bench`: runs each server under test pinned to CPU 0 and the native load generator
// pinned to CPU 1, interleaving peers (A B C A B C ...), and writes docs/benchmarks.md and
// docs/benchmarks.svg. `--quick` for a short development run; `--only <substring>` to pick
// scenarios, `--peers a,b` peers, `--reps N` repetitions, `--baseline DIR` another build to
// compare with (see below); any of these prints the results instead of writing the report.
// Loopback only; every process started here is stopped here, by PID (including the
// redis-server of the Redis scenario, started on a free port without persistence).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, constants as zc } from 'node:zlib';
import { writeReport } from './render.mjs';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}bench/out/`;
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
const reps = argv.includes('--reps') ? Number(argv[argv.indexOf('--reps') + 1]) : quick ? 1 : 3;
// --peers a,b: only these peers (a development run; the report is written only by a full run).
const onlyPeers = argv.includes('--peers') ? argv[argv.indexOf('--peers') + 1].split(',') : null;
// --baseline DIR: also run Tether from another built checkout (DIR/dist, DIR/bench/servers) as
// the peer 'tether baseline' (and 'tether-realtime baseline'), in the echo (plain and
// compressed), broadcast, realtime publish, handshake and idle-memory scenarios: before/after in the same run.
const baseline = argv.includes('--baseline') ? argv[argv.indexOf('--baseline') + 1] : null;
if (baseline && !existsSync(`${baseline}/dist/src/index.js`)) throw new Error(`--baseline ${baseline}: no dist/src/index.js there (build it first)`);
const seconds = quick ? 1 : 2;

mkdirSync(out, { recursive: true });
const loadgen = `${out}loadgen`;
if (!existsSync(loadgen) || statSync(loadgen).mtimeMs < statSync(`${root}bench/loadgen.c`).mtimeMs) {
  const r = spawnSync('cc', ['-O2', '-o', loadgen, `${root}bench/loadgen.c`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not build the load generator (cc)');
}
if (!existsSync(`${root}dist/src/index.js`)) throw new Error('build first: npm run build');

// The peers (ws, uWebSockets.js, Bun, socket.io) are the benchmark's own dependencies
// (bench/package.json), installed here on first use and again when their list changes, so
// that the project's install does not fetch them.
const peersDir = `${root}bench/`;
const peersStamp = `${peersDir}node_modules/.installed-lock-sha256`;
const peersLock = createHash('sha256').update(readFileSync(`${peersDir}package-lock.json`)).digest('hex');
if (!existsSync(peersStamp) || readFileSync(peersStamp, 'utf8') !== peersLock) {
  console.error('bench: installing the peers (bench/package.json) with npm ci, once');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peersDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not install the benchmark peers (npm ci in bench/)');
  writeFileSync(peersStamp, peersLock);
}

const node = process.execPath;
const bun = `${peersDir}node_modules/.bin/bun`;
const PEERS = {
  tether: { cmd: [node, 'bench/servers/tether.mjs'] },
  // bufferutil is a devDependency, so the 'tether' row unmasks large payloads natively; this row
  // is the same server on the JavaScript loop (what an install without bufferutil runs).
  'tether (no bufferutil)': { cmd: [node, 'bench/servers/tether.mjs'], env: { TETHER_NO_BUFFERUTIL: '1' } },
  'ws+addons': { cmd: [node, 'bench/servers/ws.mjs'] },
  // The same program as ws.mjs with its import changed to tether-ws/ws (the ws-compatible API).
  'tether/ws': { cmd: [node, 'bench/servers/tether-ws.mjs'] },
  ws: { cmd: [node, 'bench/servers/ws.mjs'], env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' } },
  uws: { cmd: [node, 'bench/servers/uws.mjs'] },
  bun: { cmd: [bun, 'bench/servers/bun.mjs'] },
  'socket.io': { cmd: [node, 'bench/servers/socketio.mjs'], socketio: true },
  'tether-realtime': { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json' },
  'tether-realtime msgpack': { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'msgpack' },
  // Fan-out through several nodes sharing one broker: the publisher on node A, the subscribers
  // spread over every node (spread: loadgen --ports), so most deliveries cross the broker.
  ...Object.fromEntries([2, 3].flatMap((n) => [
    [`tether-realtime redis ${n} nodes`, { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', nodes: n, redis: true, spread: true }],
    [`tether-realtime redis ${n} nodes (ioredis)`, { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', nodes: n, redis: true, spread: true, env: { TETHER_BENCH_REDIS_CLIENT: 'ioredis' } }],
    [`tether-realtime redis ${n} nodes (node-redis)`, { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', nodes: n, redis: true, spread: true, env: { TETHER_BENCH_REDIS_CLIENT: 'node-redis' } }],
    [`tether-realtime nats ${n} nodes`, { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', nodes: n, nats: true, spread: true }],
    [`socket.io redis ${n} nodes`, { cmd: [node, 'bench/servers/socketio-redis.mjs'], socketio: true, nodes: n, redis: true, spread: true }],
  ])),
  // --workers 2: node:cluster workers sharing the port through the primary (ClusterHub), the
  // server's processes free to use both cores (the load generator stays pinned to CPU 1).
  'tether-realtime 2 workers': { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', cpus: '0,1', env: { TETHER_BENCH_WORKERS: '2' } },
  // A Metrics instance (event-loop monitor) and /metrics scraped once a second during the run.
  'tether-realtime metrics': { cmd: [node, 'bench/servers/tether-realtime.mjs'], realtime: 'json', env: { TETHER_BENCH_METRICS: '1' }, scrape: true },
  'net floor': { cmd: [node, 'bench/servers/net.mjs'], raw: true },
  ...(baseline ? {
    'tether baseline': { cmd: [node, `${baseline}/bench/servers/tether.mjs`] },
    'tether-realtime baseline': { cmd: [node, `${baseline}/bench/servers/tether-realtime.mjs`], realtime: 'json' },
  } : {}),
};
const REDIS_SERVER = '/usr/bin/redis-server';
const NATS_SERVER = '/usr/sbin/nats-server';
const available = (name) => (name === 'bun' ? existsSync(bun) : PEERS[name].redis ? existsSync(REDIS_SERVER) : PEERS[name].nats ? existsSync(NATS_SERVER) : true);

// A 200-byte JSON-like message, compressed once here (no context takeover) and framed with RSV1.
function deflateFrame() {
  const json = Buffer.from(JSON.stringify({ type: 'quote', symbol: 'TETH', bid: 101.25, ask: 101.27, volume: 123456, venue: 'XNAS', ts: 1764000000000, note: 'json-like payload for the compressed echo benchmark' }).padEnd(200, ' '));
  const deflated = deflateRawSync(json, { finishFlush: zc.Z_SYNC_FLUSH, level: 6 });
  const payload = deflated.subarray(0, deflated.length - 4);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  const header = payload.length < 126 ? Buffer.from([0xc1, 0x80 | payload.length]) : Buffer.from([0xc1, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const frame = Buffer.concat([header, key, masked]);
  writeFileSync(`${out}deflate-frame.bin`, frame);
  return `${out}deflate-frame.bin`;
}

const echoPeers = ['tether', ...(baseline ? ['tether baseline'] : []), 'tether/ws', 'ws+addons', 'ws', 'uws', 'bun', 'net floor'];
const SCENARIOS = [];
for (const size of quick ? [16, 65536] : [16, 1024, 65536]) {
  for (const depth of quick ? [16] : [1, 4, 16]) {
    const peers = size >= 1024 ? ['tether', 'tether (no bufferutil)', ...echoPeers.slice(1)] : echoPeers;
    SCENARIOS.push({ id: `echo ${size < 1024 ? size + ' B' : size / 1024 + ' KiB'} depth ${depth}`, kind: 'echo', unit: 'msg/s', peers, args: ['echo', '--conns', '100', '--size', String(size), '--depth', String(depth), '--binary'] });
  }
}
for (const subs of [1000, 10000]) {
  SCENARIOS.push({ id: `broadcast to ${subs}`, kind: 'broadcast', unit: 'deliveries/s', peers: ['tether', ...(baseline ? ['tether baseline'] : []), 'tether/ws', 'ws+addons', 'uws', 'bun', 'socket.io'], args: ['broadcast', '--subs', String(subs), '--size', '64', '--window', '8'] });
}
// The realtime layer (sessions, a topic with history, publishes acknowledged to the publisher)
// against socket.io's io.to(room).emit; raw Tether broadcast for reference. Ratios: × socket.io.
for (const [label, subs] of [['1k', 1000], ['10k', 10000]]) {
  SCENARIOS.push({ id: `realtime publish ${label}`, kind: 'broadcast', unit: 'deliveries/s', baseline: 'socket.io', peers: ['tether-realtime', ...(baseline ? ['tether-realtime baseline'] : []), 'tether-realtime msgpack', 'socket.io', 'tether'], args: ['broadcast', '--subs', String(subs), '--size', '64', '--window', '8'] });
}
// Scale-out (issue 13): fan-out to 10,000 subscribers spread over 2 and 3 nodes sharing one
// Redis or one NATS, against socket.io's cluster on @socket.io/redis-adapter and the same Redis.
const brokerNote = 'The publisher is connected to node A; the subscribers are spread over every node (the first, whose receipts pace the publisher\'s window, on the last node), so most deliveries cross the broker. Every node and the broker (redis-server without persistence, or nats-server -js with the topic streams in memory) pinned to CPU 0, the load generator to CPU 1. Tether nodes use RedisAdapter (built-in client unless named) or NatsAdapter; socket.io nodes use @socket.io/redis-adapter with node-redis clients on the same redis-server.';
for (const n of [2, 3]) {
  SCENARIOS.push({
    id: `fan-out 10k through ${n} nodes`, kind: 'broadcast', unit: 'deliveries/s', baseline: `socket.io redis ${n} nodes`,
    peers: [`tether-realtime redis ${n} nodes`, ...(n === 2 ? [`tether-realtime redis ${n} nodes (ioredis)`] : []), `tether-realtime nats ${n} nodes`, `socket.io redis ${n} nodes`],
    args: ['broadcast', '--subs', '10000', '--size', '64', '--window', '8'], note: brokerNote,
    // Setting up 10,000 sessions over brokers on one core takes most of a run: two repetitions.
    maxReps: 2,
  });
}
// Publish throughput through Redis: one subscriber on node B, 64 publications in flight from
// node A, so the broker round trip and the client library are what is measured.
SCENARIOS.push({
  id: 'publish via Redis (2 nodes, 1 subscriber)', kind: 'broadcast', unit: 'msg/s', baseline: 'tether-realtime redis 2 nodes (ioredis)',
  peers: ['tether-realtime redis 2 nodes', 'tether-realtime redis 2 nodes (ioredis)', 'tether-realtime redis 2 nodes (node-redis)'],
  args: ['broadcast', '--subs', '1', '--size', '64', '--window', '64'],
  note: 'The built-in RESP client against an ioredis and a node-redis client passed as `client`: every publication is one EVALSHA round trip from node A and one pub/sub message to node B. Publications per second.',
});
// --workers 2 against one process, and the cost of metrics: realtime requests (method "echo",
// 16 bytes, 16 in flight on each of 100 sessions) and fan-out to 10,000 subscribers.
SCENARIOS.push({
  id: 'realtime echo 16 B depth 16', kind: 'echo', unit: 'msg/s', baseline: 'tether-realtime',
  peers: ['tether-realtime', 'tether-realtime metrics', 'tether-realtime 2 workers'],
  args: ['echo', '--realtime', '--conns', '100', '--size', '16', '--depth', '16'],
  note: 'Each session sends requests `[6, id, "echo", data]` and the server replies with the data. tether-realtime: one process pinned to CPU 0. tether-realtime metrics: the same with a `Metrics` instance (event-loop delay monitor) and /metrics scraped once a second during the run (the per-message counters behind stats() are kept in every configuration). tether-realtime 2 workers: what `tether serve --realtime --workers 2` runs (node:cluster, ClusterHub in the primary, ClusterAdapter in each worker), its processes allowed on both cores while the load generator keeps CPU 1: the second core is shared with the load generator.',
});
SCENARIOS.push({
  id: 'realtime publish 10k, 2 workers', kind: 'broadcast', unit: 'deliveries/s', baseline: 'tether-realtime',
  peers: ['tether-realtime', 'tether-realtime 2 workers'],
  args: ['broadcast', '--subs', '10000', '--size', '64', '--window', '8'],
  note: 'One process pinned to CPU 0 against two workers (node:cluster hands the connections round robin; every publication goes through the primary to both workers) allowed on both cores, the load generator pinned to CPU 1.',
});
SCENARIOS.push({ id: 'handshakes', kind: 'handshake', unit: 'handshakes/s', peers: ['tether', ...(baseline ? ['tether baseline'] : []), 'ws+addons', 'uws', 'bun'], args: ['handshake', '--conns', '50'] });
// Realtime sessions at rest: Connect + Subscribe to one of 100 topics (socket.io: connect + join
// one of 100 rooms), measured like the idle scenario (server RSS growth ÷ connections).
const idleN = quick ? 2000 : 10000;
SCENARIOS.push({
  id: `realtime idle memory (${idleN.toLocaleString('en-US')} sessions)`, kind: 'idle', unit: 'KiB/conn', lowerIsBetter: true, baseline: 'socket.io',
  peers: ['tether-realtime', ...(baseline ? ['tether-realtime baseline'] : []), 'socket.io', 'tether'], args: ['idle', '--conns', String(idleN)],
  note: 'tether-realtime: each connection sends Connect, then Subscribes to `room<i % 100>` (JSON codec). socket.io: engine.io + socket.io connect, then emits `join` for `room<i % 100>`. tether: bare WebSocket connections (no handshake after the upgrade), for reference. Server RSS growth ÷ connections, 1.5 s after all are set up; servers on CPU 0, load generator on CPU 1.',
});
SCENARIOS.push({ id: 'idle memory (10,000 connections)', kind: 'idle', unit: 'KiB/conn', lowerIsBetter: true, peers: ['tether', ...(baseline ? ['tether baseline'] : []), 'ws+addons', 'uws', 'bun'], args: ['idle', '--conns', quick ? '2000' : '10000'] });
SCENARIOS.push({ id: 'compressed echo 200 B depth 4', kind: 'echo', unit: 'msg/s', feature: 'deflate', peers: ['tether', ...(baseline ? ['tether baseline'] : []), 'ws+addons', 'uws', 'bun'], args: ['echo', '--conns', '100', '--depth', '4'], deflate: true });

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function waitFor(stream, text, ms) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for "${text}"`)), ms);
    stream.on('data', (d) => {
      buf += d;
      if (buf.includes(text)) {
        clearTimeout(t);
        resolve(buf);
      }
    });
  });
}

/** Starts redis-server (pinned to CPU 0, no persistence) on a free loopback port; stop() kills it by PID. */
async function startRedis() {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', REDIS_SERVER, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([
      waitFor(child.stdout, 'Ready to accept connections', 10_000),
      exited.then(() => { throw new Error(`redis-server exited early on port ${port}`); }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pid: child.pid, stop };
}

let redis = null; // the running scenario's redis-server, if it has one
let nats = null; // and nats-server

/** Starts nats-server with JetStream (pinned to CPU 0, its store in a temporary directory) on a free loopback port. */
async function startNats() {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'tether-bench-nats-'));
  const child = spawn('taskset', ['-c', '0', NATS_SERVER, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(store, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitFor(child.stderr, 'Server is ready', 10_000),
      exited.then(() => { throw new Error(`nats-server exited early on port ${port}`); }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `nats://127.0.0.1:${port}`, pid: child.pid, stop };
}

/** The PIDs of a process's children (node:cluster workers), from /proc. */
function childPids(pid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU time (user + system) the server processes have used so far, in ms (from /proc, Linux). */
function cpuMs(servers) {
  let ticks = 0;
  for (const s of servers) {
    try {
      const f = readFileSync(`/proc/${s.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch {
      return NaN;
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

async function runOnce(scenario, peerName) {
  const peer = PEERS[peerName];
  const servers = [];
  const serverErr = [];
  const started = [];
  for (let i = 0; i < (peer.nodes ?? 1); i++) {
    const port = await freePort();
    const env = { ...process.env, ...peer.env, ...(peer.redis ? { TETHER_BENCH_REDIS_PORT: String(redis.port) } : {}), ...(peer.nats ? { TETHER_BENCH_NATS_URL: nats.url } : {}) };
    const server = spawn('taskset', ['-c', peer.cpus ?? '0', ...peer.cmd, String(port), scenario.feature ?? ''], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.port = port;
    serverErr[i] = '';
    server.stderr.on('data', (d) => (serverErr[i] += d));
    servers.push(server);
    started.push(Promise.race([
      waitFor(server.stdout, 'ready', 20_000),
      new Promise((_, reject) => server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${serverErr[i].split('\n').find((l) => /Error/.test(l)) ?? ''}`)))),
    ]));
  }
  // Node A (the first) takes the publisher, the last node the subscribers; one node takes both.
  const server = servers[servers.length - 1];
  const port = server.port;
  try {
    await Promise.all(started);
    const args = [...scenario.args, '--port', String(port)];
    if (servers.length > 1) args.push('--pub-port', String(servers[0].port));
    if (peer.spread) args.push('--ports', servers.map((s) => s.port).join(','));
    if (scenario.kind === 'echo' && !scenario.deflate) args.push('--seconds', String(seconds));
    if (scenario.kind !== 'echo' && scenario.kind !== 'idle') args.push('--seconds', String(seconds));
    if (scenario.deflate) args.push('--frame-file', deflateFrame(), '--extensions', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', '--seconds', String(seconds));
    if (peer.raw) args.push('--raw');
    if (peer.socketio) args.push('--socketio');
    if (peer.realtime) args.push('--realtime');
    if (peer.realtime === 'msgpack') args.push('--msgpack');
    if (scenario.kind === 'idle') {
      const before = rssKiB(server.pid);
      const gen = spawn('taskset', ['-c', '1', loadgen, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
      await waitFor(gen.stdout, 'ready', 120_000);
      await new Promise((r) => setTimeout(r, 1500));
      const after = rssKiB(server.pid);
      gen.stdin.end();
      await new Promise((r) => gen.once('exit', r));
      return { value: (after - before) / Number(scenario.args[2]), loadgenCpu: NaN };
    }
    // Workers count too (their primary is the process started here).
    const measured = peer.env?.TETHER_BENCH_WORKERS ? [...servers, ...servers.flatMap((s) => childPids(s.pid).map((pid) => ({ pid })))] : servers;
    const cpuBefore = cpuMs(measured);
    let r;
    if (peer.scrape) {
      // The scraper runs here while the load generator runs (asynchronously, so that it can).
      const gen = spawn('taskset', ['-c', '1', loadgen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      gen.stdout.on('data', (d) => (stdout += d));
      gen.stderr.on('data', (d) => (stderr += d));
      let scrapes = 0;
      const scraper = setInterval(() => void fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text()).then(() => scrapes++, () => {}), 1000);
      const status = await new Promise((resolve) => gen.once('exit', resolve));
      clearInterval(scraper);
      if (scrapes === 0) throw new Error('/metrics was never scraped');
      r = { status, stdout, stderr };
    } else {
      r = spawnSync('taskset', ['-c', '1', loadgen, ...args], { encoding: 'utf8', timeout: 180_000 });
    }
    const cpu = cpuMs(measured) - cpuBefore;
    const line = r.stdout.trim().split('\n').pop();
    if (r.status !== 0 || !line?.startsWith('{')) throw new Error(`load generator failed: ${r.stderr || r.stdout}`);
    const res = JSON.parse(line);
    if (res.count === 0) throw new Error(`no messages measured (${r.stderr.trim()})`);
    // Server CPU per message (the whole run, connections and warm-up included, over the
    // messages measured): steadier than the rate on a machine shared with other work.
    return { value: res.rate, p50: res.p50_us, p99: res.p99_us, loadgenCpu: res.loadgen_cpu, cpuUs: (cpu * 1000) / res.count };
  } finally {
    for (const [i, s] of servers.entries()) {
      s.kill('SIGKILL');
      await new Promise((r) => (s.exitCode !== null || s.signalCode !== null ? r() : s.once('exit', r)));
      const firstError = serverErr[i].split('\n').find((l) => /Error|error:/.test(l));
      if (firstError) process.stderr.write(`[${peerName}${servers.length > 1 ? ` node ${i}` : ''}] ${firstError.trim()}\n`);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = [];
for (const scenario of SCENARIOS) {
  if (only && !scenario.id.includes(only)) continue;
  const peers = scenario.peers.filter(available).filter((p) => onlyPeers === null || onlyPeers.includes(p));
  const runs = Object.fromEntries(peers.map((p) => [p, []]));
  if (peers.some((p) => PEERS[p].redis)) {
    redis = await startRedis();
    process.stdout.write(`${scenario.id} | redis-server pid ${redis.pid} on 127.0.0.1:${redis.port}\n`);
  }
  if (peers.some((p) => PEERS[p].nats)) {
    nats = await startNats();
    process.stdout.write(`${scenario.id} | nats-server pid ${nats.pid} on ${nats.url}\n`);
  }
  try {
  for (let rep = 0; rep < Math.min(reps, scenario.maxReps ?? reps); rep++) {
    for (const p of peers) {
      try {
        const r = await runOnce(scenario, p);
        runs[p].push(r);
        process.stdout.write(`${scenario.id} | ${p} | ${r.value.toFixed(1)} ${scenario.unit}${Number.isFinite(r.cpuUs) ? ` | server ${r.cpuUs.toFixed(2)} µs cpu/msg` : ''}${Number.isFinite(r.loadgenCpu) ? ` | loadgen cpu ${(r.loadgenCpu * 100).toFixed(0)}%` : ''}\n`);
      } catch (err) {
        process.stdout.write(`${scenario.id} | ${p} | failed: ${err.message.split('\n')[0]}\n`);
      }
    }
  }
  } finally {
    if (redis) await redis.stop();
    redis = null;
    if (nats) await nats.stop();
    nats = null;
  }
  const rows = peers.map((p) => {
    const v = runs[p].map((r) => r.value);
    return {
      peer: p,
      median: v.length ? median(v) : NaN,
      min: v.length ? Math.min(...v) : NaN,
      max: v.length ? Math.max(...v) : NaN,
      p50: runs[p].length ? median(runs[p].map((r) => r.p50 ?? NaN)) : NaN,
      p99: runs[p].length ? median(runs[p].map((r) => r.p99 ?? NaN)) : NaN,
      loadgenCpu: runs[p].length ? median(runs[p].map((r) => r.loadgenCpu)) : NaN,
      cpuUs: runs[p].length ? median(runs[p].map((r) => r.cpuUs ?? NaN)) : NaN,
      n: v.length,
    };
  });
  results.push({ ...scenario, rows });
}

// The HTTP/2 scenarios (RFC 8441) measure with Tether's own client, in bench/http2.mjs.
let http2 = null;
if ((!only || only.includes('http2')) && !onlyPeers && !baseline) {
  const r = spawnSync(node, [`${root}bench/http2.mjs`, '--json', '--reps', String(reps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status === 0) http2 = JSON.parse(r.stdout.trim().split('\n').pop());
  else process.stdout.write(`http2 | failed (exit ${r.status})\n`);
  if (http2) process.stdout.write(`http2 | ${JSON.stringify(http2)}\n`);
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
};
// Scale-out (bench/scale.mjs: fan-out through 1-3 nodes on Redis and NATS): after the
// scenarios above, in the same run.
let scale = null;
if (!only && !onlyPeers && !baseline) {
  const r = spawnSync(node, [`${root}bench/scale.mjs`, ...(quick ? ['--subs', '500', '--msgs', '50'] : [])], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('bench/scale.mjs failed');
  process.stdout.write(r.stdout);
  scale = r.stdout;
}

if (!only && !onlyPeers && reps === 3 && !baseline) {
  // The record of the run (raw medians included, so that a later run can be compared with this one);
  // docs/benchmarks.md and .svg are rendered from it (bench/render.mjs renders them again).
  const record = { machine, reps, seconds, quick, results: results.map(({ id, unit, lowerIsBetter, baseline: base, note, rows }) => ({ id, unit, lowerIsBetter, baseline: base, note, rows })), http2, scale };
  writeFileSync(`${root}docs/benchmarks.json`, JSON.stringify(record, null, 1) + '\n');
  writeReport(record);
  console.log('wrote docs/benchmarks.json, docs/benchmarks.md and docs/benchmarks.svg');
} else {
  console.log(JSON.stringify(results.map((r) => ({ id: r.id, rows: r.rows })), null, 1));
}
