import { unmaskPacked } from './mask.js';

/**
 * Unmasking large payloads with `bufferutil` (an optional peer dependency: C code shipped
 * as prebuilt binaries, the addon `ws` uses) when it is installed, and the JavaScript loop
 * of mask.ts when it is not. Loaded with a dynamic import, so the core keeps no runtime
 * dependency and nothing fails without it; until the import settles (a few ticks after
 * startup) the JavaScript loop is used. TETHER_NO_BUFFERUTIL=1 in the environment keeps
 * the JavaScript path.
 *
 * The addon unmasks about 3x as fast as the loop, and its mask(), which copies and unmasks
 * in one pass, replaces the reassembly copy plus the loop for payloads that span reads
 * (every 64 KiB message: Node reads at most 64 KiB at a time). Below NATIVE_MIN bytes the
 * call's overhead eats the gain.
 */

interface BufferUtil {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

/**
 * Ranges from this many bytes go to the addon: the crossover measured with
 * scripts/mask-crossover.mjs (at 256 bytes 154 against 170 ns, at 64 KiB 3.2 against
 * 10.5 µs in place and 6.7 against 12.8 µs copied; below 256 bytes a tie).
 */
export const NATIVE_MIN = 256;

let addon: BufferUtil | null = null;
/** The mask key rotated to the phase of the bytes at hand, as the addon wants it (used synchronously, then rewritten). */
const key = Buffer.alloc(4);

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const disabled = env?.['TETHER_NO_BUFFERUTIL'] !== undefined && env['TETHER_NO_BUFFERUTIL'] !== '' && env['TETHER_NO_BUFFERUTIL'] !== '0';
// A variable specifier: the package is optional, so neither the compiler nor a bundler
// should require it to exist.
const specifier = 'bufferutil';

/** Settles once the addon is loaded (true) or known to be unavailable or disabled (false). */
export const nativeMaskReady: Promise<boolean> = disabled
  ? Promise.resolve(false)
  : import(specifier).then(
      (m: { default?: BufferUtil } & Partial<BufferUtil>) => {
        const u = (m.default ?? m) as Partial<BufferUtil>;
        // bufferutil falls back to its own JavaScript loop when its binary does not load:
        // that one is slower than ours, so only a native build is used.
        if (typeof u.mask !== 'function' || typeof u.unmask !== 'function' || !String(u.unmask).includes('[native code]')) return false;
        addon = u as BufferUtil;
        return true;
      },
      () => false,
    );

/** Whether the addon is in use now. */
export function nativeMaskActive(): boolean {
  return addon !== null;
}

function rotatedKey(mask: number, phase: number): Buffer {
  const s = (phase & 3) << 3;
  const m = s === 0 ? mask : ((mask >>> s) | (mask << (32 - s))) >>> 0;
  key[0] = m & 0xff;
  key[1] = (m >>> 8) & 0xff;
  key[2] = (m >>> 16) & 0xff;
  key[3] = m >>> 24;
  return key;
}

/** unmaskPacked for a Buffer, through the addon when it is loaded and the range is large. */
export function unmaskBuffer(buf: Buffer, start: number, end: number, mask: number, phase: number): void {
  if (addon !== null && end - start >= NATIVE_MIN) addon.unmask(buf.subarray(start, end), rotatedKey(mask, phase));
  else unmaskPacked(buf, start, end, mask, phase);
}

/** Copies src[start, end) to dst at `at`, unmasked (src is left as it was only on the addon path). */
export function unmaskCopy(src: Buffer, start: number, end: number, dst: Buffer, at: number, mask: number, phase: number): void {
  if (addon !== null && end - start >= NATIVE_MIN) {
    addon.mask(src.subarray(start, end), rotatedKey(mask, phase), dst, at, end - start);
  } else {
    src.copy(dst, at, start, end);
    unmaskPacked(dst, at, at + (end - start), mask, phase);
  }
}
