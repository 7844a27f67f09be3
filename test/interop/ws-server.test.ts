/**
 * Interop: the Tether server against the `ws` client (v8), over 127.0.0.1.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, get as httpGet, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import WsClient from 'ws';
import { WebSocketServer, type ServerOptions, type ServerSocket, type UpgradeRequest } from '../../src/index.js';
import { parseFrames, TLS_CERT, TLS_KEY, within } from '../helpers.js';
import { Cleanup, Inbox, patternBytes, sha256 } from './interop-util.js';

const STEP = 5000;
const BIG = 16 * 1024 * 1024;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface ServerMessage { ws: ServerSocket; data: string | Buffer; isBinary: boolean }
interface ServerClose { ws: ServerSocket; code: number; reason: string }

/** A Tether server recording every event; echo=true sends each message back as it came. */
async function tether(options: ServerOptions & { echo?: boolean } = {}) {
  const { echo = false, ...rest } = options;
  const opened = new Inbox<{ ws: ServerSocket; req: UpgradeRequest }>();
  const messages = new Inbox<ServerMessage>();
  const closes = new Inbox<ServerClose>();
  const pings = new Inbox<{ ws: ServerSocket; payload: Buffer }>();
  const pongs = new Inbox<{ ws: ServerSocket; payload: Buffer }>();
  const server = new WebSocketServer({
    heartbeatInterval: 0,
    open: (ws, req) => opened.push({ ws, req }),
    message: (ws, data, isBinary) => {
      // Copy: the Buffer may be a view of a chunk; the test keeps it.
      messages.push({ ws, data: typeof data === 'string' ? data : Buffer.from(data), isBinary });
      if (echo) ws.send(data, { binary: isBinary });
    },
    close: (ws, code, reason) => closes.push({ ws, code, reason }),
    ping: (ws, payload) => pings.push({ ws, payload: Buffer.from(payload) }),
    pong: (ws, payload) => pongs.push({ ws, payload: Buffer.from(payload) }),
    ...rest,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanup.add(() => within(server.close({ timeout: 1000 }), 5000, 'server.close'));
  const scheme = rest.tls ? 'wss' : 'ws';
  return { server, port, url: `${scheme}://127.0.0.1:${port}/`, opened, messages, closes, pings, pongs };
}

interface ClientMessage { data: Buffer; isBinary: boolean }

/** A ws client, open, with its messages, pings, pongs and close recorded. */
async function wsClient(url: string, protocols?: string[], options: WsClient.ClientOptions = {}) {
  const ws = new WsClient(url, protocols, options);
  const messages = new Inbox<ClientMessage>();
  const pings = new Inbox<Buffer>();
  const pongs = new Inbox<Buffer>();
  const errors: Error[] = [];
  ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
  ws.on('ping', (p) => pings.push(Buffer.from(p)));
  ws.on('pong', (p) => pongs.push(Buffer.from(p)));
  ws.on('error', (err) => errors.push(err));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  cleanup.add(async () => {
    if (ws.readyState !== WsClient.CLOSED) {
      ws.terminate();
      await within(closed, 2000, 'ws client close');
    }
  });
  await within(new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  }), STEP, `ws open ${url}`);
  return { ws, messages, pings, pongs, closed, errors };
}

function sendWs(ws: WsClient, data: string | Buffer, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
  return within(new Promise<void>((resolve, reject) => ws.send(data, { compress: false, ...options }, (err) => (err ? reject(err) : resolve()))), 10_000, 'ws send');
}

describe('Tether server <-> ws client', () => {
  test('text both ways', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    await sendWs(c.ws, 'héllo from ws ✓');
    const m = await s.messages.next(STEP, 'server message');
    assert.equal(m.data, 'héllo from ws ✓');
    assert.equal(m.isBinary, false);
    ws.send('héllo from tether ✓');
    const r = await c.messages.next(STEP, 'client message');
    assert.equal(r.isBinary, false);
    assert.equal(r.data.toString('utf8'), 'héllo from tether ✓');
  });

  test('binary both ways', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f]);
    await sendWs(c.ws, bytes);
    const m = await s.messages.next(STEP, 'server message');
    assert.equal(m.isBinary, true);
    assert.deepEqual(m.data, bytes);
    ws.send(new Uint8Array([9, 8, 7, 0xff]));
    const r = await c.messages.next(STEP, 'client message');
    assert.equal(r.isBinary, true);
    assert.deepEqual(r.data, Buffer.from([9, 8, 7, 0xff]));
    // A string sent as binary, and bytes sent as text.
    ws.send('as-binary', { binary: true });
    ws.send(Buffer.from('as-text'), { binary: false });
    const a = await c.messages.next(STEP, 'string as binary');
    const b = await c.messages.next(STEP, 'bytes as text');
    assert.deepEqual([a.isBinary, a.data.toString()], [true, 'as-binary']);
    assert.deepEqual([b.isBinary, b.data.toString()], [false, 'as-text']);
  });

  test('empty text and empty binary messages both ways', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    await sendWs(c.ws, '');
    await sendWs(c.ws, Buffer.alloc(0));
    const t = await s.messages.next(STEP, 'empty text');
    const b = await s.messages.next(STEP, 'empty binary');
    assert.deepEqual([t.data, t.isBinary], ['', false]);
    assert.equal(b.isBinary, true);
    assert.equal((b.data as Buffer).length, 0);
    ws.send('');
    ws.send(Buffer.alloc(0));
    const rt = await c.messages.next(STEP, 'client empty text');
    const rb = await c.messages.next(STEP, 'client empty binary');
    assert.deepEqual([rt.data.length, rt.isBinary], [0, false]);
    assert.deepEqual([rb.data.length, rb.isBinary], [0, true]);
  });

  test('a 16 MiB binary message both ways, intact', async () => {
    const s = await tether({ echo: true });
    const c = await wsClient(s.url);
    const big = patternBytes(BIG, 1);
    const expected = sha256(big);
    await sendWs(c.ws, big);
    const m = await s.messages.next(20_000, '16 MiB at the server');
    assert.equal(m.isBinary, true);
    assert.equal((m.data as Buffer).length, BIG);
    assert.equal(sha256(m.data as Buffer), expected);
    const r = await c.messages.next(20_000, '16 MiB echo at the client');
    assert.equal(r.isBinary, true);
    assert.equal(r.data.length, BIG);
    assert.equal(sha256(r.data), expected);
  });

  test('a 16 MiB text message both ways, intact', async () => {
    const s = await tether({ echo: true });
    const c = await wsClient(s.url);
    // Multi-byte characters so that chunk boundaries fall inside UTF-8 sequences.
    const unit = 'aé€😀';
    const text = unit.repeat(Math.floor(BIG / Buffer.byteLength(unit)));
    const expected = sha256(text);
    await sendWs(c.ws, text);
    const m = await s.messages.next(20_000, '16 MiB text at the server');
    assert.equal(m.isBinary, false);
    assert.equal(sha256(m.data as string), expected);
    const r = await c.messages.next(20_000, '16 MiB text echo at the client');
    assert.equal(r.isBinary, false);
    assert.equal(sha256(r.data.toString('utf8')), expected);
  });

  test('fragmented messages from ws (fin:false) reach the server whole', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    await s.opened.next(STEP, 'open');
    await sendWs(c.ws, 'frag', { fin: false });
    await sendWs(c.ws, 'men', { fin: false });
    await sendWs(c.ws, 'ted ✓', { fin: true });
    const t = await s.messages.next(STEP, 'fragmented text');
    assert.deepEqual([t.data, t.isBinary], ['fragmented ✓', false]);
    // A character split across two fragments.
    const euro = Buffer.from('€');
    await sendWs(c.ws, Buffer.concat([Buffer.from('x'), euro.subarray(0, 1)]), { binary: false, fin: false });
    await sendWs(c.ws, euro.subarray(1), { binary: false, fin: true });
    const split = await s.messages.next(STEP, 'text split inside a character');
    assert.deepEqual([split.data, split.isBinary], ['x€', false]);
    // A large binary message in 64 KiB fragments, interleaved with a ping.
    const big = patternBytes(1024 * 1024 + 17, 2);
    const frag = 64 * 1024;
    for (let i = 0; i < big.length; i += frag) {
      await sendWs(c.ws, big.subarray(i, i + frag), { binary: true, fin: i + frag >= big.length });
      if (i === frag) c.ws.ping('mid');
    }
    const pong = await c.pongs.next(STEP, 'pong for the ping between fragments');
    assert.equal(pong.toString(), 'mid');
    const b = await s.messages.next(STEP, 'fragmented binary');
    assert.equal(b.isBinary, true);
    assert.equal(sha256(b.data as Buffer), sha256(big));
  });

  test('fragmented messages from the server (fragmentSize) reach ws whole', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    // Watch the raw frames on the client's socket to see that the message was split.
    const raw: Buffer[] = [];
    const socket = (c.ws as unknown as { _socket: Socket })._socket;
    socket.on('data', (chunk: Buffer) => raw.push(Buffer.from(chunk)));
    ws.send('fragmented ✓ text', { fragmentSize: 3 });
    const t = await c.messages.next(STEP, 'fragmented text');
    assert.deepEqual([t.data.toString('utf8'), t.isBinary], ['fragmented ✓ text', false]);
    const { frames, rest } = parseFrames(Buffer.concat(raw));
    assert.equal(rest.length, 0);
    const n = Math.ceil(Buffer.byteLength('fragmented ✓ text') / 3);
    assert.equal(frames.length, n);
    assert.deepEqual(frames.map((f) => f.opcode), [1, ...Array<number>(n - 1).fill(0)]);
    assert.deepEqual(frames.map((f) => f.fin), [...Array<boolean>(n - 1).fill(false), true]);
    assert.ok(frames.every((f) => !f.masked && f.payload.length <= 3));

    const big = patternBytes(3 * 1024 * 1024 + 5, 3);
    ws.send(big, { fragmentSize: 100_000 });
    const b = await c.messages.next(10_000, 'fragmented binary');
    assert.equal(b.isBinary, true);
    assert.equal(sha256(b.data), sha256(big));
    // fragmentSize larger than the message: one frame.
    ws.send('one', { fragmentSize: 1000 });
    assert.equal((await c.messages.next(STEP, 'single fragment')).data.toString(), 'one');
  });

  test('ping/pong both ways, payload preserved', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    // ws pings: Tether answers with the same payload and reports the ping.
    c.ws.ping(Buffer.from('ping-from-ws'));
    const sp = await s.pings.next(STEP, 'server ping handler');
    assert.equal(sp.payload.toString(), 'ping-from-ws');
    const cp = await c.pongs.next(STEP, 'ws pong');
    assert.equal(cp.toString(), 'ping-from-ws');
    // Tether pings: ws answers, the pong handler sees the payload.
    const payload = Buffer.from([0, 1, 2, 3, 0xff]);
    assert.equal(ws.ping(payload), true);
    const wp = await c.pings.next(STEP, 'ws ping');
    assert.deepEqual(wp, payload);
    const pp = await s.pongs.next(STEP, 'server pong handler');
    assert.deepEqual(pp.payload, payload);
    // Empty and 125-byte payloads.
    ws.ping();
    assert.equal((await s.pongs.next(STEP, 'empty pong')).payload.length, 0);
    const max = patternBytes(125, 4);
    c.ws.ping(max);
    assert.deepEqual((await c.pongs.next(STEP, '125-byte pong')), max);
    assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
  });

  test('ws closes with 4001 "bye": both sides see the code', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    await s.opened.next(STEP, 'open');
    c.ws.close(4001, 'bye');
    const sc = await s.closes.next(STEP, 'server close handler');
    assert.deepEqual([sc.code, sc.reason], [4001, 'bye']);
    const cc = await within(c.closed, STEP, 'ws close');
    // The server echoes the code (RFC 6455 §5.5.1).
    assert.equal(cc.code, 4001);
    assert.equal(s.server.clients.size, 0);
  });

  test('the server closes with 4001 "bye": both sides see the code and reason', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    ws.close(4001, 'bye');
    const cc = await within(c.closed, STEP, 'ws close');
    assert.deepEqual(cc, { code: 4001, reason: 'bye' });
    const sc = await s.closes.next(STEP, 'server close handler');
    // ws echoes code and reason.
    assert.deepEqual([sc.code, sc.reason], [4001, 'bye']);
  });

  test('a message and a close sent in the open handler reach ws in order', async () => {
    const s = await tether({
      open: (ws) => {
        ws.send('first');
        ws.send(Buffer.from([1, 2]));
        ws.close(4001, 'bye');
      },
    });
    const ws = new WsClient(s.url);
    const log: string[] = [];
    ws.on('open', () => log.push('open'));
    ws.on('message', (data, isBinary) => log.push(`${isBinary ? 'binary' : 'text'} ${(data as Buffer).toString('hex')}`));
    const cc = await within(new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()]))), STEP, 'close');
    assert.deepEqual(log, ['open', `text ${Buffer.from('first').toString('hex')}`, 'binary 0102']);
    assert.deepEqual(cc, [4001, 'bye']);
    assert.deepEqual(pick(await s.closes.next(STEP, 'server close')), [4001, 'bye']);
  });

  test('a 16 MiB message sent right before close() arrives before the close frame', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    const { ws } = await s.opened.next(STEP, 'open');
    const big = patternBytes(BIG, 7);
    ws.send(big);
    ws.close(4001, 'bye');
    assert.equal(ws.send('after close'), 2 /* SendStatus.Dropped */);
    const r = await c.messages.next(20_000, '16 MiB at the client');
    assert.equal(sha256(r.data), sha256(big));
    assert.deepEqual(await within(c.closed, STEP, 'ws close'), { code: 4001, reason: 'bye' });
    assert.equal(c.messages.size, 0);
    // And the other way: ws sends 16 MiB then closes at once.
    const c2 = await wsClient(s.url);
    await s.opened.next(STEP, 'open 2');
    c2.ws.send(big);
    c2.ws.close(4001, 'bye');
    const m = await s.messages.next(20_000, '16 MiB at the server');
    assert.equal(sha256(m.data as Buffer), sha256(big));
    assert.deepEqual(pick(await s.closes.next(STEP, 'server close 2')), [4001, 'bye']);
  });

  test('close 1000 both directions, and a close without a code (1005)', async () => {
    const s = await tether();
    const c1 = await wsClient(s.url);
    const a = await s.opened.next(STEP, 'open 1');
    c1.ws.close(1000);
    assert.deepEqual(await s.closes.next(STEP, 'close 1'), { ws: a.ws, code: 1000, reason: '' });
    assert.equal((await within(c1.closed, STEP, 'client 1 closed')).code, 1000);

    const c2 = await wsClient(s.url);
    const b = await s.opened.next(STEP, 'open 2');
    b.ws.close(1000, 'done');
    assert.deepEqual(await within(c2.closed, STEP, 'client 2 closed'), { code: 1000, reason: 'done' });
    assert.equal((await s.closes.next(STEP, 'close 2')).code, 1000);

    const c3 = await wsClient(s.url);
    await s.opened.next(STEP, 'open 3');
    c3.ws.close();
    assert.equal((await s.closes.next(STEP, 'close 3')).code, 1005);
    assert.equal((await within(c3.closed, STEP, 'client 3 closed')).code, 1005);
  });

  test('server.close() sends 1001 to a ws client', async () => {
    const s = await tether();
    const c = await wsClient(s.url);
    await s.opened.next(STEP, 'open');
    await within(s.server.close({ timeout: 2000 }), STEP, 'server.close');
    const cc = await within(c.closed, STEP, 'ws close');
    assert.deepEqual(cc, { code: 1001, reason: 'server shutting down' });
  });

  test('subprotocol: ws offers a and b, the server picks b', async () => {
    const offered: string[][] = [];
    const s = await tether({
      selectProtocol: (list) => {
        offered.push(list);
        return list.includes('b') ? 'b' : undefined;
      },
    });
    const c = await wsClient(s.url, ['a', 'b']);
    const { ws } = await s.opened.next(STEP, 'open');
    assert.deepEqual(offered, [['a', 'b']]);
    assert.equal(ws.protocol, 'b');
    assert.equal(c.ws.protocol, 'b');

    // The protocols option, in the server's order of preference.
    const s2 = await tether({ protocols: ['b', 'a'] });
    const c2 = await wsClient(s2.url, ['a', 'b']);
    assert.equal((await s2.opened.next(STEP, 'open 2')).ws.protocol, 'b');
    assert.equal(c2.ws.protocol, 'b');

    // No subprotocol offered: none chosen (ws refuses a 101 without one when it offered some).
    const c3 = await wsClient(s2.url);
    assert.equal((await s2.opened.next(STEP, 'open 3')).ws.protocol, '');
    assert.equal(c3.ws.protocol, '');
  });

  test('wss: a Tether TLS server and a ws client trusting the fixture cert', async () => {
    const s = await tether({ tls: { key: TLS_KEY, cert: TLS_CERT }, echo: true });
    assert.ok(s.url.startsWith('wss://'));
    const c = await wsClient(s.url, undefined, { ca: TLS_CERT });
    const { req } = await s.opened.next(STEP, 'open');
    assert.equal(req.secure, true);
    await sendWs(c.ws, 'over tls');
    assert.equal((await c.messages.next(STEP, 'echo')).data.toString(), 'over tls');
    const big = patternBytes(2 * 1024 * 1024, 5);
    await sendWs(c.ws, big);
    assert.equal(sha256((await c.messages.next(10_000, 'tls binary echo')).data), sha256(big));
    c.ws.ping('tls-ping');
    assert.equal((await c.pongs.next(STEP, 'tls pong')).toString(), 'tls-ping');
    c.ws.close(4001, 'bye');
    assert.deepEqual(pick(await s.closes.next(STEP, 'server close')), [4001, 'bye']);
    assert.equal((await within(c.closed, STEP, 'ws close')).code, 4001);
  });

  test('wss: a ws client without the CA refuses the self-signed cert', async () => {
    const s = await tether({ tls: { key: TLS_KEY, cert: TLS_CERT } });
    const ws = new WsClient(s.url);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const err = await within(new Promise<Error>((resolve, reject) => {
      ws.once('error', resolve);
      ws.once('open', () => reject(new Error('opened without trusting the cert')));
    }), STEP, 'tls error');
    assert.match(String((err as NodeJS.ErrnoException).code ?? err.message), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    assert.equal(await within(closed, STEP, 'close after error'), 1006);
    assert.equal(s.server.clients.size, 0);
  });

  test('attached to a node:http server with a path', async () => {
    const http: HttpServer = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`plain http ${req.url}`);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const opened = new Inbox<{ ws: ServerSocket; req: UpgradeRequest }>();
    const closes = new Inbox<ServerClose>();
    const server = new WebSocketServer({
      heartbeatInterval: 0,
      path: '/ws',
      open: (ws, req) => opened.push({ ws, req }),
      message: (ws, data, isBinary) => ws.send(data, { binary: isBinary }),
      close: (ws, code, reason) => closes.push({ ws, code, reason }),
    }).attach(http);
    cleanup.add(async () => {
      http.closeAllConnections();
      await within(new Promise<void>((resolve) => http.close(() => resolve())), 5000, 'http close');
    });
    cleanup.add(() => within(server.close({ timeout: 1000 }), 5000, 'server.close'));

    const c = await wsClient(`ws://127.0.0.1:${port}/ws?token=1`);
    const { req } = await opened.next(STEP, 'open');
    assert.equal(req.path, '/ws');
    assert.equal(req.query.get('token'), '1');
    assert.equal(req.secure, false);
    await sendWs(c.ws, 'through http');
    assert.equal((await c.messages.next(STEP, 'echo')).data.toString(), 'through http');
    await sendWs(c.ws, Buffer.from([1, 2, 3]));
    assert.deepEqual((await c.messages.next(STEP, 'binary echo')).data, Buffer.from([1, 2, 3]));

    // The http server still answers plain requests.
    const body = await within(new Promise<string>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${port}/page`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      }).on('error', reject);
    }), STEP, 'http get');
    assert.equal(body, '200 plain http /page');

    // Another path is refused with 404.
    const other = new WsClient(`ws://127.0.0.1:${port}/elsewhere`);
    other.on('error', () => {});
    const status = await within(new Promise<number>((resolve, reject) => {
      other.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        other.terminate();
      });
      other.once('open', () => reject(new Error('opened on the wrong path')));
    }), STEP, '404 on another path');
    assert.equal(status, 404);

    c.ws.close(4001, 'bye');
    assert.deepEqual(pick(await closes.next(STEP, 'server close')), [4001, 'bye']);
    assert.equal((await within(c.closed, STEP, 'ws closed')).code, 4001);
  });

  test('wss: attached to a node:https server with a path', async () => {
    const https = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }, (_req, res) => {
      res.writeHead(418);
      res.end();
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    const opened = new Inbox<UpgradeRequest>();
    const closes = new Inbox<ServerClose>();
    const server = new WebSocketServer({
      heartbeatInterval: 0,
      path: '/secure',
      protocols: ['b'],
      open: (_ws, req) => opened.push(req),
      message: (ws, data, isBinary) => ws.send(data, { binary: isBinary }),
      close: (ws, code, reason) => closes.push({ ws, code, reason }),
    }).attach(https);
    cleanup.add(async () => {
      https.closeAllConnections();
      await within(new Promise<void>((resolve) => https.close(() => resolve())), 5000, 'https close');
    });
    cleanup.add(() => within(server.close({ timeout: 1000 }), 5000, 'server.close'));
    const c = await wsClient(`wss://127.0.0.1:${port}/secure`, ['a', 'b'], { ca: TLS_CERT });
    const req = await opened.next(STEP, 'open');
    assert.equal(req.secure, true);
    assert.equal(c.ws.protocol, 'b');
    const big = patternBytes(1024 * 1024, 9);
    await sendWs(c.ws, big);
    assert.equal(sha256((await c.messages.next(10_000, 'echo')).data), sha256(big));
    c.ws.close(4001, 'bye');
    assert.deepEqual(pick(await closes.next(STEP, 'server close')), [4001, 'bye']);
    assert.equal((await within(c.closed, STEP, 'ws closed')).code, 4001);
  });
});

function pick(c: ServerClose): [number, string] {
  return [c.code, c.reason];
}
