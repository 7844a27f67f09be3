import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw, type ZlibOptions } from 'node:zlib';

/**
 * Synchronous raw deflate/inflate on a long-lived zlib stream.
 *
 * Node's public sync API (`deflateRawSync`) creates and frees a zlib state per call, which
 * costs more than compressing a 200-byte message, and cannot keep a context between
 * messages. Its streams keep state but only work asynchronously, through the thread pool.
 * This class drives a stream's native handle directly (`writeSync`, as Node's own
 * zlibBufferSync does), so a message is compressed in one synchronous call on a state
 * that is reused, reset, or kept as the permessage-deflate context.
 */

interface NativeZlib {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

type ZlibStream = (DeflateRaw | InflateRaw) & { _handle?: NativeZlib; _writeState?: Uint32Array };

/** The peer's data is not valid deflate data (or does not fit the negotiated window). */
export class ZlibDataError extends Error {}
/** Inflating would produce more than the allowed number of bytes. */
export class ZlibOutputLimitError extends Error {}

const OUTPUT_CHUNK = 64 * 1024;
/**
 * Input is fed to zlib in pieces of at most this size, so that one writeSync call does a
 * bounded amount of work: compressing takes work in proportion to its input, and a run is
 * only paused between calls. Inflating is bounded by the output chunk.
 */
const INPUT_PIECE = 16 * 1024;

export class SyncZlib {
  /** @internal */ readonly handle: NativeZlib;
  /** @internal [avail_out, avail_in] after each writeSync. */ readonly state: Uint32Array;
  private readonly stream: ZlibStream;
  private failure: string | null = null;
  /** Set once the native state is unusable (after an error) or released. */
  closed = false;
  /**
   * Inflate only: the deflate stream ended (a block with BFINAL set), so zlib ignores
   * all further input until reset.
   */
  ended = false;

  constructor(kind: 'deflate' | 'inflate', options: ZlibOptions) {
    const stream = (kind === 'deflate' ? createDeflateRaw(options) : createInflateRaw(options)) as ZlibStream;
    if (typeof stream._handle?.writeSync !== 'function' || !(stream._writeState instanceof Uint32Array)) {
      throw new Error('this Node.js version does not expose synchronous zlib handles');
    }
    this.stream = stream;
    this.handle = stream._handle;
    this.state = stream._writeState;
    // Errors are reported to us instead of destroying the stream asynchronously.
    this.handle.onerror = (message: string) => {
      this.failure = message;
    };
    stream.on('error', noop);
  }

  /**
   * Feeds each input in turn with Z_SYNC_FLUSH and returns everything zlib produced, in
   * one go. Throws ZlibOutputLimitError once the output would exceed maxOutput bytes,
   * having allocated at most maxOutput + 1 bytes of output.
   */
  process(inputs: readonly Uint8Array[], maxOutput: number, sizeHint: number): Buffer {
    const run = new ZlibRun(this, inputs, maxOutput, sizeHint);
    run.step(Infinity);
    return run.result();
  }

  /** @internal Throws the error zlib reported during the last call, closing the state. */
  checkFailure(): void {
    if (this.failure === null) return;
    const message = this.failure;
    this.close();
    throw new ZlibDataError(message);
  }

  /** Forgets the context (no_context_takeover): the next message starts fresh. */
  reset(): void {
    if (!this.closed) this.handle.reset();
    this.ended = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}

function noop(): void {}

/**
 * One message through a SyncZlib, in as many steps as the caller wants: each step does
 * about `budget` bytes of work (input consumed plus output produced) and the run can wait
 * in between, so a large message need not be processed in one turn of the event loop.
 * Each input is fed with Z_SYNC_FLUSH at its end (Z_NO_FLUSH for the pieces before).
 */
export class ZlibRun {
  /** Bytes of work (input consumed + output produced + output assembled / 8) in the last step. */
  work = 0;
  private input = 0;
  private inOff = 0;
  private out: Buffer;
  private outOff = 0;
  private total = 0;
  /** Full output chunks, when the output did not fit the first one. */
  private chunks: Buffer[] | null = null;
  /** The whole output, assembled from the chunks (in steps too). */
  private output: Buffer | null = null;
  private assembled = 0;
  private nextChunk = 0;

  constructor(
    readonly zlib: SyncZlib,
    private readonly inputs: readonly Uint8Array[],
    private readonly maxOutput: number,
    sizeHint: number,
  ) {
    if (zlib.closed) throw new ZlibDataError('zlib stream is closed');
    this.out = Buffer.allocUnsafe(Math.min(Math.max(sizeHint, 64), OUTPUT_CHUNK, maxOutput + 1));
  }

  /**
   * Works until the run is done (true) or about `budget` bytes of work were done (false).
   * Every call makes progress. Throws ZlibDataError or ZlibOutputLimitError.
   */
  step(budget: number): boolean {
    const z = this.zlib;
    const state = z.state;
    let work = 0;
    while (this.input < this.inputs.length) {
      if (work >= budget) return this.pause(work);
      const src = this.inputs[this.input]!;
      const left = src.length - this.inOff;
      const piece = left < INPUT_PIECE ? left : INPUT_PIECE;
      const outLen = this.out.length - this.outOff;
      z.handle.writeSync(piece === left ? constants.Z_SYNC_FLUSH : constants.Z_NO_FLUSH, src, this.inOff, piece, this.out, this.outOff, outLen);
      z.checkFailure();
      const availOut = state[0]!;
      const availIn = state[1]!;
      const produced = outLen - availOut;
      this.total += produced;
      if (this.total > this.maxOutput) throw new ZlibOutputLimitError(`output exceeds ${this.maxOutput} bytes`);
      this.outOff += produced;
      this.inOff += piece - availIn;
      work += produced + piece - availIn;
      if (availOut === 0) {
        // Output chunk full: keep it and continue (zlib may have more for the same input).
        (this.chunks ??= []).push(this.out);
        this.out = Buffer.allocUnsafe(Math.min(OUTPUT_CHUNK, this.maxOutput + 1 - this.total));
        this.outOff = 0;
      } else if (availIn !== 0 || piece === left) {
        // Room left but input not consumed: zlib stopped at the end of the stream, and
        // ignores the rest of this input. Otherwise this input is done.
        if (availIn !== 0) z.ended = true;
        this.input++;
        this.inOff = 0;
      }
    }
    if (this.chunks === null) {
      this.work = work;
      return true;
    }
    return this.assemble(budget, work);
  }

  /** The output, once step() returned true. */
  result(): Buffer {
    return this.output ?? this.out.subarray(0, this.outOff);
  }

  /** Copies the chunks into one buffer, within the step's budget (copying is cheap: 1/8 of a byte of work). */
  private assemble(budget: number, work: number): boolean {
    const chunks = this.chunks!;
    if (this.output === null) {
      chunks.push(this.out.subarray(0, this.outOff));
      this.output = Buffer.allocUnsafe(this.total);
    }
    while (this.nextChunk < chunks.length) {
      if (work >= budget) return this.pause(work);
      const c = chunks[this.nextChunk]!;
      chunks[this.nextChunk++] = EMPTY;
      this.output.set(c, this.assembled);
      this.assembled += c.length;
      work += c.length >>> 3;
    }
    this.work = work;
    return true;
  }

  private pause(work: number): false {
    this.work = work;
    return false;
  }
}

const EMPTY = Buffer.alloc(0);

/** Whether this Node.js lets us drive zlib synchronously (checked once). */
export const syncZlibAvailable: boolean = (() => {
  try {
    new SyncZlib('inflate', {}).close();
    return true;
  } catch {
    return false;
  }
})();
