/** What the iterator needs from its subscription: its messages, errors, and its end. */
export interface IterableSubscription<T> {
  on(event: 'message', fn: (data: T) => void): () => void;
  on(event: 'error', fn: (err: Error) => void): () => void;
  /** Called once the subscription ends: unsubscribe(), or the server ended it. */
  onEnd(fn: () => void): () => void;
  readonly state: 'subscribing' | 'subscribed' | 'unsubscribed';
}

/**
 * `for await (const msg of subscription)`: yields the topic's messages in order, as the
 * subscription delivers them (recovered after reconnects, each once). The loop ends when the
 * subscription ends (unsubscribe(), or the server ended it) and throws if subscribing is
 * refused. Messages that arrive while the loop body runs wait in order in the iterator.
 * Leaving the loop stops listening; it does not unsubscribe.
 */
export function iterateSubscription<T>(sub: IterableSubscription<T>): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let waiter: { resolve(r: IteratorResult<T>): void; reject(err: Error): void } | null = null;
  let ended = sub.state === 'unsubscribed';
  let failure: Error | null = null;
  const offs: Array<() => void> = [];

  const settle = (): void => {
    const w = waiter;
    if (w === null) return;
    waiter = null;
    if (failure !== null) {
      w.reject(failure);
      failure = null;
    } else {
      w.resolve({ value: undefined, done: true });
    }
  };
  const stop = (): void => {
    ended = true;
    for (const off of offs.splice(0)) off();
  };
  if (!ended) {
    offs.push(
      sub.on('message', (data) => {
        if (waiter !== null) {
          const w = waiter;
          waiter = null;
          w.resolve({ value: data, done: false });
        } else {
          queue.push(data);
        }
      }),
      sub.on('error', (err) => {
        // Only a refused first subscribe ends the subscription; later errors (a failed resync) do not.
        if (sub.state !== 'unsubscribed') return;
        failure = err;
        stop();
        settle();
      }),
      sub.onEnd(() => {
        stop();
        settle();
      }),
    );
  }

  return {
    next(): Promise<IteratorResult<T>> {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (failure !== null) {
        const err = failure;
        failure = null; // Thrown once; the iterator is then done.
        return Promise.reject(err);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      if (waiter !== null) return Promise.reject(new Error('next() called again before the previous call settled'));
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      stop();
      queue.length = 0;
      failure = null;
      settle();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
