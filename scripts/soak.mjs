// `npm run soak -- [--connections N] [--minutes M] [--rounds R] [--rate R] [--churn P] [--slow P] [--impl tether|ws] [--json FILE]`
// N connections to an echo server in a child process (scripts/attack-server.mjs) each send
// `rate` numbered messages per second and check that every echo comes back, in order, once.
// Each second `churn` % of the connections close (after their echoes are back) and new ones
// take their place, and `slow` % stop reading for 3 s (slow consumers). Every 10 s it prints
// the server's RSS, connections, event-loop delay and the message rate. A round ends with
// every client closing; `--rounds 2` runs a second round against the same server, to show
// that nothing leaks from one to the next (RSS and handle counts when idle after each).
// At the very end the server is stopped with SIGTERM while `--connections` clients are
// connected, and the report counts the clients that got a clean 1001.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1' },
    churn: { type: 'string', default: '1' },
    slow: { type: 'string', default: '1' },
    impl: { type: 'string', default: 'tether' },
    json: { type: 'string' },
  },
});
const N = Number(values.connections);
const MINUTES = Number(values.minutes);
const ROUNDS = Number(values.rounds);
const RATE = Number(values.rate);
const CHURN = Number(values.churn) / 100;
const SLOW = Number(values.slow) / 100;
for (const [k, v] of Object.entries({ connections: N, minutes: MINUTES, rounds: ROUNDS, rate: RATE })) {
  if (!(v > 0)) throw new TypeError(`--${k} must be a positive number`);
}
const root = new URL('..', import.meta.url).pathname;
const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- The server child ----------------------------------------------------------------------

const args = [`${root}scripts/attack-server.mjs`, '--impl', values.impl, '--every', '1000'];
const server = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const samples = [];
const port = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  server.on('message', (m) => ('port' in m ? resolve(m.port) : samples.push(m)));
});
const latest = () => samples.at(-1);

// --- Clients -------------------------------------------------------------------------------

const totals = { sent: 0, echoed: 0, outOfOrder: 0, failed: 0, opened: 0, closes: new Map() };
/** Churned clients that are closing. */
let closing = 0;
// Replacements for churned clients still connecting: a round waits for them before it ends,
// or they would stay connected into the next round.
const opening = new Set();
let nextId = 0;
const latencies = [];

class Client {
  constructor() {
    this.id = nextId++;
    this.seq = 0;
    this.expected = 0;
    this.pending = new Map(); // seq -> send time
    this.buf = Buffer.alloc(0);
    this.open = false;
    this.closing = false;
    this.closeCode = null;
    this.socket = connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve) => (this.onReady = resolve));
    this.closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      if (!this.closing) totals.failed++;
      this.onReady(false);
    });
    this.socket.on('data', (d) => this.onData(d));
    this.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  }

  onData(d) {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (!this.open) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const ok = this.buf.toString('latin1', 0, 12) === 'HTTP/1.1 101';
      this.buf = this.buf.subarray(end + 4);
      this.open = ok;
      totals.opened += ok ? 1 : 0;
      this.onReady(ok);
      if (!ok) return this.socket.destroy();
    }
    // Frames from the server: unmasked; our echoes are 8-byte binary messages.
    while (this.buf.length >= 2) {
      const op = this.buf[0] & 0x0f;
      const len = this.buf[1] & 0x7f;
      if (len > 125) throw new Error('soak: unexpected long frame');
      if (this.buf.length < 2 + len) break;
      const payload = this.buf.subarray(2, 2 + len);
      this.buf = this.buf.subarray(2 + len);
      if (op === 0x2) this.onEcho(payload);
      else if (op === 0x8) {
        this.closeCode = len >= 2 ? payload.readUInt16BE(0) : 1005;
        totals.closes.set(this.closeCode, (totals.closes.get(this.closeCode) ?? 0) + 1);
        if (!this.closing) {
          this.closing = true;
          this.socket.end(frame(0x8, payload.subarray(0, 2)));
        }
      } else if (op === 0x9) this.socket.write(frame(0xa, payload));
    }
  }

  onEcho(payload) {
    const id = payload.readUInt32BE(0);
    const seq = payload.readUInt32BE(4);
    if (id !== this.id || seq !== this.expected) totals.outOfOrder++;
    this.expected = seq + 1;
    const t = this.pending.get(seq);
    if (t !== undefined) {
      this.pending.delete(seq);
      if ((seq & 15) === 0) latencies.push(performance.now() - t);
    }
    totals.echoed++;
  }

  send() {
    if (!this.open || this.closing) return;
    const p = Buffer.alloc(8);
    p.writeUInt32BE(this.id, 0);
    p.writeUInt32BE(this.seq, 4);
    this.pending.set(this.seq++, performance.now());
    this.socket.write(frame(0x2, p));
    totals.sent++;
  }

  /** Closes once the echoes are back (or after 30 s: the round then counts them as lost). */
  async close() {
    const until = Date.now() + 30_000;
    while (this.pending.size > 0 && Date.now() < until && !this.socket.destroyed) await sleep(20);
    if (this.socket.destroyed) return;
    this.closing = true;
    this.socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
    await Promise.race([this.closed, sleep(10_000)]);
    this.socket.destroy();
  }
}

function frame(opcode, payload) {
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), key, masked]);
}

async function openClients(n) {
  const list = [];
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, () => new Client());
    await Promise.all(batch.map((c) => c.ready));
    list.push(...batch.filter((c) => c.open));
  }
  return list;
}

// --- Rounds --------------------------------------------------------------------------------

function fmt(s) {
  return `RSS ${(s.rss / MiB).toFixed(1)} MB, heap ${(s.heap / MiB).toFixed(1)} MB, ${s.connections} connections, ${s.handles} handles, loop delay p99 ${s.elp99.toFixed(1)} ms max ${s.elmax.toFixed(1)} ms`;
}

await sleep(1500);
const idleAtStart = latest();
console.log(`soak: ${values.impl}, ${N} connections, ${MINUTES} min x ${ROUNDS} round(s), ${RATE} msg/s each, churn ${values.churn} %/s, slow ${values.slow} %/s`);
console.log(`  idle at start: ${fmt(idleAtStart)}`);
const report = { impl: values.impl, connections: N, minutes: MINUTES, rate: RATE, idleAtStart, rounds: [] };

for (let round = 1; round <= ROUNDS; round++) {
  const before = { ...totals, closes: undefined };
  const clients = await openClients(N);
  const roundSamples = [];
  const end = Date.now() + MINUTES * 60_000;
  let lastPrint = Date.now();
  let lastEchoed = totals.echoed;
  // Every 10 ms: the messages due by now at `rate` per connection per second, round robin.
  const tickMs = 10;
  const started = Date.now();
  let sentThisRound = 0;
  let lastChurn = Date.now();
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - started) / 1000) * RATE * clients.length);
    // A client that fell behind (a loaded machine) skips what it could not send in time
    // rather than trying to catch up in one go, which would never yield to the event loop.
    const sendNow = Math.max(0, Math.min(due - sentThisRound, Math.ceil((clients.length * RATE * tickMs) / 100)));
    for (let i = 0; i < sendNow; i++) clients[(sentThisRound + i) % clients.length].send();
    sentThisRound = Math.max(sentThisRound + sendNow, Math.floor(due - clients.length * RATE));
    if (Date.now() - lastChurn >= 1000) {
      lastChurn = Date.now();
      const leaving = new Set(clients.filter(() => Math.random() < CHURN));
      // In place: the replacements below are pushed onto this same array when they open.
      const staying = clients.filter((c) => !leaving.has(c));
      clients.length = 0;
      clients.push(...staying);
      for (const c of leaving) {
        closing++;
        void c.close().finally(() => closing--);
      }
      const fresh = openClients(leaving.size).then((list) => clients.push(...list));
      opening.add(fresh);
      void fresh.finally(() => opening.delete(fresh));
      for (const c of clients) {
        if (Math.random() < SLOW && !c.socket.isPaused()) {
          c.socket.pause();
          setTimeout(() => c.socket.resume(), 3000);
        }
      }
    }
    const s = latest();
    roundSamples.push(s);
    if (Date.now() - lastPrint >= 10_000) {
      const rate = (totals.echoed - lastEchoed) / ((Date.now() - lastPrint) / 1000);
      console.log(`  round ${round} ${((MINUTES * 60_000 - (end - Date.now())) / 1000).toFixed(0)} s: ${fmt(s)}, ${rate.toFixed(0)} msg/s`);
      lastPrint = Date.now();
      lastEchoed = totals.echoed;
    }
    await sleep(tickMs);
  }
  const last = round === ROUNDS;
  await Promise.allSettled([...opening]);
  // The last round's clients stay for the graceful shutdown; the others close.
  if (!last) {
    await Promise.all(clients.map((c) => c.close()));
    await sleep(3000);
  } else {
    const until = Date.now() + 30_000;
    while (clients.some((c) => c.pending.size > 0) && Date.now() < until) await sleep(50);
  }
  // Churned clients still closing.
  const settle = Date.now() + 30_000;
  while (closing > 0 && Date.now() < settle) await sleep(50);
  const idle = latest();
  const r = {
    round,
    sent: totals.sent - before.sent,
    echoed: totals.echoed - before.echoed,
    // Every echo of the round has had its chance: churned clients waited for theirs before
    // closing, and so did the others (or the last round's, which stay connected).
    lost: totals.sent - before.sent - (totals.echoed - before.echoed),
    outOfOrder: totals.outOfOrder - before.outOfOrder,
    failedConnections: totals.failed - before.failed,
    connectionsOpened: totals.opened - before.opened,
    rssPeakMB: +(Math.max(...roundSamples.map((x) => x.rss)) / MiB).toFixed(1),
    loopDelayP99MaxMs: +Math.max(...roundSamples.map((x) => x.elp99)).toFixed(1),
    loopDelayMaxMs: +Math.max(...roundSamples.map((x) => x.elmax)).toFixed(1),
    after: idle,
  };
  report.rounds.push(r);
  console.log(
    `  round ${round}: ${r.sent} sent, ${r.echoed} echoed, ${r.lost} lost, ${r.outOfOrder} out of order, ${r.failedConnections} connections failed, ${r.connectionsOpened} opened; RSS peak ${r.rssPeakMB} MB; loop delay p99 up to ${r.loopDelayP99MaxMs} ms, max ${r.loopDelayMaxMs} ms`,
  );
  console.log(`  ${last ? 'connected' : 'idle'} after round ${round}: ${fmt(idle)}`);
  if (last) {
    // Graceful shutdown with every client connected: each should get a 1001.
    const closesBefore = totals.closes.get(1001) ?? 0;
    const exited = new Promise((resolve) => {
      server.removeAllListeners('exit');
      server.once('exit', resolve);
    });
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    await Promise.race([Promise.all(clients.map((c) => c.closed)), sleep(5000)]);
    report.shutdown = { clients: clients.length, got1001: (totals.closes.get(1001) ?? 0) - closesBefore };
    console.log(`  SIGTERM: ${report.shutdown.got1001} of ${clients.length} clients got 1001`);
    for (const c of clients) c.socket.destroy();
  }
}
const sorted = latencies.sort((a, b) => a - b);
report.echoLatencyMs = { p50: sorted[Math.floor(sorted.length * 0.5)], p99: sorted[Math.floor(sorted.length * 0.99)], max: sorted.at(-1) };
console.log(`  echo latency (1 in 16 messages): p50 ${report.echoLatencyMs.p50?.toFixed(2)} ms, p99 ${report.echoLatencyMs.p99?.toFixed(2)} ms, max ${report.echoLatencyMs.max?.toFixed(2)} ms`);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
const bad = report.rounds.some((r) => r.lost > 0 || r.outOfOrder > 0) || (report.shutdown && report.shutdown.got1001 < report.shutdown.clients);
process.exit(bad ? 1 : 0);
