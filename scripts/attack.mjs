// `npm run attack -- [scenario ...] [--impl tether|ws] [--connections N] [--seconds S] [--max-fragments N] [--json FILE]`
// Attacks an echo server running in a child process (scripts/attack-server.mjs) as a hostile
// client would, while a legitimate client (scripts/attack-probe.mjs) keeps one echo in flight
// every 5 ms. For each scenario it reports the server's RSS (before, peak, after), its
// event-loop delay, the probe's echo latency during the attack, and what the server did to
// the attacker. Without scenario names, all of them run. Loopback only; the server child is
// stopped by PID at the end of each scenario. Build first (npm run build).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { constants, deflateRawSync } from 'node:zlib';
import { startProbe } from './attack-probe.mjs';

const MiB = 1024 * 1024;
const root = new URL('..', import.meta.url).pathname;

// --- Attack primitives -------------------------------------------------------------------

const KEY = Buffer.from([0x11, 0x22, 0x33, 0x44]);

/** A masked frame from the client side; `announced` overrides the length in the header. */
export function clientFrame(opcode, payload, { fin = true, rsv = 0, announced } = {}) {
  const data = Buffer.from(payload);
  const len = announced ?? data.length;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(0x80 | 127, ...b);
  }
  for (let i = 0; i < data.length; i++) data[i] ^= KEY[i & 3];
  return Buffer.concat([Buffer.from(head), KEY, data]);
}

function upgradeRequest(extra = '') {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/**
 * Opens a TCP connection and tracks it: `closedAt` is when the server ended it (ms since
 * `t0`), `head` the HTTP head it answered with, if any. `read: false` never reads.
 */
function open(port, t0, { read = true } = {}) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const c = { socket, openedAt: null, closedAt: null, head: '', tail: Buffer.alloc(0), bytesIn: 0, error: null };
    socket.on('error', (err) => (c.error = err.code));
    socket.on('close', () => (c.closedAt = performance.now() - t0));
    if (read) {
      socket.on('data', (d) => {
        c.bytesIn += d.length;
        if (c.head.length < 200) c.head += d.toString('latin1', 0, Math.min(d.length, 200));
        c.tail = Buffer.concat([c.tail, d.subarray(-130)]).subarray(-130);
      });
    } else {
      // Never read: the kernel's receive buffer fills and the server's writes back up.
      socket.pause();
    }
    socket.once('connect', () => {
      c.openedAt = performance.now() - t0;
      resolve(c);
    });
    socket.once('error', () => resolve(c));
  });
}

/** Opens `n` connections, `batch` at a time (a burst of 10,000 connects overflows the accept queue). */
async function openMany(n, port, t0, options, batch = 250) {
  const all = [];
  for (let i = 0; i < n; i += batch) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => open(port, t0, options)))));
  }
  return all;
}

/** Handshakes on an opened connection and resolves once the 101 has arrived. */
function handshake(c, extra = '') {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      c.socket.removeListener('data', onData);
      if (got.startsWith('HTTP/1.1 101')) resolve(c);
      else reject(new Error(`refused: ${got.split('\r\n')[0]}`));
    };
    c.socket.on('data', onData);
    c.socket.write(upgradeRequest(extra));
  });
}

/**
 * Opens the scenario's connections (kept for cleanup) and, unless `upgrade` is false,
 * completes their handshakes; with `reading: false` they then stop reading what the server sends.
 */
async function attackers({ port, connections, t0, cleanup }, { upgrade = true, extensions = '', reading = true } = {}) {
  const conns = await openMany(connections, port, t0);
  cleanup.push(...conns);
  if (upgrade) await Promise.all(conns.map((c) => handshake(c, extensions)));
  if (!reading) for (const c of conns) c.socket.pause();
  return conns;
}

/**
 * Writes `chunk` to each open connection whose unsent output is under `maxQueued` (so that a
 * server that stops reading stops the flood at the TCP level), every `pauseMs`, until
 * `seconds` after t0 or until the server has closed them all. Returns the writes made.
 */
async function flood(conns, chunk, { t0, seconds, maxQueued, pauseMs }) {
  let writes = 0;
  while (performance.now() - t0 < seconds * 1000 && conns.some((c) => c.closedAt === null)) {
    for (const c of conns) {
      if (c.closedAt === null && c.socket.writableLength < maxQueued) {
        c.socket.write(chunk);
        writes++;
      }
    }
    await sleep(pauseMs);
  }
  return writes;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const closedCount = (conns) => conns.filter((c) => c.closedAt !== null).length;
const statusOf = (c) => c.head.match(/^HTTP\/1\.1 (\d+)/)?.[1] ?? (c.closedAt !== null ? 'closed' : 'open');
function tally(values) {
  return [...countBy(values)].map(([k, n]) => `${k}: ${n}`).join(', ');
}
const seconds = (ms) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
/** What the server did to the attacker's connections, for tests. */
function closeFacts(conns) {
  const times = lifetimes(conns);
  return { closed: times.length, longestLifetimeMs: times.length ? Math.max(...times) : null, statuses: Object.fromEntries(countBy(conns.map(statusOf))), codes: Object.fromEntries(countBy(conns.map(closeCodeOf))) };
}
function countBy(values) {
  const m = new Map();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
/** How long each connection the server ended lived, from its connect, in ms. */
function lifetimes(conns) {
  return conns.filter((c) => c.closedAt !== null && c.openedAt !== null).map((c) => c.closedAt - c.openedAt);
}
/** Waits `ms`, or less once every connection is closed. */
async function holdWhileOpen(conns, ms) {
  const until = performance.now() + ms;
  while (performance.now() < until && conns.some((c) => c.closedAt === null)) await sleep(100);
}
function closeTimes(conns) {
  const t = lifetimes(conns).sort((a, b) => a - b);
  return t.length === 0 ? 'none closed' : `${t.length}/${conns.length} closed by the server, ${seconds(t[0])} to ${seconds(t.at(-1))} after their connect`;
}

// --- Scenarios ---------------------------------------------------------------------------
// Each gets the server's port and the options, attacks for about `seconds` (for the many-
// connection ones: from the last connect on, and less once the server closed them all), and returns a
// { text, ...facts } (what the server did to the attacker). `cleanup` collects the sockets
// to destroy afterwards.

const SCENARIOS = {
  slowloris: {
    what: 'connections that send their request head one byte per second and never finish it',
    connections: 2000,
    seconds: 12,
    async run(ctx) {
      const conns = await attackers(ctx, { upgrade: false });
      const head = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      for (const c of conns) c.socket.write(head);
      // From the last connect on, `seconds` at most (less once all are closed).
      const until = performance.now() + ctx.seconds * 1000;
      while (performance.now() < until && conns.some((c) => c.closedAt === null)) {
        await sleep(1000);
        for (const c of conns) if (c.closedAt === null) c.socket.write('a');
      }
      return { text: `${closeTimes(conns)}; answers: ${tally(conns.map(statusOf))}`, ...closeFacts(conns) };
    },
  },
  'half-open': {
    what: 'TCP connections that send nothing at all',
    connections: 10_000,
    seconds: 12,
    async run(ctx) {
      const conns = await attackers(ctx, { upgrade: false });
      await holdWhileOpen(conns, ctx.seconds * 1000);
      return { text: `${closeTimes(conns)}; connect errors: ${conns.filter((c) => c.error).length}`, ...closeFacts(conns) };
    },
  },
  headers: {
    what: 'upgrade requests with a 64 KiB header (over maxHeaderSize), each on its own connection',
    connections: 1000,
    seconds: 10,
    async run(ctx) {
      const request = Buffer.from(upgradeRequest(`X-Big: ${'a'.repeat(64 * 1024)}\r\n`));
      const conns = await attackers(ctx, { upgrade: false });
      for (const c of conns) c.socket.write(request);
      await holdWhileOpen(conns, ctx.seconds * 1000);
      return { text: `answers: ${tally(conns.map(statusOf))}; ${closeTimes(conns)}`, ...closeFacts(conns) };
    },
  },
  announce: {
    what: 'WebSocket connections that each announce a 64 MiB frame and send one byte of it (issue 9, defect 2)',
    connections: 5000,
    seconds: 12,
    async run({ port, connections, seconds: s, t0, cleanup }) {
      const conns = [];
      const opened = [];
      for (let i = 0; i < connections; i += 250) {
        const batch = await openMany(Math.min(250, connections - i), port, t0);
        conns.push(...batch);
        cleanup.push(...batch);
        opened.push(...(await Promise.allSettled(batch.map((c) => handshake(c)))));
      }
      const frame = clientFrame(0x2, Buffer.from([1]), { announced: 64 * MiB });
      for (const c of conns) if (c.closedAt === null) c.socket.write(frame);
      await holdWhileOpen(conns, s * 1000);
      const handshakes = opened.filter((r) => r.status === 'fulfilled').length;
      return { text: `${handshakes} handshakes; ${closeTimes(conns)}`, handshakes, ...closeFacts(conns) };
    },
  },
  'ping-flood': {
    what: 'one client sending 1,000 pings of 125 bytes every 10 ms and never reading (issue 9, defect 1)',
    connections: 1,
    seconds: 10,
    async run(ctx) {
      const conns = await attackers(ctx, { reading: false });
      const burst = Buffer.concat(Array.from({ length: 1000 }, () => clientFrame(0x9, Buffer.alloc(125, 0x70))));
      const sent = 1000 * (await flood(conns, burst, { ...ctx, maxQueued: 4 * MiB, pauseMs: 10 }));
      return { text: `${sent} pings written; ${closeTimes(conns)}`, sent, ...closeFacts(conns) };
    },
  },
  'fragment-flood': {
    what: 'clients sending one endless fragmented message in 1 KiB continuation frames',
    connections: 4,
    seconds: 10,
    async run(ctx) {
      const conns = await attackers(ctx);
      const first = clientFrame(0x2, Buffer.alloc(1024), { fin: false });
      const burst = Buffer.concat(Array.from({ length: 256 }, () => clientFrame(0x0, Buffer.alloc(1024, 0x66), { fin: false })));
      for (const c of conns) c.socket.write(first);
      const sent = burst.length * (await flood(conns, burst, { ...ctx, maxQueued: 4 * MiB, pauseMs: 1 }));
      return { text: `${(sent / MiB).toFixed(0)} MiB of fragments written; ${closeTimes(conns)}; close codes: ${tally(conns.map(closeCodeOf))}`, sent, ...closeFacts(conns) };
    },
  },
  bomb: {
    what: 'with --deflate and maxPayload 64 MiB: a client sending 64 KB messages that inflate to 64 MiB, reading the echoes (issue 9, defect 3)',
    connections: 1,
    seconds: 0,
    server: { deflate: true, maxPayload: 64 * MiB },
    async run(ctx) {
      const { options } = ctx;
      const count = options.bombs ?? 5;
      const conns = await attackers(ctx, { extensions: 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n' });
      const payload = deflateRawSync(Buffer.alloc(options.maxPayload ?? 64 * MiB), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
      const bomb = clientFrame(0x2, payload, { rsv: 4 });
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        // One bomb at a time per connection: send it, wait for its (compressed) echo.
        await Promise.all(conns.map((c) => echoOf(c, bomb)));
      }
      const ms = performance.now() - start;
      return { text: `${count * conns.length} bombs of ${(payload.length / 1024).toFixed(0)} KB -> ${((options.maxPayload ?? 64 * MiB) / MiB).toFixed(0)} MiB echoed in ${seconds(ms)} (${(ms / count).toFixed(0)} ms each)`, bombs: count * conns.length, ...closeFacts(conns) };
    },
  },
  'slow-reader': {
    what: 'clients sending 64 KiB messages as fast as they can and never reading the echoes',
    connections: 10,
    seconds: 10,
    async run(ctx) {
      const conns = await attackers(ctx, { reading: false });
      const msg = clientFrame(0x2, Buffer.alloc(64 * 1024, 0x73));
      const sent = await flood(conns, msg, { ...ctx, maxQueued: 1 * MiB, pauseMs: 2 });
      return { text: `${sent} messages written (${((sent * 64) / 1024).toFixed(0)} MiB); ${closeTimes(conns)}`, sent, ...closeFacts(conns) };
    },
  },
};

/** Sends `frame` and resolves when as many bytes as a frame header have come back and then go quiet (the echo). */
function echoOf(c, frame) {
  return new Promise((resolve, reject) => {
    const before = c.bytesIn;
    let quiet = null;
    const onData = () => {
      clearTimeout(quiet);
      // The echo is one frame; wait until it stops arriving for 20 ms after some bytes came.
      quiet = setTimeout(() => {
        c.socket.removeListener('data', onData);
        resolve(c.bytesIn - before);
      }, 20);
    };
    c.socket.on('data', onData);
    c.socket.once('close', () => reject(new Error(`closed: ${c.head}`)));
    c.socket.write(frame);
  });
}

/** The close code in the last bytes the server sent, if they end with a close frame. */
function closeCodeOf(c) {
  const t = c.tail;
  for (let i = t.length - 4; i >= 0; i--) {
    if (t[i] === 0x88 && t[i + 1] >= 2 && t[i + 1] <= 125 && i + 2 + t[i + 1] === t.length) return t.readUInt16BE(i + 2);
  }
  return c.closedAt === null ? 'open' : 'closed without a close frame';
}

// --- Runner ------------------------------------------------------------------------------

function startServer(impl, { deflate = false, maxPayload, handshakeTimeout, maxFragments } = {}) {
  const args = [`${root}scripts/attack-server.mjs`, '--impl', impl, '--every', '100'];
  if (deflate) args.push('--deflate');
  if (maxPayload !== undefined) args.push('--max-payload', String(maxPayload));
  if (handshakeTimeout !== undefined) args.push('--handshake-timeout', String(handshakeTimeout));
  if (maxFragments !== undefined) args.push('--max-fragments', String(maxFragments));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const samples = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`attack server exited with ${code}`)));
    child.on('message', (m) => {
      if ('port' in m) resolve({ child, port: m.port, samples });
      else samples.push({ t: performance.now(), ...m });
    });
  });
}

async function stopServer(child) {
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

const mb = (bytes) => (bytes / MiB).toFixed(1);

/**
 * Runs one scenario against a fresh server child and returns its figures. `server`
 * overrides the server's options (deflate, maxPayload, handshakeTimeout, maxFragments); `settle` is the
 * time in seconds after the attack before the 'after' RSS is taken.
 */
export async function runScenario(name, { impl = 'tether', connections, seconds: s, bombs, settle = 3, server = {} } = {}) {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`no scenario ${name}; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  const serverOptions = { ...scenario.server, ...server };
  const { child, port, samples } = await startServer(impl, serverOptions);
  const probe = await startProbe(port);
  const cleanup = [];
  try {
    await sleep(500);
    const before = samples.at(-1);
    await probe.mark();
    const startIndex = samples.length;
    const load = loadavg()[0];
    const t0 = performance.now();
    const result = await scenario.run({ port, connections: connections ?? scenario.connections, seconds: s ?? scenario.seconds, t0, cleanup, options: { ...serverOptions, bombs } });
    const attackMs = performance.now() - t0;
    const probed = await probe.report();
    const during = samples.slice(startIndex);
    for (const c of cleanup) c.socket.destroy();
    // After the attacker is gone: does the memory come back?
    await sleep(settle * 1000);
    const after = samples.at(-1);
    return {
      scenario: name,
      impl,
      connections: connections ?? scenario.connections,
      seconds: +(attackMs / 1000).toFixed(1),
      // The machine's 1-minute load average when the attack began (2 cores: above 2, others wait for CPU).
      loadAverage: +load.toFixed(1),
      rssBeforeMB: +mb(before.rss),
      rssPeakMB: +mb(Math.max(...during.map((x) => x.rss), before.rss)),
      rssAfterMB: +mb(after.rss),
      serverLoopDelayP99Ms: +Math.max(...during.map((x) => x.elp99), 0).toFixed(1),
      serverLoopDelayMaxMs: +Math.max(...during.map((x) => x.elmax), 0).toFixed(1),
      probeEchoes: probed.count,
      probeP50Ms: +probed.p50.toFixed(2),
      probeP99Ms: +probed.p99.toFixed(2),
      probeMaxMs: +probed.max.toFixed(2),
      probeLost: probed.lost,
      outcome: result.text,
      facts: { ...result, text: undefined },
    };
  } finally {
    for (const c of cleanup) c.socket.destroy();
    await probe.stop();
    await stopServer(child);
  }
}

function printResult(r) {
  console.log(
    `${r.scenario} (${r.impl}, ${r.connections} conn, ${r.seconds} s, load ${r.loadAverage}): RSS ${r.rssBeforeMB} -> peak ${r.rssPeakMB} -> after ${r.rssAfterMB} MB; ` +
      `server loop delay p99 ${r.serverLoopDelayP99Ms} ms (max ${r.serverLoopDelayMaxMs}); probe ${r.probeEchoes} echoes, p50 ${r.probeP50Ms} p99 ${r.probeP99Ms} max ${r.probeMaxMs} ms${r.probeLost ? ' (PROBE LOST)' : ''}\n    ${r.outcome}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const valued = new Set(['--impl', '--connections', '--seconds', '--json', '--bombs', '--max-fragments']);
  const names = argv.filter((a, i) => !a.startsWith('--') && !valued.has(argv[i - 1]));
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('npm run attack -- [scenario ...] [--impl tether|ws] [--connections N] [--seconds S] [--bombs N] [--max-fragments N] [--json FILE]');
    for (const [n, s] of Object.entries(SCENARIOS)) console.log(`  ${n.padEnd(15)} ${s.what} (default ${s.connections} conn${s.seconds ? `, ${s.seconds} s` : ''})`);
    process.exit(0);
  }
  const results = [];
  for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
    const r = await runScenario(name, {
      impl: flag('--impl') ?? 'tether',
      connections: flag('--connections') === undefined ? undefined : Number(flag('--connections')),
      seconds: flag('--seconds') === undefined ? undefined : Number(flag('--seconds')),
      bombs: flag('--bombs') === undefined ? undefined : Number(flag('--bombs')),
      server: flag('--max-fragments') === undefined ? {} : { maxFragments: Number(flag('--max-fragments')) },
    });
    printResult(r);
    results.push(r);
  }
  if (flag('--json')) writeFileSync(flag('--json'), JSON.stringify(results, null, 2));
}
