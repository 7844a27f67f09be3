/**
 * Client conformance: opening handshake failures. Like browsers, the client fires 'error'
 * then 'close' (1006, wasClean false), never 'open', and ends in CLOSED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptKey, type HttpHead } from '../../src/protocol/index.js';
import { startRawServer } from '../helpers.js';
import { EchoClient, OP, ServerSide, T, closeFrame, expectCleanClose, session, sf, within } from './client-harness.js';
import { WebSocket } from '../../src/client/index.js';

const accept = (req: HttpHead) => acceptKey(req.headers['sec-websocket-key']!);
const ok = (req: HttpHead, extra = '') => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(req)}\r\n${extra}\r\n`;

/** Connects with the given server response; asserts error then close 1006, no open. */
async function expectHandshakeFailure(respond: (req: HttpHead) => string, opts: { protocols?: string[]; handshakeTimeout?: number; afterWrite?: 'end' | 'keep' } = {}): Promise<number> {
  const srv = await startRawServer((socket) => {
    // Frames after a bad response must never reach the page.
    socket.write(sf(OP.TEXT, 'must not be delivered'));
    if (opts.afterWrite === 'end') socket.end();
  }, respond);
  const start = Date.now();
  try {
    const c = new EchoClient(srv.url, { protocols: opts.protocols, options: opts.handshakeTimeout ? { handshakeTimeout: opts.handshakeTimeout } : {} });
    assert.equal(c.ws.readyState, WebSocket.CONNECTING);
    const info = await c.waitClosed(5000);
    assert.deepEqual(c.log, ['error', 'close']);
    assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
    assert.equal(c.ws.readyState, WebSocket.CLOSED);
    assert.equal(c.messages.length, 0);
    return Date.now() - start;
  } finally {
    await srv.close();
  }
}

for (const [name, respond] of [
  ['200 OK', () => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ['403 Forbidden', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden'],
  ['302 redirect', () => 'HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n'],
  ['101 with a wrong Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'],
  ['101 without Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
  ['101 without Upgrade: websocket', (r: HttpHead) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(r)}\r\n\r\n`],
  ['101 without Connection: Upgrade', (r: HttpHead) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${accept(r)}\r\n\r\n`],
  ['101 selecting a subprotocol when none was offered', (r: HttpHead) => ok(r, 'Sec-WebSocket-Protocol: chat\r\n')],
  ['101 accepting an extension that was not offered', (r: HttpHead) => ok(r, 'Sec-WebSocket-Extensions: permessage-deflate\r\n')],
  ['101 accepting an unknown extension', (r: HttpHead) => ok(r, 'Sec-WebSocket-Extensions: x-foo; bar=1\r\n')],
  ['a malformed response', () => 'garbage\r\n\r\n'],
] as Array<[string, (r: HttpHead) => string]>) {
  test(`handshake failure: ${name} → error, close 1006`, T, async () => {
    await expectHandshakeFailure(respond);
  });
}

test('handshake failure: a subprotocol other than the offered ones → error, close 1006', T, async () => {
  await expectHandshakeFailure((r) => ok(r, 'Sec-WebSocket-Protocol: superchat\r\n'), { protocols: ['chat', 'v2.chat'] });
});

test('handshake failure: two subprotocols selected → error, close 1006', T, async () => {
  await expectHandshakeFailure((r) => ok(r, 'Sec-WebSocket-Protocol: chat, v2.chat\r\n'), { protocols: ['chat', 'v2.chat'] });
});

test('handshake failure: the server closes before answering → error, close 1006', T, async () => {
  await expectHandshakeFailure(() => '', { afterWrite: 'end' });
});

test('handshake timeout: a server that never answers → error, close 1006 after handshakeTimeout', T, async () => {
  const elapsed = await expectHandshakeFailure(() => '', { handshakeTimeout: 200, afterWrite: 'keep' });
  assert.ok(elapsed >= 150 && elapsed < 3000, `failed after ${elapsed} ms`);
});

test('handshake timeout: a server that sends half a response head → error, close 1006 after handshakeTimeout', T, async () => {
  const elapsed = await expectHandshakeFailure(() => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n', { handshakeTimeout: 200, afterWrite: 'keep' });
  assert.ok(elapsed >= 150 && elapsed < 3000, `failed after ${elapsed} ms`);
});

test('an offered subprotocol selected by the server is accepted and exposed', T, async () => {
  await session({ protocols: ['chat', 'v2.chat'], respond: (r) => ok(r, 'Sec-WebSocket-Protocol: v2.chat\r\n') }, async (s, c) => {
    assert.equal(s.request.headers['sec-websocket-protocol'], 'chat, v2.chat');
    assert.equal(c.ws.protocol, 'v2.chat');
    assert.equal(c.ws.extensions, '');
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('frames in the same TCP segment as the 101 response are processed', T, async () => {
  await session({ greeting: (r) => Buffer.concat([Buffer.from(ok(r)), sf(OP.TEXT, 'early'), sf(OP.PING, 'p')]) }, async (s, c) => {
    await s.waitFrames(2);
    assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString()]), [[OP.TEXT, 'early'], [OP.PONG, 'p']]);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('a 101 response written one byte at a time, frames following: opens, readyState CONNECTING then OPEN', T, async () => {
  let peer: ServerSide | undefined;
  let ready!: () => void;
  const connected = new Promise<void>((r) => (ready = r));
  const srv = await startRawServer(
    (socket, request, rest) => {
      void (async () => {
        const bytes = Buffer.concat([Buffer.from(ok(request)), sf(OP.TEXT, 'hi')]);
        for (let i = 0; i < bytes.length; i++) {
          if (socket.destroyed) return;
          socket.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setImmediate(r));
        }
        peer = new ServerSide(socket, request, rest);
        ready();
      })();
    },
    () => '',
  );
  const c = new EchoClient(srv.url);
  try {
    assert.equal(c.ws.readyState, WebSocket.CONNECTING);
    assert.throws(() => c.ws.send('too early'), { name: 'InvalidStateError' });
    await within(connected, 5000, 'the response to be written');
    await within(c.opened, 5000, 'open');
    assert.deepEqual(c.states, [WebSocket.OPEN]);
    await peer!.waitFrames(1);
    assert.deepEqual(peer!.frames.map((f) => f.payload.toString()), ['hi']);
    peer!.write(closeFrame(1000));
    await expectCleanClose(peer!, c, 1000);
  } finally {
    await srv.close();
    await c.waitClosed();
  }
});

test('close() while CONNECTING: error, then close 1006; no frame is sent', T, async () => {
  let got = 0;
  const srv = await startRawServer((socket) => socket.on('data', (d: Buffer) => (got += d.length)), () => '');
  try {
    const c = new EchoClient(srv.url);
    c.ws.close();
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    const info = await c.waitClosed();
    assert.deepEqual(c.log, ['error', 'close']);
    assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
    assert.equal(got, 0);
  } finally {
    await srv.close();
  }
});

test('a refused TCP connection: error, then close 1006', T, async () => {
  const srv = await startRawServer(() => {});
  const url = srv.url;
  await srv.close();
  const c = new EchoClient(url);
  const info = await c.waitClosed();
  assert.deepEqual(c.log, ['error', 'close']);
  assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
});

test('handshake failure: a response head over 16 KiB → error, close 1006', T, async () => {
  await expectHandshakeFailure((r) => `HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'a'.repeat(20000)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(r)}\r\n\r\n`);
});

test('a response head just under 16 KiB is accepted', T, async () => {
  await session({ respond: (r) => ok(r, `X-Big: ${'a'.repeat(15000)}\r\n`) }, async (s, c) => {
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});
