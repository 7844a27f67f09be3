import { createHash, randomBytes } from 'node:crypto';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { HANDSHAKE_GUID } from '../protocol/index.js';
import { ClientLink } from './client-link.js';
import { clientDeflate, type WsDeflateOptions } from './deflate-options.js';
import { wsMaxFragments, type Link, type LinkOwner } from './link.js';

/**
 * What connect() drives on the WebSocket it connects: a narrow view of it, so that this
 * file (which websocket.ts loads) does not import websocket.ts back.
 */
export interface ConnectingSocket extends LinkOwner {
  readonly readyState: number;
  readonly url: string | undefined;
  readonly CONNECTING: number;
  _req: ClientRequest | null;
  _abort: (() => void) | null;
  _open(link: Link, socket: Duplex, protocol: string, extensions: string, allowSynchronousEvents: boolean): void;
  _setUrl(url: string): void;
  _fail(err: Error): void;
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}

/**
 * ws's client options, with W the socket finishRequest receives: websocket.ts names them
 * ClientOptions with W its WebSocket.
 */
export interface ConnectOptions<W> extends Omit<https.RequestOptions, 'timeout' | 'protocol'> {
  protocols?: string | string[];
  allowSynchronousEvents?: boolean;
  autoPong?: boolean;
  closeTimeout?: number;
  finishRequest?: (request: ClientRequest, websocket: W) => void;
  followRedirects?: boolean;
  generateMask?: (mask: Buffer) => void;
  handshakeTimeout?: number;
  maxPayload?: number;
  maxRedirects?: number;
  origin?: string;
  perMessageDeflate?: boolean | WsDeflateOptions;
  protocolVersion?: number;
  skipUTF8Validation?: boolean;
  maxBufferedChunks?: number;
  maxFragments?: number;
  maxPendingAutoPongs?: number;
}

interface Resolved {
  allowSynchronousEvents: boolean;
  autoPong: boolean;
  closeTimeout: number;
  maxPayload: number;
  maxFragments: number;
  skipUTF8Validation: boolean;
  followRedirects: boolean;
  maxRedirects: number;
  protocolVersion: number;
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** Per-WebSocket state that survives redirects. */
interface Attempt {
  redirects: number;
  originalHost: string;
  originalSecure: boolean;
  originalIpc: boolean;
}
const attempts = new WeakMap<ConnectingSocket, Attempt>();

/**
 * Starts a client connection the way ws does: an http(s) GET with the upgrade headers
 * (so agent, createConnection, finishRequest, TLS options and redirects work as there),
 * then the response checks, then Tether's engine on the upgraded socket.
 */
export function connect<W extends ConnectingSocket>(ws: W, address: string | URL, protocols: unknown, options: ConnectOptions<W> | undefined): Resolved {
  if (protocols === undefined) {
    protocols = options?.protocols === undefined ? [] : options.protocols;
  } else if (!Array.isArray(protocols)) {
    if (typeof protocols === 'object' && protocols !== null) {
      options = protocols as ConnectOptions<W>;
      protocols = options.protocols === undefined ? [] : options.protocols;
    }
  }
  const list: string[] = Array.isArray(protocols) ? protocols : [protocols as string];
  const resolved: Resolved = {
    allowSynchronousEvents: options?.allowSynchronousEvents ?? true,
    autoPong: options?.autoPong ?? true,
    closeTimeout: options?.closeTimeout ?? 30_000,
    maxPayload: options?.maxPayload ?? 100 * 1024 * 1024,
    maxFragments: wsMaxFragments(options?.maxFragments),
    skipUTF8Validation: options?.skipUTF8Validation ?? false,
    followRedirects: options?.followRedirects ?? false,
    maxRedirects: options?.maxRedirects ?? 10,
    protocolVersion: options?.protocolVersion ?? 13,
  };
  if (resolved.protocolVersion !== 8 && resolved.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${resolved.protocolVersion} (supported versions: 8, 13)`);
  }
  attempts.set(ws, { redirects: 0, originalHost: '', originalSecure: false, originalIpc: false });
  request(ws, address, list, options ?? {}, resolved);
  return resolved;
}

function request<W extends ConnectingSocket>(ws: W, address: string | URL, protocols: string[], userOptions: ConnectOptions<W>, r: Resolved): void {
  const attempt = attempts.get(ws)!;
  let url: URL;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    url = new URL(url);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  ws._setUrl(url.href);
  const secure = url.protocol === 'wss:';
  const ipc = url.protocol === 'ws+unix:';
  let invalid: string | undefined;
  if (url.protocol !== 'ws:' && !secure && !ipc) invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  else if (ipc && !url.pathname) invalid = "The URL's pathname is empty";
  else if (url.hash) invalid = 'The URL contains a fragment identifier';
  if (invalid !== undefined) {
    const err = new SyntaxError(invalid);
    if (attempt.redirects === 0) throw err;
    ws._fail(err);
    return;
  }

  const key = randomBytes(16).toString('base64');
  const offered = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p) || offered.has(p)) throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    offered.add(p);
  }
  const deflate = clientDeflate(userOptions.perMessageDeflate ?? true, r.maxPayload);
  const headers: Record<string, string | number | string[]> = {
    ...(userOptions.headers as Record<string, string>),
    'Sec-WebSocket-Version': r.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  if (deflate !== null) headers['Sec-WebSocket-Extensions'] = deflate.offer;
  if (offered.size > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  if (userOptions.origin) headers[r.protocolVersion < 13 ? 'Sec-WebSocket-Origin' : 'Origin'] = userOptions.origin;

  const opts: https.RequestOptions & { [k: string]: unknown } = {
    ...userOptions,
    headers,
    method: 'GET',
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port || (secure ? 443 : 80),
    defaultPort: (userOptions.defaultPort as number | undefined) ?? (secure ? 443 : 80),
    path: url.pathname + url.search,
    timeout: userOptions.handshakeTimeout,
    createConnection: (userOptions.createConnection ?? (secure ? tlsConnect : netConnect)) as https.RequestOptions['createConnection'],
    hostname: undefined,
    protocol: undefined,
    socketPath: undefined,
  };
  delete opts.protocols;
  if (url.username || url.password) opts.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  if (ipc) {
    const path = opts.path!;
    const i = path.indexOf(':');
    opts.socketPath = i === -1 ? path : path.slice(0, i);
    opts.path = i === -1 ? '' : path.slice(i + 1);
  }

  if (r.followRedirects) redirectHeaders(ws, attempt, url, secure, ipc, opts, userOptions);
  const send = secure ? https.request : http.request;
  let req: ClientRequest | null = send(opts);
  ws._req = req;
  if (attempt.redirects > 0) ws.emit('redirect', ws.url, req);
  let aborted = false;

  const abort = (message: string): void => {
    aborted = true;
    const r0 = req;
    req = ws._req = null;
    if (r0 !== null) {
      r0.destroy();
      r0.socket?.destroy();
    }
    process.nextTick(() => ws._fail(new Error(message)));
  };
  ws._abort = () => abort('WebSocket was closed before the connection was established');

  if (opts.timeout) req.on('timeout', () => abort('Opening handshake has timed out'));
  req.on('error', (err) => {
    if (req === null || aborted) return;
    req = ws._req = null;
    ws._fail(err);
  });
  req.on('response', (res: IncomingMessage) => {
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (location && r.followRedirects && status >= 300 && status < 400) {
      if (++attempt.redirects > r.maxRedirects) return abort('Maximum redirects exceeded');
      aborted = true;
      req!.destroy();
      let next: URL;
      try {
        next = new URL(location, address);
      } catch {
        ws._fail(new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      request(ws, next, protocols, userOptions, r);
    } else if (!ws.emit('unexpected-response', req, res)) {
      abort(`Unexpected server response: ${res.statusCode}`);
    }
  });
  req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
    ws.emit('upgrade', res);
    // A listener of 'upgrade' may have closed the connection.
    if (ws.readyState !== ws.CONNECTING) return;
    req = ws._req = null;
    ws._abort = null;
    const fail = (message: string): void => {
      const err = new Error(message);
      socket.once('error', () => {});
      socket.once('close', () => ws._fail(err));
      socket.destroy();
    };
    const upgrade = res.headers.upgrade;
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return fail('Invalid Upgrade header');
    if (res.headers['sec-websocket-accept'] !== createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64')) {
      return fail('Invalid Sec-WebSocket-Accept header');
    }
    const chosen = res.headers['sec-websocket-protocol'];
    if (chosen !== undefined) {
      if (offered.size === 0) return fail('Server sent a subprotocol but none was requested');
      if (!offered.has(chosen)) return fail('Server sent an invalid subprotocol');
    } else if (offered.size > 0) {
      return fail('Server sent no subprotocol');
    }
    const extensionsHeader = res.headers['sec-websocket-extensions'];
    let codec = null;
    if (extensionsHeader !== undefined) {
      if (deflate === null) return fail('Server sent a Sec-WebSocket-Extensions header but no extension was requested');
      const outcome = deflate.accept(extensionsHeader);
      if (typeof outcome === 'string') return fail(outcome);
      codec = outcome;
    }
    const link = new ClientLink(socket, ws, { maxPayload: r.maxPayload, maxFragments: r.maxFragments, autoPong: r.autoPong, validateUtf8: !r.skipUTF8Validation, closeTimeout: r.closeTimeout });
    if (codec !== null) link.enableDeflate(codec);
    (socket as net.Socket).setTimeout?.(0);
    (socket as net.Socket).setNoDelay?.(true);
    ws._open(link, socket, chosen ?? '', codec !== null ? 'permessage-deflate' : '', r.allowSynchronousEvents);
    // As ws does (it unshifts them into the socket): bytes after the response head are parsed on the next tick.
    if (head.length > 0) process.nextTick(() => link.receive(head));
  });

  if (userOptions.finishRequest) userOptions.finishRequest(req, ws);
  else req.end();
}

/** Headers on redirects, as ws does: credentials go only to the same host (and not from https to http). */
function redirectHeaders(ws: ConnectingSocket, attempt: Attempt, url: URL, secure: boolean, ipc: boolean, opts: https.RequestOptions, userOptions: ConnectOptions<never>): void {
  const headers = opts.headers as Record<string, unknown>;
  if (attempt.redirects === 0) {
    attempt.originalIpc = ipc;
    attempt.originalSecure = secure;
    attempt.originalHost = ipc ? String(opts.socketPath) : url.host;
  } else if (ws.listenerCount('redirect') === 0) {
    const sameHost = ipc ? attempt.originalIpc && opts.socketPath === attempt.originalHost : !attempt.originalIpc && url.host === attempt.originalHost;
    if (!sameHost || (attempt.originalSecure && !secure)) {
      for (const name of Object.keys(headers)) {
        const lower = name.toLowerCase();
        if (lower === 'authorization' || lower === 'cookie' || (!sameHost && lower === 'host')) delete headers[name];
      }
      opts.auth = undefined;
    }
  }
  const hasAuthorization = Object.keys(userOptions.headers ?? {}).some((k) => k.toLowerCase() === 'authorization');
  if (opts.auth && !hasAuthorization) {
    headers['authorization'] = 'Basic ' + Buffer.from(opts.auth).toString('base64');
    opts.auth = undefined;
  }
}

function netConnect(options: net.NetConnectOpts & { socketPath?: string }): net.Socket {
  return net.connect({ ...options, path: options.socketPath } as net.NetConnectOpts);
}

function tlsConnect(options: tls.ConnectionOptions & { host?: string }): tls.TLSSocket {
  const servername = options.servername ?? (options.host && !net.isIP(options.host) ? options.host : '');
  return tls.connect({ ...options, path: undefined, servername } as tls.ConnectionOptions);
}
