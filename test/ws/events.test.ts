// Side by side (ws 8 and tether-ws/ws): the events of both ends, their arguments and order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { IMPLS, closed, listen, pair, record, shut, until } from './impls.js';

for (const impl of IMPLS) {
  describe(impl.name, () => {
    test('client: upgrade (the 101 response) then open; server: connection with the request', async () => {
      const { wss, url } = await listen(impl);
      const seen: string[] = [];
      const c = new impl.WebSocket(`${url}/path?q=1`);
      c.on('upgrade', (res) => seen.push(`upgrade ${res.statusCode} ${res.headers.upgrade}`));
      c.on('open', () => seen.push(`open ${c.readyState}`));
      const [s, req] = await once(wss, 'connection');
      assert.equal(req.url, '/path?q=1');
      assert.equal(s.readyState, impl.WebSocket.OPEN);
      assert.equal(s.url, undefined);
      await until(() => seen.length === 2);
      assert.deepEqual(seen, ['upgrade 101 websocket', 'open 1']);
      assert.equal(c.url, `${url}/path?q=1`);
      await shut(wss);
    });

    test('message(data, isBinary): text and binary both arrive as Buffers', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const log = record(s, ['message']);
      c.send('héllo');
      c.send(Buffer.from([1, 2, 3]));
      c.send(new Uint8Array([4, 5]));
      c.send('as binary', { binary: true });
      c.send(Buffer.from('as text'), { binary: false });
      c.send(42 as never);
      await until(() => log.length === 6);
      assert.deepEqual(log, [
        ['message', `buf:${Buffer.from('héllo').toString('latin1')}`, false],
        ['message', 'buf:\x01\x02\x03', true],
        ['message', 'buf:\x04\x05', true],
        ['message', 'buf:as binary', true],
        ['message', 'buf:as text', false],
        ['message', 'buf:42', false],
      ]);
      await shut(wss);
    });

    test('ping and pong: payloads reach both ends, pongs are automatic', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const clientLog = record(c, ['ping', 'pong']);
      const serverLog = record(s, ['ping', 'pong']);
      c.ping('from client');
      s.ping(Buffer.from('from server'));
      c.pong('unsolicited');
      await until(() => clientLog.length === 2 && serverLog.length === 3);
      assert.deepEqual(clientLog.sort(), [['ping', 'buf:from server'], ['pong', 'buf:from client']]);
      assert.deepEqual(serverLog.sort(), [['ping', 'buf:from client'], ['pong', 'buf:from server'], ['pong', 'buf:unsolicited']]);
      await shut(wss);
    });

    test('close(code, reason): both ends get the code and the reason (a Buffer); the reply echoes them', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const serverClosed = closed(s);
      const clientClosed = closed(c);
      c.close(4001, 'done here');
      assert.equal(c.readyState, impl.WebSocket.CLOSING);
      assert.deepEqual(await serverClosed, { code: 4001, reason: 'done here' });
      assert.deepEqual(await clientClosed, { code: 4001, reason: 'done here' });
      assert.equal(c.readyState, impl.WebSocket.CLOSED);
      assert.equal(s.readyState, impl.WebSocket.CLOSED);
      await shut(wss);
    });

    test('close() without a code: 1005 and an empty reason on both ends', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const serverClosed = closed(s);
      const clientClosed = closed(c);
      s.close();
      assert.deepEqual(await clientClosed, { code: 1005, reason: '' });
      assert.deepEqual(await serverClosed, { code: 1005, reason: '' });
      await shut(wss);
    });

    test('terminate(): CLOSING at once, then close 1006 on both ends, no error', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const errors: unknown[] = [];
      c.on('error', (e) => errors.push(e));
      s.on('error', (e) => errors.push(e));
      const serverClosed = closed(s);
      const clientClosed = closed(c);
      c.terminate();
      assert.equal(c.readyState, impl.WebSocket.CLOSING);
      assert.equal((await clientClosed).code, 1006);
      assert.equal((await serverClosed).code, 1006);
      assert.deepEqual(errors, []);
      await shut(wss);
    });

    test("'unexpected-response' gets the request and response; without a listener the error names the status", async () => {
      const { wss, url } = await listen(impl, { verifyClient: () => false });
      const c1 = new impl.WebSocket(url);
      const [req, res] = await once(c1, 'unexpected-response');
      assert.equal(res.statusCode, 401);
      assert.equal(typeof req.setHeader, 'function');
      // The listener decides what happens next: here it gives up.
      const log1 = record(c1, ['error', 'close']);
      c1.terminate();
      await closed(c1);
      assert.deepEqual(log1, [['error', 'Error::WebSocket was closed before the connection was established'], ['close', 1006, 'buf:']]);
      const c2 = new impl.WebSocket(url);
      const log = record(c2, ['error', 'close']);
      await closed(c2);
      assert.deepEqual(log, [['error', 'Error::Unexpected server response: 401'], ['close', 1006, 'buf:']]);
      await shut(wss);
    });
  });
}
