import { CloseCode, ReadyState, toBytes } from '../protocol/index.js';
import { ClientConnection, type ClientConnectionOwner } from './client-connection.js';
import { CloseEvent, ErrorEvent, MessageEventImpl } from './events.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';

export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';
type SendData = string | ArrayBuffer | ArrayBufferView | Blob;
type Handler = ((this: WebSocket, ev: any) => unknown) | null;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The browser's WebSocket API on Node (WHATWG HTML §9.3), so browser code runs unchanged.
 * The third constructor argument carries Node-only options.
 */
export class WebSocket extends EventTarget implements ClientConnectionOwner {
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
  private queue: SendData[] | null = null;
  /** close() called while Blobs were being read: the close frame waits for the queue. */
  private pendingClose: [number | undefined, string] | null = null;
  private readonly handlers = new Map<string, { current: Handler; listener: (ev: Event) => void }>();

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
  send(data: SendData): void {
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
      this.transmit(data as Exclude<SendData, Blob>, size);
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

  private transmit(data: Exclude<SendData, Blob>, size: number): void {
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
      if (this.conn.canSend) this.transmit(data as Exclude<SendData, Blob>, byteSize(data));
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
  connectionClosed(error: Error | undefined): void {
    const conn = this.conn;
    const wasClean = error === undefined && conn.cleanlyClosed;
    if (error !== undefined || !conn.closeReceived) this.dispatchEvent(new ErrorEvent('error', error ?? new Error('connection lost')));
    const code = error !== undefined ? CloseCode.Abnormal : conn.closeCode;
    this.dispatchEvent(new CloseEvent('close', { code, reason: error !== undefined ? '' : conn.closeReason, wasClean }));
  }

  // Event handler attributes

  get onopen(): Handler { return this.getHandler('open'); }
  set onopen(fn: Handler) { this.setHandler('open', fn); }
  get onmessage(): Handler { return this.getHandler('message'); }
  set onmessage(fn: Handler) { this.setHandler('message', fn); }
  get onerror(): Handler { return this.getHandler('error'); }
  set onerror(fn: Handler) { this.setHandler('error', fn); }
  get onclose(): Handler { return this.getHandler('close'); }
  set onclose(fn: Handler) { this.setHandler('close', fn); }

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

function parseUrl(input: string | URL): URL {
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
function subprotocolList(protocols: unknown): string[] {
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
function toSendData(data: unknown): SendData {
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
function withUrlCredentials(options: ResolvedClientOptions, url: URL): ResolvedClientOptions {
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

function byteSize(data: SendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBuffer).byteLength;
}
