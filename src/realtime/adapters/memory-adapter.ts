import type { Adapter, AdapterLink, AdapterNode, HistoryResult, Member, Publication, PublishOptions, PublishResult, TopicPolicy } from './adapter.js';
import { TopicStream } from './topic-stream.js';

interface TopicState {
  stream: TopicStream | null;
  /** Policy of the last publish or read, for sweeping. */
  policy: TopicPolicy | null;
  listeners: Set<MemoryLink>;
  members: Map<string, { member: Member; owner: MemoryLink }>;
  /** Last publish, history read, listen or leave (ms since 1970): an unused stream is kept for its TTL after it. */
  lastActive: number;
}

/** How often idle topics are swept for expired history, in ms. */
const SWEEP_INTERVAL = 10_000;

/**
 * The embedded adapter: every node attached to the same MemoryAdapter shares topics,
 * history and presence, as nodes attached to the same broker would. Delivery is
 * synchronous and in publish order. Several RealtimeServers in one process can share one
 * (that is how the multi-node behaviour is tested); separate processes need a broker adapter.
 */
export class MemoryAdapter implements Adapter {
  /** @internal */ readonly topics = new Map<string, TopicState>();
  /** @internal */ readonly links = new Set<MemoryLink>();
  private sweeper: ReturnType<typeof setInterval> | null = null;

  attach(node: AdapterNode): AdapterLink {
    const link = new MemoryLink(this, node);
    this.links.add(link);
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL);
      (this.sweeper as { unref?: () => void }).unref?.();
    }
    return link;
  }

  /** @internal */
  topic(name: string, now = Date.now()): TopicState {
    let t = this.topics.get(name);
    if (t === undefined) this.topics.set(name, (t = { stream: null, policy: null, listeners: new Set(), members: new Map(), lastActive: now }));
    else t.lastActive = now;
    return t;
  }

  /**
   * @internal Forgets a topic nobody uses any more once its stream has outlived its TTL
   * (history TTL or idempotency window, the longer) since its last activity; its next
   * stream gets a new epoch. Until then a quiet topic keeps its epoch and offset, so a
   * subscriber that comes back recovers even if nothing was published.
   */
  release(name: string, now = Date.now()): void {
    const t = this.topics.get(name);
    if (t === undefined || t.listeners.size > 0 || t.members.size > 0) return;
    if (t.stream === null || t.policy === null || now >= t.stream.keepUntil(t.lastActive, t.policy)) this.topics.delete(name);
  }

  /** @internal */
  detach(link: MemoryLink): void {
    this.links.delete(link);
    if (this.links.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Drops expired history of every topic and forgets unused topics whose stream outlived its TTL. */
  sweep(now: number): void {
    for (const [name, t] of this.topics) {
      if (t.stream && t.policy) t.stream.read(t.policy, now);
      this.release(name, now);
    }
  }
}

class MemoryLink implements AdapterLink {
  private closed = false;
  constructor(
    private readonly hub: MemoryAdapter,
    private readonly node: AdapterNode,
  ) {}

  async listen(topic: string): Promise<void> {
    this.hub.topic(topic).listeners.add(this);
  }

  async unlisten(topic: string): Promise<void> {
    const t = this.hub.topics.get(topic);
    if (t === undefined) return;
    t.listeners.delete(this);
    t.lastActive = Date.now();
    this.hub.release(topic);
  }

  /** Synchronous under the promise: delivery to every node happens before publish returns. */
  publish(topic: string, data: unknown, policy: TopicPolicy, options?: PublishOptions): Promise<PublishResult> {
    const now = Date.now();
    const t = this.hub.topic(topic, now);
    const stream = (t.stream ??= new TopicStream());
    t.policy = policy;
    const idem = options?.idempotencyKey;
    if (idem !== undefined) {
      const offset = stream.recall(idem, now, policy);
      if (offset !== undefined) return Promise.resolve({ topic, data, offset, epoch: stream.epoch, time: now, duplicate: true });
    }
    const pub: Publication = { topic, data, offset: ++stream.offset, epoch: stream.epoch, time: now };
    if (options?.key !== undefined) pub.key = options.key;
    if (options?.except !== undefined) pub.except = options.except;
    if (idem !== undefined) stream.remember(idem, pub.offset, now);
    stream.append(pub, policy);
    for (const l of t.listeners) l.node.deliver(pub);
    return Promise.resolve(pub);
  }

  async history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult> {
    const t = this.hub.topic(topic);
    t.policy = policy;
    return (t.stream ??= new TopicStream()).read(policy, Date.now(), since);
  }

  async presenceJoin(topic: string, member: Member): Promise<void> {
    const t = this.hub.topic(topic);
    const had = t.members.get(member.sessionId);
    t.members.set(member.sessionId, { member, owner: this });
    if (had === undefined) for (const l of t.listeners) l.node.deliverPresence(topic, true, member);
  }

  async presenceLeave(topic: string, sessionId: string): Promise<void> {
    const t = this.hub.topics.get(topic);
    const had = t?.members.get(sessionId);
    if (t === undefined || had === undefined) return;
    t.members.delete(sessionId);
    t.lastActive = Date.now();
    for (const l of t.listeners) l.node.deliverPresence(topic, false, had.member);
    this.hub.release(topic);
  }

  async presence(topic: string): Promise<Member[]> {
    const t = this.hub.topics.get(topic);
    return t ? [...t.members.values()].map((m) => m.member) : [];
  }

  async sendToSession(sessionId: string, event: string, data: unknown): Promise<void> {
    for (const l of this.hub.links) l.node.deliverToSession(sessionId, event, data);
  }

  async broadcast(event: string, data: unknown, except?: string): Promise<void> {
    for (const l of this.hub.links) l.node.deliverToAll(event, data, except);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [name, t] of this.hub.topics) {
      t.listeners.delete(this);
      for (const [id, m] of t.members) if (m.owner === this) await this.presenceLeave(name, id);
      this.hub.release(name);
    }
    this.hub.detach(this);
  }
}
