import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, startEchoServer } from '../helpers.js';
import { WebSocket, CloseEvent, type ServerSocket } from '../../src/index.js';
import { finish, nextEvent, openClient, record, startCaptureServer, until } from './util.js';

test('onmessage and addEventListener both fire, in registration order', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const sock = ws;
    const calls: string[] = [];
    ws.addEventListener('message', () => calls.push('A'));
    ws.onmessage = function (this: WebSocket, ev: MessageEvent) {
      assert.equal(this, sock, 'handlers are called with this = the socket');
      assert.equal(ev.target, sock);
      calls.push('B');
    };
    ws.addEventListener('message', () => calls.push('C'));
    // Replacing the handler keeps its place in the list.
    ws.onmessage = () => calls.push('B2');
    const got = nextEvent(ws, 'message');
    ws.send('one');
    await got;
    assert.deepEqual(calls, ['A', 'B2', 'C']);
    assert.equal(typeof ws.onmessage, 'function');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('setting onmessage = null removes it; removeEventListener works', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const calls: string[] = [];
    const listener = () => calls.push('listener');
    ws.onmessage = () => calls.push('handler');
    ws.addEventListener('message', listener);
    ws.addEventListener('message', () => calls.push('last'));
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    ws.removeEventListener('message', listener);
    const got = nextEvent(ws, 'message');
    ws.send('x');
    await got;
    assert.deepEqual(calls, ['last']);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('a handler set to null and set again is added at the end of the list (as in browsers)', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const calls: string[] = [];
    ws.addEventListener('message', () => calls.push('A'));
    ws.onmessage = () => calls.push('B');
    ws.onmessage = null;
    ws.addEventListener('message', () => calls.push('C'));
    ws.onmessage = () => calls.push('D');
    const got = nextEvent(ws, 'message');
    ws.send('x');
    await got;
    assert.deepEqual(calls, ['A', 'C', 'D']);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('onopen/onerror/onclose and listeners all fire for open and close', async () => {
  const { server, url } = await startEchoServer();
  const ws = new WebSocket(url);
  try {
    const calls: string[] = [];
    ws.onopen = () => calls.push('onopen');
    ws.addEventListener('open', () => calls.push('open listener'));
    ws.addEventListener('open', () => ws.close(1000));
    ws.addEventListener('close', () => calls.push('close listener'));
    ws.onclose = () => calls.push('onclose');
    ws.onerror = () => calls.push('onerror');
    await nextEvent(ws, 'close');
    assert.deepEqual(calls, ['onopen', 'open listener', 'close listener', 'onclose']);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('MessageEvent carries data and origin "ws://127.0.0.1:port"', async () => {
  const { server, url, port } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(`${url}some/path?x=1`);
    const got = nextEvent<MessageEvent>(ws, 'message');
    ws.send('hello ✓');
    const ev = await got;
    assert.ok(ev instanceof MessageEvent);
    assert.equal(ev.type, 'message');
    assert.equal(ev.data, 'hello ✓');
    assert.equal(ev.origin, `ws://127.0.0.1:${port}`);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('client-initiated close(1000): CloseEvent code 1000, wasClean, no error event', async () => {
  let serverSaw: [number, string] | undefined;
  const { server, url } = await startEchoServer({ close: (_ws, code, reason) => (serverSaw = [code, reason]) });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const { log, closed } = record(ws);
    ws.close(1000);
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['close']);
    const ev = log[0]!.event as CloseEvent;
    assert.ok(ev instanceof CloseEvent);
    assert.equal(ev.code, 1000);
    assert.equal(ev.reason, '');
    assert.equal(ev.wasClean, true);
    await until(() => serverSaw !== undefined, 2000, 'server close handler');
    assert.deepEqual(serverSaw, [1000, '']);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('client-initiated close(4000, reason): the server gets both, the CloseEvent reports its reply', async () => {
  let serverSaw: [number, string] | undefined;
  const { server, url } = await startEchoServer({ close: (_ws, code, reason) => (serverSaw = [code, reason]) });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const { log, closed } = record(ws);
    ws.close(4000, 'done ✓');
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['close']);
    const ev = log[0]!.event as CloseEvent;
    assert.equal(ev.code, 4000);
    assert.equal(ev.wasClean, true);
    await until(() => serverSaw !== undefined, 2000, 'server close handler');
    assert.deepEqual(serverSaw, [4000, 'done ✓']);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test("close(4000, reason): CloseEvent code and reason come from the server's close frame", async () => {
  const raw = await startCaptureServer({ closeReply: () => Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('server says bye')]) });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { log, closed } = record(ws);
    ws.close(4000, 'client reason');
    await closed;
    const sent = raw.frames.find((f) => f.opcode === 8)!;
    assert.equal(sent.payload.readUInt16BE(0), 4000);
    assert.equal(sent.payload.subarray(2).toString(), 'client reason');
    const ev = log.at(-1)!.event as CloseEvent;
    assert.equal(ev.code, 4001);
    assert.equal(ev.reason, 'server says bye');
    assert.equal(ev.wasClean, true);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test("server-initiated close (ws.close(4001, 'bye') in a handler): code, reason, wasClean", async () => {
  const { server, url } = await startEchoServer({
    message(ws: ServerSocket) {
      ws.close(4001, 'bye');
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const { log, closed } = record(ws);
    ws.send('close me');
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['close'], 'a clean close fires no error');
    const ev = log[0]!.event as CloseEvent;
    assert.equal(ev.code, 4001);
    assert.equal(ev.reason, 'bye');
    assert.equal(ev.wasClean, true);
    assert.equal(log[0]!.readyState, WebSocket.CLOSED);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('messages that arrive after close() was called are not delivered', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { log, closed } = record(ws);
    const socket = raw.sockets[0]!;
    socket.write(frame(1, 'before', { mask: false }));
    await until(() => log.length === 1, 2000, 'first message');
    ws.close(1000);
    // The server has not seen our close yet: it still sends data before its close reply.
    socket.write(frame(1, 'after', { mask: false }));
    await closed;
    assert.deepEqual(log.map((e) => [e.type, (e.event as MessageEvent).data ?? (e.event as CloseEvent).code]), [['message', 'before'], ['close', 1000]]);
  } finally {
    await finish(ws);
    await raw.close();
  }
});
