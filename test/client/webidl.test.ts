/**
 * The WHATWG WebSocket API's argument conversions (WebIDL), as web-platform-tests check them
 * and browsers behave: send() converts what is not bytes to a string, extra constructor
 * arguments are ignored, subprotocols compare case-insensitively, URL credentials become
 * Basic authentication, and close() while connecting reports asynchronously.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../helpers.js';
import { WebSocket, WebSocketServer, type ServerSocket, type UpgradeRequest } from '../../src/index.js';
import { finish, isDomException, nextEvent, openClient, record, startCaptureServer } from './util.js';

test('send() converts values that are not bytes to strings, as WebIDL and browsers do', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const sock = ws as unknown as { send(v: unknown): void; bufferedAmount: number };
    const values: Array<[unknown, string]> = [
      [null, 'null'],
      [undefined, 'undefined'],
      [42, '42'],
      [-0.5, '-0.5'],
      [true, 'true'],
      [{}, '[object Object]'],
      [{ toString: () => 'custom' }, 'custom'],
      [[1, 2], '1,2'],
      [10n, '10'],
    ];
    for (const [v] of values) sock.send(v);
    const frames = await raw.waitFrames(values.length);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      values.map(([, text]) => [1, text]),
    );
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('a refused send changes nothing: a Symbol or no argument is a TypeError, bufferedAmount stays a number', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const sock = ws as unknown as { send(...v: unknown[]): void; bufferedAmount: number };
    assert.throws(() => sock.send(Symbol('x')), TypeError);
    assert.throws(() => sock.send(), (err: unknown) => err instanceof TypeError && /1 argument required/.test(String(err)));
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.send('after');
    const frames = await raw.waitFrames(1);
    assert.deepEqual(frames.map((f) => f.payload.toString()), ['after']);
    assert.ok(Number.isFinite(ws.bufferedAmount));
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('send() converts its argument before checking the state (WebIDL order): a Symbol while connecting is a TypeError', async () => {
  const { server, url } = await startEchoServer();
  const ws = new WebSocket(url);
  try {
    const sock = ws as unknown as { send(v: unknown): void };
    assert.throws(() => sock.send(Symbol('x')), TypeError);
    assert.throws(() => sock.send(null), isDomException('InvalidStateError'));
    assert.equal(ws.bufferedAmount, 0);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('extra constructor arguments are ignored; a plain options object is still used and checked', async () => {
  let seen: UpgradeRequest | undefined;
  const { server, url } = await startEchoServer({
    verify(req) {
      seen = req;
      return true;
    },
  });
  const Ctor = WebSocket as unknown as new (...args: unknown[]) => WebSocket;
  const opened: WebSocket[] = [];
  try {
    for (const stray of ['Stray argument', 42, null, [], () => {}, new Map()]) {
      const ws = new Ctor(url, 'echo', stray, 'and another');
      assert.ok(ws instanceof WebSocket);
      opened.push(ws);
    }
    assert.throws(() => new Ctor(url, [], { nope: 1 }), (err: unknown) => err instanceof TypeError && /unknown option nope/.test(String(err)));
    const ws = await openClient(url, undefined, { headers: { 'X-Used': 'yes' } });
    opened.push(ws);
    assert.equal(seen!.headers['x-used'], 'yes');
  } finally {
    await Promise.all(opened.map((ws) => finish(ws)));
    await server.close();
  }
});

test('subprotocols: repeats that differ only in ASCII case throw SyntaxError; non-strings are converted', async () => {
  const url = 'ws://127.0.0.1:1/';
  assert.throws(() => new WebSocket(url, ['chat', 'CHAT']), isDomException('SyntaxError'));
  assert.throws(() => new WebSocket(url, ['a', 'b', 'B']), isDomException('SyntaxError'));
  const Ctor = WebSocket as unknown as new (...args: unknown[]) => WebSocket;
  assert.throws(() => new Ctor(url, Symbol('p')), TypeError);
  assert.throws(() => new Ctor(url, {}), isDomException('SyntaxError'), '"[object Object]" is not a token');
  // null converts to the token "null" (as in browsers); an iterable is a list.
  let offered: string[] | undefined;
  const { server, url: echo } = await startEchoServer({
    verify(req) {
      offered = req.protocols;
      return true;
    },
  });
  const sockets: WebSocket[] = [];
  try {
    sockets.push(new Ctor(echo, null));
    await nextEvent(sockets[0]!, 'open');
    assert.deepEqual(offered, ['null']);
    sockets.push(new Ctor(echo, new Set(['x', 'y'])));
    await nextEvent(sockets[1]!, 'open');
    assert.deepEqual(offered, ['x', 'y']);
  } finally {
    await Promise.all(sockets.map((ws) => finish(ws)));
    await server.close();
  }
});

test('credentials in the URL are sent as Authorization: Basic (percent-decoded); an explicit header wins', async () => {
  const seen: Array<string | undefined> = [];
  const { server, port } = await startEchoServer({
    verify(req) {
      seen.push(req.headers['authorization'] as string | undefined);
      return true;
    },
  });
  const sockets: WebSocket[] = [];
  try {
    const ws = await openClient(`ws://foo:bar@127.0.0.1:${port}/`);
    sockets.push(ws);
    assert.equal(seen[0], `Basic ${Buffer.from('foo:bar').toString('base64')}`);
    assert.equal(ws.url, `ws://foo:bar@127.0.0.1:${port}/`);
    sockets.push(await openClient(`ws://us%20er:p%C3%A9ss@127.0.0.1:${port}/`));
    assert.equal(seen[1], `Basic ${Buffer.from('us er:péss').toString('base64')}`);
    sockets.push(await openClient(`ws://only@127.0.0.1:${port}/`));
    assert.equal(seen[2], `Basic ${Buffer.from('only:').toString('base64')}`);
    sockets.push(await openClient(`ws://foo:bar@127.0.0.1:${port}/`, undefined, { headers: { authorization: 'Bearer mine' } }));
    assert.equal(seen[3], 'Bearer mine');
    sockets.push(await openClient(`ws://127.0.0.1:${port}/`));
    assert.equal(seen[4], undefined);
  } finally {
    await Promise.all(sockets.map((ws) => finish(ws)));
    await server.close();
  }
});

test('relative URLs: resolved against location when there is one, otherwise a SyntaxError that says why', async () => {
  assert.throws(() => new WebSocket('/chat'), (err: unknown) => err instanceof DOMException && err.name === 'SyntaxError' && /relative URL needs a base/.test(err.message));
  const { server, port } = await startEchoServer();
  const g = globalThis as { location?: unknown };
  const had = Object.prototype.hasOwnProperty.call(g, 'location');
  const before = g.location;
  g.location = { href: `http://127.0.0.1:${port}/app/page.html` };
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket('socket?x=1');
    assert.equal(ws.url, `ws://127.0.0.1:${port}/app/socket?x=1`);
    await nextEvent(ws, 'open');
  } finally {
    if (had) g.location = before;
    else delete g.location;
    await finish(ws);
    await server.close();
  }
});

test('close() while connecting: CLOSING at once, then error and close (1006, not clean) asynchronously', async () => {
  const { server, url } = await startEchoServer();
  try {
    const ws = new WebSocket(url);
    const { log, closed } = record(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.equal(log.length, 0, 'nothing is dispatched from inside close()');
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
    const close = log[1]!.event as Event & { code: number; wasClean: boolean };
    assert.equal(close.code, 1006);
    assert.equal(close.wasClean, false);
    assert.equal(log[1]!.readyState, WebSocket.CLOSED);
  } finally {
    await server.close();
  }
});

test('server ws.send(null / undefined / a number / an object) throws a TypeError naming data; the connection stays usable', async () => {
  const errors: unknown[] = [];
  const server = new WebSocketServer({
    message(ws: ServerSocket, data) {
      const s = ws as unknown as { send(v: unknown): unknown };
      for (const v of [null, undefined, 42, { a: 1 }]) {
        try {
          s.send(v);
        } catch (err) {
          errors.push(err);
        }
      }
      ws.send(data);
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(`ws://127.0.0.1:${port}/`);
    ws.send('ping');
    const reply = await nextEvent<MessageEvent>(ws, 'message');
    assert.equal(reply.data, 'ping');
    assert.equal(errors.length, 4);
    for (const err of errors) assert.ok(err instanceof TypeError && /^send: data must be a string/.test(err.message), String(err));
    assert.match(String(errors[0]), /got null$/);
    assert.match(String(errors[1]), /got undefined$/);
  } finally {
    await finish(ws);
    await server.close();
  }
});
