import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { isValidWireCloseCode, ReadyState } from '../protocol/index.js';
import { BINARY_TYPES, EMPTY, isBlob, shapeBinary, toBuffer, type BinaryType } from './binary.js';
import { connect, type ConnectOptions } from './client-request.js';
import { protocolErrorFor, notOpenError } from './errors.js';
import { addEventListener, getAttribute, removeEventListener, setAttribute, type EventListener } from './event-target.js';
import type { Link, LinkOwner } from './link.js';

export interface SendOptions {
  /** Send as a binary message (default: true for anything but a string). */
  binary?: boolean;
  /** Compress it when permessage-deflate is on (default true; messages under the threshold never are). */
  compress?: boolean;
  /** false sends a fragment: later sends continue the message until one with fin true. */
  fin?: boolean;
  /** Accepted for compatibility; frames are masked by role (clients mask, servers do not). */
  mask?: boolean;
}

/** ws's client options (the third constructor argument), plus http(s).request and TLS options. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ClientOptions extends ConnectOptions<WebSocket> {}

/** Called once the data was written (or with the error that prevented it), as in ws. */
export type Callback = (err?: Error | null) => void;

/**
 * ws's WebSocket (an EventEmitter) on Tether's protocol engine: the server's connections
 * are Tether ServerSockets, the client's a ClientLink. Events: 'open', 'message' (data,
 * isBinary), 'ping', 'pong', 'error', 'close' (code, reason: Buffer); client only:
 * 'upgrade', 'unexpected-response', 'redirect'.
 */
// The LinkOwner of its link (checked where it hands itself over, not declared: those
// members are internal and stay out of the declarations).
export class WebSocket extends EventEmitter {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  /**
   * The same classes as the named exports (set by the package entry), as ws has them. The
   * entry declares the others (WebSocketServer, Server, createWebSocketStream) where it sets them.
   */
  declare static WebSocket: typeof WebSocket;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  private _binaryType: BinaryType = 'nodebuffer';
  private _state: ReadyState = ReadyState.CONNECTING;
  private _link: Link | null = null;
  private _sock: Duplex | null = null;
  private _paused = false;
  private _protocol = '';
  private _extensions = '';
  private _url: string | undefined = undefined;
  /** Bytes given to send() while not open: counted in bufferedAmount, never sent (as ws does). */
  private _discarded = 0;
  private _errorEmitted = false;
  private _synchronous = true;
  /** Events waiting for their own tick when allowSynchronousEvents is false. */
  private _deferred: unknown[][] | null = null;
  /** Sends (and a close) waiting behind a Blob being read, to keep their order. */
  private _blobQueue: Array<() => void> | null = null;
  /** @internal The handshake request of a connecting client. */
  _req: ClientRequest | null = null;
  /** @internal */
  readonly _isServer: boolean;

  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    this._isServer = address === null;
    if (address !== null) {
      const settings = connect(this, address, protocols, options);
      this._synchronous = settings.allowSynchronousEvents;
    }
  }

  get binaryType(): BinaryType {
    return this._binaryType;
  }
  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }
  get bufferedAmount(): number {
    return (this._link?.bufferedAmount ?? 0) + this._discarded;
  }
  /** Names of the negotiated extensions ('permessage-deflate' or ''). */
  get extensions(): string {
    return this._extensions;
  }
  get isPaused(): boolean {
    return this._paused;
  }
  get protocol(): string {
    return this._protocol;
  }
  get readyState(): ReadyState {
    const link = this._link;
    if (this._state === ReadyState.OPEN && link !== null && (link.closeSent || link.closeReceived || link.readyState !== ReadyState.OPEN)) {
      return ReadyState.CLOSING;
    }
    return this._state;
  }
  get url(): string | undefined {
    return this._url;
  }
  /** The underlying socket (ws exposes it as _socket; some libraries read it). */
  get _socket(): Duplex | null {
    return this._sock;
  }
  /** @internal Whether both close frames crossed (CloseEvent.wasClean). */
  get wasClean(): boolean {
    return this._link !== null && this._link.closeSent && this._link.closeReceived;
  }

  send(data: unknown, options?: SendOptions | Callback, cb?: Callback): void {
    if (this._state === ReadyState.CONNECTING) throw notOpenError(ReadyState.CONNECTING);
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.readyState !== ReadyState.OPEN) return this.sendAfterClose(data, cb);
    // Buffers and strings (nearly every send) skip the Blob check.
    if (this._blobQueue !== null || (typeof data === 'object' && !(data instanceof Uint8Array) && isBlob(data))) return this.sendBlob(data, options, cb);
    const link = this._link!;
    const binary = options?.binary ?? typeof data !== 'string';
    const compress = options?.compress !== false;
    if (options?.fin === false || link.sendingFragments) {
      link.sendFragment(data === undefined ? EMPTY : toBuffer(data), binary, options?.fin !== false);
    } else if (typeof data === 'string') {
      if (binary) link.sendBinary(Buffer.from(data), compress);
      else link.sendText(data, compress);
    } else if (binary) {
      link.sendBinary(data === undefined ? EMPTY : toBuffer(data), compress);
    } else {
      link.sendText(data === undefined ? '' : toBuffer(data).toString(), compress);
    }
    if (cb !== undefined) link.whenWritten(cb);
  }

  ping(data?: unknown, mask?: boolean | Callback, cb?: Callback): void {
    this.control(true, data, mask, cb);
  }

  pong(data?: unknown, mask?: boolean | Callback, cb?: Callback): void {
    this.control(false, data, mask, cb);
  }

  close(code?: number, reason?: string | Buffer): void {
    if (this._state === ReadyState.CLOSED) return;
    if (this._state === ReadyState.CONNECTING) return this.abortConnecting();
    if (this.readyState === ReadyState.CLOSING) return;
    if (code !== undefined && (typeof code !== 'number' || !isValidWireCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    let why = '';
    if (code !== undefined && reason !== undefined && reason.length > 0) {
      if (typeof reason !== 'string' && !(reason instanceof Uint8Array)) throw new TypeError('Second argument must be a string or a Uint8Array');
      if (Buffer.byteLength(reason) > 123) throw new RangeError('The message must not be greater than 123 bytes');
      why = typeof reason === 'string' ? reason : Buffer.from(reason).toString();
    }
    if (this._blobQueue !== null) {
      this._blobQueue.push(() => this._link!.close(code ?? null, why));
      this._state = ReadyState.CLOSING;
      return;
    }
    this._link!.close(code ?? null, why);
  }

  terminate(): void {
    if (this._state === ReadyState.CLOSED) return;
    if (this._state === ReadyState.CONNECTING) return this.abortConnecting();
    if (this._link !== null) {
      this._state = ReadyState.CLOSING;
      this._link.terminate();
    }
  }

  pause(): void {
    if (this._state === ReadyState.CONNECTING || this._state === ReadyState.CLOSED) return;
    this._paused = true;
    this._link!.pause();
  }

  resume(): void {
    if (this._state === ReadyState.CONNECTING || this._state === ReadyState.CLOSED) return;
    this._paused = false;
    this._link!.resume();
  }

  addEventListener(type: string, listener: EventListener, options?: { once?: boolean }): void {
    addEventListener(this, type, listener, options);
  }

  removeEventListener(type: string, listener: EventListener): void {
    removeEventListener(this, type, listener);
  }

  get onopen(): EventListener | null { return getAttribute(this, 'open'); }
  set onopen(fn: EventListener | null) { setAttribute(this, 'open', fn); }
  get onmessage(): EventListener | null { return getAttribute(this, 'message'); }
  set onmessage(fn: EventListener | null) { setAttribute(this, 'message', fn); }
  get onerror(): EventListener | null { return getAttribute(this, 'error'); }
  set onerror(fn: EventListener | null) { setAttribute(this, 'error', fn); }
  get onclose(): EventListener | null { return getAttribute(this, 'close'); }
  set onclose(fn: EventListener | null) { setAttribute(this, 'close', fn); }

  // Set-up, for the server and the client handshake.

  /** @internal The connection is established: events start. */
  _open(link: Link, socket: Duplex, protocol: string, extensions: string, allowSynchronousEvents: boolean): void {
    this._link = link;
    this._sock = socket;
    this._protocol = protocol;
    this._extensions = extensions;
    this._synchronous = allowSynchronousEvents;
    this._state = ReadyState.OPEN;
    this.emit('open');
  }

  /** @internal */
  _setUrl(url: string): void {
    this._url = url;
  }

  /** @internal The client handshake failed: 'error', then 'close' (1006). */
  _fail(err: Error): void {
    this._state = ReadyState.CLOSING;
    this._errorEmitted = true;
    this.emit('error', err);
    this._state = ReadyState.CLOSED;
    this.emit('close', 1006, EMPTY);
  }

  /** @internal Set by the client handshake to abort it (close() or terminate() while connecting). */
  _abort: (() => void) | null = null;

  private abortConnecting(): void {
    this._state = ReadyState.CLOSING;
    this._abort?.();
  }

  // LinkOwner: events from the protocol engine.

  /** @internal */
  linkMessage(data: Buffer, isBinary: boolean): void {
    const payload = isBinary && this._binaryType !== 'nodebuffer' ? shapeBinary(data, this._binaryType) : data;
    // The common case without the argument array of dispatch().
    if (this._synchronous && this._deferred === null) this.emit('message', payload, isBinary);
    else this.dispatch('message', payload, isBinary);
  }
  /** @internal */
  linkPing(payload: Buffer): void {
    if (this._synchronous && this._deferred === null) this.emit('ping', payload);
    else this.dispatch('ping', payload);
  }
  /** @internal */
  linkPong(payload: Buffer): void {
    if (this._synchronous && this._deferred === null) this.emit('pong', payload);
    else this.dispatch('pong', payload);
  }
  /** @internal The peer broke the protocol; the engine sent a close frame with `code`. */
  linkError(code: number, reason: string): void {
    if (this._state === ReadyState.OPEN) this._state = ReadyState.CLOSING;
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    this.dispatch('error', protocolErrorFor(code, reason));
  }
  /** @internal The transport is gone. */
  linkClosed(): void {
    const link = this._link!;
    const reason = link.closeReceived && link.closeReason !== '' ? Buffer.from(link.closeReason) : EMPTY;
    this.dispatch('close', link.closeCode, reason);
  }

  /** Emits now, or (allowSynchronousEvents: false) one message, ping or pong per tick with the rest in order behind them. */
  private dispatch(...args: [event: string, ...rest: unknown[]]): void {
    if (this._synchronous && this._deferred === null) {
      if (args[0] === 'close') this._state = ReadyState.CLOSED;
      this.emit(...args);
    } else if (this._deferred === null) {
      this._deferred = [args];
      setImmediate(emitDeferred, this);
    } else {
      this._deferred.push(args);
    }
  }

  /** @internal */
  _emitNextDeferred(): void {
    const queue = this._deferred!;
    const args = queue.shift() as [string, ...unknown[]];
    if (args[0] === 'close') this._state = ReadyState.CLOSED;
    try {
      this.emit(...args);
    } finally {
      // Scheduled after the listeners ran, so that what they schedule comes first.
      if (queue.length === 0) this._deferred = null;
      else setImmediate(emitDeferred, this);
    }
  }

  private control(isPing: boolean, data: unknown, mask: boolean | Callback | undefined, cb: Callback | undefined): void {
    if (this._state === ReadyState.CONNECTING) throw notOpenError(ReadyState.CONNECTING);
    if (typeof data === 'function') {
      cb = data as Callback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    if (typeof data === 'number') data = data.toString();
    if (this.readyState !== ReadyState.OPEN) return this.sendAfterClose(data, cb);
    const payload = data ? toBuffer(data) : EMPTY;
    if (payload.length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    const link = this._link!;
    if (isPing) link.sendPing(payload);
    else link.sendPong(payload);
    if (cb !== undefined) link.whenWritten(cb);
  }

  private sendAfterClose(data: unknown, cb: Callback | undefined): void {
    if (data) this._discarded += isBlob(data) ? data.size : toBuffer(data).length;
    if (cb !== undefined) process.nextTick(cb, notOpenError(this.readyState));
  }

  /** A Blob is read first; sends after it wait their turn. */
  private sendBlob(data: unknown, options: SendOptions | undefined, cb: Callback | undefined): void {
    if (this._blobQueue !== null) {
      this._blobQueue.push(() => this.send(data, options, cb));
      return;
    }
    const queue: Array<() => void> = (this._blobQueue = []);
    this._discarded += (data as Blob).size;
    (data as Blob).arrayBuffer().then(
      (bytes) => {
        this._discarded -= (data as Blob).size;
        this._blobQueue = null;
        if (this._link?.readyState === ReadyState.OPEN && !this._link.closeSent) this.send(Buffer.from(bytes), { binary: true, ...options }, cb);
        else if (cb) process.nextTick(cb, notOpenError(this.readyState));
        this.runQueue(queue);
      },
      (err: Error) => {
        this._blobQueue = null;
        if (cb) cb(err);
        this.runQueue(queue);
      },
    );
  }

  private runQueue(queue: Array<() => void>): void {
    while (queue.length > 0 && this._blobQueue === null) queue.shift()!();
    if (queue.length > 0) this._blobQueue!.push(...queue);
  }
}

/** The events of a WebSocket and their arguments, as @types/ws types them. */
export interface WebSocketEvents {
  open: [];
  message: [data: WebSocket.RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [err: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  upgrade: [response: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

type Listener<T, K extends keyof T> = (this: WebSocket, ...args: T[K] & unknown[]) => void;

// Typed listeners (the class inherits EventEmitter's untyped ones, kept as the last overload).
export interface WebSocket {
  on<K extends keyof WebSocketEvents>(event: K, listener: Listener<WebSocketEvents, K>): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once<K extends keyof WebSocketEvents>(event: K, listener: Listener<WebSocketEvents, K>): this;
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  off<K extends keyof WebSocketEvents>(event: K, listener: Listener<WebSocketEvents, K>): this;
  off(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  addListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<WebSocketEvents, K>): this;
  addListener(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<WebSocketEvents, K>): this;
  removeListener(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}

/**
 * Type names @types/ws has under WebSocket (WebSocket.RawData, WebSocket.ClientOptions, ...);
 * the server's (WebSocket.ServerOptions, ...) are declared by the package entry.
 */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace WebSocket {
  type RawData = Buffer | ArrayBuffer | Buffer[];
  type Data = string | Buffer | ArrayBuffer | Buffer[];
  type ClientOptions = ConnectOptions<WebSocket>;
  type PerMessageDeflateOptions = import('./deflate-options.js').WsDeflateOptions;
}

function emitDeferred(ws: WebSocket): void {
  ws._emitNextDeferred();
}

for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
}
