/**
 * What an AsyncQueue tells its producer. Both optional.
 */
export interface AsyncQueueHooks {
  /** Values wait for the consumer (true), or no longer do (false): a producer may slow down meanwhile. */
  backlog?(waiting: boolean): void;
  /** The consumer left (return(), as `break` out of `for await` does): stop producing. */
  stop?(): void;
}

/**
 * A push-fed async iterator: the producer calls push() and end(), the consumer iterates with
 * `for await`. Values are yielded in order, each once; after end() the consumer still gets
 * the values that wait, then the failure (thrown once) or the end. One next() at a time.
 * No I/O and no imports, so that the browser bundle may use it too.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve(r: IteratorResult<T>): void; reject(err: Error): void } | null = null;
  private ended = false;
  private failure: Error | null = null;

  constructor(private readonly hooks: AsyncQueueHooks = {}) {}

  /** Hands a value to the waiting consumer, or queues it. Ignored after end(). */
  push(value: T): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ value, done: false });
      return;
    }
    this.queue.push(value);
    if (this.queue.length === 1) this.hooks.backlog?.(true);
  }

  /** No more values: the consumer gets those that wait, then `failure` (if given) or the end. */
  end(failure?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (failure !== undefined) this.failure = failure;
    this.settle();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.queue.length === 0) this.hooks.backlog?.(false);
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== null) {
      const err = this.failure;
      this.failure = null; // Thrown once; the iterator is then done.
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== null) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The consumer leaves: waiting values are dropped and the producer is told to stop. */
  return(): Promise<IteratorResult<T>> {
    const wasEnded = this.ended;
    this.ended = true;
    const hadBacklog = this.queue.length > 0;
    this.queue.length = 0;
    this.failure = null;
    if (hadBacklog) this.hooks.backlog?.(false);
    if (!wasEnded) this.hooks.stop?.();
    this.settle();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A waiting next() learns that the queue ended. */
  private settle(): void {
    const w = this.waiter;
    if (w === null) return;
    this.waiter = null;
    if (this.failure !== null) {
      w.reject(this.failure);
      this.failure = null;
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }
}
