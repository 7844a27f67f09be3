import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../helpers.js';
import { WebSocket, CloseEvent } from '../../src/index.js';
import { finish, freePort, isDomException, nextEvent, openClient, record } from './util.js';

test('constants exist statically and on instances', async () => {
  assert.equal(WebSocket.CONNECTING, 0);
  assert.equal(WebSocket.OPEN, 1);
  assert.equal(WebSocket.CLOSING, 2);
  assert.equal(WebSocket.CLOSED, 3);
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(url);
    assert.equal(ws.CONNECTING, 0);
    assert.equal(ws.OPEN, 1);
    assert.equal(ws.CLOSING, 2);
    assert.equal(ws.CLOSED, 3);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('readyState: CONNECTING, OPEN in onopen, CLOSING after close(), CLOSED in onclose', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(url);
    const sock = ws;
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    const states: Array<[string, number]> = [];
    const closed = nextEvent<CloseEvent>(ws, 'close');
    ws.onopen = () => {
      states.push(['open', sock.readyState]);
      sock.close();
      states.push(['after close()', sock.readyState]);
    };
    ws.onclose = () => states.push(['close', sock.readyState]);
    const ev = await closed;
    assert.deepEqual(states, [['open', 1], ['after close()', 2], ['close', 3]]);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.ok(ev instanceof CloseEvent);
    assert.equal(ev.code, 1005, 'close() without a code sends a close frame without one; the server echoes none');
    assert.equal(ev.wasClean, true);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test("URL: 'http://' becomes 'ws://' and the connection works", async () => {
  const { server, port } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(`http://127.0.0.1:${port}/path?q=1`);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/path?q=1`);
    const got = nextEvent<MessageEvent>(ws, 'message');
    ws.send('hi');
    assert.equal((await got).data, 'hi');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test("URL: 'https://' becomes 'wss://'", async () => {
  const port = await freePort();
  const ws = new WebSocket(`https://127.0.0.1:${port}/x`);
  const { closed } = record(ws);
  try {
    assert.equal(ws.url, `wss://127.0.0.1:${port}/x`);
  } finally {
    await closed;
  }
});

test('URL: a URL without a path gets "/"', async () => {
  const port = await freePort();
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const { closed } = record(ws);
  try {
    assert.equal(ws.url, `ws://127.0.0.1:${port}/`);
  } finally {
    await closed;
  }
});

test('URL: invalid URLs, other schemes and fragments throw SyntaxError', () => {
  for (const bad of ['not a url', '', 'ftp://x', 'file:///tmp/x', 'ws://127.0.0.1:1/#frag', 'ws://127.0.0.1:1/#', 'http://127.0.0.1:1/a#b']) {
    assert.throws(() => new WebSocket(bad), isDomException('SyntaxError'), bad);
  }
});

test('subprotocols: invalid or repeated values throw SyntaxError', () => {
  const url = 'ws://127.0.0.1:1/';
  for (const bad of ['', 'a b', 'a,b', 'chat\r\n', 'é', '(x)']) {
    assert.throws(() => new WebSocket(url, bad), isDomException('SyntaxError'), JSON.stringify(bad));
    assert.throws(() => new WebSocket(url, ['ok', bad]), isDomException('SyntaxError'), JSON.stringify(bad));
  }
  assert.throws(() => new WebSocket(url, ['chat', 'chat']), isDomException('SyntaxError'));
  assert.throws(() => new WebSocket(url, ['a', 'b', 'a']), isDomException('SyntaxError'));
});

test('subprotocols: a single string protocol is offered and selected', async () => {
  let offered: string[] | undefined;
  const { server, url } = await startEchoServer({
    protocols: ['chat'],
    verify(req) {
      offered = req.protocols;
      return true;
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url, 'chat');
    assert.deepEqual(offered, ['chat']);
    assert.equal(ws.protocol, 'chat');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('subprotocols: a list is offered in order and the server choice is reported', async () => {
  let offered: string[] | undefined;
  const { server, url } = await startEchoServer({
    protocols: ['v2', 'v1'],
    verify(req) {
      offered = req.protocols;
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url, ['v1', 'v2']);
    assert.deepEqual(offered, ['v1', 'v2']);
    assert.equal(ws.protocol, 'v2');
  } finally {
    await finish(ws);
    await server.close();
  }
});
