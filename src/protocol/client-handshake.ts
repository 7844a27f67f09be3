import { randomBytes } from 'node:crypto';
import { acceptKey } from './handshake.js';
import { ExtensionOffer, parseExtensions } from './extensions.js';
import { HttpHead, hasToken, splitList } from './http-head.js';

export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

export interface ClientRequestParts {
  /** host[:port] as it goes in the Host header. */
  host: string;
  /** Path and query. */
  path: string;
  key: string;
  protocols: string[];
  extensions?: string;
  origin?: string;
  headers?: Record<string, string>;
}

export function buildClientRequest(p: ClientRequestParts): string {
  let req = `GET ${p.path} HTTP/1.1\r\nHost: ${p.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${p.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (p.protocols.length > 0) req += `Sec-WebSocket-Protocol: ${p.protocols.join(', ')}\r\n`;
  if (p.extensions) req += `Sec-WebSocket-Extensions: ${p.extensions}\r\n`;
  if (p.origin !== undefined) req += `Origin: ${p.origin}\r\n`;
  if (p.headers) {
    for (const k in p.headers) {
      const v = String(p.headers[k]);
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new TypeError(`headers: invalid characters in header "${k}"`);
      req += `${k}: ${v}\r\n`;
    }
  }
  return req + '\r\n';
}

export interface ValidatedResponse {
  protocol: string;
  /** The server's extension elements, each a name the client offered. */
  extensions: ExtensionOffer[];
  extensionsHeader: string;
}

/** Checks the server's answer (RFC 6455 §4.1, the client's requirements). */
export function validateUpgradeResponse(head: HttpHead, key: string, offeredProtocols: string[], offeredExtensions: string[]): ValidatedResponse {
  const [version, status] = head.start;
  if (!/^HTTP\/1\.\d$/.test(version)) throw new HandshakeError(`unexpected response version ${version}`);
  if (status !== '101') throw new HandshakeError(`unexpected server response: ${status} ${head.start[2]}`.trim());
  const h = head.headers;
  if (!hasToken(h['upgrade'], 'websocket')) throw new HandshakeError('the response lacks "Upgrade: websocket"');
  if (!hasToken(h['connection'], 'upgrade')) throw new HandshakeError('the response lacks "Connection: Upgrade"');
  if (h['sec-websocket-accept'] !== acceptKey(key)) throw new HandshakeError('invalid Sec-WebSocket-Accept');
  const protocol = h['sec-websocket-protocol'];
  if (protocol !== undefined) {
    const list = splitList(protocol);
    if (list.length !== 1 || !offeredProtocols.includes(list[0]!)) throw new HandshakeError(`the server selected a subprotocol that was not offered: ${protocol}`);
  } else if (head.repeated?.has('sec-websocket-protocol')) {
    throw new HandshakeError('repeated Sec-WebSocket-Protocol');
  }
  const extensions = acceptedExtensions(h['sec-websocket-extensions'], offeredExtensions);
  return { protocol: protocol?.trim() ?? '', extensions, extensionsHeader: h['sec-websocket-extensions'] ?? '' };
}

/**
 * The extensions a server's answer accepted (over HTTP/1.1 or HTTP/2 alike): each must have
 * been offered, and none may appear twice.
 */
export function acceptedExtensions(header: string | undefined, offered: string[]): ExtensionOffer[] {
  let extensions: ExtensionOffer[];
  try {
    extensions = parseExtensions(header);
  } catch (err) {
    throw new HandshakeError(`invalid Sec-WebSocket-Extensions: ${(err as Error).message}`);
  }
  const seen = new Set<string>();
  for (const e of extensions) {
    if (!offered.includes(e.name)) throw new HandshakeError(`the server accepted an extension that was not offered: ${e.name}`);
    if (seen.has(e.name)) throw new HandshakeError(`the server accepted ${e.name} twice`);
    seen.add(e.name);
  }
  return extensions;
}
