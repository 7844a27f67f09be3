import { validateDeflateOptions, type DeflateAgreement, type DeflateClientOptions, type DeflateServerOptions } from './permessage-deflate-negotiation.js';
import { SyncZlib, syncZlibAvailable, ZlibRun } from './zlib-sync.js';

/**
 * permessage-deflate (RFC 7692 §7.2) for one connection: compress outgoing messages and
 * inflate incoming ones, synchronously.
 *
 * A direction without context takeover has no state between messages, so it uses a zlib
 * state shared by every connection with the same parameters (reset after each message):
 * such connections cost no zlib memory of their own, and a broadcast is compressed once.
 * A direction with context takeover gets its own state, allocated at its first message
 * and freed when the connection closes.
 */

export interface DeflateTuning {
  /** Messages shorter than this are sent uncompressed: bytes for binary data, UTF-16 units for strings (no encoding pass just to decide). */
  threshold: number;
  /** zlib compression level 0-9. */
  level: number;
  /** zlib memLevel 1-9: hash table size of the compressor. */
  memLevel: number;
}

export const DEFAULT_DEFLATE_TUNING: DeflateTuning = { threshold: 128, level: 1, memLevel: 8 };

/** Every compressed message ends with an empty stored block: 00 00 ff ff (RFC 7692 §7.2.1). */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_BLOCK = [0x00];

/**
 * zlib cannot make a raw deflate stream with an 8-bit window and uses 9 instead. Its
 * back-references reach at most 2^9 - 262 = 250 bytes, which an 8-bit (256-byte) window
 * inflates correctly, so a negotiated 8 is honoured by compressing with 9.
 */
function deflateWindow(bits: number): number {
  return bits < 9 ? 9 : bits;
}

const shared = new Map<string, SyncZlib>();

function sharedCodec(key: string, make: () => SyncZlib): SyncZlib {
  let codec = shared.get(key);
  if (codec === undefined || codec.closed) {
    codec = make();
    shared.set(key, codec);
  }
  return codec;
}

export class PerMessageDeflate {
  readonly threshold: number;
  /** The compressor is shared (no context takeover outgoing): compressed frames may be reused across connections. */
  readonly sharedOutgoing: boolean;
  private readonly outTakeover: boolean;
  private readonly inTakeover: boolean;
  private readonly outBits: number;
  private readonly inBits: number;
  private readonly tuning: DeflateTuning;
  private deflater: SyncZlib | null = null;
  private inflater: SyncZlib | null = null;

  constructor(readonly agreement: DeflateAgreement, role: 'server' | 'client', tuning: DeflateTuning = DEFAULT_DEFLATE_TUNING) {
    const server = role === 'server';
    this.outTakeover = !(server ? agreement.serverNoContextTakeover : agreement.clientNoContextTakeover);
    this.inTakeover = !(server ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover);
    this.outBits = deflateWindow(server ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits);
    this.inBits = server ? agreement.clientMaxWindowBits : agreement.serverMaxWindowBits;
    this.tuning = tuning;
    this.threshold = tuning.threshold;
    this.sharedOutgoing = !this.outTakeover;
  }

  /** Whether this connection holds (or will hold) zlib state of its own. */
  get ownsContext(): boolean {
    return this.outTakeover || this.inTakeover;
  }

  /** A key identifying the shared compressor, equal for connections that produce identical frames. */
  get outgoingKey(): string {
    return `d:${this.outBits}:${this.tuning.level}:${this.tuning.memLevel}`;
  }

  /** The compressed payload of one message (without the 00 00 ff ff tail), in one go. */
  compress(data: Uint8Array): Buffer {
    const run = this.startCompress(data);
    run.step(Infinity);
    return run.result();
  }

  /**
   * Inflates one message in one go. Throws ZlibOutputLimitError beyond maxPayload (before
   * allocating more than that) and ZlibDataError for data that is not valid deflate.
   */
  decompress(data: Uint8Array, maxPayload: number): Buffer {
    const run = this.startDecompress(data, maxPayload);
    run.step(Infinity);
    return run.result();
  }

  /** Starts compressing one message; drive it with step() (see CodecRun). */
  startCompress(data: Uint8Array): CodecRun {
    return new CodecRun(this, [data], Number.MAX_SAFE_INTEGER, data.length + 64, true);
  }

  /** Starts inflating one message within maxPayload; drive it with step() (see CodecRun). */
  startDecompress(data: Uint8Array, maxPayload: number): CodecRun {
    return new CodecRun(this, [data, TAIL], maxPayload, data.length * 4 + 64, false);
  }

  /** @internal The shared table's key for one direction, or null when this connection has its own state. */
  sharedKey(compressing: boolean): string | null {
    if (compressing) return this.outTakeover ? null : this.outgoingKey;
    return this.inTakeover ? null : `i:${this.inBits}`;
  }

  /** @internal The zlib state for one direction (`key` from sharedKey). */
  zlibFor(compressing: boolean, key: string | null): SyncZlib {
    if (compressing) return key === null ? (this.deflater ??= this.makeDeflater()) : sharedCodec(key, () => this.makeDeflater());
    return key === null ? (this.inflater ??= this.makeInflater()) : sharedCodec(key, () => this.makeInflater());
  }

  /** Frees the connection's own zlib state. */
  close(): void {
    this.deflater?.close();
    this.inflater?.close();
    this.deflater = this.inflater = null;
  }

  private makeDeflater(): SyncZlib {
    return new SyncZlib('deflate', { windowBits: this.outBits, level: this.tuning.level, memLevel: this.tuning.memLevel });
  }

  private makeInflater(): SyncZlib {
    return new SyncZlib('inflate', { windowBits: this.inBits });
  }
}

/**
 * One message being compressed or inflated. step() works on it within a budget and may be
 * called again later; the zlib state it uses is set right when it finishes, fails or is
 * cancelled. A run that outlives its first step on a shared state takes that state out of
 * the shared table until it finishes, so that other connections meanwhile get a fresh one.
 */
export class CodecRun {
  private run: ZlibRun | null = null;
  /** The shared table's key, when the state is shared (no context takeover). */
  private sharedKey: string | null = null;
  private done = false;
  private detached = false;

  constructor(
    private readonly codec: PerMessageDeflate,
    private readonly inputs: Uint8Array[],
    private readonly maxOutput: number,
    private readonly sizeHint: number,
    private readonly compressing: boolean,
  ) {}

  /** Bytes of work done by the last step. */
  get work(): number {
    return this.run?.work ?? 0;
  }

  /** Works within `budget` bytes; true once done. Throws ZlibDataError or ZlibOutputLimitError. */
  step(budget: number): boolean {
    let finished: boolean;
    try {
      // The state is taken at the first step: a run waiting for its turn holds none.
      if (this.run === null) {
        const key = (this.sharedKey = this.codec.sharedKey(this.compressing));
        this.run = new ZlibRun(this.codec.zlibFor(this.compressing, key), this.inputs, this.maxOutput, this.sizeHint);
      }
      finished = this.run.step(budget);
    } catch (err) {
      this.release();
      throw err;
    }
    if (finished) {
      this.release();
      return true;
    }
    if (this.sharedKey !== null && !this.detached) {
      if (shared.get(this.sharedKey) === this.run!.zlib) shared.delete(this.sharedKey);
      this.detached = true;
    }
    return false;
  }

  /** The compressed payload (without the 00 00 ff ff tail) or the inflated message. */
  result(): Buffer {
    const out = this.run!.result();
    if (!this.compressing) return out;
    const n = out.length;
    if (n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff) return out.subarray(0, n - 4);
    // zlib emits nothing for an empty message with nothing pending; the RFC's form is one
    // empty block header, 0x00 (RFC 7692 §7.2.3.6).
    return n === 0 ? Buffer.from(EMPTY_BLOCK) : out;
  }

  /** Abandons the run (the connection is gone): its zlib state is set right. */
  cancel(): void {
    this.release();
  }

  private release(): void {
    if (this.done) return;
    this.done = true;
    if (this.run === null) return;
    const z = this.run.zlib;
    const key = this.sharedKey;
    if (key !== null) {
      // A shared state must start clean for the next message, whatever happened here.
      if (z.closed) {
        if (shared.get(key) === z) shared.delete(key);
      } else {
        z.reset();
        if (this.detached) {
          if (shared.has(key)) z.close();
          else shared.set(key, z);
        }
      }
    } else if (z.ended) {
      // The peer ended its DEFLATE stream with a BFINAL block (RFC 7692 §7.2.3.4): zlib
      // would ignore every later message (delivering them empty). Its next message
      // starts a new stream.
      z.reset();
    }
  }
}

/** permessage-deflate settings as a server or client option: `true` or an object. */
export interface PerMessageDeflateOptions {
  /**
   * Server: reset the compressor after every message (default true on the server: one
   * compressor shared by all connections). Client: require the server to do so.
   */
  serverNoContextTakeover?: boolean;
  /** Server: ask clients to reset theirs. Client: promise to reset ours. Default false. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window, 8-15 bits. Default: 15 (not negotiated). */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window, 8-15 bits. Default: 15 (a client offers the parameter without a value, as browsers do). */
  clientMaxWindowBits?: number;
  /** Messages shorter than this are sent uncompressed (bytes; string length for text). Default 128. */
  threshold?: number;
  /** zlib level 0-9. Default 1: small messages gain little from more effort. */
  level?: number;
  /** zlib memLevel 1-9. Default 8. */
  memLevel?: number;
  /**
   * Server only: most connections holding zlib contexts of their own (about 300 KB each
   * with the default windows). Past it, new connections are asked to use no context
   * takeover in both directions, which costs them no zlib memory. Default 1000.
   */
  maxContexts?: number;
}

export interface ResolvedDeflateOptions {
  negotiation: DeflateServerOptions & DeflateClientOptions;
  tuning: DeflateTuning;
  maxContexts: number;
}

/** Validates a perMessageDeflate option (TypeError naming the field); null when off. */
export function resolveDeflateOptions(value: unknown, optionName: string, role: 'server' | 'client'): ResolvedDeflateOptions | null {
  if (value === undefined || value === false) return null;
  if (value !== true) validateDeflateOptions(value, optionName);
  const o = (value === true ? {} : value) as PerMessageDeflateOptions;
  if (!syncZlibAvailable) throw new Error(`${optionName}: this Node.js version does not allow synchronous zlib use`);
  return {
    negotiation: {
      // A server compresses without context takeover unless told otherwise: one shared
      // compressor, no zlib memory per connection for outgoing data, broadcasts compressed once.
      serverNoContextTakeover: o.serverNoContextTakeover ?? (role === 'server' ? true : undefined),
      clientNoContextTakeover: o.clientNoContextTakeover,
      serverMaxWindowBits: o.serverMaxWindowBits,
      clientMaxWindowBits: o.clientMaxWindowBits,
    },
    tuning: {
      threshold: o.threshold ?? DEFAULT_DEFLATE_TUNING.threshold,
      level: o.level ?? DEFAULT_DEFLATE_TUNING.level,
      memLevel: o.memLevel ?? DEFAULT_DEFLATE_TUNING.memLevel,
    },
    maxContexts: o.maxContexts ?? 1000,
  };
}
