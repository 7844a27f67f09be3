// The protocol's queue file alone (no index): it imports nothing, so the browser bundle can take it.
import { AsyncQueue } from '../../protocol/async-queue.js';

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
  const offs: Array<() => void> = [];
  const stop = (): void => {
    for (const off of offs.splice(0)) off();
  };
  const queue = new AsyncQueue<T>({ stop });
  if (sub.state === 'unsubscribed') {
    queue.end();
    return queue;
  }
  offs.push(
    sub.on('message', (data) => queue.push(data)),
    sub.on('error', (err) => {
      // Only a refused first subscribe ends the subscription; later errors (a failed resync) do not.
      if (sub.state !== 'unsubscribed') return;
      stop();
      queue.end(err);
    }),
    sub.onEnd(() => {
      stop();
      queue.end();
    }),
  );
  return queue;
}
