import { CloseCode, MAX_CONTROL_PAYLOAD, ReadyState, toBytes } from '../protocol/index.js';
import { ClientConnection } from './client-connection.js';
import { CloseEvent, ErrorEvent, MessageEventImpl, type WebSocketEventMap, type WebSocketListenerOptions } from './events.js';
import { iterateMessages, type WebSocketData } from './message-iterator.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import { PingTracker } from './ping-tracker.js';

/** How binary messages are delivered: 'blob' (the default, as in browsers), 'arraybuffer', or 'nodebuffer' (Node only: a Buffer). */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';
/** What send() takes: text, or bytes and Blobs as binary (anything else is converted to a string, as browsers do). */
export type WebSocketSendData = string | ArrayBuffer | ArrayBufferView | Blob;
/** An event handler attribute (onopen, onmessage, onerror, onclose), typed as the DOM types it. */
export type WebSocketHandler<E> = ((this: WebSocket, ev: E) => any) | null;
/** A listener for addEventListener: a function or an object with handleEvent. */
export type WebSocketListener<E> = ((this: WebSocket, ev: E) => any) | { handleEvent(ev: E): any };
type Handler = WebSocketHandler<any>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The browser's WebSocket API on Node (WHATWG HTML §9.3), so browser code runs unchanged.
 * The third constructor argument carries Node-only options.
 */
// The ClientConnectionOwner of its connection (checked where it hands itself over, not
// declared: those members are internal and stay out of the declarations).
export class WebSocket extends EventTarget {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  readonly CONNECTING = ReadyState.CONNECTING;
  readonly OPEN = ReadyState.OPEN;
  readonly CLOSING = ReadyState.CLOSING;
  readonly CLOSED = ReadyState.CLOSED;

  readonly url: string;
  private _protocol = '';
  private _extensions = '';
  private _binaryType: BinaryType = 'blob';
  private readonly origin: string;
  private readonly conn: ClientConnection;
  /** Bytes "sent" after the connection started closing: counted, never transmitted (as browsers do). */
  private discarded = 0;
  /** Sends waiting behind a Blob being read, to keep message order. */
  private queue: WebSocketSendData[] | null = null;
  /** close() called while Blobs were being read: the close frame waits for the queue. */
  private pendingClose: [number | undefined, string] | null = null;
  private readonly handlers = new Map<string, { current: Handler; listener: (ev: Event) => void }>();
  private pings: PingTracker | null = null;

  /**
   * `options` is Node-only: it is used when it is a plain object (and then checked), and
   * ignored otherwise, as browsers ignore arguments beyond the ones the API defines.
   */
  constructor(url: string | URL, protocols?: string | string[], options?: ClientOptions) {
    super();
    const parsed = parseUrl(url);
    const list = subprotocolList(protocols);
    const resolved = resolveClientOptions(isPlainObject(options) ? options : undefined);
    this.url = parsed.href;
    this.origin = parsed.origin;
    this.conn = new ClientConnection(this, parsed, list, withUrlCredentials(resolved, parsed));
  }

  get readyState(): ReadyState {
    if (this.pendingClose !== null && this.conn.readyState === ReadyState.OPEN) return ReadyState.CLOSING;
    return this.conn.readyState;
  }
  get protocol(): string {
    return this._protocol;
  }
  get extensions(): string {
    return this._extensions;
  }
  get bufferedAmount(): number {
    return this.conn.bufferedAmount + this.discarded;
  }
  get binaryType(): BinaryType {
    return this._binaryType;
  }
  set binaryType(v: BinaryType) {
    // Like a WebIDL enum attribute: unknown values are ignored.
    if (v === 'blob' || v === 'arraybuffer' || v === 'nodebuffer') this._binaryType = v;
  }

  /**
   * Sends data as WebIDL's `(BufferSource or Blob or USVString)` does: bytes and Blobs as
   * binary, anything else converted to a string (`send(null)` sends "null", `send(42)` "42",
   * `send({})` "[object Object]", as browsers do). A Symbol, or no argument, is a TypeError;
   * a refused send changes nothing.
   */
  send(data: WebSocketSendData): void {
    if (arguments.length === 0) throw new TypeError('send: 1 argument required (data)');
    data = toSendData(data);
    if (this.readyState === ReadyState.CONNECTING) throw new DOMException('the connection is not open yet', 'InvalidStateError');
    const size = byteSize(data);
    if (this.readyState !== ReadyState.OPEN || !this.conn.canSend) {
      this.discarded += size;
      return;
    }
    this.conn.bufferedAmount += size;
    if (this.queue !== null) {
      this.queue.push(data);
    } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
      this.queue = [data];
      void this.drainQueue();
    } else {
      this.transmit(data as Exclude<WebSocketSendData, Blob>, size);
    }
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== CloseCode.Normal && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new DOMException(`close code must be 1000 or between 3000 and 4999, got ${code}`, 'InvalidAccessError');
    }
    const why = reason === undefined ? '' : String(reason);
    if (Buffer.byteLength(why) > 123) throw new DOMException('close reason must be at most 123 bytes of UTF-8', 'SyntaxError');
    if (this.readyState === ReadyState.CLOSING || this.readyState === ReadyState.CLOSED) return;
    const closeCode = code ?? (reason !== undefined ? CloseCode.Normal : undefined);
    // Data sent before close() goes out before the close frame, Blobs still being read included.
    if (this.queue !== null && this.readyState === ReadyState.OPEN) this.pendingClose = [closeCode, why];
    else this.conn.startClose(closeCode, why);
  }

  /**
   * Node only (browsers have no such method): sends a ping and resolves with the round trip
   * in milliseconds when the server's pong comes back. `data` (at most 125 bytes) is the
   * ping's payload; by default a payload that tells this ping apart. The promise rejects if
   * the connection closes first. Throws an InvalidStateError before the connection is open.
   */
  ping(data?: string | ArrayBuffer | ArrayBufferView): Promise<number> {
    if (this.readyState === ReadyState.CONNECTING) throw new DOMException('the connection is not open yet', 'InvalidStateError');
    const tracker = (this.pings ??= new PingTracker());
    let payload: Buffer;
    if (data === undefined) payload = tracker.nextPayload();
    else if (typeof data === 'string') payload = Buffer.from(data);
    else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) payload = Buffer.from(toBytes(data));
    else throw new TypeError('ping: data must be a string, an ArrayBuffer or an ArrayBufferView');
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError(`ping: data must be at most ${MAX_CONTROL_PAYLOAD} bytes, got ${payload.length}`);
    if (this.readyState !== ReadyState.OPEN || !this.conn.sendPing(payload)) {
      return Promise.reject(new Error('ping: the connection is closing or closed'));
    }
    return tracker.track(payload);
  }

  /**
   * Node only: drops the connection at once, without the closing handshake. The close
   * event follows with code 1006 and wasClean false (no error event: it was asked for).
   */
  terminate(): void {
    if (this.conn.readyState === ReadyState.CLOSED) return;
    this.conn.terminate();
  }

  /**
   * Node only: `for await (const data of ws)` yields each message's data (as binaryType
   * says) and ends when the connection closes cleanly; it throws when the connection fails.
   * While a message waits for the loop's body the socket stops reading, so a slow consumer
   * slows the server down (TCP flow control) instead of buffering without bound. Leaving
   * the loop stops the iteration, not the connection. Event listeners still see every message.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketData> {
    return iterateMessages({
      addEventListener: (type, listener) => this.addEventListener(type, listener),
      removeEventListener: (type, listener) => this.removeEventListener(type, listener),
      holdReading: (delta) => this.conn.holdReading(delta),
    });
  }

  override addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketListener<WebSocketEventMap[K]> | null, options?: boolean | WebSocketListenerOptions): void;
  override addEventListener(type: string, listener: WebSocketListener<Event> | null, options?: boolean | WebSocketListenerOptions): void;
  override addEventListener(type: string, listener: WebSocketListener<any> | null, options?: boolean | WebSocketListenerOptions): void {
    super.addEventListener(type, listener as EventListener | null, options);
  }

  override removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketListener<WebSocketEventMap[K]> | null, options?: boolean | { capture?: boolean }): void;
  override removeEventListener(type: string, listener: WebSocketListener<Event> | null, options?: boolean | { capture?: boolean }): void;
  override removeEventListener(type: string, listener: WebSocketListener<any> | null, options?: boolean | { capture?: boolean }): void {
    super.removeEventListener(type, listener as EventListener | null, options);
  }

  private transmit(data: Exclude<WebSocketSendData, Blob>, size: number): void {
    this.conn.accountBytes = size;
    if (typeof data === 'string') this.conn.sendText(data);
    else this.conn.sendBinary(toBytes(data));
    this.conn.accountBytes = 0;
  }

  /** Sends queued data in order, reading Blobs as they come up. */
  private async drainQueue(): Promise<void> {
    const queue = this.queue!;
    while (queue.length > 0) {
      const item = queue[0]!;
      const data = typeof Blob !== 'undefined' && item instanceof Blob ? await item.arrayBuffer() : item;
      queue.shift();
      if (this.conn.canSend) this.transmit(data as Exclude<WebSocketSendData, Blob>, byteSize(data));
      else this.conn.bufferedAmount -= byteSize(data);
    }
    this.queue = null;
    if (this.pendingClose !== null) this.conn.startClose(...this.pendingClose);
  }

  // ClientConnectionOwner

  /** @internal */
  handshakeDone(protocol: string, extensions: string): void {
    this._protocol = protocol;
    this._extensions = extensions;
    this.dispatchEvent(new Event('open'));
  }

  /** @internal */
  messageReceived(data: string | Buffer, isBinary: boolean): void {
    // Messages that arrive after close() was called are not delivered (WHATWG).
    if (this.readyState !== ReadyState.OPEN) return;
    let payload: unknown = data;
    if (isBinary) {
      const buf = data as Buffer;
      if (this._binaryType === 'arraybuffer') payload = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      else if (this._binaryType === 'blob') payload = new Blob([buf as Uint8Array<ArrayBuffer>]);
    }
    this.dispatchEvent(new MessageEventImpl('message', { data: payload, origin: this.origin }));
  }

  /** @internal */
  pongReceived(payload: Buffer): void {
    this.pings?.pongReceived(payload);
  }

  /** @internal */
  connectionClosed(error: Error | undefined): void {
    const conn = this.conn;
    const wasClean = error === undefined && conn.cleanlyClosed;
    this.pings?.rejectAll(new Error('ping: the connection closed before the pong arrived'));
    if (!conn.terminated && (error !== undefined || !conn.closeReceived)) this.dispatchEvent(new ErrorEvent('error', error ?? new Error('connection lost')));
    const code = error !== undefined || conn.terminated ? CloseCode.Abnormal : conn.closeCode;
    this.dispatchEvent(new CloseEvent('close', { code, reason: error !== undefined ? '' : conn.closeReason, wasClean }));
  }

  // Event handler attributes

  get onopen(): WebSocketHandler<Event> { return this.getHandler('open'); }
  set onopen(fn: WebSocketHandler<Event>) { this.setHandler('open', fn); }
  get onmessage(): WebSocketHandler<MessageEvent> { return this.getHandler('message'); }
  set onmessage(fn: WebSocketHandler<MessageEvent>) { this.setHandler('message', fn); }
  get onerror(): WebSocketHandler<ErrorEvent> { return this.getHandler('error'); }
  set onerror(fn: WebSocketHandler<ErrorEvent>) { this.setHandler('error', fn); }
  get onclose(): WebSocketHandler<CloseEvent> { return this.getHandler('close'); }
  set onclose(fn: WebSocketHandler<CloseEvent>) { this.setHandler('close', fn); }

  private getHandler(type: string): Handler {
    return this.handlers.get(type)?.current ?? null;
  }

  private setHandler(type: string, fn: Handler): void {
    const entry = this.handlers.get(type);
    const value = typeof fn === 'function' ? fn : null;
    if (entry && value === null) {
      // HTML "deactivate an event handler": the listener leaves the list, so a handler set
      // again later is appended after listeners added in between.
      this.removeEventListener(type, entry.listener);
      this.handlers.delete(type);
      return;
    }
    if (entry) {
      entry.current = value;
      return;
    }
    if (value === null) return;
    const created = {
      current: value as Handler,
      listener: (ev: Event) => {
        const h = created.current;
        if (h) h.call(this, ev);
      },
    };
    this.handlers.set(type, created);
    this.addEventListener(type, created.listener);
  }
}

/** The document's base URL where there is one (browsers, or a `location` a Node app defines); none on plain Node. */
function baseUrl(): string | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  return typeof href === 'string' ? href : undefined;
}

export function parseUrl(input: string | URL): URL {
  let url: URL;
  const text = String(input);
  const base = baseUrl();
  try {
    url = new URL(text, base);
  } catch {
    if (base === undefined && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) {
      throw new DOMException(`a relative URL needs a base URL, and Node has no document: give an absolute ws:// or wss:// URL, got "${text}"`, 'SyntaxError');
    }
    throw new DOMException(`invalid URL: ${text}`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new DOMException(`the URL scheme must be ws or wss, got ${url.protocol}`, 'SyntaxError');
  if (url.hash !== '' || text.includes('#')) throw new DOMException('the URL must not contain a fragment', 'SyntaxError');
  return url;
}

/**
 * WebIDL's `(DOMString or sequence<DOMString>)`: an iterable is a list, anything else one
 * string. Tokens must be valid and distinct; they compare without regard to ASCII case.
 */
export function subprotocolList(protocols: unknown): string[] {
  if (protocols === undefined) return [];
  const iterable = typeof protocols === 'object' && protocols !== null && typeof (protocols as Iterable<unknown>)[Symbol.iterator] === 'function';
  const list = iterable ? [...(protocols as Iterable<unknown>)].map(idlString) : [idlString(protocols)];
  const seen = new Set<string>();
  for (const p of list) {
    if (!TOKEN.test(p)) throw new DOMException(`invalid subprotocol "${p}"`, 'SyntaxError');
    const folded = p.toLowerCase();
    if (seen.has(folded)) throw new DOMException(`repeated subprotocol "${p}"`, 'SyntaxError');
    seen.add(folded);
  }
  return list;
}

/** WebIDL's conversion of any value to a string; only a Symbol cannot be converted. */
function idlString(v: unknown): string {
  if (typeof v === 'symbol') throw new TypeError('a Symbol cannot be converted to a string');
  return String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Bytes and Blobs stay as they are; anything else becomes its string, as WebIDL converts it. */
function toSendData(data: unknown): WebSocketSendData {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data;
  if (Object.prototype.toString.call(data) === '[object SharedArrayBuffer]') return data as ArrayBuffer;
  if (typeof data === 'symbol') throw new TypeError('send: data must be a string, a Blob, an ArrayBuffer or an ArrayBufferView; a Symbol cannot be converted to a string');
  return String(data);
}

/**
 * Credentials in the URL (`ws://user:pass@host/`) go out as `Authorization: Basic`, as
 * browsers send them; an Authorization header given in the options wins.
 */
export function withUrlCredentials(options: ResolvedClientOptions, url: URL): ResolvedClientOptions {
  if (url.username === '' && url.password === '') return options;
  const headers = options.headers ?? {};
  if (Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) return options;
  const credentials = `${percentDecode(url.username)}:${percentDecode(url.password)}`;
  return { ...options, headers: { ...headers, Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } };
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function byteSize(data: WebSocketSendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBuffer).byteLength;
}
