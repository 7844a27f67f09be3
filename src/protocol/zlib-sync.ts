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

export class SyncZlib {
  private readonly stream: ZlibStream;
  private readonly handle: NativeZlib;
  private readonly state: Uint32Array;
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
   * Feeds each input in turn with Z_SYNC_FLUSH and returns everything zlib produced.
   * Throws ZlibOutputLimitError once the output would exceed maxOutput bytes, having
   * allocated at most maxOutput + 1 bytes of output.
   */
  process(inputs: readonly Uint8Array[], maxOutput: number, sizeHint: number): Buffer {
    if (this.closed) throw new ZlibDataError('zlib stream is closed');
    const chunks: Buffer[] = [];
    let total = 0;
    let out = Buffer.allocUnsafe(Math.min(Math.max(sizeHint, 64), OUTPUT_CHUNK, maxOutput + 1));
    let outOff = 0;
    for (const input of inputs) {
      let inOff = 0;
      let inLen = input.length;
      for (;;) {
        const outLen = out.length - outOff;
        this.handle.writeSync(constants.Z_SYNC_FLUSH, input, inOff, inLen, out, outOff, outLen);
        if (this.failure !== null) {
          const message = this.failure;
          this.close();
          throw new ZlibDataError(message);
        }
        const availOut = this.state[0]!;
        const availIn = this.state[1]!;
        const produced = outLen - availOut;
        total += produced;
        if (total > maxOutput) throw new ZlibOutputLimitError(`output exceeds ${maxOutput} bytes`);
        outOff += produced;
        if (availOut !== 0) {
          // Room left but input not consumed: zlib stopped at the end of the stream.
          if (availIn !== 0) this.ended = true;
          break;
        }
        // Output buffer full: keep it and continue into a new one.
        chunks.push(out);
        out = Buffer.allocUnsafe(Math.min(OUTPUT_CHUNK, maxOutput + 1 - total));
        outOff = 0;
        inOff += inLen - availIn;
        inLen = availIn;
      }
    }
    if (chunks.length === 0) return out.subarray(0, outOff);
    chunks.push(out.subarray(0, outOff));
    return Buffer.concat(chunks, total);
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

/** Whether this Node.js lets us drive zlib synchronously (checked once). */
export const syncZlibAvailable: boolean = (() => {
  try {
    new SyncZlib('inflate', {}).close();
    return true;
  } catch {
    return false;
  }
})();
