import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, startEchoServer, startRawServer } from '../helpers.js';
import { WebSocket, CloseEvent, ErrorEvent, type ServerSocket } from '../../src/index.js';
import { finish, freePort, openClient, record } from './util.js';

function assertFailed(log: ReturnType<typeof record>['log']): void {
  assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
  assert.ok(log[0]!.event instanceof ErrorEvent || log[0]!.event instanceof Event);
  const ev = log[1]!.event as CloseEvent;
  assert.ok(ev instanceof CloseEvent);
  assert.equal(ev.code, 1006);
  assert.equal(ev.reason, '');
  assert.equal(ev.wasClean, false);
  assert.equal(log[1]!.readyState, WebSocket.CLOSED);
}

test('connection refused: error then close 1006, wasClean false, no open', async () => {
  const port = await freePort();
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  try {
    const { log, closed } = record(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    await closed;
    assertFailed(log);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  } finally {
    await finish(ws);
  }
});

test('HTTP 403 from verify returning false: error then close 1006', async () => {
  let asked = 0;
  const { server, url } = await startEchoServer({
    verify() {
      asked++;
      return false;
    },
  });
  const ws = new WebSocket(url);
  try {
    const { log, closed } = record(ws);
    await closed;
    assert.equal(asked, 1);
    assertFailed(log);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('HTTP 403 from verify returning an object: error then close 1006', async () => {
  const { server, url } = await startEchoServer({ verify: async () => ({ status: 403, message: 'go away' }) });
  const ws = new WebSocket(url);
  try {
    const { log, closed } = record(ws);
    await closed;
    assertFailed(log);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('a raw server answering 200 OK, or 101 with a wrong accept key, fails the connection', async () => {
  for (const response of [
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
  ]) {
    const raw = await startRawServer(() => {}, () => response);
    const ws = new WebSocket(raw.url);
    try {
      const { log, closed } = record(ws);
      await closed;
      assertFailed(log);
    } finally {
      await finish(ws);
      await raw.close();
    }
  }
});

test('a server choosing a subprotocol the client did not offer fails the connection', async () => {
  const { acceptKey } = await import('../../src/protocol/index.js');
  const raw = await startRawServer(
    () => {},
    (req) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key']!)}\r\nSec-WebSocket-Protocol: other\r\n\r\n`,
  );
  const ws = new WebSocket(raw.url, ['chat']);
  try {
    const { log, closed } = record(ws);
    await closed;
    assertFailed(log);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('handshakeTimeout: a server that never answers fails the connection in time', async () => {
  let connected = 0;
  const raw = await startRawServer(() => connected++, () => '');
  const ws = new WebSocket(raw.url, undefined, { handshakeTimeout: 200 });
  try {
    const t0 = Date.now();
    const { log, closed } = record(ws);
    await closed;
    const elapsed = Date.now() - t0;
    assert.equal(connected, 1, 'the request reached the server');
    assert.ok(elapsed >= 150 && elapsed < 2000, `failed after ${elapsed} ms`);
    assertFailed(log);
    assert.match((log[0]!.event as ErrorEvent).message, /timed out/);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('server drops TCP without a close frame (raw): error then close 1006', async () => {
  const raw = await startRawServer((socket) => {
    socket.on('data', () => socket.destroy());
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { log, closed } = record(ws);
    ws.send('trigger');
    await closed;
    assertFailed(log);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('server drops TCP without a close frame (Tether terminate()): error then close 1006', async () => {
  const { server, url } = await startEchoServer({ message: (ws: ServerSocket) => ws.terminate() });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const { log, closed } = record(ws);
    ws.send('trigger');
    await closed;
    assertFailed(log);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('maxPayload: a larger message from the server fails the connection with 1009 sent', async () => {
  const received: Buffer[] = [];
  const raw = await startRawServer((socket) => {
    socket.on('data', (c: Buffer) => received.push(c));
    socket.write(frame(2, new Uint8Array(11), { mask: false }));
  });
  const ws = new WebSocket(raw.url, undefined, { maxPayload: 10, closeTimeout: 300 });
  try {
    const { log, closed } = record(ws);
    await closed;
    assert.deepEqual(log.map((e) => e.type), ['open', 'error', 'close']);
    const ev = log[2]!.event as CloseEvent;
    assert.equal(ev.code, 1006);
    assert.equal(ev.wasClean, false);
    const { parseFrames } = await import('../helpers.js');
    const frames = parseFrames(Buffer.concat(received)).frames;
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, 8);
    assert.equal(frames[0]!.payload.readUInt16BE(0), 1009);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('a server message of exactly maxPayload bytes is accepted', async () => {
  const raw = await startRawServer((socket) => {
    socket.write(frame(2, new Uint8Array(10).fill(5), { mask: false }));
  });
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(raw.url, undefined, { maxPayload: 10 });
    ws.binaryType = 'arraybuffer';
    const got = await new Promise<MessageEvent>((resolve, reject) => {
      ws!.onmessage = resolve;
      ws!.onclose = () => reject(new Error('closed'));
      setTimeout(() => reject(new Error('timed out')), 3000);
    });
    assert.deepEqual([...new Uint8Array(got.data as ArrayBuffer)], new Array(10).fill(5));
    ws.onclose = null;
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('a response head with LF-only line endings fails the connection at once, not at the handshake timeout', async () => {
  const { acceptKey } = await import('../../src/protocol/index.js');
  const raw = await startRawServer(
    () => {},
    (req) => `HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key']!)}\n\n`,
  );
  const ws = new WebSocket(raw.url, undefined, { handshakeTimeout: 30_000 });
  try {
    const { log, closed } = record(ws);
    const t0 = Date.now();
    await closed;
    assert.ok(Date.now() - t0 < 10_000, 'failed before the handshake timeout');
    assertFailed(log);
  } finally {
    await finish(ws);
    await raw.close();
  }
});
