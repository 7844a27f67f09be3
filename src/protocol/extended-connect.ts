import type { ExtensionOffer } from './extensions.js';
import { isToken, splitList } from './http-head.js';
import { acceptedExtensions, HandshakeError } from './client-handshake.js';

/**
 * RFC 8441: a WebSocket bootstrapped on an HTTP/2 stream by an extended CONNECT request
 * (`:method CONNECT`, `:protocol websocket`). There is no Sec-WebSocket-Key/Accept and no
 * 101: the server answers `:status 200` and the stream carries the frames, masked as on
 * any other transport. Headers here are HTTP/2 header lists as node:http2 gives them
 * (lower-case names, pseudo-headers included).
 */
export type Http2Headers = Record<string, string | string[] | undefined>;

export interface AcceptedConnect {
  ok: true;
  /** `:path`, the request target. */
  target: string;
  /** Offered subprotocols in the client's order. */
  protocols: string[];
  extensions: string | undefined;
}

export interface RejectedConnect {
  ok: false;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

function one(h: Http2Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Whether a stream's request headers open a WebSocket (RFC 8441 §4). */
export function isWebSocketConnect(h: Http2Headers): boolean {
  return h[':method'] === 'CONNECT' && typeof h[':protocol'] === 'string' && h[':protocol'].toLowerCase() === 'websocket';
}

/** Validates an extended CONNECT request for a WebSocket (RFC 8441 §4 and §5). */
export function validateConnectRequest(h: Http2Headers): AcceptedConnect | RejectedConnect {
  if (!isWebSocketConnect(h)) return { ok: false, status: 400, message: 'not an extended CONNECT request for the websocket protocol' };
  const target = one(h, ':path');
  if (target === undefined || !target.startsWith('/')) return { ok: false, status: 400, message: 'an extended CONNECT request needs a :path' };
  if (!one(h, ':scheme')) return { ok: false, status: 400, message: 'an extended CONNECT request needs a :scheme' };
  if (!one(h, ':authority')) return { ok: false, status: 400, message: 'an extended CONNECT request needs an :authority' };
  const version = one(h, 'sec-websocket-version');
  // HTTP/2 has no 426 Upgrade Required semantics: a 400 that names the version we speak.
  if (version === undefined || version.trim() !== '13') {
    return { ok: false, status: 400, message: 'unsupported WebSocket version: only 13 is supported', headers: { 'sec-websocket-version': '13' } };
  }
  const protocols = splitList(one(h, 'sec-websocket-protocol'));
  for (const p of protocols) if (!isToken(p)) return { ok: false, status: 400, message: `invalid subprotocol "${p}"` };
  if (new Set(protocols).size !== protocols.length) return { ok: false, status: 400, message: 'repeated subprotocol' };
  return { ok: true, target, protocols, extensions: one(h, 'sec-websocket-extensions') };
}

/** The request headers a client sends to open a WebSocket on an HTTP/2 stream. */
export function buildConnectRequest(p: { scheme: string; authority: string; path: string; protocols: string[]; extensions?: string; origin?: string; headers?: Record<string, string> }): Http2Headers {
  const h: Http2Headers = {};
  // Extra headers first, so that the handshake's own fields cannot be overridden by them.
  if (p.headers) for (const k in p.headers) h[k.toLowerCase()] = String(p.headers[k]);
  h[':method'] = 'CONNECT';
  h[':protocol'] = 'websocket';
  h[':scheme'] = p.scheme;
  h[':authority'] = p.authority;
  h[':path'] = p.path;
  h['sec-websocket-version'] = '13';
  if (p.protocols.length > 0) h['sec-websocket-protocol'] = p.protocols.join(', ');
  if (p.extensions) h['sec-websocket-extensions'] = p.extensions;
  if (p.origin !== undefined) h['origin'] = p.origin;
  return h;
}

export interface ValidatedConnectResponse {
  protocol: string;
  extensions: ExtensionOffer[];
  extensionsHeader: string;
}

/** Checks the server's answer to an extended CONNECT: a 2xx, and only what was offered. */
export function validateConnectResponse(h: Http2Headers, offeredProtocols: string[], offeredExtensions: string[]): ValidatedConnectResponse {
  const status = Number(one(h, ':status'));
  if (!(status >= 200 && status < 300)) throw new HandshakeError(`unexpected server response: ${one(h, ':status') ?? 'no status'}`);
  const protocol = one(h, 'sec-websocket-protocol');
  if (protocol !== undefined) {
    const list = splitList(protocol);
    if (list.length !== 1 || !offeredProtocols.includes(list[0]!)) throw new HandshakeError(`the server selected a subprotocol that was not offered: ${protocol}`);
  }
  const header = one(h, 'sec-websocket-extensions');
  const extensions = acceptedExtensions(header, offeredExtensions);
  return { protocol: protocol?.trim() ?? '', extensions, extensionsHeader: header ?? '' };
}
