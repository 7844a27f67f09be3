import type { HistoryResult, Publication, TopicPolicy } from './adapter.js';

/** How long a gap may stay open before it is filled from history (a message from another node may still be on its way). */
const GAP_WAIT = 100;

interface TopicState {
  epoch: string | undefined;
  /** The last offset delivered. */
  offset: number;
  /** Publications that came ahead of a missing one, by offset. */
  pending: Map<number, Publication>;
  policy: TopicPolicy | undefined;
  timer: ReturnType<typeof setTimeout> | null;
  filling: boolean;
  /** Until base(): publications wait, the position they follow is not known yet. */
  basing: boolean;
  /** Whether base() gave the position (else the first publication seen gives it). */
  based: boolean;
}

/**
 * Puts a topic's publications back in offset order on one node, for brokers that do not
 * order them across publishers (NATS: each node sends the publication it stored, so two
 * nodes' messages may cross on the way). A publication that comes after a gap waits; when
 * the gap stays open for GAP_WAIT ms (or after a reconnection), what is missing is read
 * from the topic's history. What history no longer holds is skipped: the subscribers then
 * see the gap in the offsets and recover or are told it is unrecoverable, never silently.
 */
export class TopicOrder {
  private readonly topics = new Map<string, TopicState>();
  private closed = false;

  constructor(
    private readonly deliver: (p: Publication) => void,
    private readonly history: (topic: string, policy: TopicPolicy, since: { epoch: string; offset: number }) => Promise<HistoryResult>,
  ) {}

  listen(topic: string): void {
    if (!this.topics.has(topic)) this.topics.set(topic, { epoch: undefined, offset: 0, pending: new Map(), policy: undefined, timer: null, filling: false, basing: true, based: false });
  }

  /**
   * Where the topic stood when this node started listening: its stream's epoch and last
   * offset (epoch undefined and offset 0: no stream yet, so it starts at 1), or null when
   * that could not be read (then the first publication seen gives the position). What came
   * meanwhile and is not after that position is dropped: history, read after listening,
   * covers it.
   */
  base(topic: string, position: { epoch: string | undefined; offset: number } | null): void {
    const t = this.topics.get(topic);
    if (t === undefined || !t.basing) return;
    t.basing = false;
    const waiting = [...t.pending.values()].sort((a, b) => a.offset - b.offset);
    t.pending.clear();
    if (position !== null) {
      t.based = true;
      t.epoch = position.epoch;
      t.offset = position.offset;
    }
    for (const p of waiting) this.receive(p);
  }

  unlisten(topic: string): void {
    const t = this.topics.get(topic);
    if (t?.timer) clearTimeout(t.timer);
    this.topics.delete(topic);
  }

  /** The topic's policy, once this node knows it (needed to read history). */
  policy(topic: string, policy: TopicPolicy): void {
    const t = this.topics.get(topic);
    if (t !== undefined) t.policy = policy;
  }

  receive(p: Publication): void {
    const t = this.topics.get(p.topic);
    if (t === undefined) return;
    if (t.basing) {
      t.pending.set(p.offset, p);
      return;
    }
    if (t.epoch !== p.epoch) {
      if (t.epoch === undefined && t.based) {
        // No stream when this node started listening: it starts at 1.
        t.offset = 0;
      } else if (t.epoch === undefined) {
        // The first publication this node sees of the topic: where it stands.
        t.offset = p.offset - 1;
      } else {
        // A new stream: it starts at 1; what was pending belonged to the old one.
        t.offset = 0;
        t.pending.clear();
      }
      t.epoch = p.epoch;
    }
    if (p.offset <= t.offset || t.pending.has(p.offset)) return;
    if (p.offset === t.offset + 1 && !t.filling) {
      this.emit(t, p);
      this.drain(t);
      return;
    }
    t.pending.set(p.offset, p);
    this.schedule(p.topic, t, GAP_WAIT);
  }

  /** After a reconnection: every topic reads what it missed. */
  catchUpAll(): void {
    for (const [topic, t] of this.topics) this.schedule(topic, t, 0);
  }

  close(): void {
    this.closed = true;
    for (const t of this.topics.values()) if (t.timer) clearTimeout(t.timer);
    this.topics.clear();
  }

  private emit(t: TopicState, p: Publication): void {
    t.offset = p.offset;
    this.deliver(p);
  }

  /** Delivers pending publications that are now next in line. */
  private drain(t: TopicState): void {
    for (let next = t.pending.get(t.offset + 1); next !== undefined; next = t.pending.get(t.offset + 1)) {
      t.pending.delete(next.offset);
      this.emit(t, next);
    }
  }

  private schedule(topic: string, t: TopicState, delay: number): void {
    if (t.timer !== null || t.filling || this.closed) return;
    t.timer = setTimeout(() => {
      t.timer = null;
      void this.fill(topic, t);
    }, delay);
  }

  private async fill(topic: string, t: TopicState): Promise<void> {
    if (this.topics.get(topic) !== t || t.epoch === undefined) return;
    t.filling = true;
    try {
      if (t.policy !== undefined) {
        const h = await this.history(topic, t.policy, { epoch: t.epoch, offset: t.offset });
        if (this.topics.get(topic) !== t) return;
        if (h.epoch !== t.epoch) {
          t.epoch = h.epoch;
          t.offset = 0;
          t.pending.clear();
        }
        for (const p of h.publications) if (p.offset > t.offset) this.emit(t, p);
        for (const offset of [...t.pending.keys()]) if (offset <= t.offset) t.pending.delete(offset);
      }
    } catch {
      // The broker is away: the reconnection catches up.
      t.filling = false;
      return;
    }
    t.filling = false;
    this.drain(t);
    // What history did not hold: skipped, in order (subscribers see the gap in the offsets).
    if (t.pending.size > 0) {
      for (const offset of [...t.pending.keys()].sort((a, b) => a - b)) {
        const p = t.pending.get(offset)!;
        t.pending.delete(offset);
        if (offset > t.offset) this.emit(t, p);
      }
    }
  }
}
