// The HTTP/2 scenarios (RFC 8441): opening 1,000 WebSockets from one client to one origin
// over HTTP/1.1 (1,000 TLS connections) and over HTTP/2 (1,000 streams on one connection),
// and echo throughput on one socket over each. The server (bench/servers/tether-http2.mjs)
// runs in its own process pinned to CPU 0, the client (Tether's WebSocket) here on CPU 1.
// `node bench/http2.mjs` prints a table; `--json` prints the results for bench/run.mjs.
import { fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WebSocket } from '../dist/src/index.js';

const root = new URL('..', import.meta.url).pathname;
const ca = readFileSync(`${root}test/fixtures/localhost-cert.pem`);
const reps = Number(process.argv.includes('--reps') ? process.argv[process.argv.indexOf('--reps') + 1] : 3);
const SOCKETS = 1000;
const ECHO_MESSAGES = 20_000;
const ECHO_SIZE = 1024;
const ECHO_DEPTH = 32;
const taskset = spawnSync('taskset', ['-V']).status === 0;
if (taskset) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

function startServer() {
  const child = fork(`${root}bench/servers/tether-http2.mjs`, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  if (taskset) spawnSync('taskset', ['-cp', '0', String(child.pid)], { stdio: 'ignore' });
  const port = new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const stats = () => new Promise((resolve) => { child.once('message', resolve); child.send('stats'); });
  return { child, port, stats };
}

function open(url, http2) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [], { ca, http2 });
    ws.binaryType = 'nodebuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(e.error ?? new Error('error'));
  });
}

async function closeAll(sockets) {
  await Promise.all(sockets.map((ws) => new Promise((r) => { ws.onclose = r; ws.close(); })));
}

async function openMany(http2) {
  const server = startServer();
  const port = await server.port;
  const before = await server.stats();
  const t0 = process.hrtime.bigint();
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => open(`wss://127.0.0.1:${port}/`, http2)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = await server.stats();
  if (after.clients !== SOCKETS) throw new Error(`server has ${after.clients} clients`);
  await closeAll(sockets);
  server.child.kill('SIGKILL');
  return { ms, rssMiB: (after.rss - before.rss) / 2 ** 20, heapMiB: (after.heapUsed - before.heapUsed) / 2 ** 20, fds: after.fds - before.fds };
}

async function echo(http2) {
  const server = startServer();
  const port = await server.port;
  const ws = await open(`wss://127.0.0.1:${port}/`, http2);
  const payload = Buffer.alloc(ECHO_SIZE, 7);
  let sent = 0;
  let received = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => {
    ws.onmessage = () => {
      received++;
      if (sent < ECHO_MESSAGES) (sent++, ws.send(payload));
      if (received === ECHO_MESSAGES) resolve();
    };
    for (; sent < ECHO_DEPTH; sent++) ws.send(payload);
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await closeAll([ws]);
  server.child.kill('SIGKILL');
  return { msgsPerSec: ECHO_MESSAGES / s };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const results = { sockets: SOCKETS, echo: { messages: ECHO_MESSAGES, size: ECHO_SIZE, depth: ECHO_DEPTH }, reps, open: {}, throughput: {} };
for (const [name, http2] of [['HTTP/1.1', false], ['HTTP/2', true]]) {
  const runs = [];
  const echoes = [];
  for (let i = 0; i < reps; i++) {
    runs.push(await openMany(http2));
    echoes.push((await echo(http2)).msgsPerSec);
  }
  results.open[name] = { ms: median(runs.map((r) => r.ms)), rssMiB: median(runs.map((r) => r.rssMiB)), heapMiB: median(runs.map((r) => r.heapMiB)), fds: median(runs.map((r) => r.fds)) };
  results.throughput[name] = median(echoes);
}
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results));
} else {
  console.log(`opening ${SOCKETS} wss:// sockets from one client (median of ${reps})`);
  for (const [k, v] of Object.entries(results.open)) console.log(`  ${k.padEnd(8)} ${v.ms.toFixed(0)} ms, server RSS +${v.rssMiB.toFixed(1)} MiB (heap +${v.heapMiB.toFixed(1)} MiB), server fds +${v.fds}`);
  console.log(`echo, one socket, ${ECHO_SIZE} B messages, ${ECHO_DEPTH} in flight`);
  for (const [k, v] of Object.entries(results.throughput)) console.log(`  ${k.padEnd(8)} ${Math.round(v)} msg/s`);
}
process.exit(0);
