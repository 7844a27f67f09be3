/** A minimal listener registry (browser-safe, no EventTarget objects per call). */
export class Listeners<F extends (...args: any[]) => void> {
  private list: F[] = [];

  add(fn: F): () => void {
    if (typeof fn !== 'function') throw new TypeError('listener must be a function');
    this.list.push(fn);
    return () => this.remove(fn);
  }

  remove(fn: F): void {
    this.list = this.list.filter((f) => f !== fn);
  }

  get size(): number {
    return this.list.length;
  }

  /** Calls every listener; one that throws does not stop the others (its error is rethrown asynchronously). */
  emit(...args: Parameters<F>): void {
    for (const fn of this.list) {
      try {
        fn(...args);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, base * factor^attempt)], at least `base / 2`. */
export function backoffDelay(attempt: number, base: number, max: number, factor: number, random = Math.random): number {
  const ceiling = Math.min(max, base * factor ** Math.min(attempt, 30));
  return Math.max(base / 2, random() * ceiling);
}
