/**
 * permessage-deflate conformance of the server, modelled on Autobahn sections 12 and 13:
 * a `ws` client offers each parameter combination to a Tether echo server (threshold 0,
 * so every echo is compressed) and sends text and binary messages of 16 B to 128 KiB,
 * semi-repetitive (JSON-like) and random, pipelined; every echo must come back intact and
 * in order. A loopback proxy between them parses both directions, so the test also sees
 * on the wire that the echoes really carry RSV1 (and the client's messages too).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import WsClient from 'ws';
import { WebSocketServer, type ServerSocket } from '../../src/server/index.js';
import { findHeadEnd, parseHttpHead, type PerMessageDeflateOptions } from '../../src/protocol/index.js';
import { parseFrames, within, type ParsedFrame } from '../helpers.js';

const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

// ------------------------------------------------------------------ message corpus

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Exactly `size` UTF-8 bytes of JSON-like records (with some multi-byte characters). */
function jsonText(size: number, seed: number): string {
  const next = xorshift(seed);
  const names = ['alice', 'bob', 'chloé', 'dmitri', 'eve', 'françois', 'zoë'];
  const parts: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    const r = next();
    const rec = `{"id":${seed * 1000 + i},"name":"${names[r % names.length]}","score":${r % 997},"tags":["x${r % 13}","€"],"ok":${(r & 1) === 1}},`;
    parts.push(rec);
    bytes += Buffer.byteLength(rec);
  }
  let s = parts.join('');
  while (Buffer.byteLength(s) > size) s = s.slice(0, -1);
  return s + ' '.repeat(size - Buffer.byteLength(s));
}

/** Exactly `size` bytes of random printable ASCII (valid UTF-8, barely compressible). */
function randomText(size: number, seed: number): string {
  const next = xorshift(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 0x20 + (next() % 95);
  return b.toString('latin1');
}

function randomBytes(size: number, seed: number): Buffer {
  const next = xorshift(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

interface Msg {
  data: string | Buffer;
  binary: boolean;
  compressible: boolean;
}

/** For each size: text and binary, JSON-like and random, two of each (different seeds). */
function corpus(): Msg[] {
  const out: Msg[] = [];
  let seed = 1;
  for (const size of SIZES) {
    for (let rep = 0; rep < 2; rep++) {
      out.push({ data: jsonText(size, seed++), binary: false, compressible: true });
      out.push({ data: randomText(size, seed++), binary: false, compressible: false });
      out.push({ data: Buffer.from(jsonText(size, seed++)), binary: true, compressible: true });
      out.push({ data: randomBytes(size, seed++), binary: true, compressible: false });
    }
  }
  return out;
}
const MESSAGES = corpus();

// ------------------------------------------------------------------ wire tap

interface Tap {
  /** Frames from the server to the client, after the 101 response. */
  down: ParsedFrame[];
  /** Frames from the client to the server (unmasked by the parser). */
  up: ParsedFrame[];
  /** The server's response head. */
  response: string;
  /** The client's request head. */
  request: string;
}

/** A TCP proxy on 127.0.0.1 that forwards to `target` and records the frames of every connection. */
async function startTap(target: number): Promise<{ port: number; taps: Tap[]; close: () => Promise<void> }> {
  const taps: Tap[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((down) => {
    const tap: Tap = { down: [], up: [], response: '', request: '' };
    taps.push(tap);
    const up = connect(target, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    const recorder = (into: ParsedFrame[], onHead?: (head: string) => void) => {
      let buf: Buffer = Buffer.alloc(0);
      let inHead = true;
      return (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        if (inHead) {
          const end = findHeadEnd(buf);
          if (end < 0) return;
          onHead?.(buf.toString('latin1', 0, end));
          inHead = false;
          buf = buf.subarray(end);
        }
        const { frames, rest } = parseFrames(buf);
        into.push(...frames);
        buf = Buffer.from(rest);
      };
    };
    const recordUp = recorder(tap.up, (head) => (tap.request = head));
    const recordDown = recorder(tap.down, (head) => (tap.response = head));
    down.on('data', (c: Buffer) => {
      recordUp(c);
      up.write(c);
    });
    up.on('data', (c: Buffer) => {
      recordDown(c);
      down.write(c);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    taps,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------------ the matrix

interface Case {
  name: string;
  /** What the ws client offers. */
  client: WsClient.PerMessageDeflateOptions;
  /**
   * Server settings besides threshold 0. Without them the server takes the client's offer
   * as it is (serverNoContextTakeover: false; the server's own default is true).
   */
  server?: PerMessageDeflateOptions;
  /** The exact Sec-WebSocket-Extensions the server must answer. */
  response: string;
}

const PMD = 'permessage-deflate';
const CASES: Case[] = [
  { name: 'defaults', client: {}, response: PMD },
  { name: 'client_no_context_takeover', client: { clientNoContextTakeover: true }, response: `${PMD}; client_no_context_takeover` },
  { name: 'server_no_context_takeover', client: { serverNoContextTakeover: true }, response: `${PMD}; server_no_context_takeover` },
  {
    name: 'both no_context_takeover',
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    response: `${PMD}; server_no_context_takeover; client_no_context_takeover`,
  },
  ...[8, 9, 12, 15].map((bits): Case => ({ name: `server_max_window_bits=${bits}`, client: { serverMaxWindowBits: bits }, response: `${PMD}; server_max_window_bits=${bits}` })),
  // The server may leave client_max_window_bits out of its answer (RFC 7692 §7.1.2.2): the client then uses its offered limit.
  ...[8, 9, 12, 15].map((bits): Case => ({ name: `client_max_window_bits=${bits}`, client: { clientMaxWindowBits: bits }, response: PMD })),
  {
    name: 'server_no_context_takeover + server_max_window_bits=8',
    client: { serverNoContextTakeover: true, serverMaxWindowBits: 8 },
    response: `${PMD}; server_no_context_takeover; server_max_window_bits=8`,
  },
  {
    name: 'client_no_context_takeover + client_max_window_bits=8',
    client: { clientNoContextTakeover: true, clientMaxWindowBits: 8 },
    response: `${PMD}; client_no_context_takeover`,
  },
  {
    name: 'both no_context_takeover + both windows 9',
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    response: `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9`,
  },
  // Settings on the server side.
  { name: 'server defaults: no server context takeover', client: {}, server: {}, response: `${PMD}; server_no_context_takeover` },
  {
    name: 'server configured: serverNoContextTakeover + clientNoContextTakeover',
    client: {},
    server: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    response: `${PMD}; server_no_context_takeover; client_no_context_takeover`,
  },
  {
    name: 'server configured: clientMaxWindowBits 8',
    client: {},
    server: { serverNoContextTakeover: false, clientMaxWindowBits: 8 },
    response: `${PMD}; client_max_window_bits=8`,
  },
  { name: 'server configured: serverMaxWindowBits 8 (not announced)', client: {}, server: { serverNoContextTakeover: false, serverMaxWindowBits: 8 }, response: PMD },
  {
    name: 'server configured: serverMaxWindowBits 10 against an offer of 12',
    client: { serverMaxWindowBits: 12 },
    server: { serverMaxWindowBits: 10, serverNoContextTakeover: true },
    response: `${PMD}; server_no_context_takeover; server_max_window_bits=10`,
  },
];

async function runCase(c: Case): Promise<void> {
  const opened: ServerSocket[] = [];
  const serverCloses: string[] = [];
  const server = new WebSocketServer({
    heartbeatInterval: 0,
    perMessageDeflate: { threshold: 0, ...(c.server ?? { serverNoContextTakeover: false }) },
    open: (ws) => opened.push(ws),
    close: (_ws, code, reason) => serverCloses.push(`${code} ${reason}`),
    message(ws, data, isBinary) {
      ws.send(data, { binary: isBinary });
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const tap = await startTap(port);
  let ws: WsClient | null = null;
  try {
    ws = new WsClient(`ws://127.0.0.1:${tap.port}/`, { perMessageDeflate: { threshold: 0, ...c.client } });
    const client = ws;
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    const done = new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        received.push({ data: data as Buffer, isBinary });
        if (received.length === MESSAGES.length) resolve();
      });
      client.on('error', reject);
      // The server's close handler may run a moment after the client saw the close.
      client.on('close', (code) => setTimeout(() => reject(new Error(`closed early with ${code} after ${received.length} echoes (server saw: ${serverCloses.join(', ')})`)), 100));
    });
    await within(new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    }), 5000, 'ws open');
    assert.equal(client.extensions, PMD);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]!.extensions, c.response);
    const head = parseHttpHead(tap.taps[0]!.response);
    assert.equal(head.headers['sec-websocket-extensions'], c.response);

    for (const m of MESSAGES) client.send(m.data, { binary: m.binary, compress: true });
    await within(done, 15_000, `${MESSAGES.length} echoes`);

    for (let i = 0; i < MESSAGES.length; i++) {
      const m = MESSAGES[i]!;
      const r = received[i]!;
      assert.equal(r.isBinary, m.binary, `message ${i} type`);
      assert.ok(r.data.equals(typeof m.data === 'string' ? Buffer.from(m.data) : m.data), `message ${i} (${r.data.length} bytes) echoed intact`);
    }

    const t = tap.taps[0]!;
    const upData = t.up.filter((f) => f.opcode !== 0x8 && f.opcode !== 0x9 && f.opcode !== 0xa);
    const downData = t.down.filter((f) => f.opcode !== 0x8 && f.opcode !== 0x9 && f.opcode !== 0xa);
    // The client compressed everything (threshold 0) in single frames, and so did the server.
    assert.equal(upData.length, MESSAGES.length);
    assert.equal(downData.length, MESSAGES.length);
    for (let i = 0; i < MESSAGES.length; i++) {
      const m = MESSAGES[i]!;
      const f = downData[i]!;
      assert.equal(f.opcode, m.binary ? 0x2 : 0x1, `echo ${i} opcode`);
      assert.equal(f.fin, true);
      assert.equal(f.masked, false);
      assert.equal(f.rsv, 4, `echo ${i} carries RSV1 (and only RSV1)`);
      assert.equal(upData[i]!.rsv, 4, `client message ${i} carries RSV1`);
      const size = typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length;
      // Deflate really ran: semi-repetitive data shrinks a lot; random data grows only by block overhead.
      if (m.compressible && size >= 1024) assert.ok(f.payload.length < size / 2, `echo ${i}: ${size} bytes compressed to ${f.payload.length}`);
      if (!m.compressible) assert.ok(f.payload.length < size + 64 + size / 100, `echo ${i}: random ${size} bytes -> ${f.payload.length}`);
    }

    client.removeAllListeners('close');
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    client.close(1000);
    assert.equal(await within(closed, 5000, 'close'), 1000);
  } finally {
    ws?.terminate();
    await within(server.close({ timeout: 500 }), 5000, 'server close');
    await tap.close();
  }
}

describe('permessage-deflate: ws client against the Tether echo server (Autobahn 12/13)', () => {
  for (const c of CASES) test(c.name, () => runCase(c));

  test('messages under the threshold are echoed without RSV1, larger ones with it (default threshold 128)', async () => {
    const server = new WebSocketServer({
      heartbeatInterval: 0,
      perMessageDeflate: true,
      message(ws, data, isBinary) {
        ws.send(data, { binary: isBinary });
      },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const tap = await startTap(port);
    const ws = new WsClient(`ws://127.0.0.1:${tap.port}/`, { perMessageDeflate: { threshold: 0 } });
    try {
      const sizes = [1, 127, 128, 129, 5000];
      const got: Buffer[] = [];
      const done = new Promise<void>((resolve, reject) => {
        ws.on('message', (d) => {
          got.push(d as Buffer);
          if (got.length === sizes.length) resolve();
        });
        ws.on('error', reject);
      });
      await within(new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }), 5000, 'ws open');
      for (const n of sizes) ws.send(Buffer.from(jsonText(n, n)), { binary: true });
      await within(done, 5000, 'echoes');
      sizes.forEach((n, i) => assert.ok(got[i]!.equals(Buffer.from(jsonText(n, n))), `echo of ${n}`));
      const down = tap.taps[0]!.down.filter((f) => f.opcode === 0x2);
      assert.deepEqual(down.map((f) => f.rsv), [0, 0, 4, 4, 4]);
      assert.equal(down[0]!.payload.length, 1);
      assert.equal(down[1]!.payload.length, 127);
    } finally {
      ws.terminate();
      await within(server.close({ timeout: 500 }), 5000, 'server close');
      await tap.close();
    }
  });
});
