import type { AdapterLink } from './adapter.js';

/** What a node counts of its adapter's work, for stats() and /metrics. */
export class AdapterCounters {
  /** Calls made to the adapter (each may be a broker round trip). */
  requests = 0;
  /** Calls that failed (broker gone, timeout, refused command). */
  errors = 0;
  /** Time spent waiting for the adapter's answers, summed over calls, in seconds. */
  seconds = 0;
}

const METHODS = ['listen', 'unlisten', 'publish', 'history', 'presenceJoin', 'presenceLeave', 'presence', 'sendToSession', 'broadcast'] as const;

/**
 * Wraps a link so that every call is counted and timed: how many requests the node made of
 * its broker, how many failed, and how long they took in total. One `performance.now()`
 * pair per call; close() and `connected` pass through to the link. Other fields of the link
 * (a node id) stay readable through the prototype.
 */
export function meteredLink(link: AdapterLink, counters: AdapterCounters): AdapterLink {
  const metered = Object.create(link) as AdapterLink;
  for (const name of METHODS) {
    const call = (link[name] as (...args: unknown[]) => Promise<unknown>).bind(link);
    // defineProperty, not assignment: a link may inherit read-only methods.
    const value = (...args: unknown[]): Promise<unknown> => {
      counters.requests++;
      const start = performance.now();
      let pending: Promise<unknown>;
      try {
        pending = call(...args);
      } catch (err) {
        counters.errors++;
        return Promise.reject(err);
      }
      return pending.then(
        (v) => {
          counters.seconds += (performance.now() - start) / 1000;
          return v;
        },
        (err: unknown) => {
          counters.seconds += (performance.now() - start) / 1000;
          counters.errors++;
          throw err;
        },
      );
    };
    Object.defineProperty(metered, name, { value, enumerable: true });
  }
  // Bound to the link itself: a method running with the wrapper as `this` would set its fields on the wrapper.
  Object.defineProperty(metered, 'close', { value: () => link.close(), enumerable: true });
  Object.defineProperty(metered, 'connected', { get: () => link.connected });
  return metered;
}
