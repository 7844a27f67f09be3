// Side by side: permessage-deflate, binaryType, pause/resume, the EventTarget interface,
// and createWebSocketStream.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { IMPLS, closed, listen, pair, record, shut, sleep, until } from './impls.js';

for (const impl of IMPLS) {
  describe(impl.name, () => {
    test('perMessageDeflate: negotiated when both ends enable it; extensions names it; compressed messages round-trip', async () => {
      const { wss, url } = await listen(impl, { perMessageDeflate: { threshold: 0 } });
      const [c, s] = await pair(impl, wss, url);
      assert.equal(c.extensions, 'permessage-deflate');
      assert.equal(s.extensions, 'permessage-deflate');
      const log = record(c, ['message']);
      const big = 'x'.repeat(5000);
      s.send(big);
      s.send(Buffer.from(big), { compress: false });
      s.send('small');
      await until(() => log.length === 3);
      assert.deepEqual(log.map((e) => [String(e[1]).length, e[2]]), [[4 + 5000, false], [4 + 5000, true], [4 + 5, false]]);
      await shut(wss);
      const off = await listen(impl);
      const [d] = await pair(impl, off.wss, off.url);
      assert.equal(d.extensions, '');
      await shut(off.wss);
      const clientOff = await listen(impl, { perMessageDeflate: true });
      const [e] = await pair(impl, clientOff.wss, clientOff.url, undefined, { perMessageDeflate: false });
      assert.equal(e.extensions, '');
      await shut(clientOff.wss);
    });

    test('perMessageDeflate: a compressed message over maxPayload is refused with 1009', async () => {
      const { wss, url } = await listen(impl, { perMessageDeflate: true, maxPayload: 1000 });
      const [c, s] = await pair(impl, wss, url);
      const log = record(s, ['message', 'error']);
      const clientClosed = closed(c);
      c.send('y'.repeat(5000));
      assert.equal((await clientClosed).code, 1009);
      assert.deepEqual(log, [['error', 'RangeError:WS_ERR_UNSUPPORTED_MESSAGE_LENGTH:Max payload size exceeded']]);
      await shut(wss);
    });

    test("binaryType: 'nodebuffer' (default), 'arraybuffer', 'fragments', 'blob'; unknown values are ignored", async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      assert.equal(c.binaryType, 'nodebuffer');
      const got: unknown[] = [];
      c.on('message', (d: unknown) => got.push(d));
      for (const type of ['arraybuffer', 'fragments', 'blob', 'nodebuffer']) {
        c.binaryType = type as never;
        s.send(Buffer.from(type));
        await until(() => got.length > 0);
        const d = got.pop();
        if (type === 'arraybuffer') assert.equal(Buffer.from(d as ArrayBuffer).toString(), type);
        else if (type === 'fragments') assert.equal(Buffer.concat(d as Buffer[]).toString(), type);
        else if (type === 'blob') assert.equal(await (d as Blob).text(), type);
        else assert.equal(Buffer.isBuffer(d) && d.toString(), type);
      }
      c.binaryType = 'bogus' as never;
      assert.equal(c.binaryType, 'nodebuffer');
      await shut(wss);
    });

    test('pause() stops message events until resume(); isPaused follows', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const log = record(s, ['message']);
      s.pause();
      assert.equal(s.isPaused, true);
      c.send('while paused');
      await sleep(50);
      assert.deepEqual(log, []);
      s.resume();
      assert.equal(s.isPaused, false);
      await until(() => log.length === 1);
      const fresh = new impl.WebSocket(url);
      fresh.pause();
      assert.equal(fresh.isPaused, false, 'pause() while CONNECTING does nothing');
      await once(fresh, 'open');
      fresh.terminate();
      await shut(wss);
    });

    test('addEventListener, on<event> attributes and their event objects', async () => {
      const { wss, url } = await listen(impl);
      const c = new impl.WebSocket(url);
      const seen: string[] = [];
      const onMessage = (ev: { data: unknown; type: string; target: unknown }) => seen.push(`message ${ev.type} ${String(ev.data)} ${typeof ev.data} ${ev.target === c}`);
      c.addEventListener('message', onMessage);
      c.addEventListener('message', onMessage); // ignored: already there
      c.addEventListener('open', { handleEvent: (ev: { type: string }) => seen.push(ev.type) } as never, { once: true });
      c.onclose = (ev) => seen.push(`close ${ev.code} ${ev.reason} ${ev.wasClean}`);
      c.onerror = () => seen.push('error');
      assert.equal(typeof c.onclose, 'function');
      assert.equal(c.onmessage, null);
      const [s] = await once(wss, 'connection');
      await until(() => seen.length === 1);
      s.send('text');
      s.send(Buffer.from('bin'));
      await until(() => seen.length === 3);
      c.removeEventListener('message', onMessage);
      s.send('ignored');
      s.close(4000, 'done');
      await until(() => seen.length === 4);
      assert.deepEqual(seen, ['open', 'message message text string true', 'message message bin object true', 'close 4000 done true']);
      await shut(wss);
    });

    test('createWebSocketStream: a duplex of messages; ending it closes the socket', async () => {
      const { wss, url } = await listen(impl);
      wss.on('connection', (s) => {
        const duplex = impl.createWebSocketStream(s);
        // Echo; writes racing the close fail, which is not what this test is about.
        duplex.on('error', () => {});
        duplex.pipe(duplex);
      });
      const c = new impl.WebSocket(url);
      const duplex = impl.createWebSocketStream(c, { encoding: 'utf8' });
      let text = '';
      duplex.on('data', (chunk: string) => (text += chunk));
      // Written while CONNECTING: the stream waits for 'open'.
      for (const part of ['one', 'two', 'three']) duplex.write(part);
      await until(() => text === 'onetwothree');
      const streamClosed = once(duplex, 'close');
      duplex.end();
      await streamClosed;
      assert.equal(c.readyState, impl.WebSocket.CLOSED);
      await shut(wss);
    });

    test('createWebSocketStream: backpressure pauses the socket; an error destroys the stream', async () => {
      const { wss, url } = await listen(impl, { maxPayload: 50 });
      const [c, s] = await pair(impl, wss, url);
      const serverStream = impl.createWebSocketStream(s, { highWaterMark: 4 });
      for (let i = 0; i < 3; i++) c.send('12345678');
      await until(() => s.isPaused);
      const first = serverStream.read();
      assert.equal(String(first).slice(0, 8), '12345678');
      const errored = once(serverStream, 'error');
      const streamClosed = new Promise((resolve) => serverStream.once('close', resolve));
      serverStream.resume();
      c.send('x'.repeat(51));
      const [err] = await errored;
      assert.equal((err as Error & { code?: string }).code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      await streamClosed;
      assert.equal(serverStream.destroyed, true);
      await shut(wss);
    });

    test('createWebSocketStream: destroying the stream terminates the socket', async () => {
      const { wss, url } = await listen(impl);
      const [c, s] = await pair(impl, wss, url);
      const serverClosed = closed(s);
      const duplex = impl.createWebSocketStream(c);
      duplex.destroy();
      assert.equal(c.readyState, impl.WebSocket.CLOSING);
      assert.equal((await serverClosed).code, 1006);
      await shut(wss);
    });
  });
}
