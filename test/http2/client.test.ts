/**
 * Tether's WebSocket client over HTTP/2 (RFC 8441): against the Tether server, against an
 * RFC 8441 server written by hand with node:http2 (an independent peer), sharing one
 * connection, a given session, falling back to HTTP/1.1, and resets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as http2Connect, createSecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocket } from '../../src/client/index.js';
import { http2PoolSize } from '../../src/client/http2-connect.js';
import { WebSocketServer, type ServerSocket } from '../../src/server/index.js';
import { RealtimeClient, RealtimeServer } from '../../src/realtime/index.js';
import { frame, parseFrames, TLS_CERT, TLS_KEY, within } from '../helpers.js';
import { listenHttp2 } from './h2-peer.js';

interface Opened { ws: WebSocket; messages: unknown[]; closed: Promise<{ code: number; wasClean: boolean; error: boolean }> }

function open(url: string, options: ConstructorParameters<typeof WebSocket>[2], protocols: string[] = []): Promise<Opened> {
  const ws = new WebSocket(url, protocols, { ca: TLS_CERT, ...options });
  const messages: unknown[] = [];
  let error = false;
  ws.onmessage = (e) => messages.push(e.data);
  ws.onerror = () => (error = true);
  const closed = new Promise<{ code: number; wasClean: boolean; error: boolean }>((r) => (ws.onclose = (e) => r({ code: e.code, wasClean: e.wasClean, error })));
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ ws, messages, closed });
    void closed.then((c) => reject(new Error(`closed before opening (${c.code})`)));
  });
}

async function until(fn: () => boolean, what: string, ms = 3000): Promise<void> {
  await within((async () => { while (!fn()) await new Promise((r) => setTimeout(r, 5)); })(), ms, what);
}

async function withTether(options: ConstructorParameters<typeof WebSocketServer>[0], fn: (ctx: { wss: WebSocketServer; url: string; origin: string }) => Promise<void>): Promise<void> {
  const h2 = await listenHttp2('tls');
  const wss = new WebSocketServer({ heartbeatInterval: 0, message: (ws, d, b) => ws.send(d, { binary: b }), ...options }).attach(h2.server);
  try {
    await fn({ wss, url: `wss://127.0.0.1:${h2.port}`, origin: h2.origin });
  } finally {
    await wss.close({ timeout: 200 });
    await h2.close();
  }
}

describe('WebSocket client over HTTP/2', () => {
  test('{ http2: true }: sockets to one origin share one connection, echo works, the pooled connection closes with the last socket', () => {
    const ports = new Set<number | undefined>();
    const versions = new Set<string>();
    return withTether({ perMessageDeflate: true, open: (ws, req) => (ports.add(ws.remotePort), versions.add(req.headers[':protocol'] as string)) }, async ({ url }) => {
      const socks = await Promise.all(Array.from({ length: 20 }, (_, i) => open(`${url}/s/${i}`, { http2: true, perMessageDeflate: i % 2 === 0 })));
      assert.equal(ports.size, 1, 'one TCP connection');
      assert.deepEqual([...versions], ['websocket'], 'every socket came as an extended CONNECT');
      assert.equal(http2PoolSize(), 1);
      assert.equal(socks[0]!.ws.extensions.startsWith('permessage-deflate'), true);
      assert.equal(socks[1]!.ws.extensions, '');
      socks.forEach((s, i) => s.ws.send(`hello ${i} `.repeat(50)));
      await until(() => socks.every((s) => s.messages.length === 1), 'echoes');
      socks.forEach((s, i) => assert.equal(s.messages[0], `hello ${i} `.repeat(50)));
      for (const s of socks) s.ws.close(1000, 'done');
      for (const s of socks) assert.deepEqual(await s.closed, { code: 1000, wasClean: true, error: false });
      await until(() => http2PoolSize() === 0, 'pool empties');
    });
  });

  test('the pool shares a session only between sockets with the same TLS options: a socket that verifies never rides on one opened without verification', () => {
    const ports = new Set<number | undefined>();
    return withTether({ open: (ws) => ports.add(ws.remotePort) }, async ({ url }) => {
      // Opened without verifying the server's (self-signed) certificate.
      const lax = await open(url, { http2: true, ca: undefined, tls: { rejectUnauthorized: false } });
      assert.equal(http2PoolSize(), 1);
      // Verifying with the default trust store: the certificate must be refused, as it would
      // be without the lax socket's session in the pool.
      const strict = new WebSocket(url, [], { http2: true });
      const refused = await within(new Promise<{ code: number; error: boolean }>((resolve) => {
        let error = false;
        strict.onerror = () => (error = true);
        strict.onopen = () => resolve({ code: -1, error });
        strict.onclose = (e) => resolve({ code: e.code, error });
      }), 5000, 'the strict socket settles');
      assert.deepEqual(refused, { code: 1006, error: true }, 'an untrusted certificate fails the strict socket');
      // Trusting the test CA: a session of its own, then shared by the next socket with the same CA.
      const trusting = await Promise.all([open(url, { http2: true }), open(url, { http2: true })]);
      assert.equal(http2PoolSize(), 2, 'one session for the lax options, one for the CA');
      assert.equal(ports.size, 2, 'two TCP connections');
      for (const s of [lax, ...trusting]) s.ws.close(1000);
      for (const s of [lax, ...trusting]) await s.closed;
      await until(() => http2PoolSize() === 0, 'pool empties');
    });
  });

  test('against an RFC 8441 server written with node:http2: masked frames, :status 200, close handshake', async () => {
    const server = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, settings: { enableConnectProtocol: true } });
    const seen: { headers?: Record<string, unknown>; masked: boolean[] } = { masked: [] };
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      seen.headers = headers;
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'chat' });
      let buf: Buffer = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const { frames, rest } = parseFrames(buf);
        buf = rest;
        for (const f of frames) {
          seen.masked.push(f.masked);
          if (f.opcode === 1) stream.write(frame(1, `echo:${f.payload.toString()}`, { mask: false }));
          if (f.opcode === 8) stream.end(frame(8, f.payload.subarray(0, 2), { mask: false }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const s = await open(`wss://127.0.0.1:${port}/chat?room=1`, { http2: true, origin: 'https://app.example', headers: { Authorization: 'Bearer t' } }, ['chat', 'other']);
      assert.equal(s.ws.protocol, 'chat');
      assert.equal(seen.headers![':method'], 'CONNECT');
      assert.equal(seen.headers![':protocol'], 'websocket');
      assert.equal(seen.headers![':path'], '/chat?room=1');
      assert.equal(seen.headers![':scheme'], 'https');
      assert.equal(seen.headers!['sec-websocket-version'], '13');
      assert.equal(seen.headers!['sec-websocket-protocol'], 'chat, other');
      assert.equal(seen.headers!['origin'], 'https://app.example');
      assert.equal(seen.headers!['authorization'], 'Bearer t');
      assert.equal(seen.headers!['sec-websocket-key'], undefined, 'RFC 8441 has no key');
      s.ws.send('hi');
      await until(() => s.messages.length === 1, 'echo');
      assert.equal(s.messages[0], 'echo:hi');
      s.ws.close(4000);
      assert.deepEqual(await s.closed, { code: 4000, wasClean: true, error: false });
      assert.deepEqual(seen.masked, [true, true], 'client frames are masked on HTTP/2 too');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('a given http2 session carries the sockets and stays open after them', () =>
    withTether({}, async ({ url, origin, wss }) => {
      const session = http2Connect(origin, { ca: TLS_CERT });
      try {
        const a = await open(`${url}/a`, { http2: session });
        const b = await open(`${url}/b`, { http2: session });
        assert.equal(wss.clients.size, 2);
        assert.equal(http2PoolSize(), 0, 'the pool is not used');
        a.ws.send('x');
        await until(() => a.messages.length === 1, 'echo');
        a.ws.close();
        b.ws.close();
        await a.closed;
        await b.closed;
        assert.equal(session.closed, false);
      } finally {
        session.destroy();
      }
    }));

  test('falls back to HTTP/1.1: a server without HTTP/2, and an http2 server without enableConnectProtocol', async () => {
    const h1 = new WebSocketServer({ heartbeatInterval: 0, tls: { key: TLS_KEY, cert: TLS_CERT }, message: (ws, d) => ws.send(d) });
    const addr = await h1.listen(0, '127.0.0.1');
    const plainH2 = createSecureServer({ key: TLS_KEY, cert: TLS_CERT, allowHTTP1: true });
    const versions: string[] = [];
    const viaUpgrade = new WebSocketServer({ heartbeatInterval: 0, open: (_ws, req) => void versions.push(req.method), message: (ws, d) => ws.send(d) });
    plainH2.on('upgrade', (req, socket, head) => viaUpgrade.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => plainH2.listen(0, '127.0.0.1', r));
    try {
      for (const target of [`wss://127.0.0.1:${addr.port}/`, `wss://127.0.0.1:${(plainH2.address() as AddressInfo).port}/`]) {
        const s = await open(target, { http2: true });
        s.ws.send('fallback');
        await until(() => s.messages.length === 1, 'echo');
        assert.equal(s.messages[0], 'fallback');
        s.ws.close();
        await s.closed;
      }
      assert.deepEqual(versions, ['GET'], 'the second server got an HTTP/1.1 upgrade');
    } finally {
      await h1.close({ timeout: 100 });
      await viaUpgrade.close({ timeout: 100 });
      await new Promise((r) => plainH2.close(r));
    }
  });

  test('a refused CONNECT is a failed handshake; RST_STREAM and the connection dropping are 1006', () => {
    const sockets: ServerSocket[] = [];
    return withTether({ path: '/ok', open: (ws) => void sockets.push(ws) }, async ({ url, origin }) => {
      const refused = new WebSocket(`${url}/nope`, [], { ca: TLS_CERT, http2: true });
      const r = await new Promise<{ code: number; error: boolean }>((resolve) => {
        let error = false;
        refused.onerror = () => (error = true);
        refused.onclose = (e) => resolve({ code: e.code, error });
      });
      assert.deepEqual(r, { code: 1006, error: true });
      const session = http2Connect(origin, { ca: TLS_CERT });
      session.on('error', () => {});
      try {
        const a = await open(`${url}/ok`, { http2: session });
        const b = await open(`${url}/ok`, { http2: session });
        const c = await open(`${url}/ok`, { http2: session });
        sockets[0]!.terminate(); // RST_STREAM from the server
        assert.deepEqual(await a.closed, { code: 1006, wasClean: false, error: true });
        b.ws.send('b alive');
        await until(() => b.messages.length === 1, 'b still works');
        session.destroy(); // GOAWAY and the TCP connection gone
        assert.equal((await b.closed).code, 1006);
        assert.equal((await c.closed).code, 1006);
      } finally {
        session.destroy();
      }
    });
  });

  test('RealtimeServer on an http2 server, the realtime client over HTTP/2', async () => {
    const h2 = await listenHttp2('tls');
    const rt = new RealtimeServer({ websocket: { heartbeatInterval: 0 } }).attach(h2.server);
    rt.handle('twice', (n) => (n as number) * 2);
    const client = new RealtimeClient(`wss://127.0.0.1:${h2.port}/`, { webSocketOptions: { http2: true, ca: TLS_CERT } });
    try {
      assert.equal(await within(client.request('twice', 21), 5000, 'request'), 42);
      assert.equal(http2PoolSize(), 1, 'the realtime client went over HTTP/2');
    } finally {
      client.close();
      await rt.close();
      await h2.close();
    }
  });
});
