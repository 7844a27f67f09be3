import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RealtimeClient, type StateChange } from '../../src/realtime/index.js';
import { within } from '../helpers.js';
import { playVector, type VectorFile } from '../realtime/vector-runner.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${out}`)));
  });
}

test('tether serve --realtime --workers 1: one process; serves the browser client, relays publications and presence, answers echo, drains with 1012', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--realtime', '--workers', '1', '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const clients: RealtimeClient[] = [];
  try {
    const [, url] = await within(waitForLine(child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'hub start');
    const res = await fetch(`${url!.replace('ws://', 'http://')}tether-realtime.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await res.text(), /export\s*\{[^}]*\bRealtimeClient\b/);

    const a = new RealtimeClient(url!, { reconnect: false });
    const b = new RealtimeClient(url!, { codec: 'msgpack', reconnect: false });
    clients.push(a, b);
    const subA = a.subscribe('room', { info: { name: 'a' } });
    await within(subA.ready, 5000, 'a subscribed');
    const joined = new Promise((resolve) => subA.on('join', resolve));
    const subB = b.subscribe('room', { info: { name: 'b' } });
    await within(subB.ready, 5000, 'b subscribed');
    assert.deepEqual(await within(joined, 5000, 'join seen by a'), { sessionId: b.sessionId, info: { name: 'b' } });

    const received = new Promise((resolve) => subA.on('message', (data) => resolve(data)));
    const { offset } = await within(b.publish('room', { text: 'hi' }), 5000, 'publish');
    assert.equal(offset, 1);
    assert.deepEqual(await within(received, 5000, 'publication'), { text: 'hi' });
    assert.deepEqual(await within(b.request('echo', [1, 'two']), 5000, 'echo'), [1, 'two']);

    // Operators' endpoints on the same port.
    const base = url!.replace('ws://', 'http://');
    const metrics = await fetch(`${base}metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const exposition = await metrics.text();
    assert.match(exposition, /^tether_sessions 2$/m);
    assert.match(exposition, /^tether_publishes_total 1$/m);
    assert.equal((await fetch(`${base}healthz`)).status, 200);
    assert.equal((await fetch(`${base}readyz`)).status, 200);

    const closed = new Promise<StateChange>((resolve) => a.onState((s) => s.state === 'closed' && resolve(s)));
    child.kill('SIGINT');
    const s = await within(closed, 10_000, 'drain close');
    assert.equal(s.code, 1012);
    const delay = Number(/^retry after (\d+) ms$/.exec(s.reason ?? '')?.[1]);
    assert.ok(delay >= 500 && delay <= 5000, `delay hint ${s.reason}`);
    const code = await within(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'hub exit');
    assert.equal(code, 0);
  } finally {
    for (const c of clients) c.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('tether serve --realtime --conformance: the server the protocol test vectors expect (every vector, JSON)', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--realtime', '--conformance', '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [, url] = await within(waitForLine(child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'hub start');
    const file = JSON.parse(readFileSync(new URL('../../../docs/protocol-vectors.json', import.meta.url), 'utf8')) as VectorFile;
    let run = 0;
    for (const v of file.vectors) if ((v.codecs ?? ['json']).includes('json')) await playVector(v, 'json', url!, `cli${++run}`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('tether serve: --conformance without --realtime is a usage error', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--echo', '--conformance'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
  const code = await within(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'exit');
  assert.equal(code, 2);
  assert.match(err, /--conformance goes with --realtime/);
});
