// Side by side: WebSocketServer — modes, verifyClient, handleProtocols, path, tracking, events, close.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { rawRequest, upgradeRequest } from '../server/util.js';
import { IMPLS, closed, listen, pair, record, shut, until } from './impls.js';

const refusal = (raw: { status: number; body: string; headers: Record<string, string> }) => `${raw.status} ${raw.body}`;

for (const impl of IMPLS) {
  describe(impl.name, () => {
    test('exactly one of port, server and noServer', () => {
      const message = 'One and only one of the "port", "server", or "noServer" options must be specified';
      for (const options of [{}, { port: 0, noServer: true }, { noServer: true, server: createServer() }]) {
        assert.throws(() => new impl.WebSocketServer(options), (err: Error) => err instanceof TypeError && err.message === message);
      }
    });

    test("port mode: 'listening', address(), plain HTTP requests get 426, close(cb)", async () => {
      const listening: string[] = [];
      const wss = new impl.WebSocketServer({ port: 0, host: '127.0.0.1' }, () => listening.push('callback'));
      wss.on('listening', () => listening.push('event'));
      await once(wss, 'listening');
      const { port, address } = wss.address() as AddressInfo;
      assert.equal(address, '127.0.0.1');
      const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(res.status, 426);
      assert.equal(res.body, 'Upgrade Required');
      await until(() => listening.length === 2);
      assert.deepEqual(listening.sort(), ['callback', 'event']);
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
      const again = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
      assert.equal(again?.message, 'The server is not running');
    });

    test("a port in use is reported by the 'error' event", async () => {
      const { wss, port } = await listen(impl);
      const second = new impl.WebSocketServer({ port, host: '127.0.0.1' });
      const [err] = await once(second, 'error');
      assert.equal((err as NodeJS.ErrnoException).code, 'EADDRINUSE');
      await shut(wss);
    });

    test('verifyClient (sync): false refuses with 401; info has origin, secure and req', async () => {
      const infos: unknown[] = [];
      const { wss, port } = await listen(impl, {
        verifyClient: (info: { origin: string; secure: boolean; req: IncomingMessage }) => {
          infos.push([info.origin, info.secure, info.req.url]);
          return info.req.url !== '/no';
        },
      });
      const refused = await rawRequest(port, upgradeRequest({ path: '/no', headers: { Origin: 'https://a.example' } }));
      assert.equal(refusal(refused), '401 Unauthorized');
      assert.equal(refused.headers['content-type'], 'text/html');
      const [c] = await pair(impl, wss, `ws://127.0.0.1:${port}/yes`);
      assert.deepEqual(infos, [['https://a.example', false, '/no'], [undefined, false, '/yes']]);
      c.terminate();
      await shut(wss);
    });

    test('verifyClient (async): refusal with a status, message and headers; acceptance later', async () => {
      const { wss, port } = await listen(impl, {
        verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
          setTimeout(() => (info.req.url === '/no' ? done(false, 403, 'go away', { 'X-Why': 'test' }) : info.req.url === '/bare' ? done(false) : done(true)), 5);
        },
      });
      const refused = await rawRequest(port, upgradeRequest({ path: '/no' }));
      assert.equal(refusal(refused), '403 go away');
      assert.equal(refused.headers['x-why'], 'test');
      assert.equal(refusal(await rawRequest(port, upgradeRequest({ path: '/bare' }))), '401 Unauthorized');
      const [c] = await pair(impl, wss, `ws://127.0.0.1:${port}/yes`);
      c.terminate();
      await shut(wss);
    });

    test('handleProtocols chooses among the offered (a Set); without it the first is chosen', async () => {
      const offered: string[][] = [];
      const { wss, url } = await listen(impl, {
        handleProtocols: (protocols: Set<string>) => {
          offered.push([...protocols]);
          return protocols.has('b') ? 'b' : false;
        },
      });
      const [c] = await pair(impl, wss, url, ['a', 'b']);
      assert.equal(c.protocol, 'b');
      assert.deepEqual(offered, [['a', 'b']]);
      // Choosing none: the client asked for one, so the client fails the handshake.
      const none = new impl.WebSocket(url, ['z']);
      const log = record(none, ['error', 'close']);
      await closed(none);
      assert.deepEqual(log, [['error', 'Error::Server sent no subprotocol'], ['close', 1006, 'buf:']]);
      await shut(wss);
      const plain = await listen(impl);
      const [d, s] = await pair(impl, plain.wss, plain.url, ['x', 'y']);
      assert.equal(d.protocol, 'x');
      assert.equal(s.protocol, 'x');
      await shut(plain.wss);
    });

    test('malformed requests: statuses and messages; wsClientError takes over when listened to', async () => {
      const { wss, port } = await listen(impl);
      const cases: Array<[string, string]> = [
        [upgradeRequest({ method: 'POST' }), '405 Invalid HTTP method'],
        [upgradeRequest({ headers: { Upgrade: 'h2c' } }), '400 Invalid Upgrade header'],
        [upgradeRequest({ headers: { 'Sec-WebSocket-Key': 'short' } }), '400 Missing or invalid Sec-WebSocket-Key header'],
        [upgradeRequest({ headers: { 'Sec-WebSocket-Version': '12' } }), '400 Missing or invalid Sec-WebSocket-Version header'],
        [upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a,,b' } }), '400 Invalid Sec-WebSocket-Protocol header'],
        [upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a, a' } }), '400 Invalid Sec-WebSocket-Protocol header'],
      ];
      for (const [req, expected] of cases) assert.equal(refusal(await rawRequest(port, req)), expected);
      const version = await rawRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '12' } }));
      assert.equal(version.headers['sec-websocket-version'], '13, 8');
      const seen: string[] = [];
      wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
        seen.push(`${err.message} ${req.method}`);
        socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
      assert.equal((await rawRequest(port, upgradeRequest({ method: 'POST' }))).status, 418);
      assert.deepEqual(seen, ['Invalid HTTP method POST']);
      await shut(wss);
    });

    test('path: other paths are refused with 400', async () => {
      const { wss, port } = await listen(impl, { path: '/ws' });
      assert.equal(refusal(await rawRequest(port, upgradeRequest({ path: '/other' }))), '400 Bad Request');
      const [c] = await pair(impl, wss, `ws://127.0.0.1:${port}/ws?x=1`);
      assert.equal(wss.shouldHandle({ url: '/ws?y' } as IncomingMessage), true);
      assert.equal(wss.shouldHandle({ url: '/wsx' } as IncomingMessage), false);
      c.terminate();
      await shut(wss);
    });

    test("server mode and the 'headers' event, which may add response headers", async () => {
      const http = createServer();
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      const wss = new impl.WebSocketServer({ server: http });
      wss.on('headers', (headers: string[], req: IncomingMessage) => headers.push(`X-Path: ${req.url}`));
      const c = new impl.WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/h`);
      const opened = once(c, 'open');
      const [res] = await once(c, 'upgrade');
      assert.equal(res.headers['x-path'], '/h');
      await opened;
      c.terminate();
      await shut(wss);
      http.close();
    });

    test('noServer + handleUpgrade; a second handleUpgrade of the same socket throws', async () => {
      const wss = new impl.WebSocketServer({ noServer: true });
      assert.throws(() => wss.address(), /noServer/);
      const http = createServer();
      const errors: string[] = [];
      http.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, (ws) => {
          wss.emit('connection', ws, req);
          try {
            wss.handleUpgrade(req, socket, head, () => {});
          } catch (err) {
            errors.push((err as Error).message);
          }
        });
      });
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      const [c, s] = await pair(impl, wss, `ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
      assert.deepEqual(errors, ['server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration']);
      s.send('through noServer');
      const [data] = await once(c, 'message');
      assert.equal(String(data), 'through noServer');
      c.terminate();
      await shut(wss);
      http.close();
    });

    test('clientTracking: clients holds open connections; false leaves it undefined', async () => {
      const { wss, url } = await listen(impl);
      const [c1] = await pair(impl, wss, url);
      const [c2] = await pair(impl, wss, url);
      assert.equal(wss.clients.size, 2);
      const gone = closed([...wss.clients][0]!);
      c1.close();
      await gone;
      assert.equal(wss.clients.size, 1);
      c2.terminate();
      await shut(wss);
      const untracked = await listen(impl, { clientTracking: false });
      assert.equal(untracked.wss.clients, undefined);
      await new Promise((r) => untracked.wss.close(r));
    });

    test("close(): no new connections (503 in noServer mode), open ones stay; 'close' once they are gone", async () => {
      const wss = new impl.WebSocketServer({ noServer: true });
      const http = createServer();
      http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      const port = (http.address() as AddressInfo).port;
      const [c, s] = await pair(impl, wss, `ws://127.0.0.1:${port}`);
      let closedEmitted = false;
      wss.close(() => (closedEmitted = true));
      assert.equal(refusal(await rawRequest(port, upgradeRequest())), '503 Service Unavailable');
      s.send('still open');
      const [data] = await once(c, 'message');
      assert.equal(String(data), 'still open');
      assert.equal(closedEmitted, false);
      c.close();
      await until(() => closedEmitted);
      http.close();
    });
  });
}

