import * as crypto from 'node:crypto';
import { HANDSHAKE_GUID } from './constants.js';
import { hasToken, isToken, splitList } from './http-head.js';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §1.3). */
export function acceptKey(key: string): string {
  return oneShotHash !== undefined ? oneShotHash('sha1', key + HANDSHAKE_GUID, 'base64') : crypto.createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

/** crypto.hash (Node 20.12+, 21.7+): one call, no Hash object per handshake. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** A 16-byte value in base64 is 22 characters and "==". */
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

export interface UpgradeRequestHead {
  method: string;
  /** The request target, e.g. "/chat?room=1". */
  target: string;
  /** "HTTP/1.1" */
  version: string;
  headers: Record<string, string | string[] | undefined>;
  /** Lower-case names that appeared more than once, if known. */
  repeated?: Set<string> | null;
}

export interface AcceptedUpgrade {
  ok: true;
  key: string;
  /** Offered subprotocols in the client's order. */
  protocols: string[];
  /** The raw Sec-WebSocket-Extensions value, if any. */
  extensions: string | undefined;
}

export interface RejectedUpgrade {
  ok: false;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

function header(h: UpgradeRequestHead['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function reject(status: number, message: string, headers?: Record<string, string>): RejectedUpgrade {
  return headers ? { ok: false, status, message, headers } : { ok: false, status, message };
}

/** Validates an opening handshake request (RFC 6455 §4.2.1). */
export function validateUpgradeRequest(req: UpgradeRequestHead): AcceptedUpgrade | RejectedUpgrade {
  if (req.method !== 'GET') return reject(405, 'the WebSocket handshake must use GET', { Allow: 'GET' });
  const m = /^HTTP\/(\d)\.(\d)$/.exec(req.version);
  if (!m) return reject(400, 'malformed request line');
  if (Number(m[1]) * 10 + Number(m[2]) < 11) return reject(505, 'the WebSocket handshake needs HTTP/1.1');
  const h = req.headers;
  const once = (name: string) => !(req.repeated && req.repeated.has(name));
  const host = header(h, 'host');
  if (host === undefined || host === '' || !once('host')) return reject(400, 'missing or repeated Host header');
  if (!hasToken(header(h, 'upgrade'), 'websocket')) {
    return reject(426, 'this endpoint speaks WebSocket: Upgrade: websocket is required', { Upgrade: 'websocket', Connection: 'Upgrade' });
  }
  if (!hasToken(header(h, 'connection'), 'upgrade')) return reject(400, 'the Connection header must contain "upgrade"');
  const key = header(h, 'sec-websocket-key');
  if (key === undefined || !once('sec-websocket-key') || !KEY_PATTERN.test(key.trim())) {
    return reject(400, 'Sec-WebSocket-Key must be 16 bytes in base64');
  }
  const version = header(h, 'sec-websocket-version');
  if (version === undefined || version.trim() !== '13') {
    return reject(426, 'unsupported WebSocket version: only 13 is supported', { 'Sec-WebSocket-Version': '13' });
  }
  const protocols = splitList(header(h, 'sec-websocket-protocol'));
  for (const p of protocols) if (!isToken(p)) return reject(400, `invalid subprotocol "${p}"`);
  if (new Set(protocols).size !== protocols.length) return reject(400, 'repeated subprotocol');
  return { ok: true, key: key.trim(), protocols, extensions: header(h, 'sec-websocket-extensions') };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 426: 'Upgrade Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** The 101 response that completes the handshake. */
export function buildAcceptResponse(key: string, protocol: string | undefined, extensions: string | undefined, extra?: Record<string, string>): string {
  const [head, tail] = acceptResponseParts(protocol, extensions, extra);
  return head + acceptKey(key) + tail;
}

/**
 * The 101 response without its accept key: what comes before it and after it. They depend
 * only on the subprotocol and extensions, so a server can build them once per combination.
 */
export function acceptResponseParts(protocol: string | undefined, extensions: string | undefined, extra?: Record<string, string>): [string, string] {
  let tail = '\r\n';
  if (protocol) tail += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions) tail += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if (extra) for (const k in extra) tail += `${k}: ${sanitize(extra[k]!)}\r\n`;
  return ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ', tail + '\r\n'];
}

/** A complete HTTP error response that refuses the upgrade; the connection closes after it. */
export function buildErrorResponse(status: number, message: string, headers?: Record<string, string>): string {
  const body = message + '\n';
  let res = `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  if (headers) for (const k in headers) res += `${k}: ${sanitize(headers[k]!)}\r\n`;
  return res + '\r\n' + body;
}

function sanitize(v: string): string {
  return String(v).replace(/[\r\n]/g, ' ');
}
