/**
 * What the realtime client refuses when it is given, never later: a value its codec cannot
 * encode (issue: a BigInt published right after the constructor used to crash the process
 * from inside the open event), a message over the limit the server announced in Connected
 * (it used to be sent, closed with 1009 and reported as "disconnected"), a malformed URL
 * (it used to retry forever).
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeClient, RealtimeError, type WebSocketConstructor } from '../../src/realtime/index.js';
import { Harness, rejection, sleep, waitState, within } from './realtime-harness.js';

const T = { timeout: 20_000 };
const isTooLarge = (limit: number) => (e: unknown) => e instanceof RealtimeError && e.code === 'too_large' && e.message.includes(`limit of ${limit} bytes`);

describe('values the codec cannot encode', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('publish, request, emit and subscribe info refuse them at the call, before and after connecting; the client goes on', T, async () => {
    const { rt, url } = await h.server({ authorize: { publish: () => true } });
    const seen: unknown[] = [];
    rt.on('note', (d) => seen.push(d));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    // Right after the constructor: the connection is not open, the messages would be queued.
    const c = h.client(url);
    const errors: Error[] = [];
    c.onError((e) => errors.push(e));
    const bigint = await rejection(c.publish('t', { n: 1n }), 1000, 'publish of a BigInt');
    assert.ok(bigint instanceof TypeError, String(bigint));
    assert.match((bigint as Error).message, /^publish to t: the data cannot be encoded with the json codec \(.*BigInt/);
    assert.ok(await rejection(c.publish('t', cyclic), 1000, 'publish of a cycle') instanceof TypeError);
    assert.ok(await rejection(c.request('m', { n: 2n }), 1000, 'request of a BigInt') instanceof TypeError);
    assert.throws(() => c.emit('note', cyclic), /^TypeError: emit note: the data cannot be encoded/);
    assert.throws(() => c.subscribe('room', { info: { n: 3n } }), /^TypeError: subscribe to room: the data cannot be encoded/);
    assert.equal(c.subscription('room'), undefined, 'a refused subscribe leaves nothing behind');
    c.emit('note', 'after the refusals');
    await waitState(c, 'connected', 5000);
    // Connected: refused the same way, and the connection stays.
    assert.ok(await rejection(c.publish('t', [1n]), 1000, 'publish while connected') instanceof TypeError);
    assert.throws(() => c.emit('note', 4n), TypeError);
    assert.deepEqual(await within(c.publish('t', { ok: true }), 3000, 'a good publish'), { offset: 1 });
    assert.equal(c.state, 'connected');
    await within((async () => { while (seen.length < 1) await sleep(5); })(), 3000, 'the queued event');
    assert.deepEqual(seen, ['after the refusals']);
    assert.deepEqual(errors, []);
  });

  test('msgpack carries a BigInt (a 64-bit integer), so it is sent', T, async () => {
    const { url } = await h.server({ authorize: { publish: () => true } });
    const c = await h.connected(url, { codec: 'msgpack' });
    const sub = c.subscribe('big');
    await within(sub.ready, 3000, 'subscribed');
    const got = new Promise((resolve) => sub.on('message', resolve));
    await within(c.publish('big', { n: 2n ** 60n }), 3000, 'publish of a BigInt over msgpack');
    assert.deepEqual(await within(got, 3000, 'the message'), { n: 2n ** 60n });
  });
});

describe('the size limit announced in Connected', () => {
  const h = new Harness();
  afterEach(() => h.cleanup());

  test('a publish, request or event over maxPayload is refused with too_large naming the limit; the connection stays', T, async () => {
    const { rt, url } = await h.server({ authorize: { publish: () => true }, websocket: { maxPayload: 1000 } });
    rt.handle('echo', (d) => d);
    const c = await h.connected(url);
    assert.equal(c.maxPayload, 1000);
    const states: string[] = [];
    c.onState((s) => states.push(s.state));
    const big = 'x'.repeat(1000);
    assert.ok(isTooLarge(1000)(await rejection(c.publish('t', big), 1000, 'big publish')));
    assert.ok(isTooLarge(1000)(await rejection(c.request('echo', big), 1000, 'big request')));
    assert.throws(() => c.emit('note', big), isTooLarge(1000));
    // UTF-8 bytes count, not characters: 300 euro signs are 900 bytes.
    assert.ok(isTooLarge(1000)(await rejection(c.request('echo', '€'.repeat(330)), 1000, 'multi-byte request')));
    assert.equal(await within(c.request('echo', '€'.repeat(300)), 3000, 'a request under the limit'), '€'.repeat(300));
    await sleep(50);
    assert.deepEqual(states, [], 'never disconnected (no 1009)');
    assert.equal(c.state, 'connected');
  });

  test('a message queued before the limit was known is refused when Connected announces it, not sent', T, async () => {
    const { rt, url } = await h.server({ websocket: { maxPayload: 2000 } });
    rt.handle('echo', (d) => d);
    const c = h.client(url, { autoConnect: false });
    const big = c.request('echo', 'y'.repeat(5000));
    const small = c.request('echo', 'small');
    const errors: Error[] = [];
    c.onError((e) => errors.push(e));
    c.emit('note', 'z'.repeat(5000));
    c.connect();
    assert.ok(isTooLarge(2000)(await rejection(big, 3000, 'queued big request')));
    assert.equal(await within(small, 3000, 'queued small request'), 'small');
    assert.equal(errors.length, 1, 'the queued event is reported through onError');
    assert.ok(isTooLarge(2000)(errors[0]));
    assert.equal(c.state, 'connected');
  });
});

describe('server URLs', () => {
  test('a malformed URL or a wrong scheme throws a SyntaxError at once, as WebSocket does', () => {
    for (const url of ['not a url', 'ftp://127.0.0.1/', 'ws://127.0.0.1/#frag', '/relative']) {
      assert.throws(() => new RealtimeClient(url, { autoConnect: false }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError', url);
    }
    assert.throws(() => new RealtimeClient(['ws://127.0.0.1:1/', 'bad url'], { autoConnect: false }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    assert.throws(() => new RealtimeClient([], { autoConnect: false }), /^TypeError: url must be/);
    assert.throws(() => new RealtimeClient(42 as never, { autoConnect: false }), TypeError);
    const c = new RealtimeClient('http://127.0.0.1:1/rt', { autoConnect: false });
    assert.equal(c.url, 'ws://127.0.0.1:1/rt', 'http is taken as ws');
    // With a WebSocket class of the application's, any scheme it may know passes; a malformed URL does not.
    const Custom = class {} as unknown as WebSocketConstructor;
    assert.equal(new RealtimeClient('ws+unix:/tmp/s.sock:/', { autoConnect: false, WebSocket: Custom }).url, 'ws+unix:/tmp/s.sock:/');
    assert.throws(() => new RealtimeClient('not a url', { autoConnect: false, WebSocket: Custom }), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
  });
});
