/**
 * Chaos tests of the realtime layer: many reconnecting subscribers whose connections are
 * cut at random moments while a topic is being published to. Reliable topics must deliver
 * every message exactly once and in order to every subscriber; conflated topics must never
 * deliver a key's value older than one already delivered, and must converge to the latest.
 *
 * The cut schedule comes from a seeded PRNG; the seed is printed in every assertion
 * message (set CHAOS_SEED to replay a schedule; timing still varies from run to run).
 */
import { afterEach, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket as WsWebSocket } from 'ws';
import { RealtimeClient, RealtimeServer, type Subscription, type TopicOptions, type WebSocketConstructor } from '../../src/realtime/index.js';
import { within } from '../helpers.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function startServer(policy: TopicOptions): Promise<{ rt: RealtimeServer; url: string; errors: unknown[] }> {
  const errors: unknown[] = [];
  const rt = new RealtimeServer({ topics: () => policy, onError: (err) => void errors.push(err) });
  const addr = await rt.listen(0, '127.0.0.1');
  cleanups.push(() => rt.close({ timeout: 2000 }));
  return { rt, url: `ws://127.0.0.1:${addr.port}/`, errors };
}

interface Subscriber {
  client: RealtimeClient;
  sub: Subscription;
  /** Times its connection was lost. */
  cuts: number;
  unrecoverable: number;
  errors: Error[];
}

function subscriber(url: string, topic: string, options: ConstructorParameters<typeof RealtimeClient>[1]): Subscriber {
  const client = new RealtimeClient(url, { reconnect: { minDelay: 5, maxDelay: 50 }, ...options });
  const s: Subscriber = { client, sub: client.subscribe(topic), cuts: 0, unrecoverable: 0, errors: [] };
  client.onState((c) => {
    if (c.state === 'disconnected') s.cuts++;
  });
  client.onError((err) => void s.errors.push(err));
  s.sub.on('unrecoverable', () => void s.unrecoverable++);
  s.sub.on('error', (err) => void s.errors.push(err));
  cleanups.push(() => client.close());
  return s;
}

/**
 * Terminates a random open session of the server every minMs..maxMs (no close handshake:
 * the client sees the TCP connection drop). The schedule is kept against the clock, so a
 * late timer is caught up rather than lowering the rate. stop() resolves with the count.
 */
function startCutter(rt: RealtimeServer, random: () => number, minMs: number, maxMs: number): { stop(): Promise<number> } {
  let running = true;
  let count = 0;
  const loop = (async () => {
    let due = performance.now();
    while (running) {
      due += minMs + random() * (maxMs - minMs);
      const wait = due - performance.now();
      if (wait >= 1) await sleep(wait);
      else await new Promise((r) => setImmediate(r));
      if (!running) break;
      const open = [...rt.sessions.values()].filter((s) => s.open);
      if (open.length === 0) continue;
      open[Math.floor(random() * open.length)]!.socket.terminate();
      count++;
    }
  })();
  const stop = async () => {
    running = false;
    await loop;
    return count;
  };
  cleanups.push(stop); // Also stopped when the test fails half way.
  return { stop };
}

/** Calls publish(i) for i in 0..total-1 in batches, spread over about durationMs. */
async function publishPaced(total: number, batch: number, durationMs: number, publish: (i: number) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  const batches = Math.ceil(total / batch);
  for (let b = 0; b < batches; b++) {
    for (let i = b * batch; i < Math.min(total, (b + 1) * batch); i++) await publish(i);
    const wait = start + ((b + 1) * durationMs) / batches - performance.now();
    if (wait >= 1) await sleep(wait);
    else await new Promise((r) => setImmediate(r));
  }
}

/** Polls cond until it holds or ms pass; returns whether it held. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

const SUBSCRIBERS = 50;
const MESSAGES = 10_000;
const PUBLISH_MS = 3_000;

async function reliableChaos(t: TestContext, codec: 'json' | 'msgpack'): Promise<void> {
  const seed = (SEED + (codec === 'json' ? 0 : 1)) >>> 0;
  const tag = `CHAOS_SEED=${SEED} (reliable, ${codec}, stream seed ${seed})`;
  const topic = 'chaos.reliable';
  const { rt, url, errors } = await startServer({ mode: 'reliable', historySize: 10_000, historyTtl: 600_000 });

  const subs: Subscriber[] = [];
  const values: number[][] = [];
  const offsets: number[][] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const s = subscriber(url, topic, { codec });
    const v: number[] = [];
    const o: number[] = [];
    s.sub.on('message', (data, meta) => {
      v.push(data as number);
      o.push(meta.offset);
    });
    subs.push(s);
    values.push(v);
    offsets.push(o);
  }
  await within(Promise.all(subs.map((s) => s.sub.ready)), 15_000, `${SUBSCRIBERS} subscriptions ready (${tag})`);

  const started = performance.now();
  const cutter = startCutter(rt, prng(seed), 5, 20);
  let published = 0;
  await publishPaced(MESSAGES, 50, PUBLISH_MS, async (i) => {
    const r = await rt.publish(topic, i);
    assert.equal(r.offset, i + 1);
    published++;
  });
  const cuts = await cutter.stop();
  const publishMs = performance.now() - started;

  const complete = await until(() => values.every((v) => v.length >= MESSAGES), 30_000);
  await sleep(100); // Anything extra (a duplicate) would arrive now.
  const totalMs = performance.now() - started;
  const cutSubscribers = subs.filter((s) => s.cuts > 0).length;
  t.diagnostic(`${tag}: published ${published} in ${Math.round(publishMs)} ms, ${cuts} cuts (${cutSubscribers} subscribers cut, max ${Math.max(...subs.map((s) => s.cuts))} each), all delivered after ${Math.round(totalMs)} ms`);

  if (!complete) {
    const short = values.map((v, i) => [i, v.length, subs[i]!.client.state, subs[i]!.sub.offset] as const).filter(([, n]) => n < MESSAGES);
    assert.fail(`${tag}: ${short.length} subscribers incomplete after 30 s, e.g. [index, received, state, offset]: ${JSON.stringify(short.slice(0, 5))}`);
  }
  assert.ok(cuts >= 100, `${tag}: only ${cuts} cuts`);
  assert.ok(cutSubscribers >= 40, `${tag}: only ${cutSubscribers} subscribers were cut`);
  const expected = Array.from({ length: MESSAGES }, (_, i) => i);
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const v = values[i]!;
    const o = offsets[i]!;
    const bad = firstMismatch(v, expected);
    assert.equal(bad, -1, `${tag}: subscriber ${i} (cut ${subs[i]!.cuts} times) received ${v.length} messages; first mismatch at index ${bad}: got ${v[bad]}, expected ${expected[bad]}; around it: ${JSON.stringify(v.slice(Math.max(0, bad - 3), bad + 4))}`);
    const gap = o.findIndex((x, j) => x !== j + 1);
    assert.equal(gap, -1, `${tag}: subscriber ${i}: offsets not consecutive at index ${gap}: ${JSON.stringify(o.slice(Math.max(0, gap - 3), gap + 4))}`);
    assert.equal(subs[i]!.unrecoverable, 0, `${tag}: subscriber ${i} was told its history was unrecoverable`);
    assert.equal(subs[i]!.sub.offset, MESSAGES, `${tag}: subscriber ${i} offset`);
    assert.deepStrictEqual(subs[i]!.errors.map(String), [], `${tag}: subscriber ${i} errors`);
  }
  assert.deepStrictEqual(errors, [], `${tag}: server errors`);
}

function firstMismatch(got: readonly number[], expected: readonly number[]): number {
  const n = Math.max(got.length, expected.length);
  for (let i = 0; i < n; i++) if (got[i] !== expected[i]) return i;
  return -1;
}

test('chaos: reliable topic, json: every subscriber gets every message exactly once, in order, across random cuts', { timeout: 90_000 }, (t) => reliableChaos(t, 'json'));

test('chaos: reliable topic, msgpack: every subscriber gets every message exactly once, in order, across random cuts', { timeout: 90_000 }, (t) => reliableChaos(t, 'msgpack'));

// ---- conflated -------------------------------------------------------------------------

const KEYS = 20;
const CONFLATED_SUBSCRIBERS = 24;
/** Subscribers on `ws` clients whose sockets are paused now and then, so the server sees them congested. */
const SLOW_SUBSCRIBERS = 4;

async function conflatedChaos(t: TestContext, codec: 'json' | 'msgpack'): Promise<void> {
  const seed = (SEED + (codec === 'json' ? 2 : 3)) >>> 0;
  // Separate streams, so that the key sequence and the cut intervals do not depend on timing.
  const keyRandom = prng(seed);
  const pauseRandom = prng(seed ^ 0x5bd1e995);
  const cutRandom = prng(seed ^ 0x1b873593);
  const tag = `CHAOS_SEED=${SEED} (conflated, ${codec}, stream seed ${seed})`;
  const topic = 'chaos.conflated';
  const { rt, url, errors } = await startServer({ mode: 'conflated', historySize: 1000 });

  // Slow subscribers: ws clients whose sockets are paused now and then. They connect over a
  // Unix socket (same server, attached to an http listener): its kernel buffers hold ~100 KB
  // where a loopback TCP connection holds ~4 MB, so a short pause makes the server see the
  // session congested and conflate for it.
  const sockPath = join(tmpdir(), `tether-chaos-${process.pid}-${seed}.sock`);
  const http = createServer((_req, res) => res.writeHead(404).end());
  rt.attach(http);
  await new Promise<void>((resolve, reject) => http.once('error', reject).listen(sockPath, resolve));
  cleanups.unshift(() => new Promise<void>((resolve) => http.close(() => resolve()))); // Last: after the server closed its sessions.
  const slowSockets = new Set<WsWebSocket>();
  class PausableWs extends WsWebSocket {
    constructor(address: string, protocols?: string | string[], options?: object) {
      super(address, protocols, options);
      slowSockets.add(this);
      this.on('error', () => {}); // The client detaches its handlers before closing: keep errors from being unhandled.
      this.on('close', () => slowSockets.delete(this));
    }
  }
  const slowUrl = `ws+unix:${sockPath}:/`;

  const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  const subs: Subscriber[] = [];
  const latest: Array<Map<string, number>> = [];
  const backwards: string[] = [];
  for (let i = 0; i < CONFLATED_SUBSCRIBERS; i++) {
    const slow = i < SLOW_SUBSCRIBERS;
    const s = slow ? subscriber(slowUrl, topic, { codec, WebSocket: PausableWs as unknown as WebSocketConstructor }) : subscriber(url, topic, { codec });
    const last = new Map<string, number>();
    s.sub.on('message', (data, meta) => {
      const { k, v } = data as { k: string; v: number };
      if (meta.key !== k) backwards.push(`subscriber ${i}: key ${String(meta.key)} carried the value of ${k}`);
      const before = last.get(k);
      if (before !== undefined && v <= before) backwards.push(`subscriber ${i}${slow ? ' (slow)' : ''}: key ${k} went from ${before} to ${v}`);
      last.set(k, v);
    });
    subs.push(s);
    latest.push(last);
  }
  await within(Promise.all(subs.map((s) => s.sub.ready)), 15_000, `${CONFLATED_SUBSCRIBERS} subscriptions ready (${tag})`);

  // Pause the slow clients for 100..600 ms at a time (long enough to fill the socket's
  // buffers even when a loaded machine publishes slowly), then let them read for a while.
  let pausing = true;
  let congested = 0;
  const pauser = (async () => {
    while (pausing) {
      for (const ws of slowSockets) ws.pause();
      await sleep(100 + pauseRandom() * 500);
      for (const ws of slowSockets) ws.resume();
      await sleep(20 + pauseRandom() * 80);
    }
  })();
  // Count how often the server is seen holding messages back for a congested session: right
  // after each publish, where it happens (a timer would miss short episodes under load).
  const watch = () => {
    for (const s of rt.sessions.values()) if (s.conflated !== null) congested++;
  };
  const stopSlowness = async () => {
    pausing = false;
    await pauser;
    for (const ws of slowSockets) ws.resume();
  };
  cleanups.push(stopSlowness);

  const started = performance.now();
  const cutter = startCutter(rt, cutRandom, 5, 20);
  const counters = new Map<string, number>();
  const pad = 'x'.repeat(400);
  await publishPaced(MESSAGES, 50, PUBLISH_MS, async () => {
    const k = keys[Math.floor(keyRandom() * KEYS)]!;
    const v = (counters.get(k) ?? 0) + 1;
    counters.set(k, v);
    await rt.publish(topic, { k, v, pad }, { key: k });
    watch();
  });
  const cuts = await cutter.stop();
  await stopSlowness();
  const publishMs = performance.now() - started;

  const converged = () => latest.every((m) => keys.every((k) => m.get(k) === counters.get(k)));
  const done = await until(converged, 30_000);
  await sleep(100); // A stale value arriving late would show up now.
  const totalMs = performance.now() - started;
  const cutSubscribers = subs.filter((s) => s.cuts > 0).length;
  t.diagnostic(`${tag}: published ${MESSAGES} in ${Math.round(publishMs)} ms, ${cuts} cuts (${cutSubscribers} subscribers cut), congestion seen ${congested} times, converged after ${Math.round(totalMs)} ms`);

  assert.deepStrictEqual(backwards.slice(0, 10), [], `${tag}: values went backwards`);
  if (!done) {
    const behind: string[] = [];
    latest.forEach((m, i) => {
      for (const k of keys) if (m.get(k) !== counters.get(k)) behind.push(`subscriber ${i}${i < SLOW_SUBSCRIBERS ? ' (slow)' : ''} (${subs[i]!.client.state}) ${k}: ${m.get(k)} of ${counters.get(k)}`);
    });
    assert.fail(`${tag}: not converged after 30 s: ${behind.length} stale values, e.g. ${behind.slice(0, 8).join('; ')}`);
  }
  assert.ok(converged(), `${tag}: a value changed after converging`);
  assert.ok(cuts >= 100, `${tag}: only ${cuts} cuts`);
  assert.ok(congested > 0, `${tag}: the slow subscribers never made the server conflate for them`);
  assert.ok(cutSubscribers >= CONFLATED_SUBSCRIBERS * 0.8, `${tag}: only ${cutSubscribers} subscribers were cut`);
  for (let i = 0; i < CONFLATED_SUBSCRIBERS; i++) {
    assert.equal(subs[i]!.unrecoverable, 0, `${tag}: subscriber ${i} was told its state was unrecoverable`);
    assert.deepStrictEqual(subs[i]!.errors.map(String), [], `${tag}: subscriber ${i} errors`);
  }
  assert.deepStrictEqual(errors, [], `${tag}: server errors`);
}

test('chaos: conflated topic, msgpack: values per key never go backwards and converge to the latest, across cuts and congestion', { timeout: 90_000 }, (t) => conflatedChaos(t, 'msgpack'));
