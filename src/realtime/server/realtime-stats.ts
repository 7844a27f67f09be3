import type { WebSocketServerStats } from '../../server/index.js';
import { AdapterCounters } from '../adapters/metered-link.js';

/**
 * What a RealtimeServer (one node) has seen and holds, from stats(). Counters only grow;
 * gauges are values of the moment. `websocket` is the stats of its WebSocketServer
 * (connections, messages and bytes in/out, backpressure, closes by code, handshake failures).
 */
export interface RealtimeServerStats {
  /** Gauge: authenticated sessions on this node. */
  sessions: number;
  /** Gauge: connections that have not completed their Connect yet. */
  sessionsConnecting: number;
  /** Gauge: subscriptions of this node's sessions (a session subscribed to 3 topics counts 3). */
  subscriptions: number;
  /** Gauge: topics with at least one subscriber on this node. */
  topics: number;
  /** Counter: sessions authenticated. */
  sessionsOpened: number;
  /** Counter: Connect messages refused by authenticate (closed with 4001). */
  authFailures: number;
  /** Counter: publications made through this node (rt.publish and client publishes). */
  publishes: number;
  /** Counter: publications sent to sessions: live fan-out, history replayed on subscribe, conflated values sent on drain. */
  deliveries: number;
  /** Counter: publications held back for a congested subscriber of a conflated topic (only the latest per key is sent). */
  conflated: number;
  /** Counter: subscribes with `since` that recovered every missed message. */
  recovered: number;
  /** Counter: subscribes with `since` that could not (other epoch, or history too short). */
  unrecoverable: number;
  /** Counter: incoming messages refused over the session's rate limit. */
  rateLimited: number;
  /** This node's calls to its adapter (broker round trips for Redis and NATS). */
  adapter: {
    /** Counter: calls made (publish, history, listen, presence, direct messages...). */
    requests: number;
    /** Counter: calls that failed. */
    errors: number;
    /** Counter: seconds spent waiting for the adapter's answers, summed over calls. */
    seconds: number;
    /** Gauge: whether the adapter reaches its broker now (always true for the memory adapter). */
    connected: boolean;
  };
  websocket: WebSocketServerStats;
}

/** The mutable counters behind stats(). */
export class RealtimeCounters {
  sessionsOpened = 0;
  authFailures = 0;
  publishes = 0;
  deliveries = 0;
  conflated = 0;
  recovered = 0;
  unrecoverable = 0;
  rateLimited = 0;
  readonly adapter = new AdapterCounters();
}
