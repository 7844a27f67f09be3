// engine.io (socket.io's transport layer) with wsEngine set to tether-ws/ws's
// WebSocketServer, as socket.io documents for other ws implementations; engine.io-client
// talks to it over the websocket transport (its `ws` is aliased to the facade too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { aliasWs, facadeCjsPath, facadeEsmUrl, wsAsSeenBy } from './alias-ws.js';

aliasWs();

test('engine.io with wsEngine: tether-ws/ws, and engine.io-client', async () => {
  const facade = await import(facadeEsmUrl);
  const require = createRequire(import.meta.url);
  assert.equal(wsAsSeenBy(require.resolve('engine.io')), require(facadeCjsPath), 'engine.io requires the facade as ws');
  const engine = require('engine.io') as typeof import('engine.io');
  const { Socket } = await import('engine.io-client');

  const http = createServer();
  const eio = new engine.Server({ wsEngine: facade.WebSocketServer, transports: ['websocket'], pingInterval: 10_000 });
  eio.attach(http);
  const serverLog: string[] = [];
  eio.on('connection', (socket) => {
    socket.on('message', (data: string | Buffer) => {
      serverLog.push(typeof data === 'string' ? `text ${data}` : `binary ${data.length}`);
      socket.send(typeof data === 'string' ? `echo:${data}` : data);
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const client = new Socket(url, { transports: ['websocket'] });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
    assert.equal(client.transport.name, 'websocket');
    assert.ok((client.transport as unknown as { ws: unknown }).ws instanceof facade.WebSocket, 'the client transport runs on the facade');
    const received: unknown[] = [];
    client.on('message', (d: unknown) => received.push(d));
    client.send('hello');
    client.send(Buffer.from([1, 2, 3]));
    const deadline = Date.now() + 10_000;
    while (received.length < 2) {
      if (Date.now() > deadline) throw new Error('no echo');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(received[0], 'echo:hello');
    assert.deepEqual(Buffer.from(received[1] as Uint8Array), Buffer.from([1, 2, 3]));
    assert.deepEqual(serverLog, ['text hello', 'binary 3']);
    // The server's websocket transport runs on the facade.
    const [serverSocket] = Object.values((eio as unknown as { clients: Record<string, { transport: { socket: unknown } }> }).clients);
    assert.ok(serverSocket!.transport.socket instanceof facade.WebSocket);
  } finally {
    client.close();
    eio.close();
    http.close();
  }
});
