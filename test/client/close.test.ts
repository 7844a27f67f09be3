import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, startEchoServer, startRawServer } from '../helpers.js';
import { WebSocket, CloseEvent } from '../../src/index.js';
import { finish, isDomException, openClient, record, startCaptureServer } from './util.js';

test('close(): codes other than 1000 and 3000-4999 throw InvalidAccessError', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const sock = ws;
    for (const code of [1001, 1002, 1005, 1006, 1011, 1015, 2000, 2999, 999, 0, 5000, 65535]) {
      assert.throws(() => sock.close(code), isDomException('InvalidAccessError'), String(code));
      assert.throws(() => sock.close(code, 'why'), isDomException('InvalidAccessError'), String(code));
    }
    assert.equal(ws.readyState, WebSocket.OPEN, 'a rejected close() changes nothing');
    const { closed } = record(ws);
    ws.close(4999, 'ok');
    await closed;
    const closes = raw.frames.filter((f) => f.opcode === 8);
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.payload.readUInt16BE(0), 4999);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('close(): a reason over 123 UTF-8 bytes throws SyntaxError; 123 bytes are accepted', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const sock = ws;
    assert.throws(() => sock.close(1000, 'a'.repeat(124)), isDomException('SyntaxError'));
    assert.throws(() => sock.close(3000, '€'.repeat(42)), isDomException('SyntaxError'), '126 bytes in 42 characters');
    assert.throws(() => sock.close(undefined, 'a'.repeat(124)), isDomException('SyntaxError'));
    assert.equal(ws.readyState, WebSocket.OPEN);
    const { closed } = record(ws);
    const reason = '€'.repeat(41); // 123 bytes
    ws.close(3000, reason);
    await closed;
    const f = raw.frames.find((x) => x.opcode === 8)!;
    assert.equal(f.payload.readUInt16BE(0), 3000);
    assert.equal(f.payload.subarray(2).toString(), reason);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('close(undefined, reason) sends code 1000 with the reason', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { closed } = record(ws);
    ws.close(undefined, 'just a reason');
    await closed;
    const f = raw.frames.find((x) => x.opcode === 8)!;
    assert.equal(f.payload.readUInt16BE(0), 1000);
    assert.equal(f.payload.subarray(2).toString(), 'just a reason');
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('close() while CONNECTING: error then close 1006, readyState CLOSING then CLOSED', async () => {
  // A server that accepts TCP but never answers the handshake keeps the client CONNECTING.
  const raw = await startRawServer(() => {}, () => '');
  const ws = new WebSocket(raw.url);
  try {
    const { log, closed } = record(ws);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    ws.close(); // a second close() is a no-op
    ws.close(4000, 'again');
    await closed;
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
    const ev = log[1]!.event as CloseEvent;
    assert.equal(ev.code, 1006);
    assert.equal(ev.wasClean, false);
    assert.equal(log[1]!.readyState, WebSocket.CLOSED);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('close() while CONNECTING against a server that does answer: no open event', async () => {
  const { server, url } = await startEchoServer();
  const ws = new WebSocket(url);
  try {
    const { log, closed } = record(ws);
    ws.close(1000);
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(log.map((e) => e.type), ['error', 'close']);
    assert.equal((log[1]!.event as CloseEvent).code, 1006);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('close() twice is a no-op: one close frame, one close event', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { log, closed } = record(ws);
    ws.close(1000, 'first');
    ws.close(4000, 'second');
    ws.close();
    assert.throws(() => ws!.close(1001), isDomException('InvalidAccessError'), 'arguments are still checked while CLOSING');
    await closed;
    ws.close(4000);
    await new Promise((r) => setTimeout(r, 30));
    const closes = raw.frames.filter((f) => f.opcode === 8);
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.payload.readUInt16BE(0), 1000);
    assert.equal(closes[0]!.payload.subarray(2).toString(), 'first');
    assert.deepEqual(log.map((e) => e.type), ['close']);
    assert.equal((log[0]!.event as CloseEvent).code, 1000);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('a server that never closes TCP after the close handshake: closeTimeout drops it', async () => {
  // Replies with a close frame but keeps the TCP connection open.
  const raw = await startRawServer((socket) => {
    socket.on('data', () => socket.write(frame(8, Buffer.from([0x03, 0xe8]), { mask: false })));
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url, undefined, { closeTimeout: 200 });
    const { log, closed } = record(ws);
    const t0 = Date.now();
    ws.close(1000);
    await closed;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed} ms`);
    const ev = log.at(-1)!.event as CloseEvent;
    assert.equal(ev.code, 1000);
    assert.equal(ev.wasClean, true, 'both close frames crossed');
  } finally {
    await finish(ws);
    await raw.close();
  }
});
