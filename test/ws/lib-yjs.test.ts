// Yjs unchanged on tether-ws/ws: y-websocket 2's server utilities (setupWSConnection, the
// npm alias y-websocket-v2: v3 moved them out) on the facade's WebSocketServer, and
// y-websocket providers using the facade's WebSocket; `ws` is aliased to the facade.
// Documents converge through the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { aliasWs, facadeEsmUrl } from './alias-ws.js';

aliasWs();

interface Provider {
  synced: boolean;
  on(event: string, fn: (...args: any[]) => void): void;
  destroy(): void;
  awareness: { setLocalStateField(k: string, v: unknown): void; getStates(): Map<number, Record<string, unknown>> };
}

test('Yjs: two documents sync through y-websocket on tether-ws/ws', async () => {
  const facade = await import(facadeEsmUrl);
  // y-websocket's server utilities are CommonJS; they share yjs with the providers through require.
  const require = createRequire(import.meta.url);
  const { setupWSConnection, docs } = require('y-websocket-v2/bin/utils') as {
    setupWSConnection: (conn: unknown, req: unknown, opts?: { docName?: string }) => void;
    docs: Map<string, { destroy(): void }>;
  };
  const Y = require('yjs') as typeof import('yjs');
  const { WebsocketProvider } = require('y-websocket') as { WebsocketProvider: new (url: string, room: string, doc: unknown, opts: object) => Provider };

  const wss = new facade.WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (conn: unknown, req: { url: string }) => setupWSConnection(conn, req, { docName: req.url.slice(1).split('?')[0] }));
  await once(wss, 'listening');
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

  const doc1 = new Y.Doc();
  const doc2 = new Y.Doc();
  const p1 = new WebsocketProvider(url, 'room-1', doc1, { WebSocketPolyfill: facade.WebSocket, disableBc: true });
  const p2 = new WebsocketProvider(url, 'room-1', doc2, { WebSocketPolyfill: facade.WebSocket, disableBc: true });
  const synced = (p: Provider) => (p.synced ? Promise.resolve() : new Promise<void>((resolve) => p.on('sync', (ok: boolean) => ok && resolve())));
  try {
    await Promise.all([synced(p1), synced(p2)]);
    doc1.getText('t').insert(0, 'hello from 1');
    doc2.getMap('m').set('k', 'from 2');
    const deadline = Date.now() + 10_000;
    while (doc2.getText('t').toString() !== 'hello from 1' || doc1.getMap('m').get('k') !== 'from 2') {
      if (Date.now() > deadline) throw new Error('documents did not converge');
      await new Promise((r) => setTimeout(r, 10));
    }
    p1.awareness.setLocalStateField('user', 'alice');
    while (![...p2.awareness.getStates().values()].some((s) => s['user'] === 'alice')) {
      if (Date.now() > deadline) throw new Error('awareness did not arrive');
      await new Promise((r) => setTimeout(r, 10));
    }
    // A third client joining later gets the whole state from the server.
    const doc3 = new Y.Doc();
    const p3 = new WebsocketProvider(url, 'room-1', doc3, { WebSocketPolyfill: facade.WebSocket, disableBc: true });
    await synced(p3);
    assert.equal(doc3.getText('t').toString(), 'hello from 1');
    assert.equal(doc3.getMap('m').get('k'), 'from 2');
    p3.destroy();
    doc3.destroy();
  } finally {
    p1.destroy();
    p2.destroy();
    // Documents own awareness timers (the server's too): destroy them so the process can exit.
    doc1.destroy();
    doc2.destroy();
    for (const doc of docs.values()) doc.destroy();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});
