import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptKey } from '../protocol/index.js';
import { WebSocketServer as CoreServer, type ServerSocket } from '../server/index.js';
import { serverDeflate, type ServerDeflate, type WsDeflateOptions } from './deflate-options.js';
import { abortHandshake, parseSubprotocols, refuseClient } from './handshake-response.js';
import { WebSocket } from './websocket.js';
import { wsMaxFragments } from './link.js';

export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: IncomingMessage;
}
export type VerifyClientCallbackSync = (info: VerifyClientInfo) => boolean;
export type VerifyClientCallbackAsync = (
  info: VerifyClientInfo,
  callback: (verified: boolean, code?: number, message?: string, headers?: Record<string, string | number>) => void,
) => void;

/** ws's server options, plus the Tether options the facade accepts on top (documented in the README). */
export interface ServerOptions {
  host?: string;
  port?: number;
  backlog?: number;
  server?: HttpServer | HttpsServer;
  noServer?: boolean;
  path?: string;
  verifyClient?: VerifyClientCallbackSync | VerifyClientCallbackAsync | null;
  handleProtocols?: ((protocols: Set<string>, request: IncomingMessage) => string | false) | null;
  clientTracking?: boolean;
  perMessageDeflate?: boolean | WsDeflateOptions;
  maxPayload?: number;
  skipUTF8Validation?: boolean;
  allowSynchronousEvents?: boolean;
  autoPong?: boolean;
  closeTimeout?: number;
  WebSocket?: typeof WebSocket;
  /** Accepted for compatibility, not used: Tether's engine does not keep a message as a list of chunks. */
  maxBufferedChunks?: number;
  /** Most frames one message may arrive in, as in ws: default 16,384, 0 for no limit. */
  maxFragments?: number;
  maxPendingAutoPongs?: number;
  /** Tether: ping idle peers this often and drop those that did not answer the previous ping (ms). Default 0: off, as in ws. */
  heartbeatInterval?: number;
  /** Tether: close connections that sent no message for this long (ms). Default 0: off. */
  idleTimeout?: number;
  /** Tether: most bytes queued for one socket before backpressurePolicy applies. Default: no limit, as in ws. */
  maxBackpressure?: number;
  /** Tether: 'close' (1008) or 'drop' messages for a socket over maxBackpressure. */
  backpressurePolicy?: 'close' | 'drop';
}

/** The options in effect on a WebSocketServer: what was given, with ws's defaults filled in. */
export type ResolvedOptions = Required<Pick<ServerOptions, 'allowSynchronousEvents' | 'autoPong' | 'maxPayload' | 'skipUTF8Validation' | 'clientTracking' | 'closeTimeout' | 'noServer'>> &
  ServerOptions & { WebSocket: typeof WebSocket };

/** The events of a WebSocketServer and their arguments, as @types/ws types them. */
export interface WebSocketServerEvents {
  connection: [socket: WebSocket, request: IncomingMessage];
  error: [error: Error];
  headers: [headers: string[], request: IncomingMessage];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
}

type ServerListener<K extends keyof WebSocketServerEvents> = (this: WebSocketServer, ...args: WebSocketServerEvents[K]) => void;

// Typed listeners (the class inherits EventEmitter's untyped ones, kept as the last overload).
export interface WebSocketServer {
  on<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<K>): this;
  on(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
  once<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<K>): this;
  once(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
  off<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<K>): this;
  off(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
  addListener<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<K>): this;
  addListener(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/** Sockets already upgraded, to refuse a second handleUpgrade on the same one (as ws does). */
const upgraded = new WeakSet<Duplex>();

/**
 * ws's WebSocketServer on Tether's server core. The upgrade request is checked as ws checks
 * it (same statuses, messages, hooks and events); the connection then belongs to a Tether
 * server running with ws's defaults (no heartbeat, no backpressure limit, 100 MiB maxPayload).
 */
export class WebSocketServer extends EventEmitter {
  /** The options in effect. Read at each upgrade, so that later changes (handleProtocols, verifyClient) apply, as in ws. */
  readonly options: ResolvedOptions;
  /** Open connections when clientTracking is on. */
  readonly clients: Set<WebSocket> | undefined;
  private _server: HttpServer | HttpsServer | null = null;
  private _removeListeners: (() => void) | null = null;
  private _state = RUNNING;
  private _shouldEmitClose = false;
  private readonly _core: CoreServer<WebSocket>;
  private readonly _deflate: ServerDeflate | null;

  constructor(options: ServerOptions, callback?: () => void) {
    super();
    const o: ResolvedOptions = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxPayload: 100 * 1024 * 1024,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      closeTimeout: 30_000,
      verifyClient: null,
      noServer: false,
      WebSocket,
      ...options,
    };
    if ((o.port == null && !o.server && !o.noServer) || (o.port != null && (o.server || o.noServer)) || (o.server && o.noServer)) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    // Validates the Tether-level options (TypeError naming a wrong one) before anything listens.
    this._core = new CoreServer<WebSocket>({
      maxPayload: o.maxPayload > 0 ? o.maxPayload : Number.MAX_SAFE_INTEGER,
      maxFragments: wsMaxFragments(o.maxFragments),
      closeTimeout: o.closeTimeout,
      heartbeatInterval: o.heartbeatInterval ?? 0,
      idleTimeout: o.idleTimeout ?? 0,
      maxBackpressure: o.maxBackpressure ?? Infinity,
      backpressurePolicy: o.backpressurePolicy,
      autoPong: o.autoPong,
      validateUtf8: !o.skipUTF8Validation,
      textAsBytes: true,
      echoCloseReason: true,
      message: onMessage,
      ping: onPing,
      pong: onPong,
      protocolError: onProtocolError,
      close: onClose,
    });
    this._deflate = serverDeflate(o.perMessageDeflate === true ? {} : (o.perMessageDeflate ?? false));
    if (o.port != null) {
      const server = http.createServer((_req, res) => {
        const body = http.STATUS_CODES[426]!;
        res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        res.end(body);
      });
      this._server = server;
      server.listen(o.port, o.host, o.backlog, callback);
    } else if (o.server) {
      this._server = o.server;
    }
    if (this._server !== null) {
      const server = this._server;
      const listeners: Record<string, (...args: any[]) => void> = {
        listening: () => this.emit('listening'),
        error: (err: Error) => this.emit('error', err),
        upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req)),
      };
      for (const [event, fn] of Object.entries(listeners)) server.on(event, fn);
      this._removeListeners = () => {
        for (const [event, fn] of Object.entries(listeners)) server.removeListener(event, fn);
      };
    }
    if (o.perMessageDeflate === true) o.perMessageDeflate = {};
    this.clients = o.clientTracking ? new Set() : undefined;
    this.options = o;
  }

  /** The listening address; null before listening; throws in noServer mode. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    return this._server?.address() ?? null;
  }

  /** Stops accepting connections; 'close' follows once the connections are gone (they are not closed here, as in ws 8). */
  close(cb?: (err?: Error) => void): void {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    if (this.options.noServer || this.options.server) {
      this._removeListeners?.();
      this._removeListeners = null;
      this._server = null;
      if (this.clients !== undefined && this.clients.size > 0) this._shouldEmitClose = true;
      else process.nextTick(emitClose, this);
    } else {
      const server = this._server!;
      this._removeListeners?.();
      this._removeListeners = null;
      this._server = null;
      server.close(() => emitClose(this));
    }
  }

  /** Whether this server takes the request (the path option). */
  shouldHandle(req: IncomingMessage): boolean {
    if (this.options.path) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) !== this.options.path) return false;
    }
    return true;
  }

  /** Completes (or refuses) an upgrade; `cb` gets the WebSocket and the request. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket, req: IncomingMessage) => void): void {
    socket.on('error', destroyOnError);
    const key = req.headers['sec-websocket-key'];
    const upgrade = req.headers.upgrade;
    const version = Number(req.headers['sec-websocket-version']);
    if (req.method !== 'GET') return refuseClient(this, req, socket, 405, 'Invalid HTTP method');
    if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return refuseClient(this, req, socket, 400, 'Invalid Upgrade header');
    if (key === undefined || !KEY.test(key)) return refuseClient(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Key header');
    if (version !== 13 && version !== 8) {
      return refuseClient(this, req, socket, 400, 'Missing or invalid Sec-WebSocket-Version header', { 'Sec-WebSocket-Version': '13, 8' });
    }
    if (!this.shouldHandle(req)) return abortHandshake(socket, 400);
    const protocolHeader = req.headers['sec-websocket-protocol'];
    let protocols = new Set<string>();
    if (protocolHeader !== undefined) {
      try {
        protocols = parseSubprotocols(protocolHeader);
      } catch {
        return refuseClient(this, req, socket, 400, 'Invalid Sec-WebSocket-Protocol header');
      }
    }
    const extensionsHeader = req.headers['sec-websocket-extensions'];
    let deflate: ReturnType<ServerDeflate['negotiate']> = null;
    if (this._deflate !== null && this.options.perMessageDeflate && extensionsHeader !== undefined) {
      try {
        deflate = this._deflate.negotiate(extensionsHeader);
        if (deflate === null && /(^|,)\s*permessage-deflate\s*(;|,|$)/i.test(extensionsHeader)) throw new Error('none acceptable');
      } catch {
        return refuseClient(this, req, socket, 400, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
      }
    }
    const verify = this.options.verifyClient;
    if (verify) {
      const s = req.socket as Duplex & { authorized?: boolean; encrypted?: boolean };
      const info: VerifyClientInfo = { origin: req.headers[version === 8 ? 'sec-websocket-origin' : 'origin'] as string | undefined, secure: !!(s.authorized || s.encrypted), req };
      if (verify.length === 2) {
        (verify as VerifyClientCallbackAsync)(info, (verified, code, message, headers) => {
          if (!verified) return abortHandshake(socket, code || 401, message, headers);
          this.completeUpgrade(deflate, key, protocols, req, socket, head, cb);
        });
        return;
      }
      if (!(verify as VerifyClientCallbackSync)(info)) return abortHandshake(socket, 401);
    }
    this.completeUpgrade(deflate, key, protocols, req, socket, head, cb);
  }

  private completeUpgrade(
    deflate: ReturnType<ServerDeflate['negotiate']>,
    key: string,
    protocols: Set<string>,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    // The client may already have sent a FIN.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (upgraded.has(socket)) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    if (this._state > RUNNING) return abortHandshake(socket, 503);
    const headers = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`];
    const ws = new this.options.WebSocket(null, undefined, this.options as never);
    let protocol = '';
    if (protocols.size > 0) {
      const chosen = this.options.handleProtocols ? this.options.handleProtocols(protocols, req) : protocols.values().next().value;
      if (chosen) {
        protocol = chosen;
        headers.push(`Sec-WebSocket-Protocol: ${chosen}`);
      }
    }
    if (deflate !== null) headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
    this.emit('headers', headers, req);
    socket.write(headers.concat('\r\n').join('\r\n'));
    socket.removeListener('error', destroyOnError);
    upgraded.add(socket);
    const link: ServerSocket<WebSocket> = this._core.adopt(socket, { protocol, extensions: deflate?.response, deflate: deflate?.codec, data: ws });
    ws._open(link, socket, protocol, deflate !== null ? 'permessage-deflate' : '', this.options.allowSynchronousEvents);
    const clients = this.clients;
    if (clients !== undefined) {
      clients.add(ws);
      ws.on('close', () => {
        clients.delete(ws);
        if (this._shouldEmitClose && clients.size === 0) process.nextTick(emitClose, this);
      });
    }
    cb(ws, req);
    // As ws does (it unshifts them into the socket): bytes after the request head are parsed on the next tick.
    if (head.length > 0) process.nextTick(() => link.receive(head));
  }

  /** @internal */
  _closed(): void {
    this._state = CLOSED;
    this.emit('close');
  }
}

function emitClose(server: WebSocketServer): void {
  server._closed();
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function onMessage(link: ServerSocket<WebSocket>, data: string | Buffer, isBinary: boolean): void {
  link.data.linkMessage(data as Buffer, isBinary);
}
function onPing(link: ServerSocket<WebSocket>, payload: Buffer): void {
  link.data.linkPing(payload);
}
function onPong(link: ServerSocket<WebSocket>, payload: Buffer): void {
  link.data.linkPong(payload);
}
function onProtocolError(link: ServerSocket<WebSocket>, code: number, reason: string): void {
  link.data.linkError(code, reason);
}
function onClose(link: ServerSocket<WebSocket>): void {
  link.data.linkClosed();
}
