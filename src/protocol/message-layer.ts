import { CloseCode } from './close-codes.js';
import { Opcode } from './constants.js';
import type { CodecRun, PerMessageDeflate } from './deflate-codec.js';
import { FrameReader, type FrameReaderOptions } from './frame-reader.js';
import { encodeFragments, encodeFrame, encodeTextFrame } from './frame-writer.js';
import { isValidUtf8 } from './utf8.js';
import { ZlibOutputLimitError } from './zlib-sync.js';

/**
 * zlib work (bytes in + bytes out) a connection does in one turn before the rest of a
 * large message is left for later turns, when the I/O layer can schedule them (see
 * scheduleZlibSlice). Small messages are compressed or inflated at once, as they always
 * were; a large one no longer stalls every other connection while it is processed.
 */
export const ZLIB_SLICE = 128 * 1024;

/** A large message being processed in slices, and the sends waiting behind it. */
interface ZlibWork {
  inflating: CodecRun | null;
  inflateBinary: boolean;
  deflating: CodecRun | null;
  deflateOpcode: number;
  /** Fragment size for the compressed message, 0 for one frame. */
  deflateFragment: number;
  /** Sends made while a message is being compressed go out after it, in order. */
  waiting: Array<{ send: () => void; size: number; dropped?: () => void }>;
  waitingBytes: number;
  /** The I/O layer will call runZlibSlice. */
  scheduled: boolean;
  /** pumpZlib is running (a send from a message handler must not start another). */
  pumping: boolean;
}

/** Frames from the peer must be masked (server side); ours are masked otherwise. */
export type MessageLayerOptions = FrameReaderOptions;

/**
 * Data messages both ways, between the frame reader and the connection state machine:
 * framing them (plain, fragmented, compressed with permessage-deflate) and inflating the
 * compressed ones that arrive. A large compressed message does not stall the event loop:
 * past the turn's zlib credit (ZLIB_SLICE) the rest is done in slices the I/O layer
 * schedules; meanwhile parsing waits and later sends wait their turn behind it, so the
 * order of messages is the same as if it had all been done at once.
 */
export abstract class MessageLayer extends FrameReader {
  /** Outgoing frames are masked (client side). */
  protected readonly masked: boolean;
  /** permessage-deflate, when negotiated. */
  protected deflate: PerMessageDeflate | null = null;
  /**
   * @internal zlib work this connection may still do in the current turn (see ZLIB_SLICE);
   * the I/O layer gives it ZLIB_SLICE again at each turn.
   */
  zlibCredit = ZLIB_SLICE;
  /** Only while a large message is in progress. */
  private zlibWork: ZlibWork | null = null;

  constructor(options: MessageLayerOptions) {
    super(options);
    this.masked = !options.expectMasked;
  }

  /** Bytes for the peer, in order. */
  protected abstract transmit(frame: Buffer | Uint8Array): void;

  /**
   * The I/O layer's chance to yield to its event loop in the middle of a large message:
   * it returns true after arranging for runZlibSlice() to be called soon. Meanwhile the
   * connection reads no further frame and later sends wait their turn. The sans-I/O
   * default returns false: the work is done at once.
   */
  protected scheduleZlibSlice(): boolean {
    return false;
  }

  /** The permessage-deflate codec, when negotiated. */
  get perMessageDeflate(): PerMessageDeflate | null {
    return this.deflate;
  }

  /**
   * Turns on permessage-deflate with the negotiated parameters: RSV1 becomes legal.
   * `maxPayload` replaces the message size limit, if given.
   */
  enableDeflate(codec: PerMessageDeflate, maxPayload?: number): void {
    this.deflate = codec;
    this.allowedRsv = 0x40;
    if (maxPayload !== undefined) this.maxPayload = maxPayload;
  }

  /**
   * One data message out: a string (text) or bytes, in frames of at most fragmentSize
   * payload bytes (0: one frame); with permessage-deflate, compressed when `compress`
   * allows it and it reaches the threshold (strings measured in UTF-16 units: no encoding
   * pass just to decide), in order behind a message still being compressed.
   */
  protected sendMessage(opcode: number, data: string | Uint8Array, compress: boolean, fragmentSize: number): void {
    if (this.deflate === null) {
      // Nothing is ever waiting without compression.
      this.emitPlain(opcode, data, fragmentSize);
    } else if (!compress || data.length < this.deflate.threshold) {
      if (this.sendsWaiting) this.sendLater(() => this.emitPlain(opcode, data, fragmentSize), data.length);
      else this.emitPlain(opcode, data, fragmentSize);
    } else if (this.sendsWaiting) {
      this.sendLater(() => this.emitCompressible(opcode, data, fragmentSize), data.length);
    } else {
      this.emitCompressible(opcode, data, fragmentSize);
    }
  }

  /** A frame built by the caller (a broadcast's, a close frame), in order behind a message still being compressed. */
  protected sendFrame(frame: Buffer | [Buffer, Uint8Array]): void {
    if (this.sendsWaiting) this.sendLater(() => this.transmitFrame(frame), Array.isArray(frame) ? frame[0].length + frame[1].length : frame.length);
    else this.transmitFrame(frame);
  }

  /**
   * One unfragmented data frame out. The I/O layer may override these two to encode
   * straight into its own output buffer instead of allocating a frame.
   */
  protected emitFrame(opcode: number, payload: Uint8Array, rsv1: boolean): void {
    this.transmitFrame(encodeFrame(opcode, payload, true, rsv1, this.masked));
  }

  protected emitText(text: string): void {
    this.transmit(encodeTextFrame(text, this.masked));
  }

  protected transmitFrame(frame: Buffer | [Buffer, Uint8Array]): void {
    if (Array.isArray(frame)) {
      this.transmit(frame[0]);
      this.transmit(frame[1]);
    } else {
      this.transmit(frame);
    }
  }

  private emitPlain(opcode: number, data: string | Uint8Array, fragmentSize: number): void {
    if (fragmentSize > 0) this.emitFragments(opcode, typeof data === 'string' ? Buffer.from(data) : data, fragmentSize, false);
    else if (typeof data === 'string') this.emitText(data);
    else this.emitFrame(opcode, data, false);
  }

  private emitFragments(opcode: number, payload: Uint8Array, fragmentSize: number, rsv1: boolean): void {
    for (const part of encodeFragments(opcode, payload, fragmentSize, this.masked, rsv1)) this.transmit(part);
  }

  /** Compressed at once within the turn's credit; a larger message goes on in slices. */
  private emitCompressible(opcode: number, data: string | Uint8Array, fragmentSize: number): void {
    const run = this.deflate!.startCompress(typeof data === 'string' ? Buffer.from(data) : data);
    if (this.zlibCredit > 0 && this.stepZlib(run)) return this.emitCompressed(opcode, run.result(), fragmentSize);
    const w = this.startZlibWork();
    w.deflating = run;
    w.deflateOpcode = opcode;
    w.deflateFragment = fragmentSize;
    this.pumpZlib();
  }

  /**
   * A message with RSV1: inflate it within maxPayload, then deliver it like any other. Within
   * the turn's zlib credit it is done at once; a larger one goes on in slices (pumpZlib).
   */
  protected override onCompressedMessage(data: Buffer, isBinary: boolean): void {
    const d = this.deflate;
    if (d === null) return super.onCompressedMessage(data, isBinary);
    const run = d.startDecompress(data, this.maxPayload);
    if (this.zlibCredit > 0) {
      let done: boolean;
      try {
        done = this.stepZlib(run);
      } catch (err) {
        return this.inflateFailed(err);
      }
      if (done) return this.deliverInflated(run.result(), isBinary);
    }
    const w = this.startZlibWork();
    w.inflating = run;
    w.inflateBinary = isBinary;
    this.pumpZlib();
  }

  private deliverInflated(message: Buffer, isBinary: boolean): void {
    if (isBinary) this.onMessage(message, true);
    else if (this.validateUtf8 && !isValidUtf8(message)) this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
    else this.onMessage(this.textAsBytes ? message : message.toString('utf8'), false);
  }

  private inflateFailed(err: unknown): void {
    if (err instanceof ZlibOutputLimitError) this.fail(CloseCode.MessageTooBig, 'message too big');
    else this.fail(CloseCode.InvalidPayload, 'invalid compressed data');
  }

  private emitCompressed(opcode: number, payload: Buffer, fragmentSize: number): void {
    if (fragmentSize > 0) this.emitFragments(opcode, payload, fragmentSize, true);
    else this.emitFrame(opcode, payload, true);
  }

  /** One step of a zlib run within the turn's credit. */
  private stepZlib(run: CodecRun): boolean {
    const done = run.step(this.zlibCredit);
    this.zlibCredit -= run.work;
    return done;
  }

  private startZlibWork(): ZlibWork {
    return (this.zlibWork ??= {
      inflating: null, inflateBinary: false, deflating: null, deflateOpcode: 0, deflateFragment: 0,
      waiting: [], waitingBytes: 0, scheduled: false, pumping: false,
    });
  }

  /** Whether sends must wait behind a message being compressed. */
  protected get sendsWaiting(): boolean {
    return this.zlibWork !== null && this.zlibWork.deflating !== null;
  }

  /**
   * Bytes of the sends waiting behind a message being compressed. That message itself
   * counts once it is written, at its compressed size, as it always did.
   */
  protected get waitingSendBytes(): number {
    return this.zlibWork === null ? 0 : this.zlibWork.waitingBytes;
  }

  /** Queues a send behind the message being compressed; `dropped` is called instead if the connection fails first. */
  protected sendLater(send: () => void, size: number, dropped?: () => void): void {
    const w = this.zlibWork!;
    w.waiting.push({ send, size, dropped });
    w.waitingBytes += size;
  }

  /** @internal The I/O layer's turn for more of a large message (see scheduleZlibSlice). */
  runZlibSlice(): void {
    const w = this.zlibWork;
    if (w === null) return;
    w.scheduled = false;
    this.zlibCredit = ZLIB_SLICE;
    this.pumpZlib();
  }

  /**
   * Works on the large messages in progress: the incoming one first (it was read before
   * anything we send in answer), then the outgoing one, then the sends behind it. When the
   * turn's credit is spent the rest waits for runZlibSlice, and parsing waits with it.
   */
  private pumpZlib(): void {
    const w = this.zlibWork!;
    if (w.pumping) return;
    w.pumping = true;
    let finished = false;
    try {
      finished = this.pumpLoop(w);
    } finally {
      w.pumping = false;
      // A message handler threw: what is left (at least letting input go) goes on later.
      if (!finished && !w.scheduled && this.zlibWork === w && this.scheduleZlibSlice()) w.scheduled = true;
    }
    if (w.inflating !== null || w.deflating !== null) return;
    if (this.zlibWork === w) this.zlibWork = null;
    this.releaseInput();
  }

  /** pumpZlib's loop: true when it ran out of work or handed the rest to a later slice. */
  private pumpLoop(w: ZlibWork): boolean {
    for (;;) {
      const run = w.inflating ?? w.deflating;
      if (run === null) break;
      if (this.zlibCredit <= 0) {
        if (w.scheduled || this.scheduleZlibSlice()) {
          w.scheduled = true;
          this.holdInput();
          return true;
        }
        this.zlibCredit = ZLIB_SLICE;
      }
      if (run === w.inflating) {
        let done: boolean;
        try {
          done = this.stepZlib(run);
        } catch (err) {
          w.inflating = null;
          this.inflateFailed(err);
          continue;
        }
        if (!done) continue;
        w.inflating = null;
        this.deliverInflated(run.result(), w.inflateBinary);
      } else if (this.stepZlib(run)) {
        w.deflating = null;
        this.emitCompressed(w.deflateOpcode, run.result(), w.deflateFragment);
        while (w.deflating === null && w.waiting.length > 0) {
          const next = w.waiting.shift()!;
          w.waitingBytes -= next.size;
          next.send();
        }
      }
    }
    return true;
  }

  /** Abandons large messages in progress and the sends behind them (the connection failed or is gone). */
  protected dropZlibWork(): void {
    const w = this.zlibWork;
    if (w === null) return;
    w.inflating?.cancel();
    w.deflating?.cancel();
    w.inflating = w.deflating = null;
    const waiting = w.waiting;
    w.waiting = [];
    w.waitingBytes = 0;
    this.zlibWork = null;
    for (const entry of waiting) entry.dropped?.();
  }
}
