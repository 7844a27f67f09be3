/**
 * Shared test helpers: loopback servers, a raw TCP peer that speaks frames byte by byte,
 * and frame builders. Everything binds to 127.0.0.1 and is closed by the caller.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { acceptKey, findHeadEnd, parseHttpHead, type HttpHead } from '../src/protocol/index.js';
import { WebSocketServer, type ServerOptions } from '../src/server/index.js';

/** A port on 127.0.0.1 with nothing listening: bind a server, note its port, close it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const FIXTURES = new URL('../../test/fixtures/', import.meta.url);
export const TLS_KEY = readFileSync(new URL('localhost-key.pem', FIXTURES));
export const TLS_CERT = readFileSync(new URL('localhost-cert.pem', FIXTURES));

/** A Tether echo server on 127.0.0.1 with a free port. */
export async function startEchoServer(options: ServerOptions = {}): Promise<{ server: WebSocketServer; port: number; url: string }> {
  const server = new WebSocketServer({
    heartbeatInterval: 0,
    message(ws, data, isBinary) {
      ws.send(data, { binary: isBinary });
    },
    ...options,
  });
  const addr = await server.listen(0, '127.0.0.1');
  return { server, port: addr.port, url: `ws://127.0.0.1:${addr.port}/` };
}

/** Builds one frame. mask: a 4-byte key, true for a random one, false for none. */
export function frame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), opts: { fin?: boolean; rsv?: number; mask?: boolean | Uint8Array; length?: number } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const fin = opts.fin ?? true;
  const len = opts.length ?? data.length;
  const key = opts.mask === false ? null : opts.mask === true || opts.mask === undefined ? randomBytes(4) : Buffer.from(opts.mask);
  const parts: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const m = key ? 0x80 : 0;
  if (len < 126) parts.push(m | len);
  else if (len < 65536) parts.push(m | 126, len >> 8, len & 0xff);
  else {
    parts.push(m | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    parts.push(...big);
  }
  const header = Buffer.from(parts);
  if (!key) return Buffer.concat([header, data]);
  const masked = Buffer.from(data);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([header, key, masked]);
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Parses every complete frame in buf (unmasking); returns frames and the leftover bytes. */
export function parseFrames(buf: Buffer): { frames: ParsedFrame[]; rest: Buffer } {
  const frames: ParsedFrame[] = [];
  let pos = 0;
  while (buf.length - pos >= 2) {
    const b0 = buf[pos]!, b1 = buf[pos + 1]!;
    let len = b1 & 0x7f;
    let off = pos + 2;
    if (len === 126) {
      if (buf.length < off + 2) break;
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (buf.length < off + 8) break;
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const keyOff = off;
    if (masked) off += 4;
    if (buf.length < off + len) break;
    const payload = Buffer.from(buf.subarray(off, off + len));
    if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[keyOff + (i & 3)]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    pos = off + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

/**
 * A raw WebSocket client over TCP for conformance tests: sends exact bytes, collects the
 * frames the server sends back, and knows when the server closed the TCP connection.
 */
export class RawPeer<S extends Duplex = Socket> {
  frames: ParsedFrame[] = [];
  closed: Promise<void>;
  isClosed = false;
  private buf: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: S, readonly response: HttpHead) {
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      resolve();
      this.wake();
    }));
    socket.on('error', () => {});
  }

  static async connect(port: number, opts: { path?: string; headers?: Record<string, string> } = {}): Promise<RawPeer> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    let head: Buffer = Buffer.alloc(0);
    const { response, rest } = await new Promise<{ response: HttpHead; rest: Buffer }>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = findHeadEnd(head);
        if (end < 0) return;
        socket.removeListener('data', onData);
        socket.pause();
        resolve({ response: parseHttpHead(head.toString('latin1', 0, end)), rest: head.subarray(end) });
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed during handshake')));
    });
    if (response.start[1] !== '101') throw new Error(`handshake refused: ${response.start.join(' ')}`);
    if (response.headers['sec-websocket-accept'] !== acceptKey(key)) throw new Error('bad accept key');
    return RawPeer.over(socket, response, rest);
  }

  /** A peer on a transport whose handshake is done (an HTTP/2 stream, for example). */
  static over<T extends Duplex>(socket: T, response: HttpHead, rest: Buffer = Buffer.alloc(0)): RawPeer<T> {
    const peer = new RawPeer(socket, response);
    socket.on('data', (c: Buffer) => peer.onData(c));
    if (rest.length) peer.onData(rest);
    socket.resume();
    return peer;
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    const { frames, rest } = parseFrames(this.buf);
    this.buf = rest;
    if (frames.length) {
      this.frames.push(...frames);
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Writes bytes; `chunkSize` splits them into separate writes with a pause between. */
  async send(bytes: Buffer, chunkSize?: number): Promise<void> {
    if (!chunkSize) {
      this.socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += chunkSize) {
      this.socket.write(bytes.subarray(i, i + chunkSize));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits until `n` frames have arrived or the connection closed, within `ms`. */
  async waitFrames(n: number, ms = 5000): Promise<ParsedFrame[]> {
    const deadline = Date.now() + ms;
    while (this.frames.length < n && !this.isClosed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} frames (have ${this.frames.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Waits for the server to close the TCP connection, within `ms`. */
  async waitClosed(ms = 5000): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => (t = setTimeout(() => reject(new Error('server did not close the connection')), ms)))]);
    clearTimeout(t);
  }

  /** The close frame the server sent, decoded. */
  closeFrame(): { code: number | undefined; reason: string } | undefined {
    const f = this.frames.find((x) => x.opcode === 8);
    if (!f) return undefined;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined, reason: f.payload.subarray(2).toString() };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A raw TCP server that accepts one WebSocket handshake and then lets a test script the
 * server side byte by byte (for testing the client).
 */
export async function startRawServer(onPeer: (socket: Socket, request: HttpHead, rest: Buffer) => void, respond?: (request: HttpHead) => string | undefined): Promise<{ server: Server; port: number; url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = findHeadEnd(head);
      if (end < 0) return;
      socket.removeListener('data', onData);
      const request = parseHttpHead(head.toString('latin1', 0, end));
      const custom = respond?.(request);
      socket.write(custom ?? `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(request.headers['sec-websocket-key']!)}\r\n\r\n`);
      onPeer(socket, request, head.subarray(end));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Rejects after ms: for racing a promise that must settle within a bound. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}
