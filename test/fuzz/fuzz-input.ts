/**
 * Inputs for the fuzz targets. Every target takes plain bytes (so that the corpus is a
 * folder of files and any input can be mutated the same way); a target reads its choices
 * (role, limits, how to cut the stream into chunks) from the front of the input with a
 * FuzzInput, the way libFuzzer's FuzzedDataProvider does. The generators build bytes with
 * structure (frames, heads, MessagePack) so that runs get past the first checks, and mix
 * them with mutations of corpus entries and plain noise.
 */
import fc from 'fast-check';

/** Reads choices from the front of an input; past its end every read gives 0. */
export class FuzzInput {
  private pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos++]! : 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    const v = (this.byte() << 8) | this.byte();
    return n <= 1 ? 0 : v % n;
  }

  bool(): boolean {
    return (this.byte() & 1) === 1;
  }

  /** The next n bytes (fewer at the end of the input). */
  take(n: number): Uint8Array {
    const r = this.bytes.subarray(Math.min(this.pos, this.bytes.length), Math.min(this.pos + n, this.bytes.length));
    this.pos += r.length;
    return r;
  }

  /** The bytes not read yet. */
  rest(): Uint8Array {
    const r = this.bytes.subarray(Math.min(this.pos, this.bytes.length));
    this.pos = this.bytes.length;
    return r;
  }
}

/** Cuts `data` into chunks at pseudo-random points drawn from `seed` (1 chunk when mode 0, single bytes when mode 1). */
export function chunked(data: Uint8Array, mode: number, seed: number): Uint8Array[] {
  if (mode === 0 || data.length === 0) return [data];
  if (mode === 1) return Array.from(data, (_, i) => data.subarray(i, i + 1));
  const out: Uint8Array[] = [];
  let x = seed | 1;
  for (let pos = 0; pos < data.length; ) {
    // xorshift: cheap, deterministic for a given seed
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const n = 1 + ((x >>> 0) % (mode === 2 ? 16 : 4096));
    out.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** Byte-level mutations of a seed: flips, overwrites, insertions, deletions, duplications. */
export function mutation(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) return fc.uint8Array({ maxLength: 256 });
  return fc
    .tuple(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 64 })), { minLength: 1, maxLength: 8 }),
    )
    .map(([i, edits]) => {
      let b = Buffer.from(seeds[i]!);
      for (const [kind, at, value, len] of edits) {
        const p = b.length === 0 ? 0 : at % b.length;
        if (kind === 0 && b.length > 0) b[p] = b[p]! ^ (1 << (value & 7));
        else if (kind === 1 && b.length > 0) b[p] = value;
        else if (kind === 2) b = Buffer.concat([b.subarray(0, p), Buffer.alloc(1 + (len & 7), value), b.subarray(p)]);
        else if (kind === 3) b = Buffer.concat([b.subarray(0, p), b.subarray(p + len)]);
        else b = Buffer.concat([b.subarray(0, p + len), b.subarray(p)]);
      }
      return new Uint8Array(b);
    });
}
