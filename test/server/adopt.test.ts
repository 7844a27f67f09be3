// adopt(): connections whose handshake another layer completed; the protocolError handler;
// whenWritten; close(null); the connection flags (autoPong, textAsBytes, validateUtf8, echoCloseReason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { acceptKey } from '../../src/protocol/index.js';
import { WebSocketServer, type ServerOptions, type ServerSocket } from '../../src/server/index.js';
import { frame, RawPeer } from '../helpers.js';
import { openWs, wsClosed } from './util.js';

/** An http server that answers upgrades itself and hands the sockets to `core.adopt`. */
async function adopting(options: ServerOptions<string> = {}): Promise<{ core: WebSocketServer<string>; http: Server; port: number; adopted: Array<ServerSocket<string>> }> {
  const core = new WebSocketServer<string>({ heartbeatInterval: 0, ...options });
  const adopted: Array<ServerSocket<string>> = [];
  const http = createServer();
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`);
    const ws = core.adopt(socket, { data: req.url ?? '' });
    adopted.push(ws);
    if (head.length > 0) ws.receive(head);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { core, http, port: (http.address() as AddressInfo).port, adopted };
}

async function stop(s: { core: WebSocketServer<string>; http: Server }): Promise<void> {
  await s.core.close({ timeout: 500 });
  s.http.close();
}

test('adopt: the connection works like an accepted one (handlers, clients, data), without the open handler', async () => {
  let opened = 0;
  const seen: string[] = [];
  const s = await adopting({
    open: () => void opened++,
    message(ws, data) {
      seen.push(`${ws.data}:${String(data)}`);
      ws.send(data);
    },
  });
  const client = await openWs(`ws://127.0.0.1:${s.port}/room`);
  client.send('hi');
  const [echo] = await once(client, 'message');
  assert.equal(String(echo), 'hi');
  assert.deepEqual(seen, ['/room:hi']);
  assert.equal(s.core.clients.size, 1);
  assert.equal(s.core.stats().connections, 1);
  assert.equal(s.core.stats().connectionsOpened, 1);
  assert.equal(opened, 0);
  client.close();
  await wsClosed(client);
  await stop(s);
});

test('adopt: bytes that arrived with the request head are parsed by receive()', async () => {
  const got: string[] = [];
  const s = await adopting({ message: (_ws, data) => void got.push(String(data)) });
  const raw = await RawPeer.connect(s.port).catch(() => null);
  assert.ok(raw);
  await raw.send(Buffer.concat([frame(1, 'one'), frame(1, 'two')]));
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, ['one', 'two']);
  raw.destroy();
  await stop(s);
});

test('the protocolError handler reports a violation before the close handler', async () => {
  const events: string[] = [];
  const s = await adopting({
    protocolError: (_ws, code, reason) => void events.push(`error ${code} ${reason}`),
    close: (_ws, code) => void events.push(`close ${code}`),
  });
  const raw = await RawPeer.connect(s.port);
  await raw.send(frame(1, 'x', { mask: false }));
  await raw.waitClosed();
  for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ['error 1002 unmasked frame from client', 'close 1006']);
  assert.equal(raw.closeFrame()?.code, 1002);
  await stop(s);
});

test('whenWritten calls back after the frames before it, and with an error once the socket is gone', async () => {
  const s = await adopting();
  const client = await openWs(`ws://127.0.0.1:${s.port}/`);
  const ws = s.adopted[0]!;
  const received: string[] = [];
  client.on('message', (d) => received.push(String(d)));
  ws.send('a');
  ws.send('b');
  await new Promise<void>((resolve, reject) => ws.whenWritten((err) => (err ? reject(err) : resolve())));
  ws.terminate();
  await once(client, 'close');
  assert.deepEqual(received, ['a', 'b']);
  const err = await new Promise<Error | null | undefined>((resolve) => ws.whenWritten(resolve));
  assert.ok(err instanceof Error);
  await stop(s);
});

test('close(null) sends a close frame without a code (the peer reports 1005)', async () => {
  const s = await adopting();
  const client = await openWs(`ws://127.0.0.1:${s.port}/`);
  s.adopted[0]!.close(null, 'ignored');
  const { code, reason } = await wsClosed(client);
  assert.equal(code, 1005);
  assert.equal(reason, '');
  await stop(s);
});

test('connection flags: textAsBytes, validateUtf8, autoPong, echoCloseReason', async () => {
  const got: unknown[] = [];
  const pings: string[] = [];
  const s = await adopting({ textAsBytes: true, validateUtf8: false, autoPong: false, echoCloseReason: true, message: (_ws, d) => void got.push(d), ping: (_ws, p) => void pings.push(String(p)) });
  const raw = await RawPeer.connect(s.port);
  await raw.send(Buffer.concat([frame(1, 'héllo'), frame(1, Buffer.from([0xff])), frame(9, 'p'), frame(8, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')]))]));
  await raw.waitClosed();
  assert.deepEqual(got, [Buffer.from('héllo'), Buffer.from([0xff])]);
  assert.deepEqual(pings, ['p']);
  const frames = raw.frames.map((f) => f.opcode);
  assert.deepEqual(frames, [8], 'no pong, only the close reply');
  assert.deepEqual(raw.closeFrame(), { code: 4000, reason: 'bye' });
  await stop(s);
});

test('connection flags must be booleans', () => {
  for (const name of ['autoPong', 'textAsBytes', 'validateUtf8', 'echoCloseReason']) {
    assert.throws(() => new WebSocketServer({ [name]: 'yes' } as ServerOptions), (err: Error) => err instanceof TypeError && err.message.includes(name));
  }
});


test('a peer that drops the connection is reported closed (1006), also on the half-open sockets of an http.Server', async () => {
  const codes: number[] = [];
  const s = await adopting({ close: (_ws, code) => void codes.push(code) });
  const client = await openWs(`ws://127.0.0.1:${s.port}/`);
  client.terminate();
  for (let i = 0; i < 200 && codes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(codes, [1006]);
  await stop(s);
});
