import { constants, type Http2SecureServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { isWebSocketConnect, statusText, type Http2Headers } from '../protocol/index.js';

/**
 * WebSockets on HTTP/2 streams (RFC 8441). An attached http2 server advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL; each extended CONNECT stream for the websocket
 * protocol goes to the WebSocketServer owning its path, which runs the same pipeline as
 * for an HTTP/1.1 upgrade and then the same engine on the stream (a Duplex).
 */
export type Http2ServerLike = Http2Server | Http2SecureServer;

interface StreamTarget {
  matches(url: string): boolean;
  handleStream(stream: ServerHttp2Stream, headers: Http2Headers): void;
}

/** Whether an object given to attach() is a node:http2 server. */
export function isHttp2Server(server: unknown): server is Http2ServerLike {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

type Emit = (event: string | symbol, ...args: unknown[]) => boolean;
const routes = new WeakMap<Http2ServerLike, { targets: StreamTarget[]; emit: Emit }>();

/**
 * Routes WebSocket CONNECT streams of an http2 server to the attached servers. The
 * server's 'stream' emission is intercepted (not listened to): with a request handler,
 * node's compatibility layer would otherwise answer the same stream as a request.
 * Other streams, and WebSocket CONNECTs no attached server takes, go on as before.
 */
export function routeStreams(server: Http2ServerLike, target: StreamTarget): () => void {
  let entry = routes.get(server);
  if (!entry) {
    // Sessions opened from now on advertise RFC 8441 support in their first SETTINGS.
    server.updateSettings({ enableConnectProtocol: true });
    const targets: StreamTarget[] = [];
    const emit = server.emit as Emit;
    server.emit = function (this: Http2ServerLike, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'stream' && isWebSocketConnect(args[1] as Http2Headers)) {
        const stream = args[0] as ServerHttp2Stream;
        const headers = args[1] as Http2Headers;
        const path = typeof headers[':path'] === 'string' ? headers[':path'] : '/';
        for (const t of targets) if (t.matches(path)) return t.handleStream(stream, headers), true;
        if (this.listenerCount('stream') === 0) return refuseStream(stream, 404, 'no WebSocket endpoint at this path'), true;
      }
      return emit.call(this, event, ...args);
    } as typeof server.emit;
    entry = { targets, emit };
    routes.set(server, entry);
  }
  entry.targets.push(target);
  const e = entry;
  return () => {
    const i = e.targets.indexOf(target);
    if (i >= 0) e.targets.splice(i, 1);
    if (e.targets.length === 0) {
      server.emit = e.emit as typeof server.emit;
      routes.delete(server);
    }
  };
}

/** Whether a transport given to the pipeline is an HTTP/2 stream. */
export function isHttp2Stream(socket: Duplex): socket is ServerHttp2Stream {
  return typeof (socket as { respond?: unknown }).respond === 'function';
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); a refusal built for HTTP/1.1 may carry them. */
const CONNECTION_SPECIFIC = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding']);

/** Answers an extended CONNECT with an error status and a short text body. */
export function refuseStream(stream: ServerHttp2Stream, status: number, message: string, headers?: Record<string, string>): void {
  if (stream.destroyed || stream.headersSent) return void stream.destroy();
  const h: Record<string, string | number> = { ':status': status, 'content-type': 'text/plain; charset=utf-8' };
  if (headers) for (const k in headers) if (!CONNECTION_SPECIFIC.has(k.toLowerCase())) h[k.toLowerCase()] = String(headers[k]).replace(/[\r\n]/g, ' ');
  try {
    stream.respond(h);
    // The answer is complete: RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1).
    stream.end(`${message || statusText(status)}\n`, () => stream.close(constants.NGHTTP2_NO_ERROR));
  } catch {
    stream.destroy();
  }
  stream.resume();
}

/** Accepts an extended CONNECT: `:status 200` with the negotiated subprotocol and extensions. */
export function acceptStream(stream: ServerHttp2Stream, protocol: string | undefined, extensions: string | undefined): void {
  const h: Record<string, string | number> = { ':status': 200 };
  if (protocol) h['sec-websocket-protocol'] = protocol;
  if (extensions) h['sec-websocket-extensions'] = extensions;
  stream.respond(h);
}

/** Byte counts of a stream carrying a WebSocket, kept on the stream (it keeps none of its own). */
export const kBytesRead = Symbol('tether.bytesRead');
export const kBytesWritten = Symbol('tether.bytesWritten');
type CountedStream = ServerHttp2Stream & { [kBytesRead]: number; [kBytesWritten]: number };

// Every ServerHttp2Stream has the same push and write (those of its prototype chain).
let streamPush: ServerHttp2Stream['push'] | null = null;
let streamWrite: ServerHttp2Stream['write'] | null = null;

function countingPush(this: CountedStream, chunk: unknown, encoding?: BufferEncoding): boolean {
  if (chunk !== null && chunk !== undefined) this[kBytesRead] += (chunk as { length: number }).length;
  return streamPush!.call(this, chunk, encoding);
}

// Fixed parameters, not a rest array: this runs on every write of an HTTP/2 WebSocket.
// Writable.write treats undefined encoding and callback as absent.
function countingWrite(this: CountedStream, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  if (chunk !== null && chunk !== undefined) this[kBytesWritten] += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as { byteLength: number }).byteLength;
  return (streamWrite as (c: unknown, e: unknown, cb: unknown) => boolean).call(this, chunk, encoding, callback);
}

/**
 * Gives a stream what the server reads off a socket: the peer's address (that of the
 * connection it travels on), looked up on first use, and byte counts for stats(). A stream
 * counts no bytes of its own, so the WebSocket bytes it carries (frames, not HTTP/2's
 * framing) are counted as node:http2 pushes them in and as the server writes them out, by
 * functions shared by every stream.
 */
export function describeStream(stream: ServerHttp2Stream): void {
  const counted = stream as CountedStream;
  streamPush ??= stream.push;
  streamWrite ??= stream.write;
  counted[kBytesRead] = 0;
  counted[kBytesWritten] = 0;
  stream.push = countingPush;
  stream.write = countingWrite as ServerHttp2Stream['write'];
  Object.defineProperties(stream, {
    remoteAddress: { get: () => stream.session?.socket?.remoteAddress, configurable: true },
    remotePort: { get: () => stream.session?.socket?.remotePort, configurable: true },
  });
}
