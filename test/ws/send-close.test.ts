// Side by side: send(), ping(), pong() and close() — argument checks, callbacks, state rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IMPLS, closed, listen, pair, record, shut, until } from './impls.js';

const message = (err: unknown): string => (err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err));

for (const impl of IMPLS) {
  describe(impl.name, () => {
    test('send, ping and pong throw while CONNECTING', async () => {
      const { wss, url } = await listen(impl);
      const c = new impl.WebSocket(url);
      for (const call of [() => c.send('x'), () => c.ping(), () => c.pong()]) {
        assert.throws(call, (err) => message(err) === 'Error: WebSocket is not open: readyState 0 (CONNECTING)');
      }
      await new Promise((r) => c.once('open', r));
      c.terminate();
      await shut(wss);
    });

    test('send callbacks: called without an error once written, in order', async () => {
      const { wss, url } = await listen(impl);
      const [c] = await pair(impl, wss, url);
      const calls: string[] = [];
      c.send('a', (err) => calls.push(`a ${err ?? 'ok'}`));
      c.send(Buffer.from('b'), { binary: true }, (err) => calls.push(`b ${err ?? 'ok'}`));
      c.ping('p', undefined, (err) => calls.push(`ping ${err ?? 'ok'}`));
      await until(() => calls.length === 3);
      assert.deepEqual(calls, ['a ok', 'b ok', 'ping ok']);
      await shut(wss);
    });

    test('send after close: no throw, the callback gets an error, bufferedAmount counts the data', async () => {
      const { wss, url } = await listen(impl);
      const [c] = await pair(impl, wss, url);
      const clientClosed = closed(c);
      c.close();
      const before = c.bufferedAmount;
      const errors: string[] = [];
      c.send('abcd', (err) => errors.push(message(err)));
      c.ping('xy', undefined, (err) => errors.push(message(err)));
      assert.equal(c.bufferedAmount - before, 6);
      await until(() => errors.length === 2);
      assert.deepEqual(errors, ['Error: WebSocket is not open: readyState 2 (CLOSING)', 'Error: WebSocket is not open: readyState 2 (CLOSING)']);
      await clientClosed;
      c.send('z', (err) => errors.push(message(err)));
      await until(() => errors.length === 3);
      assert.equal(errors[2], 'Error: WebSocket is not open: readyState 3 (CLOSED)');
      await shut(wss);
    });

    test('fin: false sends fragments; the message ends with the next send with fin: true', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const log = record(s, ['message']);
      c.send('ab', { fin: false });
      c.send('cd', { fin: false });
      c.send('ef');
      c.send(Buffer.from([1, 2]), { fin: false });
      c.send(Buffer.from([3]), { fin: true });
      await until(() => log.length === 2);
      assert.deepEqual(log, [['message', 'buf:abcdef', false], ['message', 'buf:\x01\x02\x03', true]]);
      await shut(wss);
    });

    test('a Blob is sent as binary, in order with what follows it', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const log = record(s, ['message']);
      c.send(new Blob(['blob data']) as never);
      c.send('after');
      await until(() => log.length === 2);
      assert.deepEqual(log, [['message', 'buf:blob data', true], ['message', 'buf:after', false]]);
      await shut(wss);
    });

    test('close() arguments: invalid codes are a TypeError, long reasons a RangeError', async () => {
      const { wss, url } = await listen(impl);
      const [c] = await pair(impl, wss, url);
      for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000, '1000']) {
        assert.throws(() => c.close(code as number), (err) => message(err) === 'TypeError: First argument must be a valid error code number', String(code));
      }
      assert.throws(() => c.close(1000, 'x'.repeat(124)), (err) => message(err) === 'RangeError: The message must not be greater than 123 bytes');
      assert.throws(() => c.close(1000, 'é'.repeat(62)), RangeError);
      assert.equal(c.readyState, impl.WebSocket.OPEN);
      const s = [...wss.clients][0]!;
      const serverClosed = closed(s);
      c.close(1000, Buffer.from('x'.repeat(123)));
      assert.deepEqual(await serverClosed, { code: 1000, reason: 'x'.repeat(123) });
      await shut(wss);
    });

    test('control frames over 125 bytes are refused when given', async () => {
      const { wss, url } = await listen(impl);
      const [c] = await pair(impl, wss, url);
      assert.throws(() => c.ping(Buffer.alloc(126)), (err) => message(err) === 'RangeError: The data size must not be greater than 125 bytes');
      assert.throws(() => c.pong('x'.repeat(126)), RangeError);
      c.ping(Buffer.alloc(125));
      await shut(wss);
    });

    test('close() or terminate() while CONNECTING: error, then close 1006', async () => {
      const { wss, url } = await listen(impl);
      for (const how of ['close', 'terminate'] as const) {
        const c = new impl.WebSocket(url);
        const log = record(c, ['open', 'error', 'close']);
        c[how]();
        assert.equal(c.readyState, impl.WebSocket.CLOSING);
        await closed(c);
        assert.deepEqual(log, [['error', 'Error::WebSocket was closed before the connection was established'], ['close', 1006, 'buf:']]);
        assert.equal(c.readyState, impl.WebSocket.CLOSED);
      }
      await shut(wss);
    });

    test('close() twice, and close() after the peer closed, are no-ops', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const clientClosed = closed(c);
      c.close(4000);
      c.close(4001);
      assert.equal((await closed(s)).code, 4000);
      s.close(4002);
      assert.equal((await clientClosed).code, 4000);
      c.close();
      c.terminate();
      await shut(wss);
    });
  });
}
