import { MAX_CONTROL_PAYLOAD, Opcode, ReadyState } from './constants.js';
import { CloseCode } from './close-codes.js';
import { FrameReader } from './frame-reader.js';
import { encodeClosePayload, encodeFragments, encodeFrame, encodeTextFrame } from './frame-writer.js';

export interface ProtocolConnectionOptions {
  /** 'server' reads masked frames and writes unmasked ones; 'client' the reverse. */
  role: 'server' | 'client';
  maxPayload: number;
}

/**
 * The per-connection state machine of RFC 6455, sans-I/O: CONNECTING → OPEN → CLOSING →
 * CLOSED, the close handshake, automatic pongs, and the rule that nothing follows a
 * close frame. Outgoing bytes leave through `transmit`; the I/O layer (server or client)
 * subclasses this and decides when the transport opens and closes.
 */
export abstract class ProtocolConnection extends FrameReader {
  readyState: ReadyState = ReadyState.OPEN;
  /** Outgoing frames are masked (client side). */
  protected readonly masked: boolean;
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

  constructor(options: ProtocolConnectionOptions) {
    super({ expectMasked: options.role === 'server', maxPayload: options.maxPayload });
    this.masked = options.role === 'client';
  }

  /** Bytes for the peer, in order. */
  protected abstract transmit(frame: Buffer | Uint8Array): void;
  /** The peer's close frame arrived; ours (the reply, if needed) has been sent. */
  protected abstract onCloseHandshake(code: number, reason: string): void;
  /** The peer broke the protocol; a close frame with `code` has been sent if possible. */
  protected abstract onFailure(code: number, reason: string): void;
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

  sendText(text: string): boolean {
    if (!this.canSend) return false;
    this.transmit(encodeTextFrame(text, this.masked));
    return true;
  }

  sendBinary(data: Uint8Array): boolean {
    if (!this.canSend) return false;
    this.transmitFrame(encodeFrame(Opcode.Binary, data, true, false, this.masked));
    return true;
  }

  /** Sends one message split into frames of at most fragmentSize payload bytes. */
  sendFragmented(data: Uint8Array, isBinary: boolean, fragmentSize: number): boolean {
    if (!this.canSend) return false;
    for (const part of encodeFragments(isBinary ? Opcode.Binary : Opcode.Text, data, fragmentSize, this.masked)) this.transmit(part);
    return true;
  }

  /** Sends a frame the caller built (for example one shared by a broadcast). */
  sendPrepared(frame: Buffer): boolean {
    if (!this.canSend) return false;
    this.transmit(frame);
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
    this.transmitFrame(encodeFrame(Opcode.Close, encodeClosePayload(code, reason), true, false, this.masked));
    return true;
  }

  /** The transport is gone. */
  transportClosed(): void {
    this.readyState = ReadyState.CLOSED;
    this.stopReading();
  }

  /** Both close frames crossed: the closing is clean. */
  get cleanlyClosed(): boolean {
    return this.closeSent && this.closeReceived;
  }

  protected transmitFrame(frame: Buffer | [Buffer, Uint8Array]): void {
    if (Array.isArray(frame)) {
      this.transmit(frame[0]);
      this.transmit(frame[1]);
    } else {
      this.transmit(frame);
    }
  }

  protected override onPingFrame(payload: Buffer): void {
    if (this.canSend) this.transmitFrame(encodeFrame(Opcode.Pong, payload, true, false, this.masked));
    this.onPing(payload);
  }

  protected override onPongFrame(payload: Buffer): void {
    this.onPong(payload);
  }

  protected override onCloseFrame(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    // Echo the peer's code; a close without a code is answered with none.
    if (!this.closeSent) this.sendClose(code === CloseCode.NoStatus ? undefined : code, '');
    this.onCloseHandshake(code, reason);
  }

  protected override onProtocolError(code: number, reason: string): void {
    this.sendClose(code, reason);
    this.onFailure(code, reason);
  }
}

const EMPTY = new Uint8Array(0);
