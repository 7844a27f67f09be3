import { validateDeflateOptions, type DeflateAgreement, type DeflateClientOptions, type DeflateServerOptions } from './permessage-deflate-negotiation.js';
import { SyncZlib, syncZlibAvailable } from './zlib-sync.js';

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

  /** The compressed payload of one message (without the 00 00 ff ff tail). */
  compress(data: Uint8Array): Buffer {
    const z = this.outTakeover ? (this.deflater ??= this.makeDeflater()) : sharedCodec(this.outgoingKey, () => this.makeDeflater());
    const out = z.process([data], Number.MAX_SAFE_INTEGER, data.length + 64);
    if (!this.outTakeover) z.reset();
    const n = out.length;
    if (n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff) return out.subarray(0, n - 4);
    // zlib emits nothing for an empty message with nothing pending; the RFC's form is one
    // empty block header, 0x00 (RFC 7692 §7.2.3.6).
    return n === 0 ? Buffer.from(EMPTY_BLOCK) : out;
  }

  /**
   * Inflates one message. Throws ZlibOutputLimitError beyond maxPayload (before
   * allocating more than that) and ZlibDataError for data that is not valid deflate.
   */
  decompress(data: Uint8Array, maxPayload: number): Buffer {
    const z = this.inTakeover ? (this.inflater ??= this.makeInflater()) : sharedCodec(`i:${this.inBits}`, () => this.makeInflater());
    try {
      return z.process([data, TAIL], maxPayload, data.length * 4 + 64);
    } finally {
      if (!this.inTakeover) {
        // A shared state must start clean for the next connection, whatever happened here.
        if (z.closed) shared.delete(`i:${this.inBits}`);
        else z.reset();
      } else if (z.ended) {
        // The peer ended its DEFLATE stream with a BFINAL block (RFC 7692 §7.2.3.4): zlib
        // would ignore every later message (delivering them empty). Its next message
        // starts a new stream.
        z.reset();
      }
    }
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

/** permessage-deflate settings as a server or client option: `true` or an object. */
export interface PerMessageDeflateOptions {
  /**
   * Server: reset the compressor after every message (default true on the server: one
   * compressor shared by all connections). Client: require the server to do so.
   */
  serverNoContextTakeover?: boolean;
  /** Server: ask clients to reset theirs. Client: promise to reset ours. */
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
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
