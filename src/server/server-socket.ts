import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ProtocolConnection,
  ReadyState,
  isValidApplicationCloseCode,
  toBytes,
  type MessageData,
  ZLIB_SLICE,
} from '../protocol/index.js';
import { appendShared, appendSmall, extendShared, encodeSmallFrame, encodeSmallText, flushRegion, scheduleUncork, sharedBytes, SMALL_FRAME, type SharedSlot } from './write-batch.js';
import type { ServerCore } from './server-core.js';
import { scheduleZlibSlice } from './zlib-slices.js';

/** What send() did with a message. */
export const SendStatus = {
  /** Written (or queued for this tick's write). */
  Sent: 1,
  /** Queued behind a backlog: wait for the drain handler before sending much more. */
  Backpressure: 0,
  /** Not sent: over maxBackpressure with the drop policy, or the connection is closing. */
  Dropped: 2,
} as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

export interface SendOptions {
  /** Send a string as a binary message, or bytes as text (they must be UTF-8). Default: strings are text, bytes binary. */
  binary?: boolean;
  /** Split the message into frames of at most this many payload bytes. */
  fragmentSize?: number;
  /** With permessage-deflate on: false sends this message uncompressed. Default: compress from the threshold up. */
  compress?: boolean;
}

/** Why reading from a socket is paused (bits of ServerSocket.readHolds). */
const HOLD_USER = 1;
/** Our output to the peer is over maxBackpressure and not draining. */
const HOLD_BACKPRESSURE = 2;
/** A large compressed message is being processed in slices (see ZLIB_SLICE). */
const HOLD_ZLIB = 4;

const kSocket = Symbol('tether.socket');
const EMPTY = Buffer.alloc(0);

function isBinaryData(v: unknown): boolean {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object SharedArrayBuffer]';
}

/** What a refused value was, for the error message. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  return typeof v;
}
type TaggedDuplex = Duplex & { [kSocket]?: ServerSocket<unknown> };

/**
 * One accepted WebSocket connection: the protocol state machine plus the Node socket.
 * A small plain object; events go to the server's handlers, not to an emitter per socket.
 */
export class ServerSocket<U = unknown> extends ProtocolConnection {
  /** Slot for application data; starts as what the verify hook put in request.data. */
  data: U;
  readonly protocol: string;
  readonly extensions: string;
  /** @internal */ corked = false;
  /** @internal write-batch: this tick's shared frames for this socket (its range record, or -1). */ sharedRange = -1;
  /** @internal heartbeat: something arrived since the last tick. */ heard = true;
  /** @internal heartbeat: a ping is outstanding. */ pinged = false;
  /** @internal idle timeout: server clock at the last message. */ lastMessageAt = 0;
  /** @internal */ closeTimer: NodeJS.Timeout | null = null;
  /** @internal Reasons reading is paused (HOLD_* bits); the socket reads when there is none. */ readHolds = 0;
  /** @internal A frame was refused for backpressure since the last drain. */ limitReached = false;
  /** @internal While reading is held for backpressure: output progress at the last heartbeat (see outputProgressed). */
  progress: { written: number; queued: number } | null = null;
  /** @internal stats: over the high-water mark since the last drain. */ backlogged = false;
  /** Why we failed the connection, for the close handler's reason. */
  private failReason = '';

  /** @internal Connections are made by their server. */
  constructor(
    /** @internal */ readonly socket: Duplex,
    /** @internal */ readonly core: ServerCore<ServerSocket<U>>,
    data: U,
    protocol: string,
    extensions: string,
  ) {
    const o = core.options;
    super({ role: 'server', maxPayload: o.maxPayload, maxFragments: o.maxFragments, autoPong: o.autoPong, textAsBytes: o.textAsBytes, validateUtf8: o.validateUtf8, echoCloseReason: o.echoCloseReason });
    this.data = data;
    this.protocol = protocol;
    this.extensions = extensions;
    // Not core.clock: it is only refreshed while the idle timer runs, and may be stale for the first connection.
    this.lastMessageAt = Date.now();
    (socket as TaggedDuplex)[kSocket] = this as ServerSocket<unknown>;
    socket.on('data', onSocketData);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    // Sockets from an http.Server are half-open: a peer's FIN must end our side too. Others
    // (the standalone listener's) end themselves, and an idle connection is spared a listener.
    if (socket.allowHalfOpen) socket.on('end', onSocketEnd);
    // The upgrade path has already added an 'error' listener (resets are reported by 'close').
  }

  /**
   * The peer's address. Looked up on first use (and then kept by the socket), so idle
   * connections that never ask do not pay for it; read it before the connection closes.
   */
  get remoteAddress(): string | undefined {
    return (this.socket as Duplex & { remoteAddress?: string }).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.socket as Duplex & { remotePort?: number }).remotePort;
  }

  /** Bytes queued in Node for this socket, not yet handed to the kernel (and sends waiting behind a large message being compressed). */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.waitingSendBytes + sharedBytes(this);
  }

  /** True while the socket's write buffer is over its high-water mark; the drain handler fires when it empties. */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Sends a message: strings as text, bytes as binary (see SendOptions). */
  send(data: MessageData, options?: SendOptions): SendStatus {
    if (typeof data !== 'string' && !isBinaryData(data)) throw new TypeError(`send: data must be a string, an ArrayBuffer, a typed array, a DataView or a Buffer, got ${describe(data)}`);
    const isText = options?.binary === undefined ? typeof data === 'string' : !options.binary;
    if (!this.admit(typeof data === 'string' ? data.length : (data as ArrayBufferLike).byteLength)) return SendStatus.Dropped;
    const fragmentSize = options?.fragmentSize;
    const compress = options?.compress !== false;
    if (fragmentSize !== undefined) {
      if (!Number.isInteger(fragmentSize) || fragmentSize < 1) throw new TypeError('fragmentSize must be a positive integer');
      const bytes = typeof data === 'string' ? Buffer.from(data) : toBytes(data);
      this.sendFragmented(bytes, !isText, fragmentSize, compress);
    } else if (typeof data === 'string') {
      if (isText) this.sendText(data, compress);
      else this.sendBinary(Buffer.from(data), compress);
    } else if (isText) {
      this.sendText(Buffer.from(toBytes(data)).toString('utf8'), compress);
    } else {
      this.sendBinary(toBytes(data), compress);
    }
    this.core.counters.messagesOut++;
    return this.socket.writableNeedDrain ? this.congested() : SendStatus.Sent;
  }

  /**
   * @internal Sends a frame encoded once for many sockets (see PreparedMessage). `size` is
   * the message size for the backpressure check; `slot`, when given, lets the frame join
   * this tick's shared frames (see write-batch), written with them at the end of the tick.
   */
  sendEncoded(frame: Buffer | [Buffer, Uint8Array], size: number, slot: SharedSlot | null): SendStatus {
    if (slot !== null && this.sharedRange >= 0 && this.canSend && !this.sendsWaiting && extendShared(this, slot, size, this.core.options.maxBackpressure)) {
      this.core.counters.messagesOut++;
      return SendStatus.Sent;
    }
    if (!this.admit(size) || !this.socket.writable) return SendStatus.Dropped;
    if (this.sendsWaiting) {
      this.sendLater(() => {
        if (this.beginWrite()) this.writeEncoded(frame);
      }, size);
    } else if (slot !== null && !Array.isArray(frame)) {
      appendShared(this, slot, frame);
    } else {
      this.beginWrite();
      this.writeEncoded(frame);
    }
    this.core.counters.messagesOut++;
    return this.socket.writableNeedDrain ? this.congested() : SendStatus.Sent;
  }

  /** A send found the write buffer over its high-water mark: counted once until it drains. */
  private congested(): SendStatus {
    if (!this.backlogged) {
      this.backlogged = true;
      this.core.counters.backpressure++;
    }
    return SendStatus.Backpressure;
  }

  private writeEncoded(frame: Buffer | [Buffer, Uint8Array]): void {
    // The frame is shared by every recipient: write it as it is, without copying it into
    // the slab (the socket is corked, so a tick's frames still leave in one writev).
    flushRegion(this);
    if (Array.isArray(frame)) {
      this.socket.write(frame[0]);
      this.socket.write(frame[1]);
    } else {
      this.socket.write(frame);
    }
  }

  /**
   * Calls `callback` once everything sent so far has been handed to the operating system,
   * with an error if the connection failed first. For APIs that report each send's
   * completion; sends themselves take no callback, so the hot path allocates none.
   */
  whenWritten(callback: (err?: Error | null) => void): void {
    const s = this.socket;
    if (!s.writable) {
      process.nextTick(callback, new Error('the connection is closed'));
      return;
    }
    if (this.sendsWaiting) {
      // After the sends waiting behind a message being compressed.
      this.sendLater(() => this.whenWritten(callback), 0, () => process.nextTick(callback, new Error('the connection is closed')));
      return;
    }
    flushRegion(this);
    // Writes complete in order: an empty write completes after the frames before it.
    s.write(EMPTY, callback);
  }

  /** Applies the backpressure policy to a message of `size` bytes; false when it must not be sent. */
  private admit(size: number): boolean {
    // Frames of this tick still in the write slab are not counted: at most the replies to
    // one read (see onSocketData, which stops reading once the limit is reached). Shared
    // frames waiting for the end of the tick are: a loop of broadcasts has no such bound.
    if (!this.canSend) return false;
    const buffered = this.bufferedAmount;
    if (buffered > 0 && buffered + size > this.core.options.maxBackpressure) {
      this.limitReached = true;
      if (this.core.options.dropOnBackpressure) {
        this.core.counters.backpressureDrops++;
      } else {
        this.core.counters.backpressureCloses++;
        this.close(CloseCode.PolicyViolation, 'backpressure limit exceeded');
      }
      return false;
    }
    return true;
  }

  /** Sends a ping; the peer's pong reaches the pong handler. */
  ping(payload?: MessageData): boolean {
    const bytes = payload === undefined ? undefined : typeof payload === 'string' ? Buffer.from(payload) : toBytes(payload);
    return this.sendPing(bytes);
  }

  /**
   * Starts the close handshake. The connection ends when the peer answers, or after
   * closeTimeout if it does not. `null` sends a close frame without a status code (the
   * peer then reports 1005).
   */
  close(code: number | null = CloseCode.Normal, reason = ''): void {
    if (code !== null && !isValidApplicationCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
    if (Buffer.byteLength(reason) > 123) throw new RangeError('close reason must be at most 123 bytes');
    if (this.readyState === ReadyState.CLOSED || this.closeSent) return;
    this.sendClose(code ?? undefined, code === null ? '' : reason);
    this.armCloseTimer();
  }

  /**
   * Stops reading from the peer (TCP flow control then slows it down) until resume().
   * Frames already received in the current chunk are still delivered.
   */
  pause(): void {
    this.holdReading(HOLD_USER);
  }

  /** Reads again after pause() (unless the server itself holds reading back, see maxBackpressure). */
  resume(): void {
    this.releaseReading(HOLD_USER);
  }

  /** @internal Pauses the socket for `reason` until releaseReading(reason). */
  holdReading(reason: number): void {
    if (this.readHolds === 0) this.socket.pause();
    if (reason === HOLD_BACKPRESSURE) this.noteOutput();
    this.readHolds |= reason;
  }

  /** @internal */
  releaseReading(reason: number): void {
    if ((this.readHolds & reason) === 0) return;
    this.readHolds &= ~reason;
    if (reason === HOLD_BACKPRESSURE) this.progress = null;
    if (this.readHolds === 0 && this.readyState !== ReadyState.CLOSED) this.socket.resume();
  }

  /**
   * @internal Whether reading is held for backpressure and the peer took more of our
   * bytes since the last call. Our backlog being over the limit means the kernel's buffer
   * is full too, so bytes taken are bytes the peer acknowledged (a dead peer takes none).
   */
  outputProgressed(): boolean {
    if ((this.readHolds & HOLD_BACKPRESSURE) === 0) return false;
    const { written, queued } = this.progress!;
    this.noteOutput();
    const now = this.progress!;
    return now.written > written || (now.written === written && now.queued < queued);
  }

  /**
   * Notes how far our output got: writes Node completed, and what libuv still holds of the
   * one in progress (Node counts a large write as pending until all of it is in the
   * kernel). A socket that is not a libuv stream only reports completed writes.
   */
  private noteOutput(): void {
    const s = this.socket as Duplex & { bytesWritten?: number; _handle?: { writeQueueSize?: number } | null };
    this.progress = { written: (s.bytesWritten ?? 0) - s.writableLength, queued: s._handle?.writeQueueSize ?? 0 };
  }

  /** @internal The handshake is done: reading starts unless something holds it back. */
  startReading(): void {
    if (this.readHolds === 0) this.socket.resume();
  }

  /** Drops the connection at once, without a close handshake. */
  terminate(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    this.socket.destroy();
  }

  protected override scheduleZlibSlice(): boolean {
    scheduleZlibSlice(this);
    return true;
  }

  protected override pauseInput(): void {
    this.holdReading(HOLD_ZLIB);
  }

  protected override resumeInput(): void {
    this.releaseReading(HOLD_ZLIB);
  }

  protected override get outputStalled(): boolean {
    return this.socket.writableNeedDrain;
  }

  protected override admitControl(size: number): boolean {
    return this.admit(size);
  }

  protected override transmit(frame: Buffer | Uint8Array): void {
    if (!this.beginWrite()) return;
    if (frame.length <= SMALL_FRAME) {
      appendSmall(this, frame);
    } else {
      flushRegion(this);
      this.socket.write(frame);
    }
  }

  /** Small frames are encoded straight into the write slab: no frame buffer per message. */
  protected override emitFrame(opcode: number, payload: Uint8Array, rsv1: boolean): void {
    if (payload.length > SMALL_FRAME - 4 || !this.beginWrite()) return super.emitFrame(opcode, payload, rsv1);
    encodeSmallFrame(this, opcode, payload, rsv1);
  }

  protected override emitText(text: string): void {
    // At most 3 bytes per UTF-16 unit: only strings sure to fit take the slab path.
    const len = text.length;
    if (len * 3 > SMALL_FRAME - 4 || !this.beginWrite()) return super.emitText(text);
    if (len <= 64) {
      let i = 0;
      while (i < len && text.charCodeAt(i) < 0x80) i++;
      if (i === len) return encodeSmallText(this, text, len, true);
    }
    encodeSmallText(this, text, Buffer.byteLength(text), false);
  }

  /** Corks the socket for this tick's batch; false if it can no longer be written. */
  private beginWrite(): boolean {
    const s = this.socket;
    if (!s.writable) return false;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      scheduleUncork(this);
    }
    return true;
  }

  /** @internal Ends this tick's batch of writes. */
  uncork(): void {
    flushRegion(this);
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
  }

  protected override onMessage(data: string | Buffer, isBinary: boolean): void {
    this.lastMessageAt = this.core.clock;
    this.core.counters.messagesIn++;
    this.core.handlers.message?.(this, data, isBinary);
  }

  protected override onPing(payload: Buffer): void {
    this.core.handlers.ping?.(this, payload);
  }

  protected override onPong(payload: Buffer): void {
    this.core.handlers.pong?.(this, payload);
  }

  protected override onCloseHandshake(): void {
    // Both close frames have crossed: the server closes the TCP connection first (RFC 6455 §7.1.1).
    this.endTransport();
  }

  protected override onFailure(code: number, reason: string): void {
    this.failReason = reason;
    this.endTransport();
    this.core.handlers.protocolError?.(this, code, reason);
  }

  private endTransport(): void {
    this.uncork();
    this.socket.end();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null) return;
    this.closeTimer = setTimeout(closeTimedOut, this.core.options.closeTimeout, this);
    this.closeTimer.unref();
  }

  /** @internal The transport closed: report once and forget the connection. */
  transportGone(): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.corked = false;
    this.transportClosed();
    this.core.counters.closed(this.closeCode, this.socket);
    this.core.forget(this as ServerSocket<U>);
    this.core.handlers.close?.(this, this.closeCode, this.closeReceived ? this.closeReason : this.failReason);
  }
}

function closeTimedOut(ws: ServerSocket<unknown>): void {
  ws.closeTimer = null;
  ws.socket.destroy();
}

function onSocketData(this: TaggedDuplex, chunk: Buffer): void {
  const ws = this[kSocket]!;
  ws.heard = true;
  ws.zlibCredit = ZLIB_SLICE;
  // Replies to this chunk leave in one write when it is parsed, without a nextTick.
  if (!ws.corked) {
    ws.corked = true;
    this.cork();
  }
  ws.receive(chunk);
  ws.uncork();
  // The peer does not take what we send (its backlog passed maxBackpressure, or a frame was
  // refused for it): stop reading what it sends until it drains, so that TCP flow control
  // slows it down instead of our buffers growing with replies to pings or echoes. Below
  // Node's high-water mark no drain event would come: needDrain first.
  if (this.writableNeedDrain && (ws.limitReached || this.writableLength > ws.core.options.maxBackpressure)) ws.holdReading(HOLD_BACKPRESSURE);
}

function onSocketClose(this: TaggedDuplex): void {
  this[kSocket]!.transportGone();
}

function onSocketEnd(this: TaggedDuplex): void {
  // Usually our side has ended already (we close first after the close handshake): a
  // second end() would only build an ERR_STREAM_ALREADY_FINISHED error to throw away,
  // a stack trace per connection.
  if (this.writableEnded) return;
  const ws = this[kSocket]!;
  ws.uncork();
  this.end();
}

function onSocketDrain(this: TaggedDuplex): void {
  const ws = this[kSocket]!;
  ws.limitReached = false;
  ws.releaseReading(HOLD_BACKPRESSURE);
  ws.backlogged = false;
  if (ws.readyState === ReadyState.OPEN) ws.core.handlers.drain?.(ws);
}

