/**
 * Interop: a `ws` (v8) server against the Tether client, over 127.0.0.1.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type WsSocket from 'ws';
import { WebSocketServer as WsServer, type ServerOptions as WsServerOptions } from 'ws';
import { WebSocket, type CloseEvent, type ClientOptions } from '../../src/index.js';
import { TLS_CERT, TLS_KEY, within } from '../helpers.js';
import { Cleanup, Inbox, patternBytes, sha256 } from './interop-util.js';

const STEP = 5000;
const BIG = 16 * 1024 * 1024;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface WsMessage { ws: WsSocket; data: Buffer; isBinary: boolean }

/** A ws server recording its events; echo=true sends each message back as it came. */
async function wsServer(options: WsServerOptions & { echo?: boolean; tls?: boolean } = {}) {
  const { echo = false, tls = false, ...rest } = options;
  const https = tls ? createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }) : null;
  const wss = https ? new WsServer({ server: https, ...rest }) : new WsServer({ port: 0, host: '127.0.0.1', ...rest });
  const connections = new Inbox<{ ws: WsSocket; req: IncomingMessage }>();
  const messages = new Inbox<WsMessage>();
  const closes = new Inbox<{ ws: WsSocket; code: number; reason: string }>();
  const pongs = new Inbox<Buffer>();
  const pings = new Inbox<Buffer>();
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => {
      messages.push({ ws, data: data as Buffer, isBinary });
      if (echo) ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => closes.push({ ws, code, reason: reason.toString() }));
    ws.on('pong', (p) => pongs.push(Buffer.from(p)));
    ws.on('ping', (p) => pings.push(Buffer.from(p)));
    ws.on('error', () => {});
    connections.push({ ws, req });
  });
  if (https) {
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  } else {
    await within(new Promise<void>((resolve) => wss.once('listening', resolve)), STEP, 'ws server listening');
  }
  const port = ((https ?? wss).address() as AddressInfo).port;
  cleanup.add(async () => {
    for (const ws of wss.clients) ws.terminate();
    await within(new Promise<void>((resolve) => wss.close(() => resolve())), STEP, 'ws server close');
    if (https) {
      https.closeAllConnections();
      await within(new Promise<void>((resolve) => https.close(() => resolve())), STEP, 'https close');
    }
  });
  return { wss, port, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/`, connections, messages, closes, pongs, pings };
}

/** A Tether client, open, with its messages and close event recorded. */
async function tetherClient(url: string, protocols?: string | string[], options: ClientOptions = {}) {
  const ws = new WebSocket(url, protocols, { closeTimeout: 2000, handshakeTimeout: STEP, ...options });
  const messages = new Inbox<unknown>();
  const errors: Event[] = [];
  ws.onmessage = (ev: MessageEvent) => messages.push(ev.data);
  ws.onerror = (ev: Event) => errors.push(ev);
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', (ev) => resolve(ev as CloseEvent)));
  cleanup.add(async () => {
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    await within(closed, 5000, 'Tether client close');
  });
  await within(new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('close', (ev) => reject(new Error(`closed before open: ${(ev as CloseEvent).code} ${errors.map((e) => (e as Event & { message?: string }).message).join('; ')}`)));
  }), STEP, `Tether client open ${url}`);
  return { ws, messages, closed, errors };
}

function wsSend(ws: WsSocket, data: string | Buffer, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
  return within(new Promise<void>((resolve, reject) => ws.send(data, { compress: false, ...options }, (err) => (err ? reject(err) : resolve()))), 10_000, 'ws send');
}

async function bytesOf(data: unknown): Promise<Buffer> {
  if (data instanceof Blob) return Buffer.from(await data.arrayBuffer());
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  throw new TypeError(`not binary data: ${Object.prototype.toString.call(data)}`);
}

describe('ws server <-> Tether client', () => {
  test('text both ways', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    c.ws.send('héllo from tether ✓');
    const m = await s.messages.next(STEP, 'server message');
    assert.deepEqual([m.data.toString('utf8'), m.isBinary], ['héllo from tether ✓', false]);
    await wsSend(ws, 'héllo from ws ✓');
    assert.equal(await c.messages.next(STEP, 'client message'), 'héllo from ws ✓');
  });

  test('binary both ways, every send type and every binaryType', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    const bytes = new Uint8Array([0, 1, 2, 0x80, 0xfe, 0xff]);
    c.ws.send(bytes.buffer.slice(0));
    c.ws.send(bytes);
    c.ws.send(Buffer.from(bytes));
    c.ws.send(new DataView(bytes.buffer, 1, 3));
    c.ws.send(new Blob([bytes]));
    c.ws.send('after the blob');
    const got: Array<[string, boolean]> = [];
    for (let i = 0; i < 6; i++) {
      const m = await s.messages.next(STEP, `server message ${i}`);
      got.push([m.isBinary ? m.data.toString('hex') : m.data.toString(), m.isBinary]);
    }
    assert.deepEqual(got, [
      ['00010280feff', true],
      ['00010280feff', true],
      ['00010280feff', true],
      ['010280', true],
      ['00010280feff', true],
      ['after the blob', false],
    ]);

    const payload = Buffer.from([9, 8, 7, 0, 0xff]);
    assert.equal(c.ws.binaryType, 'blob');
    await wsSend(ws, payload);
    const asBlob = await c.messages.next(STEP, 'blob');
    assert.ok(asBlob instanceof Blob);
    assert.deepEqual(await bytesOf(asBlob), payload);
    c.ws.binaryType = 'arraybuffer';
    await wsSend(ws, payload);
    const asAb = await c.messages.next(STEP, 'arraybuffer');
    assert.ok(asAb instanceof ArrayBuffer);
    assert.deepEqual(Buffer.from(asAb), payload);
    c.ws.binaryType = 'nodebuffer';
    await wsSend(ws, payload);
    const asBuf = await c.messages.next(STEP, 'nodebuffer');
    assert.ok(Buffer.isBuffer(asBuf));
    assert.deepEqual(asBuf, payload);
    // A text payload sent with binary:true is binary; bytes sent with binary:false are text.
    await wsSend(ws, 'bin', { binary: true });
    assert.deepEqual(await c.messages.next(STEP, 'string as binary'), Buffer.from('bin'));
    await wsSend(ws, Buffer.from('txt'), { binary: false });
    assert.equal(await c.messages.next(STEP, 'bytes as text'), 'txt');
  });

  test('empty text and empty binary messages both ways', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    c.ws.send('');
    c.ws.send(new ArrayBuffer(0));
    const t = await s.messages.next(STEP, 'empty text');
    const b = await s.messages.next(STEP, 'empty binary');
    assert.deepEqual([t.data.length, t.isBinary], [0, false]);
    assert.deepEqual([b.data.length, b.isBinary], [0, true]);
    c.ws.binaryType = 'arraybuffer';
    await wsSend(ws, '');
    await wsSend(ws, Buffer.alloc(0));
    assert.equal(await c.messages.next(STEP, 'client empty text'), '');
    const eb = await c.messages.next(STEP, 'client empty binary');
    assert.ok(eb instanceof ArrayBuffer);
    assert.equal(eb.byteLength, 0);
  });

  test('a 16 MiB binary message both ways, intact', async () => {
    const s = await wsServer({ echo: true });
    const c = await tetherClient(s.url);
    c.ws.binaryType = 'arraybuffer';
    const big = patternBytes(BIG, 11);
    const expected = sha256(big);
    c.ws.send(big);
    const m = await s.messages.next(20_000, '16 MiB at the server');
    assert.equal(m.isBinary, true);
    assert.equal(m.data.length, BIG);
    assert.equal(sha256(m.data), expected);
    const r = await c.messages.next(20_000, '16 MiB echo at the client');
    assert.ok(r instanceof ArrayBuffer);
    assert.equal(r.byteLength, BIG);
    assert.equal(sha256(new Uint8Array(r)), expected);
    // bufferedAmount returns to 0 once the data is written.
    assert.equal(c.ws.bufferedAmount, 0);
  });

  test('a 16 MiB text message both ways, intact', async () => {
    const s = await wsServer({ echo: true });
    const c = await tetherClient(s.url);
    const unit = 'aé€😀';
    const text = unit.repeat(Math.floor(BIG / Buffer.byteLength(unit)));
    const expected = sha256(text);
    c.ws.send(text);
    const m = await s.messages.next(20_000, '16 MiB text at the server');
    assert.equal(m.isBinary, false);
    assert.equal(sha256(m.data), expected);
    const r = await c.messages.next(20_000, '16 MiB text echo at the client');
    assert.equal(typeof r, 'string');
    assert.equal(sha256(r as string), expected);
  });

  test('fragmented messages from ws (fin:false) reach the Tether client whole', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    c.ws.binaryType = 'nodebuffer';
    const { ws } = await s.connections.next(STEP, 'connection');
    await wsSend(ws, 'frag', { fin: false });
    await wsSend(ws, 'men', { fin: false });
    await wsSend(ws, 'ted ✓', { fin: true });
    assert.equal(await c.messages.next(STEP, 'fragmented text'), 'fragmented ✓');
    const euro = Buffer.from('€');
    await wsSend(ws, Buffer.concat([Buffer.from('x'), euro.subarray(0, 2)]), { binary: false, fin: false });
    await wsSend(ws, euro.subarray(2), { binary: false, fin: true });
    assert.equal(await c.messages.next(STEP, 'text split inside a character'), 'x€');
    // Empty fragments are allowed too.
    await wsSend(ws, Buffer.alloc(0), { binary: true, fin: false });
    await wsSend(ws, Buffer.from([1]), { binary: true, fin: false });
    await wsSend(ws, Buffer.alloc(0), { binary: true, fin: true });
    assert.deepEqual(await c.messages.next(STEP, 'empty fragments'), Buffer.from([1]));
    // 1 MiB in 64 KiB fragments with a ping in the middle: the pong comes back at once.
    const big = patternBytes(1024 * 1024 + 3, 12);
    const frag = 64 * 1024;
    for (let i = 0; i < big.length; i += frag) {
      await wsSend(ws, big.subarray(i, i + frag), { binary: true, fin: i + frag >= big.length });
      if (i === frag) ws.ping('mid');
    }
    assert.equal((await s.pongs.next(STEP, 'pong between fragments')).toString(), 'mid');
    const b = await c.messages.next(STEP, 'fragmented binary');
    assert.equal(sha256(b as Buffer), sha256(big));
  });

  test('a ws ping is answered with a pong carrying the same payload', async () => {
    // The Tether client has the browser API: it answers pings but has no ping() of its own.
    const s = await wsServer();
    await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    ws.ping(Buffer.from('ping-from-ws'));
    assert.equal((await s.pongs.next(STEP, 'pong')).toString(), 'ping-from-ws');
    ws.ping();
    assert.equal((await s.pongs.next(STEP, 'empty pong')).length, 0);
    const max = patternBytes(125, 13);
    ws.ping(max);
    assert.deepEqual(await s.pongs.next(STEP, '125-byte pong'), max);
    assert.equal(s.pings.size, 0);
  });

  test('the Tether client closes with 4001 "bye": both sides see code and reason', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    await s.connections.next(STEP, 'connection');
    c.ws.close(4001, 'bye');
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    const sc = await s.closes.next(STEP, 'server close');
    assert.deepEqual([sc.code, sc.reason], [4001, 'bye']);
    const ev = await within(c.closed, STEP, 'client close event');
    // ws echoes the code and the reason.
    assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4001, 'bye', true]);
    assert.equal(c.errors.length, 0);
  });

  test('the ws server closes with 4001 "bye": both sides see the code', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    ws.close(4001, 'bye');
    const ev = await within(c.closed, STEP, 'client close event');
    assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4001, 'bye', true]);
    const sc = await s.closes.next(STEP, 'server close');
    // The client echoes the code (RFC 6455 §5.5.1).
    assert.equal(sc.code, 4001);
    assert.equal(c.errors.length, 0);
  });

  test('data sent right before close() (16 MiB, a Blob, text) arrives before the close frame', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    await s.connections.next(STEP, 'connection');
    const big = patternBytes(BIG, 21);
    c.ws.send(big);
    c.ws.send(new Blob(['blob before close']));
    c.ws.send('text before close');
    c.ws.close(4001, 'bye');
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    // Sends after close() are discarded, as in browsers.
    c.ws.send('after close');
    const m0 = await s.messages.next(20_000, '16 MiB at the server');
    assert.equal(sha256(m0.data), sha256(big));
    const m1 = await s.messages.next(STEP, 'blob at the server');
    assert.deepEqual([m1.isBinary, m1.data.toString()], [true, 'blob before close']);
    const m2 = await s.messages.next(STEP, 'text at the server');
    assert.deepEqual([m2.isBinary, m2.data.toString()], [false, 'text before close']);
    const sc = await s.closes.next(STEP, 'server close');
    assert.deepEqual([sc.code, sc.reason], [4001, 'bye']);
    assert.equal(s.messages.size, 0);
    const ev = await within(c.closed, STEP, 'client close event');
    assert.deepEqual([ev.code, ev.wasClean], [4001, true]);
  });

  test('a message and a close sent by ws right after the handshake reach the Tether client in order', async () => {
    const s = await wsServer();
    s.wss.on('connection', (ws) => {
      ws.send('first');
      ws.close(4001, 'bye');
    });
    const ws = new WebSocket(s.url);
    const log: string[] = [];
    ws.onopen = () => log.push('open');
    ws.onmessage = (ev: MessageEvent) => log.push(`message ${String(ev.data)}`);
    const ev = await within(new Promise<CloseEvent>((resolve) => ws.addEventListener('close', (e) => resolve(e as CloseEvent))), STEP, 'close');
    assert.deepEqual(log, ['open', 'message first']);
    assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4001, 'bye', true]);
  });

  test('close 1000 both directions, and close() without a code (1005)', async () => {
    const s = await wsServer();
    const c1 = await tetherClient(s.url);
    await s.connections.next(STEP, 'connection 1');
    c1.ws.close(1000);
    assert.equal((await s.closes.next(STEP, 'server close 1')).code, 1000);
    const e1 = await within(c1.closed, STEP, 'client 1 closed');
    assert.deepEqual([e1.code, e1.wasClean], [1000, true]);

    const c2 = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection 2');
    ws.close(1000, 'done');
    const e2 = await within(c2.closed, STEP, 'client 2 closed');
    assert.deepEqual([e2.code, e2.reason, e2.wasClean], [1000, 'done', true]);
    assert.equal((await s.closes.next(STEP, 'server close 2')).code, 1000);

    const c3 = await tetherClient(s.url);
    await s.connections.next(STEP, 'connection 3');
    c3.ws.close();
    assert.equal((await s.closes.next(STEP, 'server close 3')).code, 1005);
    const e3 = await within(c3.closed, STEP, 'client 3 closed');
    assert.deepEqual([e3.code, e3.wasClean], [1005, true]);
  });

  test('a dropped connection is reported as 1006, not clean', async () => {
    const s = await wsServer();
    const c = await tetherClient(s.url);
    const { ws } = await s.connections.next(STEP, 'connection');
    ws.terminate();
    const ev = await within(c.closed, STEP, 'client close event');
    assert.deepEqual([ev.code, ev.wasClean], [1006, false]);
    assert.equal(c.errors.length, 1);
  });

  test('subprotocol: the Tether client offers a and b, the ws server picks b', async () => {
    const offered: string[][] = [];
    const s = await wsServer({
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return protocols.has('b') ? 'b' : false;
      },
    });
    const c = await tetherClient(s.url, ['a', 'b']);
    const { ws, req } = await s.connections.next(STEP, 'connection');
    assert.deepEqual(offered, [['a', 'b']]);
    assert.equal(req.headers['sec-websocket-protocol'], 'a, b');
    assert.equal(ws.protocol, 'b');
    assert.equal(c.ws.protocol, 'b');
    // One protocol given as a string.
    const c2 = await tetherClient(s.url, 'b');
    assert.equal((await s.connections.next(STEP, 'connection 2')).ws.protocol, 'b');
    assert.equal(c2.ws.protocol, 'b');
  });

  test('a path and a query reach the ws server', async () => {
    const s = await wsServer({ path: '/chat' });
    const c = await tetherClient(`ws://127.0.0.1:${s.port}/chat?room=1`, undefined, { headers: { 'x-token': 't1' }, origin: 'http://example.test' });
    const { req } = await s.connections.next(STEP, 'connection');
    assert.equal(req.url, '/chat?room=1');
    assert.equal(req.headers['x-token'], 't1');
    assert.equal(req.headers['origin'], 'http://example.test');
    assert.equal(req.headers['host'], `127.0.0.1:${s.port}`);
    c.ws.send('x');
    assert.equal((await s.messages.next(STEP, 'message')).data.toString(), 'x');
    // Another path: ws answers 400, the client fails with an error and 1006.
    const bad = new WebSocket(`ws://127.0.0.1:${s.port}/other`);
    const errored = new Promise<Event>((resolve) => bad.addEventListener('error', resolve));
    const ev = await within(new Promise<CloseEvent>((resolve) => bad.addEventListener('close', (e) => resolve(e as CloseEvent))), STEP, 'refused client close');
    await within(errored, STEP, 'refused client error');
    assert.deepEqual([ev.code, ev.wasClean], [1006, false]);
  });

  test('wss: a ws https server and a Tether client trusting the fixture cert', async () => {
    const s = await wsServer({ tls: true, echo: true });
    assert.ok(s.url.startsWith('wss://'));
    const c = await tetherClient(s.url, undefined, { ca: TLS_CERT });
    c.ws.binaryType = 'arraybuffer';
    c.ws.send('over tls');
    assert.equal(await c.messages.next(STEP, 'echo'), 'over tls');
    const big = patternBytes(2 * 1024 * 1024, 14);
    c.ws.send(big);
    assert.equal(sha256(new Uint8Array((await c.messages.next(10_000, 'tls binary echo')) as ArrayBuffer)), sha256(big));
    const { ws } = await s.connections.next(STEP, 'connection');
    ws.ping('tls-ping');
    assert.equal((await s.pongs.next(STEP, 'tls pong')).toString(), 'tls-ping');
    c.ws.close(4001, 'bye');
    const sc = await s.closes.next(STEP, 'server close');
    assert.deepEqual([sc.code, sc.reason], [4001, 'bye']);
    const ev = await within(c.closed, STEP, 'client close');
    assert.deepEqual([ev.code, ev.reason, ev.wasClean], [4001, 'bye', true]);

    // The same through the tls option, and via https:// (mapped to wss://).
    const c2 = await tetherClient(`https://localhost:${s.port}/`, undefined, { tls: { ca: TLS_CERT } });
    assert.equal(c2.ws.url, `wss://localhost:${s.port}/`);
    c2.ws.send('again');
    assert.equal(await c2.messages.next(STEP, 'echo 2'), 'again');
  });

  test('wss: without the CA the Tether client refuses the self-signed cert', async () => {
    const s = await wsServer({ tls: true });
    const ws = new WebSocket(s.url);
    const errors: Array<Event & { message?: string }> = [];
    ws.onerror = (e: Event) => errors.push(e);
    let opened = false;
    ws.onopen = () => (opened = true);
    const ev = await within(new Promise<CloseEvent>((resolve) => ws.addEventListener('close', (e) => resolve(e as CloseEvent))), STEP, 'close after tls failure');
    assert.equal(opened, false);
    assert.deepEqual([ev.code, ev.wasClean], [1006, false]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message ?? '', /self-signed|self signed|certificate/i);
    assert.equal(s.wss.clients.size, 0);
  });
});
