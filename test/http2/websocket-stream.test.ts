/**
 * WebSocketStream (the WHATWG streams API) on Node, over HTTP/1.1 and over HTTP/2:
 * the opened/closed promises, close codes, and backpressure both ways.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketStream, WebSocketError } from '../../src/client/index.js';
import { WebSocketServer, SendStatus, type ServerOptions, type ServerSocket } from '../../src/server/index.js';
import { TLS_CERT, within } from '../helpers.js';
import { listenHttp2 } from './h2-peer.js';

type Transport = 'http/1.1' | 'http2';

async function withServer(options: ServerOptions, fn: (url: string, wss: WebSocketServer) => Promise<void>): Promise<void> {
  const h2 = await listenHttp2('tls');
  const wss = new WebSocketServer({ heartbeatInterval: 0, message: (ws, d, b) => ws.send(d, { binary: b }), ...options }).attach(h2.server);
  try {
    await fn(`wss://127.0.0.1:${h2.port}/`, wss);
  } finally {
    await wss.close({ timeout: 200 });
    await h2.close();
  }
}

function options(transport: Transport) {
  return { ca: TLS_CERT, http2: transport === 'http2' };
}

describe('WebSocketStream', () => {
  for (const transport of ['http/1.1', 'http2'] as Transport[]) {
    test(`${transport}: opened, echo of text and bytes, close({ closeCode, reason }) resolves closed`, () => {
      const methods: string[] = [];
      return withServer({ protocols: ['chat'], perMessageDeflate: true, echoCloseReason: true, open: (_ws, req) => void methods.push(req.method) }, async (url) => {
        const wss = new WebSocketStream(url, { ...options(transport), protocols: ['chat'], perMessageDeflate: true });
        const { readable, writable, protocol, extensions } = await within(wss.opened, 5000, 'opened');
        assert.deepEqual(methods, [transport === 'http2' ? 'CONNECT' : 'GET']);
        assert.equal(protocol, 'chat');
        assert.match(extensions, /^permessage-deflate/);
        const writer = writable.getWriter();
        const reader = readable.getReader();
        await writer.write('héllo');
        await writer.write(new Uint8Array([1, 2, 3]));
        assert.deepEqual(await reader.read(), { value: 'héllo', done: false });
        const bin = await reader.read();
        assert.ok(bin.value instanceof Uint8Array);
        assert.deepEqual([...(bin.value as Uint8Array)], [1, 2, 3]);
        await assert.rejects(async () => writer.write({} as never), TypeError);
        wss.close({ closeCode: 4000, reason: 'bye' });
        assert.deepEqual(await within(wss.closed, 5000, 'closed'), { closeCode: 4000, reason: 'bye' });
        assert.deepEqual(await reader.read(), { value: undefined, done: true });
      });
    });

    test(`${transport}: a writer is held back while the server does not read, and catches up when it does`, () => {
      let server: ServerSocket | undefined;
      let received = 0;
      return withServer({ maxPayload: 1 << 20, open: (ws) => ((server = ws), ws.pause()), message: () => void received++ }, async (url) => {
        const wss = new WebSocketStream(url, options(transport));
        const writer = (await wss.opened).writable.getWriter();
        const chunk = new Uint8Array(64 * 1024);
        let written = 0;
        const writes: Promise<void>[] = [];
        // Up to 64 MiB: a writer that is never held back would write it all.
        for (; written < 1024; written++) {
          const ready = await Promise.race([writer.ready.then(() => true), sleep(300).then(() => false)]);
          if (!ready) break;
          writes.push(writer.write(chunk));
        }
        assert.ok(written < 1024, 'the writer was held back');
        assert.equal(received, 0);
        server!.resume();
        await within(Promise.all(writes), 10_000, 'writes complete');
        await within((async () => { while (received < written) await sleep(5); })(), 10_000, 'all received');
        assert.equal(received, written);
        wss.close();
        await wss.closed;
      });
    });

    test(`${transport}: a reader that does not read stops the socket reading, so the server sees backpressure`, () => {
      const TOTAL = 1000;
      let sent = 0;
      const pump = (ws: ServerSocket): void => {
        while (sent < TOTAL) {
          const status = ws.send(Buffer.alloc(64 * 1024, sent % 251));
          sent++;
          if (status === SendStatus.Backpressure) return; // the drain handler continues
        }
      };
      return withServer({ open: pump, drain: pump }, async (url) => {
        const wss = new WebSocketStream(url, { ...options(transport), readableHighWaterMark: 4 });
        const reader = (await wss.opened).readable.getReader();
        await sleep(300);
        assert.ok(sent < TOTAL / 2, `the server was held back (${sent} of ${TOTAL} sent)`);
        for (let i = 0; i < TOTAL; i++) {
          const { value } = await within(reader.read(), 10_000, `message ${i}`);
          assert.equal((value as Uint8Array)[0], i % 251);
        }
        wss.close();
        await wss.closed;
      });
    });

    test(`${transport}: a lost connection rejects closed with a WebSocketError (1006) and errors the streams`, () =>
      withServer({ open: (ws) => setImmediate(() => ws.terminate()) }, async (url) => {
        const wss = new WebSocketStream(url, options(transport));
        const { readable } = await wss.opened;
        const err = await wss.closed.then(() => null, (e: unknown) => e);
        assert.ok(err instanceof WebSocketError);
        assert.equal(err.closeCode, 1006);
        await assert.rejects(readable.getReader().read(), WebSocketError);
      }));
  }

  test('signal aborts the opening handshake; bad arguments throw', async () => {
    const controller = new AbortController();
    const reason = new Error('changed my mind');
    controller.abort(reason);
    const wss = new WebSocketStream('wss://127.0.0.1:9/', { signal: controller.signal, http2: true });
    assert.equal(await wss.opened.catch((e: unknown) => e), reason);
    assert.equal(await wss.closed.catch((e: unknown) => e), reason);
    assert.throws(() => new WebSocketStream('http://x/#frag'), (e: unknown) => e instanceof DOMException && e.name === 'SyntaxError');
    assert.throws(() => new WebSocketStream('ws://x/', { readableHighWaterMark: 0 }), TypeError);
    await withServer({}, async (url) => {
      const open = new WebSocketStream(url, options('http2'));
      await open.opened;
      assert.throws(() => open.close({ closeCode: 1001 }), (e: unknown) => e instanceof DOMException && e.name === 'InvalidAccessError');
      open.close();
      assert.deepEqual(await open.closed, { closeCode: 1005, reason: '' });
    });
  });
});
