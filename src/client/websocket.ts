import { CloseCode, ReadyState, toBytes } from '../protocol/index.js';
import { ClientConnection, type ClientConnectionOwner } from './client-connection.js';
import { CloseEvent, ErrorEvent, MessageEventImpl } from './events.js';
import { resolveClientOptions, type ClientOptions } from './options.js';

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

  constructor(url: string | URL, protocols?: string | string[], options?: ClientOptions) {
    super();
    const parsed = parseUrl(url);
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    for (const p of list) {
      if (typeof p !== 'string' || !TOKEN.test(p)) throw new DOMException(`invalid subprotocol "${String(p)}"`, 'SyntaxError');
    }
    if (new Set(list).size !== list.length) throw new DOMException('repeated subprotocol', 'SyntaxError');
    const resolved = resolveClientOptions(options);
    this.url = parsed.href;
    this.origin = parsed.origin;
    this.conn = new ClientConnection(this, parsed, list, resolved);
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

  send(data: SendData): void {
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

function parseUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new DOMException(`invalid URL: ${String(input)}`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new DOMException(`the URL scheme must be ws or wss, got ${url.protocol}`, 'SyntaxError');
  if (url.hash !== '' || String(input).includes('#')) throw new DOMException('the URL must not contain a fragment', 'SyntaxError');
  return url;
}

function byteSize(data: SendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBuffer).byteLength;
}
