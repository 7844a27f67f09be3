import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';

/** ws refuses an upgrade with a small HTML response and closes the connection once it is written. */
export function abortHandshake(socket: Duplex, code: number, message?: string, headers?: Record<string, string | number>): void {
  const body = message || STATUS_CODES[code] || '';
  const all: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };
  socket.once('finish', socket.destroy);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\n` +
      Object.keys(all)
        .map((h) => `${h}: ${all[h]}`)
        .join('\r\n') +
      '\r\n\r\n' +
      body,
  );
}

/** A malformed upgrade request: 'wsClientError' if anyone listens (they answer it), else the refusal. */
export function refuseClient(
  server: EventEmitter,
  req: IncomingMessage,
  socket: Duplex,
  code: number,
  message: string,
  headers?: Record<string, string>,
): void {
  if (server.listenerCount('wsClientError') > 0) {
    const err = new Error(message);
    Error.captureStackTrace(err, refuseClient);
    server.emit('wsClientError', err, socket, req);
  } else {
    abortHandshake(socket, code, message, headers);
  }
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** Sec-WebSocket-Protocol as ws reads it: comma-separated tokens, no empty element, no repeat. */
export function parseSubprotocols(header: string): Set<string> {
  const out = new Set<string>();
  for (const part of header.split(',')) {
    const p = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(p) || out.has(p)) throw new SyntaxError('invalid Sec-WebSocket-Protocol header');
    out.add(p);
  }
  return out;
}
