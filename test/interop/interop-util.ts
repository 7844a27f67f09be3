/**
 * Small helpers shared by the interop tests (not a test file itself): a queue of events
 * that a test awaits with a deadline, hashing, and a cleanup stack for after hooks.
 */
import { createHash } from 'node:crypto';

/** Collects values as they arrive; next() takes the oldest one, waiting at most ms. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: Array<(v: T) => void> = [];

  push = (v: T): void => {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  };

  get size(): number {
    return this.items.length;
  }

  next(ms: number, what: string): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise<T>((resolve, reject) => {
      const waiter = (v: T) => {
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
export function patternBytes(n: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < n; i++) out[i] = (i * 31) & 0xff;
  return out;
}

/** A stack of cleanup functions, run in reverse order (for afterEach/after hooks). */
export class Cleanup {
  private fns: Array<() => unknown> = [];
  add(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.fns.length > 0) {
      try {
        await this.fns.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
