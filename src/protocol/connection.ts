import { MAX_CONTROL_PAYLOAD, Opcode, ReadyState } from './constants.js';
import { CloseCode } from './close-codes.js';
import { encodeClosePayload, encodeFrame } from './frame-writer.js';
import { MessageLayer } from './message-layer.js';

/**
 * Automatic pongs we may queue while our output is stalled (the peer is not reading).
 * Past this the peer is flooding pings and the connection fails with 1008 (`ws` has the
 * same kind of bound, 60 by default).
 */
export const MAX_PENDING_PONGS = 64;

export interface ProtocolConnectionOptions {
  /** 'server' reads masked frames and writes unmasked ones; 'client' the reverse. */
  role: 'server' | 'client';
  maxPayload: number;
  /** Most frames one message may arrive in (1009 beyond). Default DEFAULT_MAX_FRAGMENTS. */
  maxFragments?: number;
  /** Text messages reach onMessage as UTF-8 bytes instead of strings. Default false. */
  textAsBytes?: boolean;
  /** Check text messages and close reasons for UTF-8. Default true. */
  validateUtf8?: boolean;
  /** Answer pings with pongs automatically. Default true; when false, the I/O layer (or its user) answers them. */
  autoPong?: boolean;
  /** Our reply to the peer's close frame repeats its reason as well as its code. Default false (code only). */
  echoCloseReason?: boolean;
}

/**
 * The per-connection state machine of RFC 6455, sans-I/O: CONNECTING → OPEN → CLOSING →
 * CLOSED, the close handshake, automatic pongs, and the rule that nothing follows a
 * close frame. Outgoing bytes leave through `transmit`; the I/O layer (server or client)
 * subclasses this and decides when the transport opens and closes.
 */
export abstract class ProtocolConnection extends MessageLayer {
  readyState: ReadyState = ReadyState.OPEN;
  /** We have sent a close frame: no frame may follow it. */
  closeSent = false;
  /** The peer's close frame arrived. */
  closeReceived = false;
  /**
   * The connection close code (RFC 6455 §7.1.5): the code of the peer's close frame,
   * 1005 when it had none, 1006 until one arrives.
   */
  closeCode: number = CloseCode.Abnormal;
  closeReason = '';
  /** Automatic pongs queued since our output last was not stalled. */
  private pendingPongs = 0;
  /** Pings are answered automatically (see ProtocolConnectionOptions.autoPong). */
  autoPong: boolean;
  private readonly echoCloseReason: boolean;
  /** Opcode of a message we are sending in fragments (sendFragment), 0 when none. */
  private outgoingFragmented = 0;

  constructor(options: ProtocolConnectionOptions) {
    super({ expectMasked: options.role === 'server', maxPayload: options.maxPayload, maxFragments: options.maxFragments, textAsBytes: options.textAsBytes, validateUtf8: options.validateUtf8 });
    this.autoPong = options.autoPong !== false;
    this.echoCloseReason = options.echoCloseReason === true;
  }

  /** The peer's close frame arrived; ours (the reply, if needed) has been sent. */
  protected abstract onCloseHandshake(code: number, reason: string): void;
  /** The peer broke the protocol; a close frame with `code` has been sent if possible. */
  protected abstract onFailure(code: number, reason: string): void;
  /**
   * Whether the transport's output is stalled: bytes are waiting that the peer has not
   * taken (the I/O layer knows; a sans-I/O user never stalls).
   */
  protected get outputStalled(): boolean {
    return false;
  }
  /**
   * Whether an automatic reply (a pong) of `size` bytes may be queued. The server applies
   * its backpressure limit and policy here, as for any message.
   */
  protected admitControl(size: number): boolean {
    void size;
    return true;
  }
  protected onPing(payload: Buffer): void {
    void payload;
  }
  protected onPong(payload: Buffer): void {
    void payload;
  }

  /** Whether data frames may still be sent. */
  get canSend(): boolean {
    return this.readyState === ReadyState.OPEN && !this.closeSent;
  }

  /** Sends a text message; compressed when deflate is on, `compress` allows it and it reaches the threshold. */
  sendText(text: string, compress = true): boolean {
    if (!this.canSend) return false;
    // Without compression nothing can be waiting: the direct path.
    if (this.deflate === null) this.emitText(text);
    else this.sendMessage(Opcode.Text, text, compress, 0);
    return true;
  }

  sendBinary(data: Uint8Array, compress = true): boolean {
    if (!this.canSend) return false;
    if (this.deflate === null) this.emitFrame(Opcode.Binary, data, false);
    else this.sendMessage(Opcode.Binary, data, compress, 0);
    return true;
  }

  /** Sends one message split into frames of at most fragmentSize payload bytes (compressed first, if it applies). */
  sendFragmented(data: Uint8Array, isBinary: boolean, fragmentSize: number, compress = true): boolean {
    if (!this.canSend) return false;
    this.sendMessage(isBinary ? Opcode.Binary : Opcode.Text, data, compress, fragmentSize);
    return true;
  }

  /**
   * Sends one frame of a message the caller sends piece by piece: the first call starts the
   * message (text or binary), later ones continue it, and the one with `fin` ends it. Other
   * data messages must not be sent in between. Fragments are not compressed.
   */
  sendFragment(data: Uint8Array, isBinary: boolean, fin: boolean): boolean {
    if (!this.canSend) return false;
    const opcode = this.outgoingFragmented === 0 ? (isBinary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation;
    this.outgoingFragmented = fin ? 0 : (this.outgoingFragmented || opcode);
    this.sendFrame(encodeFrame(opcode, data, fin, false, this.masked));
    return true;
  }

  /** Whether a message sent with sendFragment is still open (its last fragment not sent yet). */
  get sendingFragments(): boolean {
    return this.outgoingFragmented !== 0;
  }

  /** Sends a frame the caller built (for example one shared by a broadcast). */
  sendPrepared(frame: Buffer): boolean {
    if (!this.canSend) return false;
    this.sendFrame(frame);
    return true;
  }

  sendPing(payload: Uint8Array = EMPTY): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('ping payload must be at most 125 bytes');
    if (!this.canSend) return false;
    this.transmitFrame(encodeFrame(Opcode.Ping, payload, true, false, this.masked));
    return true;
  }

  sendPong(payload: Uint8Array = EMPTY): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('pong payload must be at most 125 bytes');
    if (!this.canSend) return false;
    this.transmitFrame(encodeFrame(Opcode.Pong, payload, true, false, this.masked));
    return true;
  }

  /**
   * Starts (or answers) the close handshake with our close frame. Returns false when a
   * close frame was already sent.
   */
  sendClose(code?: number, reason = ''): boolean {
    if (this.closeSent || this.readyState === ReadyState.CLOSED) return false;
    this.closeSent = true;
    this.readyState = ReadyState.CLOSING;
    // Messages accepted before the close still go first.
    this.sendFrame(encodeFrame(Opcode.Close, encodeClosePayload(code, reason), true, false, this.masked));
    return true;
  }

  /** The transport is gone. */
  transportClosed(): void {
    this.readyState = ReadyState.CLOSED;
    this.stopReading();
    this.dropZlibWork();
    this.deflate?.close();
  }

  /** Both close frames crossed: the closing is clean. */
  get cleanlyClosed(): boolean {
    return this.closeSent && this.closeReceived;
  }

  protected override onPingFrame(payload: Buffer): void {
    if (this.autoPong && this.canSend && this.admitPong(payload.length)) this.transmitFrame(encodeFrame(Opcode.Pong, payload, true, false, this.masked));
    if (this.reading) this.onPing(payload);
  }

  /**
   * A ping is answered unless the backpressure policy says otherwise (RFC 6455 §5.5.3 lets
   * an endpoint skip pongs while earlier ones are unsent). A peer that keeps pinging while
   * our output is stalled would have us queue pongs without end: past MAX_PENDING_PONGS
   * the connection fails with 1008.
   */
  private admitPong(size: number): boolean {
    if (!this.outputStalled) {
      this.pendingPongs = 0;
    } else if (++this.pendingPongs > MAX_PENDING_PONGS) {
      this.fail(CloseCode.PolicyViolation, 'too many pending pongs');
      return false;
    }
    return this.admitControl(size + 2);
  }

  protected override onPongFrame(payload: Buffer): void {
    this.onPong(payload);
  }

  protected override onCloseFrame(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    // Echo the peer's code (and reason, if asked to); a close without a code is answered with none.
    if (!this.closeSent) this.sendClose(code === CloseCode.NoStatus ? undefined : code, this.echoCloseReason && Buffer.byteLength(reason) <= 123 ? reason : '');
    this.onCloseHandshake(code, reason);
  }

  protected override onProtocolError(code: number, reason: string): void {
    // Failing the connection: what was waiting to be sent is dropped, the close goes now.
    this.dropZlibWork();
    this.sendClose(code, reason);
    this.onFailure(code, reason);
  }
}

const EMPTY = new Uint8Array(0);
