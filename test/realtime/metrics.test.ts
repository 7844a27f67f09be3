/**
 * Prometheus metrics: the exposition of a RealtimeServer's stats() against what happened,
 * the /metrics, /healthz, /readyz handler, prom-client interop, adapter round trips.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { Metrics, MemoryAdapter, renderPrometheus, PROMETHEUS_CONTENT_TYPE, type Adapter, type AdapterNode } from '../../src/realtime/index.js';
import { WebSocketServer } from '../../src/server/index.js';
import { eventually, Harness, within } from './realtime-harness.js';

const h = new Harness();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await h.cleanup();
});

/** Parses an exposition strictly: every line is a comment or `name{labels} value`; returns samples by series. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (t) {
      assert.ok(!typed.has(t[1]!), `family ${t[1]} declared twice`);
      typed.add(t[1]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${JSON.stringify(line)}`);
    assert.ok(typed.has(m[1]!), `sample before its # TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

async function httpGet(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

test('metrics: the exposition follows stats(): connections, sessions, subscriptions, publishes, deliveries, closes, recoveries, adapter calls', async () => {
  const { rt, url } = await h.server({ authorize: { publish: () => true } });
  const metrics = new Metrics(rt, { labels: { instance: 'a"b' } });
  cleanups.push(() => metrics.close());
  const a = await h.connected(url);
  const b = await h.connected(url);
  const sa = a.subscribe('news');
  const sb = b.subscribe('news');
  await within(Promise.all([sa.ready, sb.ready]), 3000, 'subscribed');
  let got = 0;
  sa.on('message', () => got++);
  sb.on('message', () => got++);
  for (let i = 0; i < 3; i++) await rt.publish('news', i);
  await eventually(() => got === 6, 3000, 'deliveries');
  const s = parseExposition(await metrics.text());
  const l = '{instance="a\\"b"}';
  assert.equal(s.get(`tether_connections${l}`), 2);
  assert.equal(s.get(`tether_sessions${l}`), 2);
  assert.equal(s.get(`tether_subscriptions${l}`), 2);
  assert.equal(s.get(`tether_topics${l}`), 1);
  assert.equal(s.get(`tether_publishes_total${l}`), 3);
  assert.equal(s.get(`tether_deliveries_total${l}`), 6);
  assert.equal(s.get(`tether_recoveries_total{instance="a\\"b",outcome="recovered"}`), 0);
  assert.equal(s.get(`tether_adapter_connected${l}`), 1);
  // listen x1, publish x3, presence none: at least these four calls went through the adapter.
  assert.ok(s.get(`tether_adapter_requests_total${l}`)! >= 4);
  assert.equal(s.get(`tether_adapter_errors_total${l}`), 0);
  assert.ok(s.get(`tether_received_bytes_total${l}`)! > 0 && s.get(`tether_sent_bytes_total${l}`)! > 0);
  assert.ok(s.has(`tether_event_loop_delay_p99_seconds${l}`));
  assert.equal(s.get(`tether_messages_received_total${l}`), rt.stats().websocket.messagesIn);

  a.close();
  await eventually(() => rt.stats().websocket.connections === 1, 3000, 'a closed');
  const after = parseExposition(await metrics.text());
  assert.equal(after.get(`tether_connections${l}`), 1);
  assert.equal(after.get(`tether_closes_total{instance="a\\"b",code="1000"}`), 1);
});

test('metrics: a bare WebSocketServer has the connection families only; several snapshots give one series each', async () => {
  const server = new WebSocketServer({ message() {} });
  const snapshots = [
    { labels: { worker: '1' }, stats: server.stats() },
    { labels: { worker: '2' }, stats: server.stats(), eventLoop: { p50: 0.001, p99: 0.002, max: 0.003 } },
  ];
  const s = parseExposition(renderPrometheus(snapshots, { prefix: 'x_' }));
  assert.equal(s.get('x_connections{worker="1"}'), 0);
  assert.equal(s.get('x_connections{worker="2"}'), 0);
  assert.equal(s.get('x_event_loop_delay_max_seconds{worker="2"}'), 0.003);
  assert.ok(!s.has('x_event_loop_delay_max_seconds{worker="1"}'));
  assert.ok(![...s.keys()].some((k) => k.startsWith('x_sessions')), 'no realtime families for a bare server');
});

test('metrics: handle() answers /metrics, /healthz and /readyz (503 once draining) and leaves other requests alone', async () => {
  const { rt, url } = await h.server();
  const metrics = new Metrics(rt, { eventLoopDelay: false });
  const http: Server = createServer((req, res) => {
    if (metrics.handle(req, res)) return;
    res.writeHead(404).end('app');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  await h.connected(url);

  const m = await httpGet(`${base}/metrics`);
  assert.equal(m.status, 200);
  assert.equal(m.type, PROMETHEUS_CONTENT_TYPE);
  assert.equal(parseExposition(m.body).get('tether_sessions'), 1);
  assert.ok(!m.body.includes('event_loop'), 'event-loop delay off');
  assert.deepEqual(await httpGet(`${base}/healthz`), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
  assert.equal((await httpGet(`${base}/readyz`)).status, 200);
  assert.equal((await httpGet(`${base}/other`)).body, 'app');

  const draining = rt.drain({ minDelay: 0, maxDelay: 10, timeout: 1000 });
  const r = await httpGet(`${base}/readyz`);
  assert.deepEqual([r.status, r.body], [503, 'not ready\n']);
  assert.equal((await httpGet(`${base}/healthz`)).status, 200, 'still alive while draining');
  await draining;
});

test('metrics: registered in a prom-client Registry beside its default metrics', async () => {
  const { rt, url } = await h.server();
  const metrics = new Metrics(rt);
  cleanups.push(() => metrics.close());
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  metrics.registerWith(registry);
  await h.connected(url);
  const text = await registry.metrics();
  assert.match(text, /^process_cpu_user_seconds_total \d/m, 'prom-client default metrics still there');
  const s = parseExposition(text.split('\n').filter((l) => l.startsWith('tether_') || l.startsWith('# HELP tether_') || l.startsWith('# TYPE tether_')).join('\n'));
  assert.equal(s.get('tether_sessions'), 1);
  assert.equal(s.get('tether_connections_opened_total'), 1);
  const json = await registry.getMetricsAsJSON();
  assert.equal(json.find((f) => f.name === 'tether_connections')?.values[0]?.value, 1);
  assert.throws(() => metrics.registerWith(registry), /already been registered/, 'registering twice is refused by prom-client');
});

test('metrics: adapter calls that fail are counted as errors, and a disconnected adapter makes /readyz false', async () => {
  const memory = new MemoryAdapter();
  let connected = true;
  const flaky: Adapter = {
    attach(node: AdapterNode) {
      const link = memory.attach(node);
      return Object.create(link, {
        publish: { value: () => Promise.reject(new Error('broker unreachable')) },
        connected: { get: () => connected },
      });
    },
  };
  const { rt } = await h.server({ adapter: flaky });
  const metrics = new Metrics(rt, { eventLoopDelay: false });
  await assert.rejects(rt.publish('t', 1), /broker unreachable/);
  await assert.rejects(rt.publish('t', 2), /broker unreachable/);
  let s = parseExposition(await metrics.text());
  assert.equal(s.get('tether_adapter_requests_total'), 2);
  assert.equal(s.get('tether_adapter_errors_total'), 2);
  assert.equal(metrics.ready, true);
  connected = false;
  s = parseExposition(await metrics.text());
  assert.equal(s.get('tether_adapter_connected'), 0);
  assert.equal(metrics.ready, false);
  assert.equal(rt.ready, false);
});

test('metrics: bad options throw a TypeError naming them', () => {
  const server = new WebSocketServer({ message() {} });
  assert.throws(() => new Metrics({} as never), /source must have a stats\(\) method/);
  assert.throws(() => new Metrics(server, { prefix: '1x' }), /prefix/);
  assert.throws(() => new Metrics(server, { labels: { 'bad-name': 'x' } }), /labels: "bad-name"/);
  assert.throws(() => new Metrics(server, { labels: { ok: 1 as never } }), /the value of "ok"/);
  assert.throws(() => new Metrics(server, { eventLoopDelay: 'yes' as never }), /eventLoopDelay/);
  assert.throws(() => new Metrics(server, { colour: 1 } as never), /unknown option colour/);
  const m = new Metrics(server, { eventLoopDelay: false });
  assert.throws(() => m.registerWith({} as never), /prom-client Registry/);
});
