/**
 * The realtime client with several server URLs (or a function giving the next one): it
 * moves to the next URL after a failed or lost connection, and a draining server's delay
 * hint is honoured on the way to the next one.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { RealtimeClient, type StateChange } from '../../src/realtime/index.js';
import { Harness, waitState, within } from './realtime-harness.js';

const T = { timeout: 20_000 };

/** A loopback port with nothing listening on it (connections are refused). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('failover between server URLs', () => {
  const h = new Harness();
  const clients: RealtimeClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h.cleanup();
  });
  const client = (urls: ConstructorParameters<typeof RealtimeClient>[0], autoConnect = true) => {
    const c = new RealtimeClient(urls, { reconnect: { minDelay: 20, maxDelay: 100 }, requestTimeout: 3000, autoConnect });
    clients.push(c);
    return c;
  };

  test('a URL that refuses connections is skipped for the next one', T, async () => {
    const dead = `ws://127.0.0.1:${await closedPort()}/`;
    const { url } = await h.server();
    const c = client([dead, url]);
    assert.equal(c.url, dead, 'the first attempt goes to the first URL');
    await waitState(c, 'connected', 5000);
    assert.equal(c.url, url);
  });

  test('a draining server sends its clients to the next URL after the delay it asked for', T, async () => {
    const a = await h.server();
    const b = await h.server();
    const c = client([a.url, b.url]);
    await waitState(c, 'connected', 5000);
    assert.equal(c.url, a.url);
    const disconnected = waitState(c, 'disconnected', 5000);
    const drained = a.rt.drain({ minDelay: 300, maxDelay: 400 });
    const change: StateChange = await disconnected;
    assert.equal(change.code, 1012);
    assert.ok(change.delay !== undefined && change.delay >= 300 && change.delay <= 400, `the hint is the delay: ${change.delay}`);
    const started = Date.now();
    await waitState(c, 'connected', 5000);
    assert.ok(Date.now() - started >= 280, 'not before the hint');
    assert.equal(c.url, b.url);
    assert.ok(b.rt.sessions.has(c.sessionId), 'the session is on the second server');
    await within(drained, 5000, 'drain');
  });

  test('a function gives the URL of each attempt; one that gives a bad URL is reported and retried', T, async () => {
    const { url } = await h.server();
    const given = ['not a url', url];
    let calls = 0;
    const c = client(() => given[Math.min(calls++, given.length - 1)]!, false);
    const errors: Error[] = [];
    c.onError((e) => errors.push(e));
    c.connect();
    await waitState(c, 'connected', 5000);
    assert.equal(c.url, url);
    assert.equal(calls, 2);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as DOMException).name, 'SyntaxError');
  });
});
