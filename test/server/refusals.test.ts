import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { RawPeer, within } from '../helpers.js';
import { parseResponse, rawRequest, startServer, upgradeRequest } from './util.js';

/**
 * Writes a request and resolves with everything the server sent once the server has both
 * answered and closed its side, leaving our side open: a client that never closes must
 * not keep a refused socket (and its connection slot) on the server.
 */
function requestKeepingOurSideOpen(port: number, request: string, ms: number): Promise<{ raw: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let raw = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not end the connection within ${ms} ms; received ${JSON.stringify(raw)}`));
    }, ms);
    socket.on('error', () => {});
    socket.on('data', (c: Buffer) => (raw += c.toString('latin1')));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve({ raw, socket });
    });
    socket.write(request);
  });
}

test('a refused upgrade releases its socket once the refusal is written, even if the client keeps its side open', async () => {
  // A long handshake timeout: only releasing the socket at once frees the single slot in time.
  const { server, port } = await startServer({ maxConnections: 1, handshakeTimeout: 30_000 });
  const kept: Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const { raw, socket } = await requestKeepingOurSideOpen(port, upgradeRequest({ method: 'POST' }), 3000);
      kept.push(socket);
      assert.equal(parseResponse(raw).status, 405);
    }
    // None of the three half-open refused sockets holds the slot.
    const peer = await within(RawPeer.connect(port), 3000, 'handshake after refused ones');
    peer.destroy();
  } finally {
    for (const s of kept) s.destroy();
    await server.close({ timeout: 100 });
  }
});

test('a refused upgrade whose client also sent frames after the head is still answered and released', async () => {
  const { server, port } = await startServer({ maxConnections: 1, handshakeTimeout: 30_000 });
  const kept: Socket[] = [];
  try {
    const request = upgradeRequest({ headers: { 'Sec-WebSocket-Version': '8' } });
    const { raw, socket } = await requestKeepingOurSideOpen(port, request + '\x81\x85abcd' + 'x'.repeat(5), 3000);
    kept.push(socket);
    assert.equal(parseResponse(raw).status, 426);
    const peer = await within(RawPeer.connect(port), 3000, 'handshake after the refused one');
    peer.destroy();
  } finally {
    for (const s of kept) s.destroy();
    await server.close({ timeout: 100 });
  }
});

// Bare LF line endings: answered with 400 as node:http does (so the standalone server and a
// server attached to http.Server agree), instead of waiting for a CRLF CRLF that never comes.
test('a request with LF-only line endings gets 400 at once', async () => {
  const { server, port } = await startServer({ handshakeTimeout: 30_000 });
  try {
    const lfOnly = upgradeRequest().replaceAll('\r\n', '\n');
    const res = await rawRequest(port, lfOnly, 3000);
    assert.equal(res.status, 400);
    assert.match(res.body, /line endings/);
    assert.ok(res.closed);
    // One bare LF among CRLF lines, and a head whose end is "\n\r\n".
    const oneBare = upgradeRequest().replace('\r\nUpgrade', '\nUpgrade');
    assert.equal((await rawRequest(port, oneBare, 3000)).status, 400);
    const mixedEnd = upgradeRequest().replace(/\r\n\r\n$/, '\r\n\n');
    assert.equal((await rawRequest(port, mixedEnd, 3000)).status, 400);
    // Sent byte by byte, the first bare LF is enough: no need to wait for the end of the head.
    const partial = await rawRequest(port, 'GET / HTTP/1.1\nHost: a', 3000);
    assert.equal(partial.status, 400);
    // CRLF requests are unaffected.
    const peer = await RawPeer.connect(port);
    peer.destroy();
  } finally {
    await server.close({ timeout: 100 });
  }
});
