import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer, startRawServer, TLS_CERT, TLS_KEY } from '../helpers.js';
import { WebSocket, CloseEvent, type UpgradeRequest } from '../../src/index.js';
import type { HttpHead } from '../../src/protocol/index.js';
import { finish, openClient, record } from './util.js';

test('headers and origin reach the server (verify hook)', async () => {
  let seen: UpgradeRequest | undefined;
  const { server, url } = await startEchoServer({
    verify(req) {
      seen = req;
      return req.headers['authorization'] === 'Bearer t0ken';
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url, undefined, { headers: { Authorization: 'Bearer t0ken', 'X-Custom': 'yes' }, origin: 'https://app.example' });
    assert.equal(seen!.headers['x-custom'], 'yes');
    assert.equal(seen!.origin, 'https://app.example');
    assert.equal(seen!.headers['origin'], 'https://app.example');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('the request as a raw server sees it: path, Host, headers, no Origin by default', async () => {
  const heads: HttpHead[] = [];
  const raw = await startRawServer(() => {}, (req) => {
    heads.push(req);
    return undefined;
  });
  let a: WebSocket | undefined;
  let b: WebSocket | undefined;
  try {
    a = await openClient(`${raw.url}room/1?x=y`, ['p1', 'p2'], { headers: { Cookie: 'a=b' }, origin: 'http://o.example' });
    b = await openClient(raw.url);
    assert.equal(heads.length, 2);
    const [h1, h2] = heads as [HttpHead, HttpHead];
    assert.deepEqual(h1.start.slice(0, 2), ['GET', '/room/1?x=y']);
    assert.equal(h1.headers['host'], `127.0.0.1:${raw.port}`);
    assert.equal(h1.headers['cookie'], 'a=b');
    assert.equal(h1.headers['origin'], 'http://o.example');
    assert.equal(h1.headers['sec-websocket-protocol'], 'p1, p2');
    assert.equal(h1.headers['sec-websocket-version'], '13');
    assert.equal(h2.headers['origin'], undefined);
    assert.equal(h2.headers['sec-websocket-protocol'], undefined);
    assert.notEqual(h1.headers['sec-websocket-key'], h2.headers['sec-websocket-key']);
  } finally {
    await finish(a);
    await finish(b);
    await raw.close();
  }
});

test('bad options throw a TypeError naming the option', () => {
  const url = 'ws://127.0.0.1:1/';
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ handshakeTimeout: -1 }, 'handshakeTimeout'],
    [{ handshakeTimeout: 1.5 }, 'handshakeTimeout'],
    [{ handshakeTimeout: '100' }, 'handshakeTimeout'],
    [{ headers: 5 }, 'headers'],
    [{ headers: null }, 'headers'],
    [{ headers: { a: 1 } }, 'headers'],
    [{ headers: { 'x-a': 'b\r\nInjected: 1' } }, 'headers'],
    [{ origin: 7 }, 'origin'],
    [{ bogus: true }, 'bogus'],
    [{ maxPayload: 0 }, 'maxPayload'],
    [{ maxPayload: NaN }, 'maxPayload'],
    [{ closeTimeout: 0 }, 'closeTimeout'],
    [{ tls: 'yes' }, 'tls'],
    [{ rejectUnauthorized: 'no' }, 'rejectUnauthorized'],
    [{ perMessageDeflate: 'on' }, 'perMessageDeflate'],
  ];
  for (const [opts, name] of cases) {
    assert.throws(
      () => new WebSocket(url, undefined, opts as never),
      (err: unknown) => err instanceof TypeError && err.message.includes(name),
      `${JSON.stringify(opts)} should name ${name}`,
    );
  }
  // A third argument that is not a plain object is not Node options: ignored, as browsers ignore extra arguments.
  const ws = new WebSocket(url, [], 5 as never);
  ws.onerror = () => {};
  ws.close();
});

test('wss:// against a Tether TLS server with the ca option', async () => {
  let secure: boolean | undefined;
  const { server, port } = await startEchoServer({
    tls: { key: TLS_KEY, cert: TLS_CERT },
    verify(req) {
      secure = req.secure;
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(`wss://127.0.0.1:${port}/`, undefined, { ca: TLS_CERT });
    assert.equal(secure, true);
    const got = new Promise<MessageEvent>((resolve) => (ws!.onmessage = resolve));
    ws.send('over tls');
    assert.equal((await got).data, 'over tls');
    const { log, closed } = record(ws);
    ws.close(1000);
    await closed;
    assert.equal((log.at(-1)!.event as CloseEvent).wasClean, true);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('wss:// with tls: { ca } and with rejectUnauthorized: false also connect', async () => {
  const { server, port } = await startEchoServer({ tls: { key: TLS_KEY, cert: TLS_CERT } });
  let a: WebSocket | undefined;
  let b: WebSocket | undefined;
  try {
    a = await openClient(`wss://127.0.0.1:${port}/`, undefined, { tls: { ca: TLS_CERT } });
    b = await openClient(`wss://127.0.0.1:${port}/`, undefined, { rejectUnauthorized: false });
    assert.equal(a.readyState, WebSocket.OPEN);
    assert.equal(b.readyState, WebSocket.OPEN);
  } finally {
    await finish(a);
    await finish(b);
    await server.close();
  }
});

test('wss:// without ca: the self-signed certificate is rejected, error then close 1006', async () => {
  let opened = 0;
  const { server, port } = await startEchoServer({ tls: { key: TLS_KEY, cert: TLS_CERT }, open: () => opened++ });
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`);
  try {
    const { log, closed } = record(ws);
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
    const ev = log[1]!.event as CloseEvent;
    assert.equal(ev.code, 1006);
    assert.equal(ev.wasClean, false);
    assert.equal(opened, 0);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('ws:// against a TLS server fails rather than hangs', async () => {
  const { server, port } = await startEchoServer({ tls: { key: TLS_KEY, cert: TLS_CERT } });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, undefined, { handshakeTimeout: 1000 });
  try {
    const { log, closed } = record(ws);
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
    assert.equal((log[1]!.event as CloseEvent).code, 1006);
  } finally {
    await finish(ws);
    await server.close();
  }
});
