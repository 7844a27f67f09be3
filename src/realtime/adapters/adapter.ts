/**
 * What the realtime server needs from the outside world to fan out, remember and count:
 * the seam where a broker (Redis, NATS) plugs in. Nothing here assumes one process: every
 * server ("node") attaches its own link, tells the adapter which topics it has local
 * subscribers for, and receives publications, presence changes and direct messages through
 * callbacks, exactly as it would from a broker's subscription. Offsets and epochs are
 * assigned by the adapter, which is the one place that can order a topic's messages.
 *
 * What a broker adapter has to provide, and how the obvious ones would:
 * - ordered offsets per topic: Redis `INCR` + `XADD` in one script (or a stream's own ids),
 *   NATS JetStream sequence numbers; the epoch is stored beside them and renewed when the
 *   stream is recreated;
 * - history bounded by size and age: `XADD MAXLEN` / `XTRIM MINID`, JetStream max-msgs/max-age;
 * - delivery to nodes that listen: pub/sub channels per topic (or a stream consumer);
 * - presence that survives a node's crash: entries owned by a node and expiring unless the
 *   node refreshes them (a hash per node with a TTL), so a dead node's members leave;
 * - data crossing the process boundary: publications are serialized (MessagePack carries
 *   binary data as it is);
 * - a topic's stream (epoch, offset, history, idempotency keys) kept for at least its
 *   history TTL (and idempotency window) after its last publish or subscriber, so that a
 *   quiet topic does not restart under a new epoch;
 * - idempotency keys checked and recorded in the same atomic step as the offset.
 */

/** How a topic behaves; every node passes the same policy for the same topic. */
export interface TopicPolicy {
  /** reliable: every message, kept in history for recovery. conflated: only the latest value per key matters. */
  mode: 'reliable' | 'conflated';
  /** History bounds: at most `size` messages (conflated: keys), none older than `ttl` ms. size 0 keeps none. */
  historySize: number;
  historyTtl: number;
  /** Whether subscribers are tracked as presence members with join/leave notifications. */
  presence: boolean;
  /**
   * How long a publish's idempotency key is remembered, in ms (default
   * DEFAULT_IDEMPOTENCY_WINDOW); at most MAX_IDEMPOTENCY_KEYS keys per topic, the oldest
   * forgotten first. It must exceed the longest time a client keeps retrying a publish.
   */
  idempotencyWindow?: number;
}

/** Default idempotency window of a topic: 2 minutes. */
export const DEFAULT_IDEMPOTENCY_WINDOW = 120_000;
/** Most idempotency keys a topic remembers (the oldest are forgotten first). */
export const MAX_IDEMPOTENCY_KEYS = 10_000;

/** Options of one publish. */
export interface PublishOptions {
  /** Conflated topics: the key whose latest value this is. */
  key?: string;
  /** A session the message must not be delivered to. */
  except?: string;
  /**
   * Publishes at most once per key within the topic's idempotency window (across nodes):
   * a repeat publishes nothing and resolves with the first publish's offset.
   */
  idempotencyKey?: string;
}

/** What publish resolves with: the publication, or for a repeated idempotency key the first publish's offset and epoch with `duplicate: true` (nothing was published). */
export type PublishResult = Publication & { duplicate?: true };

/** One message of a topic, as every node receives it. */
export interface Publication {
  topic: string;
  data: unknown;
  /** Position in the topic's stream: 1, 2, 3... within one epoch. */
  offset: number;
  /** Identifies the stream: when history is lost (restart, expiry of an idle topic), the epoch changes. */
  epoch: string;
  /** Conflated topics: the key whose latest value this is ('' when the topic has one value). */
  key?: string;
  /** A session the message must not be delivered to (the sender, for "everyone except me"). */
  except?: string;
  /** When the adapter accepted it (ms since the epoch), for history ages. */
  time: number;
}

export interface HistoryResult {
  epoch: string;
  /** The topic's latest offset when history was read (0 before its first message). */
  offset: number;
  /**
   * reliable: with `since` honoured, the messages after it; with `since` not honoured,
   * every message of the current epoch history still holds (a contiguous run ending at
   * `offset`); without `since`, none. conflated: the latest message per key (all of them:
   * a client's offset does not tell which keys it lacks). In offset order.
   */
  publications: Publication[];
  /** True only when `since` was given and honoured: same epoch, and every offset after it is in `publications`. */
  recovered: boolean;
}

export interface Member {
  sessionId: string;
  info: unknown;
}

/** The callbacks through which an adapter reaches one node. */
export interface AdapterNode {
  /** A publication on a topic this node listens to. Called in offset order per topic. */
  deliver(publication: Publication): void;
  deliverPresence(topic: string, joined: boolean, member: Member): void;
  /** A direct message for a session, delivered by whichever node holds it (others ignore it). */
  deliverToSession(sessionId: string, event: string, data: unknown): void;
  /** A message for every session on every node. */
  deliverToAll(event: string, data: unknown, except: string | undefined): void;
}

/** One node's connection to the adapter. Every method may cross a network, hence the promises. */
export interface AdapterLink {
  /** Start receiving publications and presence changes of a topic (a broker SUBSCRIBE). */
  listen(topic: string): Promise<void>;
  unlisten(topic: string): Promise<void>;
  /**
   * Assigns the next offset, stores the message in history per policy, and delivers it to
   * every listening node; with an idempotency key seen within the window, does nothing and
   * resolves with the first publish's offset (duplicate: true).
   */
  publish(topic: string, data: unknown, policy: TopicPolicy, options?: PublishOptions): Promise<PublishResult>;
  /** Reads history after `since` (see HistoryResult). */
  history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult>;
  presenceJoin(topic: string, member: Member): Promise<void>;
  presenceLeave(topic: string, sessionId: string): Promise<void>;
  presence(topic: string): Promise<Member[]>;
  sendToSession(sessionId: string, event: string, data: unknown): Promise<void>;
  broadcast(event: string, data: unknown, except?: string): Promise<void>;
  /** Leaves: presence entries this node added are removed (with leave notifications). */
  close(): Promise<void>;
  /**
   * Whether the link can reach its broker now (false while it reconnects). Read by
   * readiness checks (/readyz); an adapter without a connection leaves it undefined.
   */
  readonly connected?: boolean;
}

export interface Adapter {
  attach(node: AdapterNode): AdapterLink;
}
