import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import {
  acceptKey,
  acceptResponseParts,
  acceptDeflateOffers,
  buildErrorResponse,
  CloseCode,
  parseExtensions,
  PerMessageDeflate,
  type MessageData,
  validateUpgradeRequest,
  validateConnectRequest,
  type Http2Headers,
  type UpgradeRequestHead,
} from '../protocol/index.js';
import { acceptStream, describeStream, isHttp2Server, isHttp2Stream, refuseStream, routeStreams, type Http2ServerLike } from './http2-upgrade.js';
import { readRequestHead } from './head-reader.js';
import { Liveness } from './liveness.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerHandlers, type ServerOptions, type VerifyResult } from './options.js';
import { PreparedMessage } from './prepared-message.js';
import { SendStatus, ServerSocket } from './server-socket.js';
import { refusalReason, ServerCounters, type WebSocketServerStats } from './server-stats.js';
import { IncomingUpgrade, targetPath, type UpgradeRequest } from './upgrade-request.js';
import { routeUpgrades } from './upgrade-router.js';

/**
 * The accepting side. Runs standalone on its own port (parsing the upgrade request on raw
 * sockets), attaches to an http/https server, or takes upgrades from a framework through
 * handleUpgrade. Connections report to server-level handlers.
 */
// It is a ServerCore<ServerSocket<U>> for its connections (checked where it hands itself to them), not
// declared as one: the contract's members are internal and stay out of the declarations.
export class WebSocketServer<U = unknown> {
  readonly options: ResolvedServerOptions;
  readonly handlers: ServerHandlers<U>;
  /** Open connections (those past the handshake and not yet closed). */
  readonly clients = new Set<ServerSocket<U>>();
  /** Sockets still handshaking, with their handshake timers. */
  private readonly pending = new Map<Duplex, NodeJS.Timeout>();
  /** The close listener of every handshaking socket (one function per server, not per socket). */
  private readonly pendingClosed: (this: Duplex) => void;
  private readonly liveness: Liveness;
  private readonly config: ServerOptions<U>;
  private listener: NetServer | null = null;
  private detachers: Array<() => void> = [];
  private closing = false;
  /** The 101 response around the accept key, by subprotocol then extension response (see acceptResponse). */
  private readonly responses = new Map<string, Map<string, AcceptResponse>>();
  private responseCount = 0;
  /** Connections holding zlib contexts of their own (bounded by perMessageDeflate.maxContexts). */
  private deflateContexts = 0;
  /** @internal What stats() reports. */
  readonly counters = new ServerCounters();
  /** Resolves when the standalone listener is bound (when `port` was given). */
  readonly listening: Promise<AddressInfo> | null = null;

  constructor(options: ServerOptions<U> = {}) {
    this.options = resolveServerOptions(options as ServerOptions<never>);
    this.config = options;
    this.handlers = options;
    this.liveness = new Liveness(this.clients, this.options.heartbeatInterval, this.options.idleTimeout);
    const server = this;
    this.pendingClosed = function (this: Duplex) {
      server.settle(this);
    };
    if (options.port !== undefined) {
      this.listening = this.listen(options.port, options.host);
      this.listening.catch(() => {});
    }
  }

  get clock(): number {
    return this.liveness.clock;
  }

  /** Starts a standalone listener (TLS when the tls option is set). */
  listen(port = 0, host?: string): Promise<AddressInfo> {
    if (this.listener) throw new Error('this server is already listening');
    const onSocket = (socket: Socket) => this.acceptRawSocket(socket, this.config.tls !== undefined);
    // handshakeTimeout also bounds the TLS handshake (node's own default is 120 s); the tls option may override it.
    const server = this.config.tls
      ? createTlsServer({ handshakeTimeout: this.options.handshakeTimeout, ...this.config.tls }, onSocket)
      : createNetServer(onSocket);
    // A TLS handshake timeout only emits tlsClientError; the socket must be dropped here.
    if (this.config.tls) server.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy());
    this.listener = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /** The standalone listener's address, once listening. */
  address(): AddressInfo | null {
    return (this.listener?.address() as AddressInfo | null) ?? null;
  }

  /**
   * Takes WebSocket upgrades from an http or https server (the path option routes between
   * servers). An http2 server (`createSecureServer`, `createServer`) is set to advertise
   * RFC 8441 and its WebSocket CONNECT streams are taken too, as well as HTTP/1.1 upgrades
   * when it has `allowHTTP1`.
   */
  attach(server: HttpServer | Http2ServerLike): this {
    if (isHttp2Server(server)) this.detachers.push(routeStreams(server, this));
    this.detachers.push(routeUpgrades(server as HttpServer, this));
    return this;
  }

  /** Whether this server takes upgrades for a request target (path option). */
  matches(url: string): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    if (typeof path === 'string') return targetPath(url) === path;
    try {
      return path(targetPath(url)) === true;
    } catch (err) {
      // A throwing matcher refuses (404) rather than crash the upgrade listener.
      this.hookFailed('path', err, undefined);
      return false;
    }
  }

  /** For frameworks: completes (or refuses) an upgrade from an http 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', noop);
    (socket as Socket).setTimeout?.(0);
    const request: UpgradeRequestHead = { method: req.method ?? '', target: req.url ?? '/', version: `HTTP/${req.httpVersion}`, headers: req.headers };
    this.track(socket);
    this.upgrade(request, socket, head, socket instanceof TLSSocket);
  }

  /**
   * For frameworks on node:http2: completes (or refuses) a WebSocket opened by an extended
   * CONNECT stream (RFC 8441; the session must have advertised enableConnectProtocol).
   */
  handleStream(stream: ServerHttp2Stream, headers: Http2Headers): void {
    stream.on('error', noop);
    describeStream(stream);
    this.track(stream);
    if (this.admissionRefused(stream)) return;
    const checked = validateConnectRequest(headers);
    if (!checked.ok) return this.refuse(stream, checked.status, checked.message, checked.headers);
    const head: UpgradeRequestHead = { method: 'CONNECT', target: checked.target, version: 'HTTP/2', headers };
    this.proceed(head, checked.protocols, null, stream, EMPTY, stream.session?.encrypted === true);
  }

  private acceptRawSocket(socket: Socket, secure: boolean): void {
    socket.on('error', noop);
    this.track(socket);
    readRequestHead(socket, this.options.maxHeaderSize, (result) => {
      if ('status' in result) return this.refuse(socket, result.status, result.message);
      const { head, rest } = result;
      this.upgrade({ method: head.start[0], target: head.start[1], version: head.start[2], headers: head.headers, repeated: head.repeated }, socket, rest, secure);
    });
  }

  /** Counts a socket that is handshaking and arms its handshake timeout. */
  private track(socket: Duplex): void {
    // No closure per socket: the timer gets its arguments, the close listener is shared.
    const timer = setTimeout(handshakeTimedOut, this.options.handshakeTimeout, this.counters, socket);
    timer.unref();
    this.pending.set(socket, timer);
    socket.on('close', this.pendingClosed);
  }

  /** The socket left the handshake phase (accepted or gone). */
  private settle(socket: Duplex): void {
    const timer = this.pending.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    socket.removeListener('close', this.pendingClosed);
    this.pending.delete(socket);
  }

  /** Refuses a new connection while closing or at maxConnections; true when it did. */
  private admissionRefused(socket: Duplex): boolean {
    if (this.closing) this.refuse(socket, 503, 'server shutting down');
    else if (this.clients.size + this.pending.size > this.options.maxConnections) this.refuse(socket, 503, 'too many connections');
    else return false;
    return true;
  }

  private upgrade(head: UpgradeRequestHead, socket: Duplex, rest: Buffer, secure: boolean): void {
    if (this.admissionRefused(socket)) return;
    const checked = validateUpgradeRequest(head);
    if (!checked.ok) return this.refuse(socket, checked.status, checked.message, checked.headers);
    this.proceed(head, checked.protocols, checked.key, socket, rest, secure);
  }

  /**
   * The pipeline after the transport's own checks, the same for both transports: path →
   * Origin → verify → subprotocol → accept. `key` is the Sec-WebSocket-Key of an HTTP/1.1
   * upgrade, null for an HTTP/2 stream (answered with :status 200, RFC 8441).
   */
  private proceed(head: UpgradeRequestHead, protocols: string[], key: string | null, socket: Duplex, rest: Buffer, secure: boolean): void {
    if (!this.matches(head.target)) return this.refuse(socket, 404, 'no WebSocket endpoint at this path');
    const h = head.headers;
    const origin = typeof h['origin'] === 'string' ? h['origin'] : undefined;
    const request: UpgradeRequest<U> = new IncomingUpgrade<U>(head, protocols, origin, socket, secure);
    if (origin !== undefined) {
      let allowed: boolean;
      try {
        allowed = this.originAllowed(origin);
      } catch (err) {
        this.hookFailed('origins', err, request);
        return this.refuse(socket, 500, 'origin check failed');
      }
      if (!allowed) return this.refuse(socket, 403, 'origin not allowed');
    }
    const verify = this.config.verify;
    if (verify === undefined) return this.accept(request, key, socket, rest);
    let verdict: VerifyResult | Promise<VerifyResult>;
    try {
      verdict = verify(request);
    } catch (err) {
      this.hookFailed('verify', err, request);
      return this.refuse(socket, 500, 'verify hook failed');
    }
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => this.afterVerify(v, request, key, socket, rest),
        (err: unknown) => {
          this.hookFailed('verify', err, request);
          this.refuse(socket, 500, 'verify hook failed');
        },
      );
    } else {
      this.afterVerify(verdict, request, key, socket, rest);
    }
  }

  private afterVerify(v: VerifyResult, request: UpgradeRequest<U>, key: string | null, socket: Duplex, rest: Buffer): void {
    if (socket.destroyed) return;
    if (this.closing) return this.refuse(socket, 503, 'server shutting down');
    if (v === false) return this.refuse(socket, 401, 'unauthorized');
    if (typeof v === 'object' && v !== null) return this.refuse(socket, v.status, v.message ?? 'refused', v.headers);
    this.accept(request, key, socket, rest);
  }

  private originAllowed(origin: string): boolean {
    const allowed = this.config.origins;
    if (allowed === undefined) return true;
    if (typeof allowed === 'function') return allowed(origin);
    const o = origin.toLowerCase();
    return allowed.some((a) => a === '*' || a.toLowerCase() === o);
  }

  private selectProtocol(request: UpgradeRequest<U>): string | undefined {
    const offered = request.protocols;
    if (offered.length === 0) return undefined;
    if (this.config.selectProtocol) {
      const chosen = this.config.selectProtocol(offered, request);
      if (!chosen) return undefined;
      if (!offered.includes(chosen)) throw new Error(`selectProtocol returned "${chosen}", which the client did not offer`);
      return chosen;
    }
    return this.config.protocols?.find((p) => offered.includes(p));
  }

  private accept(request: UpgradeRequest<U>, key: string | null, socket: Duplex, rest: Buffer): void {
    let protocol: string | undefined;
    try {
      protocol = this.selectProtocol(request);
    } catch (err) {
      this.hookFailed('selectProtocol', err, request);
      return this.refuse(socket, 500, 'subprotocol selection failed');
    }
    this.settle(socket);
    (socket as Socket).setNoDelay?.(true);
    const deflate = this.negotiateDeflate(request);
    const response = this.acceptResponse(protocol ?? '', deflate?.response ?? '');
    const ws = new ServerSocket<U>(socket, this, request.data as U, response.protocol, deflate?.response ?? '');
    if (deflate) {
      ws.enableDeflate(deflate.codec, this.options.compressedMaxPayload);
      if (deflate.codec.ownsContext) this.deflateContexts++;
    }
    this.clients.add(ws);
    this.counters.connectionsOpened++;
    this.liveness.start();
    ws.corked = true;
    socket.cork();
    if (key === null) acceptStream(socket as ServerHttp2Stream, protocol, deflate?.response);
    else socket.write(response.head + acceptKey(key) + response.tail);
    this.handlers.open?.(ws, request);
    if (rest.length > 0) ws.receive(rest);
    ws.uncork();
    ws.startReading();
  }

  /**
   * Takes over a socket whose opening handshake was completed elsewhere (the caller has
   * validated the request and written the 101 response), for layers that run a handshake
   * of their own, such as the ws-compatible API in `tether-ws/ws`. The connection then
   * works like any other of this server: its handlers, limits and batching apply, and it
   * is counted in `clients`. The open handler is not called. Bytes that arrived after the
   * request head go to `ws.receive(head)` once the caller is ready for events.
   */
  adopt(socket: Duplex, options: { protocol?: string; extensions?: string; deflate?: PerMessageDeflate | null; data?: U } = {}): ServerSocket<U> {
    if (this.closing) throw new Error('the server is closing');
    socket.on('error', noop);
    (socket as Socket).setTimeout?.(0);
    (socket as Socket).setNoDelay?.(true);
    const ws = new ServerSocket<U>(socket, this, options.data as U, options.protocol ?? '', options.extensions ?? '');
    const deflate = options.deflate;
    if (deflate) {
      ws.enableDeflate(deflate);
      if (deflate.ownsContext) this.deflateContexts++;
    }
    this.clients.add(ws);
    this.counters.connectionsOpened++;
    this.liveness.start();
    socket.resume();
    return ws;
  }

  /**
   * Sends one message to many connections (all clients by default), framing it once and
   * compressing it once per compression setting shared by the recipients; connections
   * with their own compression context get it compressed individually. Each recipient's
   * backpressure policy applies. Returns how many connections accepted the message.
   */
  broadcast(data: MessageData, options: { binary?: boolean; compress?: boolean; except?: ServerSocket<U>; to?: Iterable<ServerSocket<U>> } = {}): number {
    const message = new PreparedMessage(data, options);
    let accepted = 0;
    for (const ws of options.to ?? this.clients) {
      if (ws !== options.except && message.sendTo(ws) !== SendStatus.Dropped) accepted++;
    }
    return accepted;
  }

  /**
   * The 101 response for a subprotocol and extension response, built once per combination
   * (a server sees few), and the subprotocol as a string of its own: the offered one is a
   * slice of the request head and would keep all of it alive for as long as the connection.
   */
  private acceptResponse(protocol: string, extensions: string): AcceptResponse {
    let byExtensions = this.responses.get(protocol);
    let response = byExtensions?.get(extensions);
    if (response !== undefined) return response;
    // A selectProtocol hook or a deflate configuration could make combinations without end.
    if (this.responseCount >= MAX_CACHED_RESPONSES) {
      this.responses.clear();
      this.responseCount = 0;
      byExtensions = undefined;
    }
    const own = Buffer.from(protocol, 'utf8').toString('utf8');
    const [head, tail] = acceptResponseParts(own, extensions);
    response = { protocol: own, head, tail };
    if (byExtensions === undefined) this.responses.set(own, (byExtensions = new Map()));
    byExtensions.set(extensions, response);
    this.responseCount++;
    return response;
  }

  /** Accepts the first acceptable permessage-deflate offer, if compression is on. */
  private negotiateDeflate(request: UpgradeRequest<U>): { codec: PerMessageDeflate; response: string } | null {
    const settings = this.options.deflate;
    const header = request.headers['sec-websocket-extensions'];
    if (settings === null || header === undefined) return null;
    let offers;
    try {
      offers = parseExtensions(Array.isArray(header) ? header.join(', ') : header);
    } catch {
      return null; // A malformed header is treated as no offer.
    }
    let negotiation = settings.negotiation;
    if (this.deflateContexts >= settings.maxContexts) {
      negotiation = { ...negotiation, serverNoContextTakeover: true, clientNoContextTakeover: true };
    }
    const accepted = acceptDeflateOffers(offers, negotiation);
    if (accepted === null) return null;
    return { codec: new PerMessageDeflate(accepted.agreement, 'server', settings.tuning), response: accepted.response };
  }

  /**
   * Answers with an HTTP error and lets the socket go as soon as the answer is written,
   * whether or not the client closes its side. Meanwhile what the client still sends is
   * read and discarded (a paused socket would not see its FIN, and unread data would turn
   * the close into a reset that can destroy the answer before the client reads it).
   */
  private refuse(socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
    if (socket.destroyed) return;
    this.counters.handshakeFailed(refusalReason(status));
    if (isHttp2Stream(socket)) return refuseStream(socket, status, message, headers);
    socket.resume();
    socket.end(buildErrorResponse(status, message, headers), () => socket.destroy());
  }

  /**
   * Counters and gauges of this server: connections, messages and bytes in and out,
   * backpressure, closes by code, handshake failures by reason (see WebSocketServerStats).
   * Always on; a call costs a walk over the open connections (to read their byte counts).
   */
  stats(): WebSocketServerStats {
    return this.counters.snapshot(this.clients, this.clients.size, this.pending.size);
  }

  /** A hook of the application threw during an upgrade: the error handler hears of it (else the console). */
  private hookFailed(hook: 'verify' | 'selectProtocol' | 'origins' | 'path', err: unknown, request: UpgradeRequest<U> | undefined): void {
    const handler = this.handlers.error;
    if (handler === undefined) {
      console.error(`tether: the ${hook} hook threw:`, err);
      return;
    }
    try {
      handler(err, request);
    } catch (handlerErr) {
      console.error(`tether: the error handler threw (on an error of the ${hook} hook):`, handlerErr);
    }
  }

  /** @internal */
  forget(ws: ServerSocket<U>): void {
    this.clients.delete(ws);
    if (ws.perMessageDeflate?.ownsContext) this.deflateContexts--;
    if (this.clients.size === 0 && this.closing) this.liveness.stop();
  }

  /**
   * Graceful shutdown: stop accepting, send 1001 to every client, wait for their close
   * frames up to `timeout` ms, then drop the rest. Resolves when every connection is gone.
   * `reason` may be a function, to tell each client something of its own (a drain's
   * jittered reconnect delay, for example).
   */
  async close(options: { timeout?: number; code?: number; reason?: string | ((ws: ServerSocket<U>) => string) } = {}): Promise<void> {
    const timeout = options.timeout ?? 5000;
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw new TypeError('timeout must be a number >= 0');
    this.closing = true;
    for (const detach of this.detachers) detach();
    this.detachers = [];
    const listenerClosed = this.listener
      ? new Promise<void>((resolve) => this.listener!.close(() => resolve()))
      : Promise.resolve();
    for (const socket of this.pending.keys()) socket.destroy();
    const all = [...this.clients].map((ws) => new Promise<void>((resolve) => ws.socket.once('close', () => resolve())));
    const reason = options.reason ?? 'server shutting down';
    for (const ws of this.clients) ws.close(options.code ?? CloseCode.GoingAway, typeof reason === 'function' ? reason(ws) : reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all),
      // Infinity waits for every client; setTimeout would turn it (or anything over 2^31-1 ms) into 1 ms.
      new Promise<void>((resolve) => {
        if (timeout !== Infinity) timer = setTimeout(resolve, Math.min(timeout, 2 ** 31 - 1));
      }),
    ]);
    clearTimeout(timer);
    for (const ws of this.clients) ws.terminate();
    await Promise.all(all);
    this.liveness.stop();
    await listenerClosed;
  }
}

const EMPTY = Buffer.alloc(0);

/** The 101 response of one subprotocol and extension combination, around the accept key. */
interface AcceptResponse {
  protocol: string;
  head: string;
  tail: string;
}
const MAX_CACHED_RESPONSES = 64;

function handshakeTimedOut(counters: ServerCounters, socket: Duplex): void {
  counters.handshakeFailed('timeout');
  socket.destroy();
}

function noop(): void {}
