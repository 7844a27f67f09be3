// Side by side: the client's options, handshake failures and redirects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, Agent, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptKey } from '../../src/protocol/index.js';
import { frame, TLS_CERT, TLS_KEY } from '../helpers.js';
import { IMPLS, closed, listen, pair, record, shut, until } from './impls.js';

/** An http server whose upgrade handler answers with whatever `respond` writes. */
async function fakeServer(respond: (req: IncomingMessage, socket: Duplex) => void): Promise<{ http: HttpServer; url: string }> {
  const http = createServer();
  http.on('upgrade', (req, socket) => {
    // Like a real server, close when the client ends its side.
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    respond(req, socket);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { http, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

const accept = (req: IncomingMessage, extra = ''): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n${extra}\r\n`;

for (const impl of IMPLS) {
  describe(impl.name, () => {
    test('bad arguments throw at once: URL, scheme, fragment, subprotocols, protocolVersion', () => {
      const cases: Array<[() => unknown, string]> = [
        [() => new impl.WebSocket('not a url'), 'SyntaxError: Invalid URL: not a url'],
        [() => new impl.WebSocket('ftp://x'), 'SyntaxError: The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
        [() => new impl.WebSocket('ws://x/#frag'), 'SyntaxError: The URL contains a fragment identifier'],
        [() => new impl.WebSocket('ws://x', ['a', 'a']), 'SyntaxError: An invalid or duplicated subprotocol was specified'],
        [() => new impl.WebSocket('ws://x', 'a b'), 'SyntaxError: An invalid or duplicated subprotocol was specified'],
        [() => new impl.WebSocket('ws://x', { protocolVersion: 9 }), 'RangeError: Unsupported protocol version: 9 (supported versions: 8, 13)'],
      ];
      for (const [make, expected] of cases) assert.throws(make, (err: Error) => `${err.constructor.name}: ${err.message}` === expected, expected);
    });

    test('headers, origin, protocolVersion 8 (Sec-WebSocket-Origin), http: URLs, credentials in the URL', async () => {
      const { wss, port } = await listen(impl);
      const seen: Array<Record<string, unknown>> = [];
      wss.on('connection', (_s, req: IncomingMessage) => seen.push({ ...req.headers }));
      const a = new impl.WebSocket(`http://user:p%40ss@127.0.0.1:${port}/`, { headers: { 'X-Token': 't1' }, origin: 'https://app.example' });
      await once(a, 'open');
      assert.equal(a.url, `ws://user:p%40ss@127.0.0.1:${port}/`);
      const b = new impl.WebSocket(`ws://127.0.0.1:${port}/`, [], { protocolVersion: 8, origin: 'https://old.example' });
      await once(b, 'open');
      assert.equal(seen[0]!['x-token'], 't1');
      assert.equal(seen[0]!['origin'], 'https://app.example');
      assert.equal(seen[0]!['authorization'], `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
      assert.equal(seen[1]!['sec-websocket-version'], '8');
      assert.equal(seen[1]!['sec-websocket-origin'], 'https://old.example');
      a.terminate();
      b.terminate();
      await shut(wss);
    });

    test('handshakeTimeout: a server that never answers fails the connection', async () => {
      const silent: NetSocket[] = [];
      const { http, url } = await fakeServer((_req, socket) => silent.push(socket as NetSocket));
      const c = new impl.WebSocket(url, { handshakeTimeout: 50 });
      const log = record(c, ['open', 'error', 'close']);
      await closed(c);
      assert.deepEqual(log, [['error', 'Error::Opening handshake has timed out'], ['close', 1006, 'buf:']]);
      for (const s of silent) s.destroy();
      http.close();
    });

    test('handshake checks: accept key, subprotocol, extensions', async () => {
      const cases: Array<[string, (req: IncomingMessage) => string, string | string[] | undefined, Record<string, unknown>]> = [
        ['Invalid Sec-WebSocket-Accept header', () => 'HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n', undefined, {}],
        ['Invalid Upgrade header', (req) => accept(req).replace('Upgrade: websocket\r\n', 'Upgrade: h2c\r\n'), undefined, {}],
        ['Server sent a subprotocol but none was requested', (req) => accept(req, 'Sec-WebSocket-Protocol: x\r\n'), undefined, {}],
        ['Server sent an invalid subprotocol', (req) => accept(req, 'Sec-WebSocket-Protocol: x\r\n'), ['a'], {}],
        ['Server sent a Sec-WebSocket-Extensions header but no extension was requested', (req) => accept(req, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'), undefined, { perMessageDeflate: false }],
        ['Server indicated an extension that was not requested', (req) => accept(req, 'Sec-WebSocket-Extensions: x-other\r\n'), undefined, {}],
        ['Invalid Sec-WebSocket-Extensions header', (req) => accept(req, 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n'), undefined, {}],
      ];
      for (const [expected, response, protocols, options] of cases) {
        const { http, url } = await fakeServer((req, socket) => socket.write(response(req)));
        const c = new impl.WebSocket(url, protocols, options);
        const log = record(c, ['open', 'error', 'close']);
        await closed(c);
        assert.deepEqual(log, [['error', `Error::${expected}`], ['close', 1006, 'buf:']], expected);
        http.close();
        http.closeAllConnections();
      }
    });

    test("followRedirects: 'redirect' (url, request) then open at the new URL; maxRedirects bounds it; off by default", async () => {
      const { wss, port } = await listen(impl);
      const redirector = createServer((req, res) => {
        const n = Number(req.url!.slice(1));
        res.writeHead(302, { Location: n > 0 ? `/${n - 1}` : `ws://127.0.0.1:${port}/final` }).end();
      });
      redirector.listen(0, '127.0.0.1');
      await once(redirector, 'listening');
      const base = `ws://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
      const c = new impl.WebSocket(`${base}/1`, { followRedirects: true });
      const redirects: string[] = [];
      c.on('redirect', (url: string, req: { setHeader: unknown }) => redirects.push(`${url} ${typeof req.setHeader}`));
      await once(c, 'open');
      assert.equal(c.url, `ws://127.0.0.1:${port}/final`);
      assert.deepEqual(redirects, [`${base}/0 function`, `ws://127.0.0.1:${port}/final function`]);
      const limited = new impl.WebSocket(`${base}/3`, { followRedirects: true, maxRedirects: 2 });
      const log = record(limited, ['error', 'close']);
      await closed(limited);
      assert.deepEqual(log, [['error', 'Error::Maximum redirects exceeded'], ['close', 1006, 'buf:']]);
      const off = new impl.WebSocket(`${base}/0`);
      const offLog = record(off, ['error', 'close']);
      await closed(off);
      assert.deepEqual(offLog, [['error', 'Error::Unexpected server response: 302'], ['close', 1006, 'buf:']]);
      c.terminate();
      await shut(wss);
      redirector.close();
    });

    test('finishRequest, createConnection and agent reach the handshake request', async () => {
      const { wss, port, url } = await listen(impl);
      const headers: string[] = [];
      wss.on('connection', (_s, req: IncomingMessage) => headers.push(String(req.headers['x-finish'])));
      const a = new impl.WebSocket(url, {
        finishRequest: (req, ws) => {
          assert.equal(ws.readyState, 0);
          req.setHeader('X-Finish', 'yes');
          req.end();
        },
      });
      await once(a, 'open');
      let created = 0;
      const b = new impl.WebSocket(url, {
        createConnection: () => {
          created++;
          return connect(port, '127.0.0.1');
        },
      });
      await once(b, 'open');
      const agent = new Agent();
      let viaAgent = 0;
      const original = agent.createConnection.bind(agent);
      agent.createConnection = ((...args: Parameters<Agent['createConnection']>) => {
        viaAgent++;
        return original(...args);
      }) as Agent['createConnection'];
      const d = new impl.WebSocket(url, { agent });
      await once(d, 'open');
      assert.deepEqual([headers[0], created, viaAgent], ['yes', 1, 1]);
      for (const c of [a, b, d]) c.terminate();
      agent.destroy();
      await shut(wss);
    });

    test('wss:// with TLS options (ca, or rejectUnauthorized: false)', async () => {
      const https = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT });
      const wss = new impl.WebSocketServer({ server: https });
      https.listen(0, '127.0.0.1');
      await once(https, 'listening');
      const port = (https.address() as AddressInfo).port;
      const secure: boolean[] = [];
      wss.on('connection', (s) => {
        secure.push(true);
        s.send('over tls');
      });
      const a = new impl.WebSocket(`wss://localhost:${port}`, { ca: TLS_CERT });
      const [m] = await once(a, 'message');
      assert.equal(String(m), 'over tls');
      const b = new impl.WebSocket(`wss://127.0.0.1:${port}`, { rejectUnauthorized: false });
      await once(b, 'open');
      const c = new impl.WebSocket(`wss://localhost:${port}`);
      const log = record(c, ['error', 'close']);
      await closed(c);
      assert.equal(log.length, 2);
      assert.match(String(log[0]![1]), /self.signed|unable to verify|certificate/i);
      a.terminate();
      b.terminate();
      await shut(wss);
      https.close();
    });

    test('client maxPayload: a larger message from the server fails with 1009', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url, undefined, { maxPayload: 10 });
      const log = record(c, ['message', 'error', 'close']);
      const serverClosed = closed(s);
      s.send('0123456789');
      s.send('0123456789a');
      assert.equal((await serverClosed).code, 1009);
      await until(() => log.length === 3);
      assert.deepEqual(log, [['message', 'buf:0123456789', false], ['error', 'RangeError:WS_ERR_UNSUPPORTED_MESSAGE_LENGTH:Max payload size exceeded'], ['close', 1006, 'buf:']]);
      await shut(wss);
    });

    test('a server breaking the protocol: the client reports it as ws does', async () => {
      const { http, url } = await fakeServer((req, socket) => socket.write(Buffer.concat([Buffer.from(accept(req)), frame(1, 'masked', { mask: true })])));
      // ws may wait for the close timeout before dropping the connection: keep it short.
      const c = new impl.WebSocket(url, { closeTimeout: 100 } as object);
      const log = record(c, ['open', 'message', 'error', 'close']);
      await closed(c);
      assert.deepEqual(log, [['open'], ['error', 'RangeError:WS_ERR_UNEXPECTED_MASK:Invalid WebSocket frame: MASK must be clear'], ['close', 1006, 'buf:']]);
      http.close();
      http.closeAllConnections();
    });

    test('skipUTF8Validation delivers invalid text; autoPong: false leaves pings to the user', async () => {
      const pongs: string[] = [];
      const { http, url } = await fakeServer((req, socket) => {
        socket.on('data', (d: Buffer) => {
          if ((d[0]! & 0x0f) === 0xa) pongs.push('pong');
        });
        socket.write(Buffer.concat([Buffer.from(accept(req)), frame(1, Buffer.from([0xff, 0xfe]), { mask: false }), frame(9, 'p', { mask: false })]));
      });
      const c = new impl.WebSocket(url, { skipUTF8Validation: true, autoPong: false });
      const log = record(c, ['message', 'ping', 'error']);
      await until(() => log.length === 2);
      assert.deepEqual(log, [['message', 'buf:\xff\xfe', false], ['ping', 'buf:p']]);
      c.pong('manual');
      await until(() => pongs.length === 1);
      c.terminate();
      http.close();
      http.closeAllConnections();
    });

    test('allowSynchronousEvents: false emits one message per tick; true (default) in one go', async () => {
      for (const allowSynchronousEvents of [true, false]) {
        const { http, url } = await fakeServer((req, socket) => socket.write(Buffer.concat([Buffer.from(accept(req)), frame(1, 'a', { mask: false }), frame(1, 'b', { mask: false })])));
        const c = new impl.WebSocket(url, { allowSynchronousEvents });
        const order: string[] = [];
        c.on('message', (d) => {
          order.push(String(d));
          setImmediate(() => order.push(`after ${String(d)}`));
        });
        await until(() => order.length === 4);
        assert.deepEqual(order, allowSynchronousEvents ? ['a', 'b', 'after a', 'after b'] : ['a', 'after a', 'b', 'after b'], String(allowSynchronousEvents));
        c.terminate();
        http.close();
        http.closeAllConnections();
      }
    });
  });
}
