/**
 * Interop: the browser bundle of the realtime client (dist/browser/tether-realtime.js,
 * built by scripts/build-browser.mjs) running in headless Chromium with the browser's own
 * WebSocket, against a RealtimeServer attached to a node:http server that also serves the
 * page and the bundle. Chromium must be installed at /usr/bin/chromium: without it every
 * test here fails. Every test runs with both codecs (json and msgpack).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { browserBundlePath, readBrowserBundle, RealtimeError, RealtimeServer, type Session } from '../../src/realtime/index.js';
import { within } from '../helpers.js';

const STEP = 5000;
/** Reconnection delays of the page's clients: small, so a cut connection comes back quickly. */
const RECONNECT = { minDelay: 40, maxDelay: 200, factor: 2 };

type Codec = 'json' | 'msgpack';
/** Values crossing page.evaluate: a Uint8Array travels as { $u8: bytes } (and comes back tagged the same way). */
type Described = unknown;
interface StateRecord { state: string; code?: number; reason?: string; delay?: number; sessionId: string }
interface SubRecord {
  messages: Array<{ data: Described; offset: number; key?: string }>;
  subscribed: Array<{ resumed: boolean; recovered: boolean; epoch: string; offset: number }>;
  unrecoverable: unknown[];
  errors: string[];
}
type Outcome = { ok: Described } | { error: { name: string; code: string; message: string; isRealtimeError: boolean } };

/** What the page's module script puts on window.RT (see PAGE). */
interface PageApi {
  exports: string[];
  connect(name: string, url: string, options: { codec: Codec; token: string; tokenFunction?: boolean }): void;
  waitState(name: string, state: string, from: number, ms: number): Promise<{ index: number; change: StateRecord }>;
  states(name: string): StateRecord[];
  info(name: string): { state: string; sessionId: string; tokenCalls: number; errors: string[] };
  subscribe(name: string, topic: string, ms: number): Promise<void>;
  waitMessages(name: string, topic: string, n: number, ms: number): Promise<SubRecord>;
  sub(name: string, topic: string): SubRecord;
  request(name: string, method: string, data: Described, timeout?: number): Promise<Outcome>;
  listen(name: string, event: string): void;
  waitEvents(name: string, event: string, n: number, ms: number): Promise<Described[]>;
  emit(name: string, event: string, data: Described): void;
  handle(name: string, method: string, behaviour: 'echo' | 'double' | 'refuse'): void;
  close(name: string): void;
  loadMinified(): Promise<string[]>;
}
declare global {
  interface Window {
    RT: PageApi;
  }
}

// The page: an ES module importing the bundle, with helpers the tests drive through page.evaluate.
const PAGE_SCRIPT = `
import * as T from '/tether-realtime.js';
const clients = new Map();
function deadline(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, reject) => { t = setTimeout(() => reject(new Error('page timed out: ' + what)), ms); })]).finally(() => clearTimeout(t));
}
function until(cond, ms, what) {
  return deadline(new Promise((resolve) => {
    const check = () => { const v = cond(); if (v !== undefined) resolve(v); else setTimeout(check, 5); };
    check();
  }), ms, what);
}
// JSON-safe description of a value; Uint8Array (exactly) becomes { $u8: [...] }, other binary types are named.
function describe(v) {
  if (v instanceof Uint8Array && v.constructor === Uint8Array) return { $u8: Array.from(v) };
  if (v instanceof ArrayBuffer) return { $wrongType: 'ArrayBuffer' };
  if (ArrayBuffer.isView(v)) return { $wrongType: v.constructor.name };
  if (Array.isArray(v)) return v.map(describe);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
  return v;
}
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v.$u8)) return new Uint8Array(v.$u8);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}
function entry(name) {
  const e = clients.get(name);
  if (!e) throw new Error('no client ' + name);
  return e;
}
window.RT = {
  exports: Object.keys(T).sort(),
  connect(name, url, { codec, token, tokenFunction }) {
    const e = { states: [], errors: [], subs: new Map(), events: new Map(), tokenCalls: 0 };
    const tok = tokenFunction ? async () => { e.tokenCalls++; return token; } : token;
    e.c = new T.RealtimeClient(url, { codec, token: tok, reconnect: ${JSON.stringify(RECONNECT)} });
    e.c.onState((s) => e.states.push({ state: s.state, code: s.code, reason: s.reason, delay: s.delay, sessionId: e.c.sessionId }));
    e.c.onError((err) => e.errors.push(String(err && (err.code || err.message))));
    clients.set(name, e);
  },
  waitState(name, state, from, ms) {
    const e = entry(name);
    return until(() => {
      for (let i = from; i < e.states.length; i++) if (e.states[i].state === state) return { index: i, change: e.states[i] };
      return undefined;
    }, ms, name + ' state ' + state + ' (states: ' + JSON.stringify(e.states) + ')');
  },
  states(name) { return entry(name).states; },
  info(name) { const e = entry(name); return { state: e.c.state, sessionId: e.c.sessionId, tokenCalls: e.tokenCalls, errors: e.errors }; },
  subscribe(name, topic, ms) {
    const e = entry(name);
    const sub = e.c.subscribe(topic);
    const rec = { messages: [], subscribed: [], unrecoverable: [], errors: [] };
    e.subs.set(topic, rec);
    sub.on('message', (data, meta) => rec.messages.push({ data: describe(data), offset: meta.offset, key: meta.key }));
    sub.on('subscribed', (r) => rec.subscribed.push({ resumed: r.resumed, recovered: r.recovered, epoch: r.epoch, offset: r.offset }));
    sub.on('unrecoverable', (r) => rec.unrecoverable.push(r));
    sub.on('error', (err) => rec.errors.push(String(err && (err.code || err.message))));
    return deadline(sub.ready, ms, 'subscribe ' + topic);
  },
  waitMessages(name, topic, n, ms) {
    const rec = entry(name).subs.get(topic);
    return until(() => (rec.messages.length >= n ? rec : undefined), ms, n + ' messages on ' + topic + ' (got ' + rec.messages.length + ')');
  },
  sub(name, topic) { return entry(name).subs.get(topic); },
  async request(name, method, data, timeout) {
    try {
      return { ok: describe(await entry(name).c.request(method, revive(data), timeout === undefined ? {} : { timeout })) };
    } catch (err) {
      return { error: { name: err.name, code: err.code, message: err.message, isRealtimeError: err instanceof T.RealtimeError } };
    }
  },
  listen(name, event) {
    const e = entry(name);
    const list = [];
    e.events.set(event, list);
    e.c.on(event, (data) => list.push(describe(data)));
  },
  waitEvents(name, event, n, ms) {
    const list = entry(name).events.get(event);
    return until(() => (list.length >= n ? list : undefined), ms, n + ' events ' + event + ' (got ' + list.length + ')');
  },
  emit(name, event, data) { entry(name).c.emit(event, revive(data)); },
  handle(name, method, behaviour) {
    entry(name).c.handle(method, (data) => {
      if (behaviour === 'double') return data * 2;
      if (behaviour === 'refuse') throw new T.RealtimeError('forbidden', 'the page says no');
      return Promise.resolve({ echo: data, isUint8Array: data instanceof Uint8Array });
    });
  },
  close(name) { entry(name).c.close(); },
  async loadMinified() { return Object.keys(await import('/tether-realtime.min.js')).sort(); },
};
`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tether realtime</title><script type="module">${PAGE_SCRIPT}</script></head><body>tether realtime</body></html>`;

// ---------------------------------------------------------------- server side

let http: HttpServer | null = null;
let rt: RealtimeServer | null = null;
let base = '';
/** Tokens authenticate() saw, in order. */
const tokensSeen: unknown[] = [];
/** While set, authenticate() waits for it: holds reconnections back while a test publishes. */
let authGate: Promise<void> | null = null;
const serverErrors: unknown[] = [];
const disconnects = new Map<string, { code: number; reason: string }>();
const pageEvents: Array<{ event: string; data: unknown; sessionId: string }> = [];

async function startServers(): Promise<void> {
  const bundle = readBrowserBundle();
  const minified = readFileSync(browserBundlePath().replace(/\.js$/, '.min.js'));
  http = createHttpServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (req.url === '/tether-realtime.js' || req.url === '/tether-realtime.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.url === '/tether-realtime.js' ? bundle : minified);
    } else {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404);
      res.end();
    }
  });
  rt = new RealtimeServer({
    websocket: { path: '/rt' },
    async authenticate(token) {
      tokensSeen.push(token);
      if (authGate !== null) await authGate;
      if (typeof token === 'string' && token.startsWith('good:')) return { user: { name: token.slice(5) } };
      return false;
    },
    onDisconnect(session, code, reason) {
      disconnects.set(session.id, { code, reason });
    },
    onError(err) {
      serverErrors.push(err);
    },
  }).attach(http);
  rt.handle('add', (data) => {
    const { a, b } = data as { a: number; b: number };
    return a + b;
  });
  rt.handle('whoami', (_data, session) => ({ user: session.user, sessionId: session.id }));
  rt.handle('deny', () => {
    throw new RealtimeError('forbidden', 'not for you');
  });
  rt.handle('boom', () => {
    throw new Error('a secret that must not reach the client');
  });
  rt.handle('slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 1000)));
  rt.handle('bytes', (data) => {
    const bytes = (data as { bytes: unknown }).bytes;
    if (!(bytes instanceof Uint8Array)) return { isUint8Array: false };
    return { isUint8Array: true, length: bytes.length, reversed: Uint8Array.from(bytes).reverse() };
  });
  rt.on('hello', (data, session) => pageEvents.push({ event: 'hello', data, sessionId: session.id }));
  await new Promise<void>((resolve, reject) => {
    http!.once('error', reject);
    http!.listen(0, '127.0.0.1', resolve);
  });
  base = `127.0.0.1:${(http.address() as AddressInfo).port}`;
}

// ---------------------------------------------------------------- browser

let browser: Browser | null = null;
let setup: Promise<Page> | null = null;
const pageErrors: string[] = [];

/** Servers, browser and page, started once for the file; a failure fails every test. */
function ready(): Promise<Page> {
  setup ??= (async () => {
    await startServers();
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://${base}/`, { timeout: STEP });
    // The module script ran (the bundle loaded and evaluated) once window.RT exists.
    await page.waitForFunction(() => typeof window.RT === 'object', undefined, { timeout: STEP });
    return page;
  })();
  return within(setup, 20_000, 'browser setup');
}

after(async () => {
  const tasks: Array<Promise<unknown>> = [];
  if (browser) tasks.push(within(browser.close(), 10_000, 'browser close'));
  if (rt) tasks.push(within(rt.close({ timeout: 1000 }), 5000, 'realtime server close'));
  await Promise.allSettled(tasks);
  if (http) {
    http.closeAllConnections();
    await within(new Promise<void>((resolve) => http!.close(() => resolve())), 5000, 'http close');
  }
  await Promise.all(tasks);
});

/** Calls window.RT[fn](...args) in the page, with a deadline on the Node side too. */
function call<K extends keyof PageApi>(page: Page, fn: K, args: PageApi[K] extends (...a: infer A) => unknown ? A : never, ms = STEP): Promise<PageApi[K] extends (...a: never[]) => infer R ? Awaited<R> : never> {
  return within(
    page.evaluate(({ fn, args }) => (window.RT[fn] as (...a: unknown[]) => unknown)(...args), { fn, args: args as unknown[] }),
    ms + 1000,
    `page RT.${fn}(${JSON.stringify(args).slice(0, 200)})`,
  ) as never;
}

function rtUrl(): string {
  return `ws://${base}/rt`;
}

/** Connects a page client and waits for its session: returns the session id. */
async function connect(page: Page, name: string, codec: Codec, token: string, tokenFunction = false): Promise<string> {
  await call(page, 'connect', [name, rtUrl(), { codec, token, tokenFunction }]);
  const { change } = await call(page, 'waitState', [name, 'connected', 0, STEP]);
  assert.ok(rt!.sessions.has(change.sessionId), 'the server has the session the page reports');
  return change.sessionId;
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const u8 = (bytes: number[]) => ({ $u8: bytes });

function assertNoPageErrors(): void {
  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
}

describe('the browser bundle', () => {
  test('is built, served from browserBundlePath()/readBrowserBundle(), imports nothing, and the minified build exports the same names', async () => {
    const page = await ready();
    assert.ok(existsSync(browserBundlePath()), browserBundlePath());
    assert.match(browserBundlePath(), /[/\\]dist[/\\]browser[/\\]tether-realtime\.js$/);
    const text = readBrowserBundle().toString('utf8');
    assert.doesNotMatch(text, /^\s*import\s|\bfrom\s*["'][^"']+["']|\brequire\(/m, 'the bundle is self-contained');
    const names = await within(page.evaluate(() => window.RT.exports), STEP, 'exports');
    for (const n of ['RealtimeClient', 'RealtimeError', 'Subscription', 'ErrorCode', 'RealtimeClose', 'setDefaultWebSocket']) assert.ok(names.includes(n), `exports ${n}`);
    assert.deepEqual(await call(page, 'loadMinified', []), names);
    assertNoPageErrors();
  });
});

for (const codec of ['json', 'msgpack'] as const) {
  describe(`Chromium RealtimeClient (browser bundle) <-> RealtimeServer, codec ${codec}`, () => {
    test('a good token connects (the user is on the session); a bad one is refused with 4001 and not retried', async () => {
      const page = await ready();
      const name = `auth-${codec}`;
      const sid = await connect(page, name, codec, 'good:alice');
      const session = rt!.sessions.get(sid)!;
      assert.deepEqual(session.user, { name: 'alice' });
      assert.equal(session.codec.subprotocol, `tether.v1.${codec}`);
      await call(page, 'close', [name]);
      await waitUntil(() => disconnects.has(sid), STEP, 'server sees the close');
      assert.equal(disconnects.get(sid)!.code, 1000);

      const bad = `bad-${codec}`;
      await call(page, 'connect', [bad, rtUrl(), { codec, token: 'forged' }]);
      const { change } = await call(page, 'waitState', [bad, 'closed', 0, STEP]);
      assert.equal(change.code, 4001);
      await sleep(RECONNECT.maxDelay * 2);
      const info = await call(page, 'info', [bad]);
      assert.equal(info.state, 'closed', 'no retry after 4001');
      assert.deepEqual(info.errors, ['unauthorized']);
      // (The first 'connecting' happens in the constructor, before the page's onState listener.)
      assert.deepEqual((await call(page, 'states', [bad])).map((s) => s.state), ['closed'], 'no reconnection attempt');
      assertNoPageErrors();
    });

    test('publications arrive in order; after the server cuts the connection the client reconnects and recovers every missed message exactly once, in order', async () => {
      const page = await ready();
      const name = `recover-${codec}`;
      const topic = `feed.${codec}`;
      const sid1 = await connect(page, name, codec, 'good:carol', true);
      await call(page, 'subscribe', [name, topic, STEP]);
      const payload = (n: number) => ({ n, text: `héllo ${n} ✓`, list: [n, n * 2, null, true] });
      for (let n = 1; n <= 5; n++) await rt!.publish(topic, payload(n));
      let rec = await call(page, 'waitMessages', [name, topic, 5, STEP]);
      assert.deepEqual(rec.messages.map((m) => m.data), [1, 2, 3, 4, 5].map(payload));

      // Cut the connection from the server side (no close frame) and hold the reconnection
      // in authenticate() while more is published.
      let release!: () => void;
      authGate = new Promise<void>((resolve) => (release = resolve));
      try {
        const before = (await call(page, 'states', [name])).length;
        rt!.sessions.get(sid1)!.socket.terminate();
        await waitUntil(() => disconnects.has(sid1), STEP, 'server sees the cut');
        assert.equal(rt!.sessions.has(sid1), false);
        const { change: lost } = await call(page, 'waitState', [name, 'disconnected', before, STEP]);
        assert.equal(lost.code, 1006, 'an abnormal closure in the page');
        assert.ok(lost.delay! >= RECONNECT.minDelay / 2 && lost.delay! <= RECONNECT.maxDelay, `reconnect delay ${lost.delay}`);
        for (let n = 6; n <= 10; n++) await rt!.publish(topic, payload(n));
        // Give the client time to come back and knock: it is held in authenticate().
        await sleep(RECONNECT.maxDelay + 100);
        assert.notEqual((await call(page, 'info', [name])).state, 'connected');
        assert.equal((await call(page, 'sub', [name, topic])).messages.length, 5, 'nothing delivered while disconnected');
        release();
        authGate = null;
        const { change: back } = await call(page, 'waitState', [name, 'connected', before, STEP]);
        assert.notEqual(back.sessionId, sid1, 'a new session');
        assert.ok(rt!.sessions.has(back.sessionId));
      } finally {
        release();
        authGate = null;
      }
      for (let n = 11; n <= 12; n++) await rt!.publish(topic, payload(n));
      rec = await call(page, 'waitMessages', [name, topic, 12, STEP]);
      await sleep(200); // duplicates would arrive now
      rec = await call(page, 'sub', [name, topic]);
      assert.deepEqual(rec.messages.map((m) => (m.data as { n: number }).n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'every message exactly once, in order');
      assert.deepEqual(rec.messages.map((m) => m.data), Array.from({ length: 12 }, (_, i) => payload(i + 1)));
      assert.deepEqual(rec.messages.map((m) => m.offset), Array.from({ length: 12 }, (_, i) => i + 1));
      assert.equal(rec.subscribed.length, 2);
      assert.deepEqual([rec.subscribed[0]!.resumed, rec.subscribed[1]!.resumed, rec.subscribed[1]!.recovered], [false, true, true]);
      assert.equal(rec.subscribed[1]!.epoch, rec.subscribed[0]!.epoch);
      assert.deepEqual(rec.unrecoverable, []);
      assert.deepEqual(rec.errors, []);
      const info = await call(page, 'info', [name]);
      assert.equal(info.tokenCalls, 2, 'the token function ran once per connection');
      assert.deepEqual(info.errors, []);
      await call(page, 'close', [name]);
      assertNoPageErrors();
    });

    test('requests and acks both ways, errors keep their code, events both ways', async () => {
      const page = await ready();
      const name = `req-${codec}`;
      const sid = await connect(page, name, codec, 'good:bob');
      assert.deepEqual(await call(page, 'request', [name, 'add', { a: 2, b: 40 }]), { ok: 42 });
      assert.deepEqual(await call(page, 'request', [name, 'whoami', null]), { ok: { user: { name: 'bob' }, sessionId: sid } });
      assert.deepEqual(await call(page, 'request', [name, 'deny', null]), { error: { name: 'RealtimeError', code: 'forbidden', message: 'not for you', isRealtimeError: true } });
      assert.deepEqual(await call(page, 'request', [name, 'boom', null]), { error: { name: 'RealtimeError', code: 'internal', message: 'internal error', isRealtimeError: true } });
      assert.equal(serverErrors.length, 1, 'the throwing handler was reported to onError');
      serverErrors.length = 0;
      const missing = await call(page, 'request', [name, 'nope', null]);
      assert.equal('error' in missing && missing.error.code, 'not_found');
      const slow = await call(page, 'request', [name, 'slow', null, 100]);
      assert.equal('error' in slow && slow.error.code, 'timeout');

      // Server -> page events: session.emit, emitTo, emitAll, in order.
      await call(page, 'listen', [name, 'news']);
      const session = rt!.sessions.get(sid)!;
      session.emit('news', { via: 'session.emit' });
      await rt!.emitTo(sid, 'news', { via: 'emitTo' });
      await rt!.emitAll('news', { via: 'emitAll' });
      assert.deepEqual(await call(page, 'waitEvents', [name, 'news', 3, STEP]), [{ via: 'session.emit' }, { via: 'emitTo' }, { via: 'emitAll' }]);

      // Page -> server event.
      await call(page, 'emit', [name, 'hello', { from: 'the page', codec }]);
      await waitUntil(() => pageEvents.some((e) => e.sessionId === sid), STEP, 'the page event at the server');
      assert.deepEqual(pageEvents.filter((e) => e.sessionId === sid), [{ event: 'hello', data: { from: 'the page', codec }, sessionId: sid }]);

      // Server -> page requests answered by the page's handlers.
      await call(page, 'handle', [name, 'double', 'double']);
      await call(page, 'handle', [name, 'refuse', 'refuse']);
      assert.equal(await within(session.request('double', 21, { timeout: STEP }), STEP + 1000, 'session.request double'), 42);
      await assert.rejects(within(session.request('refuse', null, { timeout: STEP }), STEP + 1000, 'session.request refuse'), (err: RealtimeError) => {
        assert.ok(err instanceof RealtimeError);
        assert.deepEqual([err.code, err.message], ['forbidden', 'the page says no']);
        return true;
      });
      await assert.rejects(within(session.request('unknown', null, { timeout: STEP }), STEP + 1000, 'session.request unknown'), (err: RealtimeError) => err.code === 'not_found');
      await call(page, 'close', [name]);
      assert.deepEqual((await call(page, 'info', [name])).errors, []);
      assertNoPageErrors();
    });

    test('binary data: Uint8Array values arrive as Uint8Array in the page, and from the page at the server', async () => {
      const page = await ready();
      const name = `bin-${codec}`;
      const topic = `bin.${codec}`;
      const sid = await connect(page, name, codec, 'good:dave');
      await call(page, 'subscribe', [name, topic, STEP]);
      const big = Array.from({ length: 70_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
      await rt!.publish(topic, { bytes: new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]), nested: [Buffer.from('hi'), { empty: new Uint8Array(0) }] });
      await rt!.publish(topic, new Uint8Array(big));
      const rec = await call(page, 'waitMessages', [name, topic, 2, STEP]);
      assert.deepEqual(rec.messages[0]!.data, { bytes: u8([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]), nested: [u8([...Buffer.from('hi')]), { empty: u8([]) }] });
      assert.deepEqual(rec.messages[1]!.data, u8(big));

      // Event and request results carry binary too.
      await call(page, 'listen', [name, 'blob']);
      rt!.sessions.get(sid)!.emit('blob', { b: new Uint8Array([9, 8, 7]) });
      assert.deepEqual(await call(page, 'waitEvents', [name, 'blob', 1, STEP]), [{ b: u8([9, 8, 7]) }]);

      // Page -> server: a Uint8Array built in the page is a Uint8Array in the handler, and the reply's one in the page.
      assert.deepEqual(await call(page, 'request', [name, 'bytes', { bytes: u8([1, 2, 3, 250]) }]), { ok: { isUint8Array: true, length: 4, reversed: u8([250, 3, 2, 1]) } });
      // Server -> page request with binary data, answered by the page's echo handler.
      await call(page, 'handle', [name, 'echo', 'echo']);
      const reply = await within(rt!.sessions.get(sid)!.request('echo', new Uint8Array([5, 6]), { timeout: STEP }), STEP + 1000, 'session.request echo');
      assert.equal((reply as { isUint8Array: boolean }).isUint8Array, true, 'the page handler got a Uint8Array');
      const echoed = (reply as { echo: unknown }).echo;
      assert.ok(echoed instanceof Uint8Array, 'the server got a Uint8Array back');
      assert.deepEqual([...echoed], [5, 6]);
      await call(page, 'close', [name]);
      assert.deepEqual((await call(page, 'info', [name])).errors, []);
      assertNoPageErrors();
    });
  });
}

// A test-only check that the sessions were all cleaned up (no leaks across the file).
test('every page client closed: the server has no sessions left', async () => {
  await ready();
  await waitUntil(() => rt!.sessions.size === 0, STEP, `sessions to end (${[...(rt?.sessions.values() ?? [])].map((s: Session) => s.id).join(', ')})`);
  assertNoPageErrors();
});
