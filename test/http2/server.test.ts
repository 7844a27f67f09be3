/**
 * WebSocketServer on node:http2 (RFC 8441), against an independent client written with
 * node:http2 by hand (h2-peer.ts): the same pipeline as HTTP/1.1, the same engine on the
 * stream, many sockets on one connection, resets and GOAWAY, flow control as backpressure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib';
import { WebSocketServer, type ServerSocket, SendStatus } from '../../src/server/index.js';
import { WebSocket } from '../../src/client/index.js';
import { frame, TLS_CERT, within } from '../helpers.js';
import { BINARY, CLOSE, TEXT, closeFrame, expectClose, expectEcho, waitReceived } from '../conformance/server-support.js';
import { h2Peer, h2Refusal, h2Session, listenHttp2 } from './h2-peer.js';

async function withServer(
  options: ConstructorParameters<typeof WebSocketServer>[0],
  fn: (ctx: { wss: WebSocketServer; origin: string; port: number }) => Promise<void>,
  kind: 'tls' | 'h2c' = 'tls',
): Promise<void> {
  const h2 = await listenHttp2(kind);
  const wss = new WebSocketServer({ heartbeatInterval: 0, message: (ws, data, isBinary) => ws.send(data, { binary: isBinary }), ...options }).attach(h2.server);
  try {
    await fn({ wss, origin: h2.origin, port: h2.port });
  } finally {
    await wss.close({ timeout: 200 });
    await h2.close();
  }
}

/** Resolves with the next (code, reason) the close handler reports. */
function closes(options: { onClose?: (ws: ServerSocket, code: number) => void } = {}): { handler: (ws: ServerSocket, code: number, reason: string) => void; next: () => Promise<number> } {
  const seen: number[] = [];
  let wake: (() => void) | null = null;
  return {
    handler(ws, code) {
      options.onClose?.(ws, code);
      seen.push(code);
      wake?.();
    },
    async next() {
      while (seen.length === 0) await new Promise<void>((r) => (wake = r));
      return seen.shift()!;
    },
  };
}

describe('WebSocketServer over HTTP/2 (RFC 8441)', () => {
  for (const kind of ['tls', 'h2c'] as const) {
    test(`${kind}: advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and echoes on a CONNECT stream answered with :status 200`, () =>
      withServer({}, async ({ origin }) => {
        const { session, connectProtocol } = await h2Session(origin);
        try {
          assert.equal(connectProtocol, true);
          const peer = await h2Peer(session, '/');
          assert.equal(peer.response.headers[':status'], '200');
          const big = randomBytes(70_000);
          await peer.send(Buffer.concat([frame(TEXT, 'héllo'), frame(BINARY, big)]));
          await expectEcho(peer, [[TEXT, 'héllo'], [BINARY, big]]);
        } finally {
          session.destroy();
        }
      }, kind));
  }

  test('many sockets share one connection, each its own stream', () => {
    const ports = new Set<number | undefined>();
    const secure: boolean[] = [];
    return withServer({ open: (ws, req) => (ports.add(ws.remotePort), secure.push(req.secure)) }, async ({ wss, origin }) => {
      const { session } = await h2Session(origin);
      try {
        const peers = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Peer(session, `/room/${i}`)));
        assert.equal(wss.clients.size, 50);
        assert.equal(ports.size, 1, 'every WebSocket came over the same TCP connection');
        assert.ok(secure.every((s) => s === true));
        await Promise.all(peers.map((p, i) => p.send(frame(TEXT, `msg ${i}`))));
        await Promise.all(peers.map((p, i) => expectEcho(p, [[TEXT, `msg ${i}`]])));
        await within(new Promise<void>((r) => { const t = setInterval(() => wss.clients.size === 0 && (clearInterval(t), r()), 5); }), 3000, 'all closed');
      } finally {
        session.destroy();
      }
    });
  });

  test('the same pipeline: path, Origin, verify, subprotocols, version are checked as for HTTP/1.1', () =>
    withServer({
      path: '/ws',
      origins: ['https://app.example'],
      protocols: ['b', 'a'],
      verify: (req) => (req.headers['authorization'] === 'Bearer ok' ? ((req.data = 'alice'), true) : { status: 401, message: 'who are you', headers: { 'www-authenticate': 'Bearer', Connection: 'close' } }),
      message: (ws, data) => ws.send(`${String(ws.data)}:${ws.protocol}:${String(data)}`),
    }, async ({ origin, wss }) => {
      const { session } = await h2Session(origin);
      try {
        const auth = { authorization: 'Bearer ok' };
        assert.equal((await h2Refusal(session, '/elsewhere', auth)).status, 404);
        assert.equal((await h2Refusal(session, '/ws', { ...auth, origin: 'https://evil.example' })).status, 403);
        const denied = await h2Refusal(session, '/ws');
        assert.equal(denied.status, 401);
        assert.equal(denied.headers['www-authenticate'], 'Bearer');
        assert.equal(denied.body, 'who are you\n');
        const badVersion = await h2Refusal(session, '/ws', { ...auth, 'sec-websocket-version': '8' });
        assert.equal(badVersion.status, 400);
        assert.equal(badVersion.headers['sec-websocket-version'], '13');
        const peer = await h2Peer(session, '/ws?x=1', { ...auth, origin: 'https://app.example', 'sec-websocket-protocol': 'a, b' });
        assert.equal(peer.response.headers['sec-websocket-protocol'], 'b');
        await peer.send(frame(TEXT, 'hi'));
        await expectEcho(peer, [[TEXT, 'alice:b:hi']]);
        const stats = wss.stats();
        assert.equal(stats.connectionsOpened, 1);
      } finally {
        session.destroy();
      }
    }));

  test('stats() counts the WebSocket bytes each stream carries, in and out, open and closed', () => {
    const close = closes();
    return withServer({ close: close.handler }, async ({ wss, origin }) => {
      const { session } = await h2Session(origin);
      try {
        const peers = await Promise.all([h2Peer(session, '/'), h2Peer(session, '/')]);
        const payload = randomBytes(300);
        const sent = [frame(BINARY, payload), frame(TEXT, 'hi')];
        await peers[0]!.send(sent[0]!);
        await peers[1]!.send(sent[1]!);
        // The echoes, with both sockets still open (expectEcho would close them).
        await waitReceived(peers[0]!, 1);
        await waitReceived(peers[1]!, 1);
        assert.deepEqual(peers[0]!.frames.map((f) => [f.opcode, f.payload]), [[BINARY, payload]]);
        assert.deepEqual(peers[1]!.frames.map((f) => [f.opcode, f.payload.toString()]), [[TEXT, 'hi']]);
        // Masked frames in: 2 + 2 (16-bit length) + 4 (mask) + 300, and 2 + 4 + 2.
        // Echoes out, unmasked: 2 + 2 + 300, and 2 + 2.
        let s = wss.stats();
        assert.equal(s.bytesIn, 308 + 8);
        assert.equal(s.bytesOut, 304 + 4);
        // A socket that closes keeps counting: its close frame (2 + 4 + 2 in, 2 + 2 out) stays in the totals.
        await peers[1]!.send(closeFrame(1000));
        assert.equal(await close.next(), 1000);
        s = wss.stats();
        assert.equal(s.bytesIn, 308 + 8 + 8);
        assert.equal(s.bytesOut, 304 + 4 + 4);
      } finally {
        session.destroy();
      }
    });
  });

  test('permessage-deflate is negotiated through sec-websocket-extensions', () =>
    withServer({ perMessageDeflate: { threshold: 0 } }, async ({ origin }) => {
      const { session } = await h2Session(origin);
      try {
        const peer = await h2Peer(session, '/', { 'sec-websocket-extensions': 'permessage-deflate; client_no_context_takeover; server_no_context_takeover' });
        assert.match(peer.response.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate/);
        const text = 'compress me '.repeat(100);
        const compressed = deflateRawSync(Buffer.from(text), { finishFlush: zlib.Z_SYNC_FLUSH }).subarray(0, -4);
        await peer.send(frame(TEXT, compressed, { rsv: 4 }));
        const frames = await peer.waitFrames(1, 3000);
        assert.equal(frames[0]!.rsv, 4, 'the echo is compressed');
        assert.equal(inflateRawSync(Buffer.concat([frames[0]!.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.Z_SYNC_FLUSH }).toString(), text);
        await peer.send(closeFrame(1000));
        await peer.waitClosed(3000);
        assert.equal(peer.closeFrame()?.code, 1000);
      } finally {
        session.destroy();
      }
    }));

  test('a close handshake ends the stream; the server close handler gets the code', () => {
    const c = closes();
    return withServer({ close: c.handler }, async ({ origin }) => {
      const { session } = await h2Session(origin);
      try {
        const peer = await h2Peer(session);
        await peer.send(closeFrame(4001, 'bye'));
        await expectClose(peer, 4001);
        assert.equal(await c.next(), 4001);
        assert.equal(session.closed, false, 'the connection outlives the stream');
        const again = await h2Peer(session);
        await again.send(frame(TEXT, 'still here'));
        await expectEcho(again, [[TEXT, 'still here']]);
        assert.equal(await c.next(), 1000);
      } finally {
        session.destroy();
      }
    });
  });

  test('RST_STREAM is an abnormal closure (1006) of that socket only', () => {
    const c = closes();
    return withServer({ close: c.handler }, async ({ origin, wss }) => {
      const { session } = await h2Session(origin);
      try {
        const a = await h2Peer(session);
        const b = await h2Peer(session);
        a.socket.close(0x8); // NGHTTP2_CANCEL
        assert.equal(await c.next(), 1006);
        assert.equal(wss.clients.size, 1);
        await b.send(frame(TEXT, 'b lives'));
        await expectEcho(b, [[TEXT, 'b lives']]);
      } finally {
        session.destroy();
      }
    });
  });

  test('GOAWAY and the connection going away are 1006 for every socket on it', () => {
    const c = closes();
    return withServer({ close: c.handler }, async ({ origin }) => {
      const { session } = await h2Session(origin);
      await Promise.all([h2Peer(session), h2Peer(session), h2Peer(session)]);
      session.destroy(); // sends GOAWAY, then closes the TCP connection
      assert.deepEqual([await c.next(), await c.next(), await c.next()], [1006, 1006, 1006]);
    });
  });

  test('server close() sends 1001 on every stream', () =>
    withServer({}, async ({ origin, wss }) => {
      const { session } = await h2Session(origin);
      try {
        const peers = await Promise.all([h2Peer(session), h2Peer(session)]);
        const closing = wss.close({ timeout: 2000 });
        for (const p of peers) {
          const got = await waitReceived(p, 1);
          assert.equal(got[0]!.opcode, CLOSE);
          assert.equal(got[0]!.payload.readUInt16BE(0), 1001);
          await p.send(closeFrame(1001));
        }
        await closing;
        for (const p of peers) await p.waitClosed(2000);
      } finally {
        session.destroy();
      }
    }));

  test('a reader that stops: the stream window fills and becomes backpressure, bounded by maxBackpressure', () => {
    let server: ServerSocket | undefined;
    const statuses: SendStatus[] = [];
    const c = closes();
    return withServer({ maxBackpressure: 256 * 1024, closeTimeout: 300, open: (ws) => (server = ws), close: c.handler }, async ({ origin, wss }) => {
      const { session } = await h2Session(origin);
      try {
        const peer = await h2Peer(session);
        peer.socket.pause(); // stops reading: no WINDOW_UPDATE, the stream window runs out
        const chunk = randomBytes(16 * 1024);
        for (let i = 0; i < 200 && server!.readyState === 1; i++) {
          statuses.push(server!.send(chunk));
          assert.ok(server!.bufferedAmount <= 256 * 1024 + chunk.length + 4, `buffer stays bounded (${server!.bufferedAmount})`);
          await new Promise((r) => setImmediate(r));
        }
        assert.ok(statuses.includes(SendStatus.Backpressure), 'sends reported backpressure');
        // Our close frame cannot reach a reader that stopped: the close timeout drops the stream.
        assert.equal(await c.next(), 1006);
        assert.ok(wss.stats().backpressureCloses >= 1, 'the slow reader was closed with 1008');
      } finally {
        session.destroy();
      }
    });
  });

  test('pause() on the server stops reading: the client stream window fills, resume() drains it', () => {
    let server: ServerSocket | undefined;
    const got: number[] = [];
    return withServer({ open: (ws) => ((server = ws), ws.pause()), message: (_ws, data) => void got.push((data as Buffer).length) }, async ({ origin }) => {
      const { session } = await h2Session(origin);
      try {
        const peer = await h2Peer(session);
        const payload = randomBytes(32 * 1024);
        for (let i = 0; i < 32; i++) peer.socket.write(frame(BINARY, payload));
        // 1 MiB against a 64 KiB stream window: most of it waits in the client.
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(got.length, 0, 'nothing delivered while paused');
        assert.ok(peer.socket.writableLength > 512 * 1024, `the client holds what the window does not admit (${peer.socket.writableLength})`);
        server!.resume();
        await within(new Promise<void>((r) => { const t = setInterval(() => got.length === 32 && (clearInterval(t), r()), 5); }), 5000, 'all 32 messages');
      } finally {
        session.destroy();
      }
    });
  });

  test('one TLS server takes HTTP/1.1 upgrades and HTTP/2 streams (allowHTTP1)', () =>
    withServer({}, async ({ origin, port, wss }) => {
      const { session } = await h2Session(origin);
      try {
        const peer = await h2Peer(session);
        const ws = new WebSocket(`wss://127.0.0.1:${port}/`, [], { ca: TLS_CERT });
        const echoed = await new Promise<string>((resolve, reject) => {
          ws.onopen = () => ws.send('over http/1.1');
          ws.onmessage = (e) => resolve(e.data as string);
          ws.onerror = (e) => reject((e as ErrorEvent).error ?? new Error('error'));
        });
        assert.equal(echoed, 'over http/1.1');
        assert.equal(wss.clients.size, 2);
        ws.close();
        await peer.send(frame(TEXT, 'over h2'));
        await expectEcho(peer, [[TEXT, 'over h2']]);
      } finally {
        session.destroy();
      }
    }));
});
