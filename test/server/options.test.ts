import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';
import { RawPeer } from '../helpers.js';
import { sleep, startServer } from './util.js';

function throwsNaming(options: unknown, name: string): void {
  assert.throws(
    () => new WebSocketServer(options as ServerOptions),
    (err: unknown) => {
      assert.ok(err instanceof TypeError, `expected a TypeError for ${JSON.stringify(options)}, got ${String(err)}`);
      assert.ok(err.message.includes(name), `message "${err.message}" names ${name}`);
      return true;
    },
  );
}

test('bad option values throw a TypeError naming the option', () => {
  throwsNaming({ maxPayload: -1 }, 'maxPayload');
  throwsNaming({ maxPayload: 0 }, 'maxPayload');
  throwsNaming({ maxPayload: 1.5 }, 'maxPayload');
  throwsNaming({ maxBackpressure: NaN }, 'maxBackpressure');
  throwsNaming({ backpressurePolicy: 'x' }, 'backpressurePolicy');
  throwsNaming({ heartbeatInterval: 'a' }, 'heartbeatInterval');
  throwsNaming({ idleTimeout: -5 }, 'idleTimeout');
  throwsNaming({ handshakeTimeout: 0 }, 'handshakeTimeout');
  throwsNaming({ closeTimeout: '1000' }, 'closeTimeout');
  throwsNaming({ maxHeaderSize: 10 }, 'maxHeaderSize');
  throwsNaming({ maxConnections: 0 }, 'maxConnections');
  throwsNaming({ foo: 1 }, 'foo');
  throwsNaming({ origins: 5 }, 'origins');
  throwsNaming({ origins: ['a', 5] }, 'origins');
  throwsNaming({ protocols: 'chat' }, 'protocols');
  throwsNaming({ message: 'not a function' }, 'message');
  throwsNaming({ verify: {} }, 'verify');
  throwsNaming({ selectProtocol: 1 }, 'selectProtocol');
  throwsNaming({ port: 70000 }, 'port');
  throwsNaming({ port: -1 }, 'port');
  throwsNaming({ host: 127 }, 'host');
  throwsNaming({ tls: 'yes' }, 'tls');
  throwsNaming({ path: 'chat' }, 'path');
  throwsNaming({ path: 42 as unknown as string }, 'path');
});

test('options must be an object', () => {
  assert.throws(() => new WebSocketServer(5 as unknown as ServerOptions), TypeError);
  assert.throws(() => new WebSocketServer(null as unknown as ServerOptions), TypeError);
});

test('timer options beyond what a Node timer can hold are refused, not turned into 1 ms timers', () => {
  // setTimeout/setInterval treat anything above 2^31-1 ms (Infinity included) as 1 ms.
  for (const name of ['heartbeatInterval', 'idleTimeout', 'handshakeTimeout', 'closeTimeout']) {
    throwsNaming({ [name]: Infinity }, name);
    throwsNaming({ [name]: 2 ** 31 }, name);
  }
  // The largest valid timer value is accepted.
  const s = new WebSocketServer({ heartbeatInterval: 2 ** 31 - 1, idleTimeout: 2 ** 31 - 1, handshakeTimeout: 2 ** 31 - 1, closeTimeout: 2 ** 31 - 1 });
  void s.close({ timeout: 0 });
});

test('valid options are accepted, and defaults are sane', async () => {
  const s = new WebSocketServer();
  assert.equal(s.options.maxPayload, 64 * 1024 * 1024);
  assert.equal(s.options.maxBackpressure, 1024 * 1024);
  assert.equal(s.options.heartbeatInterval, 30_000);
  assert.equal(s.options.idleTimeout, 0);
  assert.equal(s.options.handshakeTimeout, 10_000);
  assert.equal(s.options.closeTimeout, 5_000);
  assert.equal(s.options.maxHeaderSize, 16 * 1024);
  assert.equal(s.options.maxConnections, Infinity);
  assert.equal(s.listening, null, 'no listener without port');
  await s.close({ timeout: 0 });

  const t = new WebSocketServer({
    maxPayload: 10,
    maxBackpressure: 100,
    backpressurePolicy: 'drop',
    heartbeatInterval: 0,
    idleTimeout: 1000,
    origins: (o) => o.endsWith('.example'),
    protocols: ['a'],
    path: '/x',
    maxConnections: Infinity,
  });
  assert.equal(t.options.dropOnBackpressure, true);
  assert.equal(t.options.path, '/x');
  await t.close({ timeout: 0 });
});

test('the port option starts a standalone listener; `listening` resolves with its address', async () => {
  const s = new WebSocketServer({ port: 0, host: '127.0.0.1', heartbeatInterval: 0 });
  try {
    const addr = await s.listening!;
    assert.equal(addr.address, '127.0.0.1');
    assert.ok(addr.port > 0);
    assert.deepEqual(s.address(), addr);
    assert.throws(() => s.listen(0), /already listening/);
    const peer = await RawPeer.connect(addr.port);
    peer.destroy();
  } finally {
    await s.close({ timeout: 100 });
  }
});

test('close() validates its timeout', async () => {
  const s = new WebSocketServer();
  await assert.rejects(s.close({ timeout: -1 }), TypeError);
  await s.close({ timeout: 0 });
});

test('a very large handshakeTimeout does not drop handshakes at once', async () => {
  // Guard for the same 32-bit timer overflow, through behaviour: the largest valid value.
  const { server, port } = await startServer({ handshakeTimeout: 2 ** 31 - 1, closeTimeout: 2 ** 31 - 1 });
  try {
    const peer = await RawPeer.connect(port);
    await sleep(100);
    assert.equal(peer.isClosed, false);
    peer.destroy();
  } finally {
    await server.close({ timeout: 100 });
  }
});
