/**
 * Local helpers for the server conformance suite (test/conformance/server-*.test.ts),
 * modelled on the Autobahn testsuite. Everything talks to a Tether echo server on
 * 127.0.0.1 through RawPeer, which writes exact bytes and records what comes back.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before } from 'node:test';
import type { Duplex } from 'node:stream';
import type { ClientHttp2Session } from 'node:http2';
import { frame, RawPeer, startEchoServer, type ParsedFrame } from '../helpers.js';
import type { ServerOptions, WebSocketServer } from '../../src/server/index.js';
import { h2Peer, h2Session, listenHttp2 } from '../http2/h2-peer.js';

/**
 * Set to http2 before a suite file is imported to run that suite over HTTP/2 streams
 * (RFC 8441, see test/http2/conformance-*.test.ts): the echo server is then also attached
 * to an http2 server, and withPeer opens each peer as a stream on one shared connection.
 */
export const transport = { http2: false };
/** Echo server port → the HTTP/2 connection to the same WebSocketServer. */
const http2Sessions = new Map<number, ClientHttp2Session>();

export const CONT = 0x0;
export const TEXT = 0x1;
export const BINARY = 0x2;
export const CLOSE = 0x8;
export const PING = 0x9;
export const PONG = 0xa;

/** How long the server may take to answer a frame or to close the TCP connection. */
export const PROMPT = 2000;

export interface EchoHandle {
  readonly port: number;
  readonly server: WebSocketServer;
}

/** Starts one echo server for the file (before) and closes it (after). */
export function useEchoServer(options: ServerOptions = {}): EchoHandle {
  let srv: { server: WebSocketServer; port: number } | undefined;
  let h2: Awaited<ReturnType<typeof listenHttp2>> | undefined;
  before(async () => {
    srv = await startEchoServer(options);
    if (transport.http2) {
      h2 = await listenHttp2('tls');
      srv.server.attach(h2.server);
      http2Sessions.set(srv.port, (await h2Session(h2.origin)).session);
    }
  });
  after(async () => {
    await srv?.server.close({ timeout: 100 });
    if (srv) http2Sessions.get(srv.port)?.destroy();
    await h2?.close();
  });
  return {
    get port() {
      return srv!.port;
    },
    get server() {
      return srv!.server;
    },
  };
}

/** Runs fn with a fresh raw peer that is always destroyed afterwards. */
export async function withPeer(port: number, fn: (peer: RawPeer<Duplex>) => Promise<void>): Promise<void> {
  const session = http2Sessions.get(port);
  const peer: RawPeer<Duplex> = session ? await h2Peer(session) : await RawPeer.connect(port);
  try {
    await fn(peer);
  } finally {
    peer.destroy();
  }
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A close frame from the client: no payload, a code, or a code and a reason (string or bytes). */
export function closeFrame(code?: number, reason: string | Buffer = ''): Buffer {
  if (code === undefined) return frame(CLOSE);
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const p = Buffer.alloc(2 + r.length);
  p.writeUInt16BE(code, 0);
  r.copy(p, 2);
  return frame(CLOSE, p);
}

/** One message split into frames of `size` payload bytes (at least one frame). */
export function fragments(opcode: number, payload: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  do {
    const end = Math.min(payload.length, pos + size);
    out.push(frame(pos === 0 ? opcode : CONT, payload.subarray(pos, end), { fin: end === payload.length }));
    pos = end;
  } while (pos < payload.length);
  return out;
}

/** Checks what every server frame must satisfy: unmasked, no RSV bits, valid opcode. */
export function checkServerFrame(f: ParsedFrame): void {
  assert.equal(f.masked, false, 'server frames must not be masked');
  assert.equal(f.rsv, 0, 'server frames must not set RSV bits');
  assert.ok([CONT, TEXT, BINARY, CLOSE, PING, PONG].includes(f.opcode), `server sent opcode ${f.opcode}`);
  if (f.opcode >= 0x8) assert.equal(f.fin, true, 'server control frames must not be fragmented');
}

export interface Received {
  opcode: number;
  payload: Buffer;
}

/**
 * Reassembles the server's frames into messages and control frames, in order, checking
 * the framing rules on the way (a continuation only inside a message, no new message
 * inside one). An unfinished message at the end is an error.
 */
export function assemble(frames: ParsedFrame[]): Received[] {
  const out: Received[] = [];
  let open: { opcode: number; parts: Buffer[] } | null = null;
  for (const f of frames) {
    checkServerFrame(f);
    if (f.opcode >= 0x8) {
      out.push({ opcode: f.opcode, payload: f.payload });
    } else if (f.opcode === CONT) {
      assert.ok(open !== null, 'server sent a continuation frame outside a message');
      open.parts.push(f.payload);
      if (f.fin) {
        out.push({ opcode: open.opcode, payload: Buffer.concat(open.parts) });
        open = null;
      }
    } else {
      assert.equal(open, null, 'server started a message inside a fragmented message');
      if (f.fin) out.push({ opcode: f.opcode, payload: f.payload });
      else open = { opcode: f.opcode, parts: [f.payload] };
    }
  }
  assert.equal(open, null, 'server left a fragmented message unfinished');
  return out;
}

/** Waits until n complete messages/control frames have arrived (or the connection closed). */
export async function waitReceived(peer: RawPeer<Duplex>, n: number, ms = PROMPT): Promise<Received[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const have = countComplete(peer.frames);
    if (have >= n || peer.isClosed) return assemble(peer.frames);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${n} messages (have ${have})`);
    await peer.waitFrames(peer.frames.length + 1, left).catch(() => undefined);
  }
}

/** Complete items among the frames: control frames and final data frames. */
function countComplete(frames: ParsedFrame[]): number {
  let n = 0;
  for (const f of frames) if (f.opcode >= 0x8 || f.fin) n++;
  return n;
}

/**
 * Expects the server to fail (or close) the connection: a close frame with `code`
 * (undefined: a close frame without payload), nothing after it, and the TCP connection
 * closed by the server promptly. Returns the messages received before the close frame.
 */
export async function expectClose(peer: RawPeer<Duplex>, code: number | undefined | ((c: number | undefined) => boolean), ms = PROMPT): Promise<Received[]> {
  await peer.waitClosed(ms);
  const got = assemble(peer.frames);
  const i = got.findIndex((r) => r.opcode === CLOSE);
  assert.ok(i >= 0, 'server closed the TCP connection without a close frame');
  assert.equal(i, got.length - 1, 'server sent frames after its close frame');
  const p = got[i]!.payload;
  assert.notEqual(p.length, 1, 'close frame with a 1-byte payload');
  const actual = p.length >= 2 ? p.readUInt16BE(0) : undefined;
  if (typeof code === 'function') assert.ok(code(actual), `unexpected close code ${actual}`);
  else assert.equal(actual, code, `close code`);
  return got.slice(0, i);
}

/** Ends a healthy session: close 1000, expect the 1000 echo and the TCP close. Returns what came before. */
export async function finish(peer: RawPeer<Duplex>): Promise<Received[]> {
  await peer.send(closeFrame(1000));
  return expectClose(peer, 1000);
}

/** Asserts the received items are exactly these (opcode, payload) in order. */
export function assertReceived(got: Received[], expected: Array<[number, Buffer | string]>): void {
  assert.equal(got.length, expected.length, `expected ${expected.length} items, got ${got.map((g) => g.opcode).join(',') || 'none'}`);
  expected.forEach(([op, payload], i) => {
    const want = typeof payload === 'string' ? Buffer.from(payload) : payload;
    assert.equal(got[i]!.opcode, op, `item ${i} opcode`);
    if (want.length > 256) {
      assert.equal(got[i]!.payload.length, want.length, `item ${i} length`);
      assert.equal(sha256(got[i]!.payload), sha256(want), `item ${i} payload hash`);
    } else {
      assert.deepEqual(got[i]!.payload, want, `item ${i} payload`);
    }
  });
}

/** Sends data, expects exactly `expected` back, then closes cleanly. */
export async function expectEcho(peer: RawPeer<Duplex>, expected: Array<[number, Buffer | string]>, ms = PROMPT): Promise<void> {
  const got = await waitReceived(peer, expected.length, ms);
  assert.equal(peer.isClosed, false, 'server closed the connection');
  assertReceived(got.slice(0, expected.length), expected);
  const all = await finish(peer);
  assertReceived(all, expected);
}
