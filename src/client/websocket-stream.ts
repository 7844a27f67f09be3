import { ReadableStream, WritableStream, type ReadableStreamDefaultController, type WritableStreamDefaultController } from 'node:stream/web';
import { CloseCode, toBytes } from '../protocol/index.js';
import { ClientConnection } from './client-connection.js';
import { resolveClientOptions, type ClientOptions } from './options.js';
import { parseUrl, subprotocolList, withUrlCredentials } from './websocket.js';

/** What the streams carry: text messages as strings, binary ones as bytes. */
export type WebSocketChunk = string | Uint8Array;

export interface WebSocketStreamOptions extends ClientOptions {
  protocols?: string | string[];
  /** Aborts the opening handshake. */
  signal?: AbortSignal;
  /** Messages the readable side may hold before the socket stops reading. Default 16. */
  readableHighWaterMark?: number;
}

export interface WebSocketOpenInfo {
  readable: ReadableStream<WebSocketChunk>;
  writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  protocol: string;
  extensions: string;
}

export interface WebSocketCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** A WebSocket that did not close cleanly, or a close request that is not valid (WHATWG WebSocketError). */
export class WebSocketError extends DOMException {
  readonly closeCode: number | null;
  readonly reason: string;
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    super(message, 'WebSocketError');
    this.closeCode = init.closeCode ?? null;
    this.reason = init.reason ?? '';
  }
}

const STREAM_OPTIONS = new Set(['protocols', 'signal', 'readableHighWaterMark']);

/**
 * The streams-based WebSocket API (WHATWG WebSocketStream, as Chromium ships it) on Node.
 * Backpressure goes both ways: a write resolves once the transport (TCP socket or HTTP/2
 * stream) takes more, and a reader that does not read makes the socket stop reading, so
 * that TCP or HTTP/2 flow control holds the server back.
 */
export class WebSocketStream {
  readonly url: string;
  readonly opened: Promise<WebSocketOpenInfo>;
  readonly closed: Promise<WebSocketCloseInfo>;
  private readonly conn: ClientConnection;
  private resolveOpened!: (info: WebSocketOpenInfo) => void;
  private rejectOpened!: (err: unknown) => void;
  private resolveClosed!: (info: WebSocketCloseInfo) => void;
  private rejectClosed!: (err: unknown) => void;
  private readableController: ReadableStreamDefaultController<WebSocketChunk> | null = null;
  private writableController: WritableStreamDefaultController | null = null;
  private wasOpened = false;
  private abortReason: unknown = undefined;
  private readonly highWaterMark: number;

  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const parsed = parseUrl(url);
    const protocols = subprotocolList(options.protocols);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
    const hwm = options.readableHighWaterMark ?? 16;
    if (!Number.isInteger(hwm) || hwm < 1) throw new TypeError('readableHighWaterMark must be a positive integer');
    const clientOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!STREAM_OPTIONS.has(k)) clientOptions[k] = v;
    const resolved = withUrlCredentials(resolveClientOptions(clientOptions as ClientOptions), parsed);
    this.url = parsed.href;
    this.opened = new Promise((resolve, reject) => ((this.resolveOpened = resolve), (this.rejectOpened = reject)));
    this.closed = new Promise((resolve, reject) => ((this.resolveClosed = resolve), (this.rejectClosed = reject)));
    // As in browsers, a rejection nobody awaits is not an unhandled rejection.
    this.opened.catch(noop);
    this.closed.catch(noop);
    this.highWaterMark = hwm;
    this.conn = new ClientConnection(this, parsed, protocols, resolved);
    if (signal === undefined) return;
    // The signal aborts the opening handshake only (an open WebSocket closes with close()).
    const onAbort = (): void => {
      if (this.wasOpened) return;
      this.abortReason = signal.reason;
      this.conn.abort(new Error('aborted'));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Closes the WebSocket: `closeCode` 1000 or 3000-4999, `reason` up to 123 bytes of UTF-8. */
  close(info: WebSocketCloseInfo = {}): void {
    const { closeCode, reason } = info;
    if (closeCode !== undefined && closeCode !== CloseCode.Normal && !(Number.isInteger(closeCode) && closeCode >= 3000 && closeCode <= 4999)) {
      throw new DOMException(`closeCode must be 1000 or between 3000 and 4999, got ${closeCode}`, 'InvalidAccessError');
    }
    const why = reason === undefined ? '' : String(reason);
    if (Buffer.byteLength(why) > 123) throw new DOMException('reason must be at most 123 bytes of UTF-8', 'SyntaxError');
    this.conn.startClose(closeCode ?? (why !== '' ? CloseCode.Normal : undefined), why);
  }

  private write(chunk: unknown): Promise<void> | void {
    if (!this.conn.canSend) throw new DOMException('the WebSocket is closing or closed', 'InvalidStateError');
    if (typeof chunk === 'string') this.conn.sendText(chunk);
    else if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) this.conn.sendBinary(toBytes(chunk));
    else throw new TypeError('a WebSocketStream writes strings, ArrayBuffers and ArrayBufferViews');
    // The next write waits until the transport takes more.
    if (this.conn.writeBlocked) return new Promise((resolve) => this.conn.onceDrained(resolve));
  }

  /** A stream closing or aborting closes the socket, with the code and reason of a WebSocketError if given. */
  private closeFor(reason: unknown): void {
    if (reason instanceof WebSocketError && reason.closeCode !== null) this.close({ closeCode: reason.closeCode, reason: reason.reason });
    else this.close();
  }

  // What the ClientConnection calls (its ClientConnectionOwner contract, matched structurally)

  /** @internal */
  handshakeDone(protocol: string, extensions: string): void {
    this.wasOpened = true;
    const conn = this.conn;
    const readable = new ReadableStream<WebSocketChunk>(
      {
        start: (c) => void (this.readableController = c),
        // The reader wants more: read from the socket again.
        pull: () => conn.resumeReading(),
        cancel: (reason) => this.closeFor(reason),
      },
      { highWaterMark: this.highWaterMark },
    );
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>(
      {
        start: (c) => void (this.writableController = c),
        write: (chunk) => this.write(chunk),
        close: () => this.close(),
        abort: (reason) => this.closeFor(reason),
      },
      { highWaterMark: 1 },
    );
    this.resolveOpened({ readable, writable, protocol, extensions });
  }

  /** @internal Pongs are not part of the WebSocketStream API. */
  pongReceived(): void {}

  /** @internal */
  messageReceived(data: string | Buffer, isBinary: boolean): void {
    const c = this.readableController;
    if (c === null) return;
    try {
      c.enqueue(isBinary ? new Uint8Array((data as Buffer).buffer, (data as Buffer).byteOffset, data.length) : (data as string));
    } catch {
      return; // The reader cancelled: the close is under way.
    }
    // The queue is full: stop reading until the reader pulls (transport flow control does the rest).
    if ((c.desiredSize ?? 1) <= 0) this.conn.pauseReading();
  }

  /** @internal */
  connectionClosed(error: Error | undefined): void {
    const conn = this.conn;
    if (!this.wasOpened) {
      const err = this.abortReason !== undefined ? this.abortReason : new WebSocketError(error?.message ?? 'the WebSocket could not be opened', { closeCode: CloseCode.Abnormal });
      this.rejectOpened(err);
      this.rejectClosed(err);
      return;
    }
    const clean = error === undefined && conn.cleanlyClosed;
    if (clean) {
      try {
        this.readableController?.close();
      } catch {
        // Already cancelled.
      }
      this.writableController?.error(new WebSocketError('the WebSocket is closed', { closeCode: conn.closeCode, reason: conn.closeReason }));
      this.resolveClosed({ closeCode: conn.closeCode, reason: conn.closeReason });
      return;
    }
    const err = new WebSocketError(error?.message ?? 'the connection was lost', { closeCode: CloseCode.Abnormal });
    this.readableController?.error(err);
    this.writableController?.error(err);
    this.rejectClosed(err);
  }
}

function noop(): void {}
