/**
 * The echo-client harness for the client conformance suite (Autobahn-style, seen from the
 * server). A scripted raw server (test/helpers.ts startRawServer) talks to a Tether
 * `WebSocket` that echoes every message back with the same type; `ServerSide` parses
 * what the client sends, keeping each frame's mask key so that masking can be checked.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { frame, startRawServer, within } from '../helpers.js';
import { WebSocket, type BinaryType, type ClientOptions } from '../../src/client/index.js';
import type { HttpHead } from '../../src/protocol/index.js';

export { frame, within };

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** A server frame (never masked). */
export function sf(opcode: number, payload: Uint8Array | string = new Uint8Array(0), opts: { fin?: boolean; rsv?: number; length?: number } = {}): Buffer {
  return frame(opcode, payload, { ...opts, mask: false });
}

/** A server close frame; code undefined gives an empty payload. */
export function closeFrame(code?: number, reason: string | Buffer = ''): Buffer {
  if (code === undefined) return sf(OP.CLOSE);
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const p = Buffer.alloc(2 + r.length);
  p.writeUInt16BE(code, 0);
  r.copy(p, 2);
  return sf(OP.CLOSE, p);
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  key: Buffer | null;
  payload: Buffer;
  /** The 7-bit length field as sent: 126 and 127 announce 16- and 64-bit lengths. */
  len7: number;
}

/** Parses one frame at the start of buf, or says how many bytes are needed. */
function parseOne(buf: Buffer): { frame: ClientFrame; size: number } | { need: number } {
  if (buf.length < 2) return { need: 2 };
  const b0 = buf[0]!, b1 = buf[1]!;
  const masked = (b1 & 0x80) !== 0;
  let len = b1 & 0x7f;
  let hl = 2;
  if (len === 126) hl = 4;
  else if (len === 127) hl = 10;
  if (masked) hl += 4;
  if (buf.length < hl) return { need: hl };
  if (len === 126) len = buf.readUInt16BE(2);
  else if (len === 127) len = Number(buf.readBigUInt64BE(2));
  if (buf.length < hl + len) return { need: hl + len };
  const key = masked ? Buffer.from(buf.subarray(hl - 4, hl)) : null;
  const payload = Buffer.from(buf.subarray(hl, hl + len));
  if (key) for (let i = 0; i < len; i++) payload[i]! ^= key[i & 3]!;
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, key, payload, len7: b1 & 0x7f }, size: hl + len };
}

/** The server's end of one connection: writes scripted bytes, parses the client's frames. */
export class ServerSide {
  readonly frames: ClientFrame[] = [];
  /** The client half-closed (FIN) or the socket closed. */
  ended = false;
  closed = false;
  /** Bytes received that do not (yet) form a whole frame. */
  pending = 0;
  private chunks: Buffer[] = [];
  private need = 2;
  private waiters = new Set<() => void>();

  constructor(readonly socket: Socket, readonly request: HttpHead, rest: Buffer) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.closed = true;
      this.wake();
    });
    if (rest.length > 0) this.onData(rest);
  }

  private onData(c: Buffer): void {
    this.chunks.push(c);
    this.pending += c.length;
    let got = false;
    while (this.pending >= this.need) {
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.pending);
      this.chunks = [buf];
      const r = parseOne(buf);
      if ('need' in r) {
        this.need = r.need;
        continue;
      }
      this.frames.push(r.frame);
      got = true;
      const rest = buf.subarray(r.size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.pending = rest.length;
      this.need = 2;
    }
    if (got) this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until pred() holds; throws after ms with `what` and a summary of the frames. */
  async waitUntil(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; client frames: ${this.summary()}; ended=${this.ended}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  summary(): string {
    return JSON.stringify(this.frames.map((f) => [f.opcode, f.payload.length > 16 ? `${f.payload.length} bytes` : f.payload.toString('hex')]));
  }

  async waitFrames(n: number, ms = 5000): Promise<ClientFrame[]> {
    await this.waitUntil(() => this.frames.length >= n, ms, `${n} frames`);
    return this.frames;
  }

  /** Waits for the client's close frame and decodes it. */
  async waitClose(ms = 5000): Promise<{ code: number | undefined; reason: string; payload: Buffer }> {
    await this.waitUntil(() => this.frames.some((f) => f.opcode === OP.CLOSE), ms, 'a close frame from the client');
    return decodeClose(this.frames.find((f) => f.opcode === OP.CLOSE)!);
  }

  /** Waits for the client to half-close or close the TCP connection. */
  async waitEnd(ms = 5000): Promise<void> {
    await this.waitUntil(() => this.ended, ms, 'the client to close the TCP connection');
  }

  write(...bufs: Buffer[]): void {
    this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
  }

  /** Writes bytes in separate writes of `size` bytes, pausing `pauseMs` (0: one macrotask) between them. */
  async writeChopped(bytes: Buffer, size: number, pauseMs = 0): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      this.socket.write(bytes.subarray(i, i + size));
      if (pauseMs > 0) await sleep(pauseMs);
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Data frames (echoes) in order: [opcode, payload]. */
  dataFrames(): ClientFrame[] {
    return this.frames.filter((f) => f.opcode === OP.TEXT || f.opcode === OP.BINARY || f.opcode === OP.CONT);
  }

  /**
   * The strict per-frame rules for a client: every frame masked, with a fresh key; FIN set
   * (this client never fragments); RSV clear; a known opcode; control payloads at most
   * 125 bytes; text valid UTF-8; nothing after the close frame; a valid close payload.
   */
  assertStrict(): void {
    const frames = this.frames;
    frames.forEach((f, i) => {
      const at = `client frame #${i} (opcode ${f.opcode})`;
      assert.equal(f.masked, true, `${at} is not masked`);
      assert.equal(f.fin, true, `${at} has FIN clear`);
      assert.equal(f.rsv, 0, `${at} has RSV bits set`);
      assert.ok([OP.TEXT, OP.BINARY, OP.CLOSE, OP.PING, OP.PONG].includes(f.opcode as 1), `${at}: unexpected opcode`);
      if (f.opcode >= 8) assert.ok(f.payload.length <= 125, `${at}: control payload over 125 bytes`);
      const n = f.payload.length;
      assert.equal(f.len7, n < 126 ? n : n < 65536 ? 126 : 127, `${at}: the payload length is not minimally encoded`);
      if (f.opcode === OP.TEXT) assert.ok(Buffer.from(f.payload.toString('utf8')).equals(f.payload), `${at}: text is not valid UTF-8`);
      if (f.opcode === OP.CLOSE) {
        assert.equal(i, frames.length - 1, `the client sent frames after its close frame: ${this.summary()}`);
        assert.notEqual(f.payload.length, 1, 'close frame with a 1-byte payload');
      }
    });
    assert.equal(this.pending, 0, `${this.pending} trailing bytes that are not a whole frame`);
    const keys = frames.map((f) => f.key!.toString('hex'));
    if (keys.length >= 2) {
      const distinct = new Set(keys).size;
      assert.ok(distinct > 1, 'every frame used the same mask key');
      // Random 32-bit keys: a repeat among 64 frames is a ~5e-7 event, three repeats among
      // a thousand ~1e-12; a fixed or cycling key fails at once.
      if (keys.length <= 64) assert.equal(distinct, keys.length, `mask keys repeat: ${keys.join(' ')}`);
      else assert.ok(distinct >= keys.length - 2, `mask keys repeat: ${keys.length - distinct} repeats`);
    }
  }
}

export function decodeClose(f: ClientFrame): { code: number | undefined; reason: string; payload: Buffer } {
  return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined, reason: f.payload.subarray(2).toString('utf8'), payload: f.payload };
}

export interface EchoOptions {
  binaryType?: BinaryType;
  protocols?: string | string[];
  options?: ClientOptions;
  /** Echo messages back (default true). */
  echo?: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  readyState: number;
}

/** The page side: a WebSocket that echoes every message with the same type, and a log of its events. */
export class EchoClient {
  readonly ws: WebSocket;
  /** Event types in order. */
  readonly log: string[] = [];
  /** Received messages: strings, and binary data as Buffers (Blobs are read later, see blobsRead). */
  readonly messages: Array<string | Buffer | Blob> = [];
  closeInfo: CloseInfo | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseInfo>;
  /** readyState values seen from handlers. */
  readonly states: number[] = [];

  constructor(url: string, opts: EchoOptions = {}) {
    const ws = new WebSocket(url, opts.protocols, opts.options);
    this.ws = ws;
    ws.binaryType = opts.binaryType ?? 'nodebuffer';
    const echo = opts.echo ?? true;
    let onOpen!: () => void;
    let onEarlyClose!: (e: Error) => void;
    this.opened = new Promise<void>((resolve, reject) => {
      onOpen = resolve;
      onEarlyClose = reject;
    });
    this.opened.catch(() => {});
    let onClosed!: (c: CloseInfo) => void;
    this.closed = new Promise<CloseInfo>((r) => (onClosed = r));
    ws.onopen = () => {
      this.log.push('open');
      this.states.push(ws.readyState);
      onOpen();
    };
    ws.onmessage = (e: MessageEvent) => {
      this.log.push('message');
      const d = e.data as unknown;
      if (typeof d === 'string') this.messages.push(d);
      else if (d instanceof ArrayBuffer) this.messages.push(Buffer.from(d));
      else if (d instanceof Blob) this.messages.push(d);
      else this.messages.push(Buffer.from(d as Buffer));
      if (echo) ws.send(d as string);
    };
    ws.onerror = () => {
      this.log.push('error');
    };
    ws.onclose = (e: CloseEvent) => {
      this.log.push('close');
      this.closeInfo = { code: e.code, reason: e.reason, wasClean: e.wasClean, readyState: ws.readyState };
      onEarlyClose(new Error(`closed before open: ${e.code}`));
      onClosed(this.closeInfo);
    };
  }

  /** Waits for the close event. */
  waitClosed(ms = 5000): Promise<CloseInfo> {
    return within(this.closed, ms, 'the client close event');
  }
}

export interface SessionOptions extends EchoOptions {
  respond?: (request: HttpHead) => string | undefined;
  /** The whole server response (head and any frames) as bytes, written in one write. */
  greeting?: (request: HttpHead) => Buffer;
}

/**
 * One connection: starts a raw server, connects an echo client, runs the script with
 * both ends, and tears everything down (server, sockets) and waits for the client's close
 * event, so no socket or timer outlives the test.
 */
export async function session(opts: SessionOptions, script: (s: ServerSide, c: EchoClient) => Promise<void>): Promise<void> {
  let onPeer!: (p: ServerSide) => void;
  const peerReady = new Promise<ServerSide>((r) => (onPeer = r));
  const greeting = opts.greeting;
  const srv = await startRawServer(
    (socket, request, rest) => {
      if (greeting) socket.write(greeting(request));
      onPeer(new ServerSide(socket, request, rest));
    },
    greeting ? () => '' : opts.respond,
  );
  let client: EchoClient | undefined;
  let failed = false;
  try {
    client = new EchoClient(srv.url, opts);
    const peer = await within(peerReady, 3000, 'the client to connect');
    await within(client.opened, 3000, 'the open event');
    await script(peer, client);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await srv.close();
    if (client) {
      const c = client;
      await within(c.closed, 5000, 'the client close event after teardown').catch((err: unknown) => {
        if (!failed) throw err;
      });
    }
  }
}

/**
 * The client must fail the connection: a close frame with `code` as its last frame, then
 * it closes TCP; the page sees error then close with 1006, wasClean false.
 */
export async function expectFailure(s: ServerSide, c: EchoClient, code: number, ms = 3000): Promise<void> {
  const close = await s.waitClose(ms);
  assert.equal(close.code, code, `client close code (frames: ${s.summary()})`);
  await s.waitEnd(ms);
  const info = await c.waitClosed(ms);
  s.assertStrict();
  assert.equal(info.code, 1006);
  assert.equal(info.wasClean, false);
  assert.equal(info.readyState, WebSocket.CLOSED);
  assert.deepEqual(c.log.slice(-2), ['error', 'close']);
}

/**
 * A clean server-initiated close: the client answers with a close frame echoing `code`
 * (none when the server sent none), the server then closes TCP, and the page sees a clean
 * close with the server's code and reason and no error event.
 */
export async function expectCleanClose(s: ServerSide, c: EchoClient, code: number | undefined, reason = '', ms = 3000): Promise<void> {
  const close = await s.waitClose(ms);
  assert.equal(close.code, code, `client close code (frames: ${s.summary()})`);
  s.socket.end();
  await s.waitEnd(ms);
  const info = await c.waitClosed(ms);
  s.assertStrict();
  assert.deepEqual(info, { code: code ?? 1005, reason, wasClean: true, readyState: WebSocket.CLOSED });
  assert.ok(!c.log.includes('error'), `unexpected error event: ${c.log.join(',')}`);
}

/** Asserts the echoes (data frames) equal the expected [opcode, payload] list, in order. */
export function assertEchoes(s: ServerSide, expected: Array<[number, Buffer | string]>): void {
  const got = s.dataFrames().map((f) => [f.opcode, f.payload.length > 64 ? `${f.payload.length}:${sha256(f.payload)}` : f.payload.toString('hex')]);
  const want = expected.map(([op, p]) => {
    const b = typeof p === 'string' ? Buffer.from(p) : p;
    return [op, b.length > 64 ? `${b.length}:${sha256(b)}` : b.toString('hex')];
  });
  assert.deepEqual(got, want);
}

export const T = { timeout: 15_000 };
