/**
 * permessage-deflate conformance of the client, modelled on Autobahn sections 12 and 13:
 * the Tether client against a `ws` echo server configured with each parameter combination
 * (threshold 0, so every echo is compressed), and with the client offering parameters of
 * its own. Text and binary messages of 16 B to 128 KiB, semi-repetitive (JSON-like) and
 * random, are sent pipelined and must come back intact and in order. A loopback proxy
 * between them parses both directions: the client's messages must carry RSV1 and be
 * masked, and the server's echoes are checked to be compressed too.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import type WsTypes from 'ws';
import { WebSocket } from '../../src/client/index.js';
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
  /** The ws server's perMessageDeflate settings (threshold 0 is always set). */
  server: WsTypes.PerMessageDeflateOptions;
  /** The Tether client's perMessageDeflate settings (threshold 0 is always set). */
  client?: PerMessageDeflateOptions;
  /** The parameters the server's answer must carry (in any order). */
  params: string[];
}

const PMD = 'permessage-deflate';
const CASES: Case[] = [
  { name: 'defaults', server: {}, params: [] },
  { name: 'client_no_context_takeover', server: { clientNoContextTakeover: true }, params: ['client_no_context_takeover'] },
  { name: 'server_no_context_takeover', server: { serverNoContextTakeover: true }, params: ['server_no_context_takeover'] },
  {
    name: 'both no_context_takeover',
    server: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    params: ['server_no_context_takeover', 'client_no_context_takeover'],
  },
  ...[8, 9, 12, 15].map((bits): Case => ({ name: `server_max_window_bits=${bits}`, server: { serverMaxWindowBits: bits }, params: [`server_max_window_bits=${bits}`] })),
  ...[8, 9, 12, 15].map((bits): Case => ({ name: `client_max_window_bits=${bits}`, server: { clientMaxWindowBits: bits }, params: [`client_max_window_bits=${bits}`] })),
  {
    name: 'server_no_context_takeover + server_max_window_bits=8',
    server: { serverNoContextTakeover: true, serverMaxWindowBits: 8 },
    params: ['server_no_context_takeover', 'server_max_window_bits=8'],
  },
  {
    name: 'client_no_context_takeover + client_max_window_bits=8',
    server: { clientNoContextTakeover: true, clientMaxWindowBits: 8 },
    params: ['client_no_context_takeover', 'client_max_window_bits=8'],
  },
  {
    name: 'both no_context_takeover + both windows 9',
    server: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    params: ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=9', 'client_max_window_bits=9'],
  },
  // Parameters the Tether client offers itself.
  { name: 'client offers client_no_context_takeover', server: {}, client: { clientNoContextTakeover: true }, params: ['client_no_context_takeover'] },
  { name: 'client requires server_no_context_takeover', server: {}, client: { serverNoContextTakeover: true }, params: ['server_no_context_takeover'] },
  { name: 'client offers server_max_window_bits=8', server: {}, client: { serverMaxWindowBits: 8 }, params: ['server_max_window_bits=8'] },
  { name: 'client offers client_max_window_bits=9', server: {}, client: { clientMaxWindowBits: 9 }, params: ['client_max_window_bits=9'] },
  {
    name: 'client offers everything small, server narrows the windows further',
    server: { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    params: ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=8', 'client_max_window_bits=8'],
  },
];

function paramsOf(header: string): string[] {
  const [name, ...params] = header.split(';').map((s) => s.trim());
  assert.equal(name, PMD);
  return params.sort();
}

async function startWsEcho(options: WsTypes.PerMessageDeflateOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const wss = new WsServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0, ...options } });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  return {
    port: (wss.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function runCase(c: Case): Promise<void> {
  const echo = await startWsEcho(c.server);
  const tap = await startTap(echo.port);
  let ws: WebSocket | null = null;
  try {
    ws = new WebSocket(`ws://127.0.0.1:${tap.port}/`, [], { perMessageDeflate: { threshold: 0, ...c.client } });
    const client = ws;
    client.binaryType = 'nodebuffer';
    const received: Array<string | Buffer> = [];
    const done = new Promise<void>((resolve, reject) => {
      client.onmessage = (e: MessageEvent) => {
        received.push(e.data as string | Buffer);
        if (received.length === MESSAGES.length) resolve();
      };
      client.onclose = (e: CloseEvent) => reject(new Error(`closed early with ${e.code} ${e.reason} after ${received.length} echoes`));
    });
    done.catch(() => {}); // Awaited below; a failure before that must not surface as an unhandled rejection.
    await within(new Promise<void>((resolve, reject) => {
      client.onopen = () => resolve();
      client.onerror = (e: Event & { message?: string }) => reject(new Error(`client error: ${e.message ?? ''}`));
    }), 5000, 'open');
    const header = parseHttpHead(tap.taps[0]!.response).headers['sec-websocket-extensions'];
    assert.equal(typeof header, 'string');
    assert.equal(client.extensions, header);
    assert.deepEqual(paramsOf(client.extensions), [...c.params].sort());

    for (const m of MESSAGES) client.send(m.data);
    await within(done, 15_000, `${MESSAGES.length} echoes`);

    for (let i = 0; i < MESSAGES.length; i++) {
      const m = MESSAGES[i]!;
      const r = received[i]!;
      if (m.binary) {
        assert.ok(Buffer.isBuffer(r), `message ${i} is binary`);
        assert.ok(r.equals(m.data as Buffer), `message ${i} (${r.length} bytes) echoed intact`);
      } else {
        assert.equal(typeof r, 'string', `message ${i} is text`);
        assert.ok(r === m.data, `text message ${i} (${(r as string).length} chars) echoed intact`);
      }
    }

    const t = tap.taps[0]!;
    const upData = t.up.filter((f) => f.opcode < 0x8);
    const downData = t.down.filter((f) => f.opcode < 0x8);
    assert.equal(upData.length, MESSAGES.length);
    assert.equal(downData.length, MESSAGES.length);
    for (let i = 0; i < MESSAGES.length; i++) {
      const m = MESSAGES[i]!;
      const f = upData[i]!;
      assert.equal(f.opcode, m.binary ? 0x2 : 0x1, `message ${i} opcode`);
      assert.equal(f.fin, true);
      assert.equal(f.masked, true, `message ${i} is masked`);
      assert.equal(f.rsv, 4, `message ${i} carries RSV1 (and only RSV1)`);
      assert.equal(downData[i]!.rsv, 4, `echo ${i} carries RSV1`);
      const size = typeof m.data === 'string' ? Buffer.byteLength(m.data) : m.data.length;
      if (m.compressible && size >= 1024) assert.ok(f.payload.length < size / 2, `message ${i}: ${size} bytes compressed to ${f.payload.length}`);
      if (!m.compressible) assert.ok(f.payload.length < size + 64 + size / 100, `message ${i}: random ${size} bytes -> ${f.payload.length}`);
    }

    const closed = new Promise<CloseEvent>((resolve) => (client.onclose = resolve));
    client.close(1000);
    const e = await within(closed, 5000, 'close');
    assert.equal(e.code, 1000);
    assert.equal(e.wasClean, true);
  } finally {
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      const w = ws;
      const gone = new Promise<void>((resolve) => w.addEventListener('close', () => resolve()));
      w.close();
      await within(gone, 6000, 'client gone');
    }
    await tap.close();
    await echo.close();
  }
}

describe('permessage-deflate: Tether client against a ws echo server (Autobahn 12/13)', () => {
  for (const c of CASES) test(c.name, () => runCase(c));

  test('with the default threshold (128) short messages go out without RSV1, longer ones with it', async () => {
    const echo = await startWsEcho({});
    const tap = await startTap(echo.port);
    const ws = new WebSocket(`ws://127.0.0.1:${tap.port}/`, [], { perMessageDeflate: true });
    ws.binaryType = 'nodebuffer';
    try {
      const sizes = [1, 127, 128, 129, 5000];
      const got: Buffer[] = [];
      await within(new Promise<void>((resolve, reject) => {
        ws.onopen = () => {
          for (const n of sizes) ws.send(Buffer.from(jsonText(n, n)));
        };
        ws.onmessage = (e: MessageEvent) => {
          got.push(e.data as Buffer);
          if (got.length === sizes.length) resolve();
        };
        ws.onclose = () => reject(new Error('closed early'));
      }), 5000, 'echoes');
      sizes.forEach((n, i) => assert.ok(got[i]!.equals(Buffer.from(jsonText(n, n))), `echo of ${n}`));
      // The default offer, as browsers send it.
      assert.match(tap.taps[0]!.request, /\r\nsec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n/i);
      const up = tap.taps[0]!.up.filter((f) => f.opcode === 0x2);
      assert.deepEqual(up.map((f) => f.rsv), [0, 0, 4, 4, 4]);
      assert.equal(up[1]!.payload.length, 127);
      const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
      ws.close(1000);
      assert.equal((await within(closed, 5000, 'close')).code, 1000);
    } finally {
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await tap.close();
      await echo.close();
    }
  });
});
