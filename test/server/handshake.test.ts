import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { acceptKey } from '../../src/protocol/index.js';
import { WebSocketServer, type ServerSocket, type UpgradeRequest } from '../../src/index.js';
import { RawPeer, within } from '../helpers.js';
import { deferred, openWs, rawRequest, sleep, startServer, upgradeRequest, wsClosed } from './util.js';

describe('bad handshakes over raw TCP', () => {
  let server: WebSocketServer;
  let port: number;
  before(async () => {
    ({ server, port } = await startServer({ path: '/ws', origins: ['https://good.example'] }));
  });
  after(async () => {
    await server.close({ timeout: 100 });
  });

  async function expectStatus(request: string, status: number): Promise<Record<string, string>> {
    const res = await rawRequest(port, request);
    assert.equal(res.status, status, `expected ${status}, got ${JSON.stringify(res.raw)}`);
    assert.ok(res.closed, 'the server closes the connection after an error response');
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)), 'the body matches Content-Length');
    assert.equal(server.clients.size, 0);
    return res.headers;
  }

  test('POST → 405 with Allow: GET', async () => {
    const h = await expectStatus(upgradeRequest({ method: 'POST', path: '/ws' }), 405);
    assert.equal(h['allow'], 'GET');
  });

  test('HTTP/1.0 → 505', async () => {
    await expectStatus(upgradeRequest({ version: 'HTTP/1.0', path: '/ws' }), 505);
  });

  test('missing Host → 400', async () => {
    await expectStatus(upgradeRequest({ path: '/ws', headers: { Host: null } }), 400);
  });

  test('a plain GET without Upgrade → 426 with Upgrade: websocket', async () => {
    const h = await expectStatus('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 426);
    assert.equal(h['upgrade'], 'websocket');
  });

  test('Connection without "upgrade" → 400', async () => {
    await expectStatus(upgradeRequest({ path: '/ws', headers: { Connection: 'keep-alive' } }), 400);
    await expectStatus(upgradeRequest({ path: '/ws', headers: { Connection: null } }), 400);
  });

  test('missing or malformed Sec-WebSocket-Key → 400', async () => {
    await expectStatus(upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': null } }), 400);
    await expectStatus(upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': 'not-base64!' } }), 400);
    // 15 bytes in base64 is not a 16-byte nonce.
    await expectStatus(upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': randomBytes(15).toString('base64') } }), 400);
  });

  test('Sec-WebSocket-Version 8 → 426 with Sec-WebSocket-Version: 13', async () => {
    const h = await expectStatus(upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '8' } }), 426);
    assert.equal(h['sec-websocket-version'], '13');
  });

  test('wrong path → 404 (the query string is ignored for the right one)', async () => {
    await expectStatus(upgradeRequest({ path: '/other' }), 404);
    await expectStatus(upgradeRequest({ path: '/ws/extra' }), 404);
    const ok = await RawPeer.connect(port, { path: '/ws?room=1' });
    ok.destroy();
    await ok.closed;
  });

  test('Origin not allowed → 403; an allowed one (any case) → 101', async () => {
    await expectStatus(upgradeRequest({ path: '/ws', headers: { Origin: 'https://evil.example' } }), 403);
    const peer = await RawPeer.connect(port, { path: '/ws', headers: { Origin: 'https://GOOD.example' } });
    assert.equal(peer.response.start[1], '101');
    peer.destroy();
    await peer.closed;
  });

  test('garbage request line → 400', async () => {
    await expectStatus('GARBAGE\r\n\r\n', 400);
    await expectStatus('GET /ws HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n', 400);
  });
});

describe('verify hook', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup) await c();
  });
  async function serverWith(verify: (req: UpgradeRequest) => any, extra: Record<string, unknown> = {}) {
    const s = await startServer({ verify, ...extra });
    cleanup.push(() => s.server.close({ timeout: 100 }));
    return s;
  }

  test('sync true accepts, sync false → 401', async () => {
    let allow = true;
    const { port } = await serverWith(() => allow);
    const peer = await RawPeer.connect(port);
    peer.destroy();
    allow = false;
    const res = await rawRequest(port, upgradeRequest());
    assert.equal(res.status, 401);
    assert.ok(res.closed);
  });

  test('an object answer sets status, message and headers', async () => {
    const { port } = await serverWith(() => ({ status: 403, message: 'go away', headers: { 'X-Reason': 'nope' } }));
    const res = await rawRequest(port, upgradeRequest());
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-reason'], 'nope');
    assert.match(res.body, /go away/);
    assert.ok(res.closed);
  });

  test('async verify resolving after a delay accepts, and request.data becomes ws.data', async () => {
    const opened = deferred<{ data: unknown; url: string; query: string | null }>();
    let calls = 0;
    const { url } = await serverWith(
      async (req) => {
        calls++;
        await sleep(100);
        req.data = { user: req.headers['x-user'] };
        return true;
      },
      { open: (ws: ServerSocket, req: UpgradeRequest) => opened.resolve({ data: ws.data, url: req.url, query: req.query.get('q') }) },
    );
    const t0 = Date.now();
    const ws = await openWs(`${url}/p?q=7`, undefined, { headers: { 'X-User': 'alice' } });
    assert.ok(Date.now() - t0 >= 90, 'the 101 waits for verify');
    const seen = await within(opened.promise, 2000, 'open handler');
    assert.deepEqual(seen, { data: { user: 'alice' }, url: '/p?q=7', query: '7' });
    assert.equal(calls, 1);
    ws.close();
    await wsClosed(ws);
  });

  test('async verify resolving false → 401, resolving an object → its status', async () => {
    let answer: unknown = false;
    const { port } = await serverWith(async () => {
      await sleep(20);
      return answer;
    });
    assert.equal((await rawRequest(port, upgradeRequest())).status, 401);
    answer = { status: 429, headers: { 'Retry-After': '5' } };
    const res = await rawRequest(port, upgradeRequest());
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '5');
  });

  test('verify throwing or rejecting → 500, and the server keeps working', async () => {
    let mode = 'throw';
    const { port } = await serverWith(() => {
      if (mode === 'throw') throw new Error('boom');
      if (mode === 'reject') return Promise.reject(new Error('boom'));
      return true;
    });
    const thrown = await rawRequest(port, upgradeRequest());
    assert.equal(thrown.status, 500);
    assert.ok(thrown.closed);
    mode = 'reject';
    assert.equal((await rawRequest(port, upgradeRequest())).status, 500);
    mode = 'ok';
    const peer = await RawPeer.connect(port);
    peer.destroy();
  });

  test('verify sees the request: path, headers, origin, remote address, protocols', async () => {
    const seen = deferred<UpgradeRequest>();
    const { port } = await serverWith((req) => {
      seen.resolve(req);
      return true;
    });
    const peer = await RawPeer.connect(port, { path: '/x/y?a=b', headers: { Origin: 'https://o.example', 'Sec-WebSocket-Protocol': 'one, two' } });
    const req = await seen.promise;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/x/y');
    assert.equal(req.query.get('a'), 'b');
    assert.equal(req.origin, 'https://o.example');
    assert.equal(req.remoteAddress, '127.0.0.1');
    assert.deepEqual(req.protocols, ['one', 'two']);
    assert.equal(req.secure, false);
    assert.equal(req.headers['host'], `127.0.0.1:${port}`);
    peer.destroy();
  });
});

describe('subprotocols', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  test('`protocols` picks by server preference among those offered', async () => {
    const opened: string[] = [];
    const { server, port } = await startServer({ protocols: ['v3', 'v2', 'v1'], open: (ws) => void opened.push(ws.protocol) });
    cleanup.push(() => server.close({ timeout: 100 }));
    const peer = await RawPeer.connect(port, { headers: { 'Sec-WebSocket-Protocol': 'v1, v2' } });
    assert.equal(peer.response.headers['sec-websocket-protocol'], 'v2');
    peer.destroy();
    const none = await RawPeer.connect(port, { headers: { 'Sec-WebSocket-Protocol': 'x1' } });
    assert.equal(none.response.headers['sec-websocket-protocol'], undefined, 'no common protocol: no header');
    none.destroy();
    assert.deepEqual(opened, ['v2', '']);
  });

  test('no protocol offered → no Sec-WebSocket-Protocol header', async () => {
    const { server, port } = await startServer({ protocols: ['v1'] });
    cleanup.push(() => server.close({ timeout: 100 }));
    const peer = await RawPeer.connect(port);
    assert.equal(peer.response.headers['sec-websocket-protocol'], undefined);
    peer.destroy();
  });

  test('selectProtocol chooses, and overrides `protocols`', async () => {
    const calls: string[][] = [];
    const { server, url } = await startServer({
      protocols: ['a'],
      selectProtocol: (offered) => {
        calls.push(offered);
        return offered.includes('b') ? 'b' : undefined;
      },
    });
    cleanup.push(() => server.close({ timeout: 100 }));
    const ws = await openWs(url, ['a', 'b']);
    assert.equal(ws.protocol, 'b');
    ws.close();
    await wsClosed(ws);
    assert.deepEqual(calls, [['a', 'b']]);
  });

  test('selectProtocol returning a protocol not offered → 500', async () => {
    const { server, port } = await startServer({ selectProtocol: () => 'zzz' });
    cleanup.push(() => server.close({ timeout: 100 }));
    const res = await rawRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a' } }));
    assert.equal(res.status, 500);
  });

  test('the 101 response is right for each of more subprotocols than the server keeps prebuilt responses for', async () => {
    const opened: string[] = [];
    const { server, port } = await startServer({ selectProtocol: (offered) => offered[0], open: (ws) => void opened.push(ws.protocol) });
    cleanup.push(() => server.close({ timeout: 100 }));
    const offered = Array.from({ length: 70 }, (_, i) => `proto-${i}`);
    // Twice through: the second pass meets responses built before the cache was cleared.
    for (const p of [...offered, ...offered.slice(0, 3)]) {
      // RawPeer.connect checks Sec-WebSocket-Accept against its own random key.
      const peer = await RawPeer.connect(port, { headers: { 'Sec-WebSocket-Protocol': p } });
      assert.equal(peer.response.headers['sec-websocket-protocol'], p);
      peer.destroy();
    }
    assert.deepEqual(opened, [...offered, ...offered.slice(0, 3)]);
  });

  test('an invalid or repeated offered subprotocol → 400', async () => {
    const { server, port } = await startServer({ protocols: ['a'] });
    cleanup.push(() => server.close({ timeout: 100 }));
    assert.equal((await rawRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a b' } }))).status, 400);
    assert.equal((await rawRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a, a' } }))).status, 400);
  });
});

test('a valid handshake: 101 with the right accept key, and frames sent with the head are read', async () => {
  const got = deferred<string>();
  const { server, port } = await startServer({ message: (_ws, data) => got.resolve(String(data)) });
  try {
    const { connect } = await import('node:net');
    const key = randomBytes(16).toString('base64');
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    // Head and a first masked text frame "hi" in one write.
    const frameBytes = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    socket.write(Buffer.concat([Buffer.from(upgradeRequest({ headers: { 'Sec-WebSocket-Key': key } })), frameBytes]));
    let head = '';
    await within(new Promise<void>((resolve) => socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n')) resolve();
    })), 3000, '101 response');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, new RegExp(`\r\nSec-WebSocket-Accept: ${acceptKey(key).replace(/[+/]/g, '\\$&')}\r\n`, 'i'));
    assert.equal(await within(got.promise, 3000, 'message'), 'hi');
    socket.destroy();
  } finally {
    await server.close({ timeout: 100 });
  }
});

test('origins as a function; requests without Origin are accepted', async () => {
  const asked: string[] = [];
  const { server, port } = await startServer({ origins: (o) => (asked.push(o), o.endsWith('.trusted.example')) });
  try {
    assert.equal((await rawRequest(port, upgradeRequest({ headers: { Origin: 'https://x.other.example' } }))).status, 403);
    const ok = await RawPeer.connect(port, { headers: { Origin: 'https://app.trusted.example' } });
    ok.destroy();
    const none = await RawPeer.connect(port);
    none.destroy();
    assert.deepEqual(asked, ['https://x.other.example', 'https://app.trusted.example']);
  } finally {
    await server.close({ timeout: 100 });
  }
});

test('repeated Host or Sec-WebSocket-Key headers → 400', async () => {
  const { server, port } = await startServer();
  try {
    const twoHosts = upgradeRequest().replace('Host: 127.0.0.1\r\n', 'Host: 127.0.0.1\r\nHost: evil.example\r\n');
    assert.equal((await rawRequest(port, twoHosts)).status, 400);
    const key = randomBytes(16).toString('base64');
    const twoKeys = upgradeRequest({ headers: { 'Sec-WebSocket-Key': key } }).replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
    assert.equal((await rawRequest(port, twoKeys)).status, 400);
  } finally {
    await server.close({ timeout: 100 });
  }
});
