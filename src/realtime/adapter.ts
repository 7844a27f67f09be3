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
 *   binary data as it is).
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
}

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
  /** reliable: the messages after `since`, in order. conflated: the latest message per key (all of them: a client's offset does not tell which keys it lacks). */
  publications: Publication[];
  /** False when `since` was given but cannot be honoured: other epoch, or history no longer reaches back to it. */
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
  /** Assigns the next offset, stores the message in history per policy, and delivers it to every listening node. */
  publish(topic: string, data: unknown, policy: TopicPolicy, options?: { key?: string; except?: string }): Promise<Publication>;
  /** Reads history after `since` (see HistoryResult). */
  history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult>;
  presenceJoin(topic: string, member: Member): Promise<void>;
  presenceLeave(topic: string, sessionId: string): Promise<void>;
  presence(topic: string): Promise<Member[]>;
  sendToSession(sessionId: string, event: string, data: unknown): Promise<void>;
  broadcast(event: string, data: unknown, except?: string): Promise<void>;
  /** Leaves: presence entries this node added are removed (with leave notifications). */
  close(): Promise<void>;
}

export interface Adapter {
  attach(node: AdapterNode): AdapterLink;
}
