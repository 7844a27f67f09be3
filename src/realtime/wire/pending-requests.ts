import { ErrorCode, MAX_ID } from './wire-protocol.js';
import { RealtimeError } from './realtime-error.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their Reply or Error, by id, each with its own timeout. Used by both
 * sides (the server asks clients too). Browser-safe.
 */
export class PendingRequests {
  private readonly table = new Map<number, Pending>();
  private nextId = 1;

  get size(): number {
    return this.table.size;
  }

  /** Registers a request and returns its id and the promise of its result. */
  open(timeoutMs: number, what: string): { id: number; result: Promise<unknown> } {
    let id = this.nextId;
    while (this.table.has(id)) id = id >= MAX_ID ? 1 : id + 1;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    let entry!: Pending;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.table.delete(id);
        reject(new RealtimeError(ErrorCode.Timeout, `${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      entry = { resolve, reject, timer };
    });
    this.table.set(id, entry);
    return { id, result };
  }

  resolve(id: number, value: unknown): boolean {
    const p = this.take(id);
    if (p) p.resolve(value);
    return p !== undefined;
  }

  reject(id: number, err: Error): boolean {
    const p = this.take(id);
    if (p) p.reject(err);
    return p !== undefined;
  }

  has(id: number): boolean {
    return this.table.has(id);
  }

  /** Fails the outstanding requests whose id passes the test. */
  rejectWhere(test: (id: number) => boolean, make: () => Error): void {
    for (const id of [...this.table.keys()]) if (test(id)) this.reject(id, make());
  }

  /** Fails every outstanding request (the connection is gone). */
  rejectAll(make: () => Error): void {
    const all = [...this.table.values()];
    this.table.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(make());
    }
  }

  private take(id: number): Pending | undefined {
    const p = this.table.get(id);
    if (p === undefined) return undefined;
    this.table.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
