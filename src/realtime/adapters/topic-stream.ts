import { DEFAULT_IDEMPOTENCY_WINDOW, MAX_IDEMPOTENCY_KEYS, type HistoryResult, type Publication, type TopicPolicy } from './adapter.js';

/** A random epoch: distinct for every stream a process creates, and across restarts. */
export function newEpoch(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * One topic's stream inside an adapter: the offset counter, the epoch, the bounded
 * history and the idempotency keys of recent publishes. Reliable topics keep the last
 * `historySize` messages in a ring; conflated ones keep the latest message per key. Both
 * drop entries older than `historyTtl` lazily (on append and read), so no timer is needed.
 */
export class TopicStream {
  readonly epoch = newEpoch();
  offset = 0;
  /** reliable: ring of messages, oldest at `head`. */
  private ring: Publication[] = [];
  private head = 0;
  /** conflated: latest message per key, in the order of their last update. */
  private latest = new Map<string, Publication>();
  /** Idempotency keys of recent publishes → [offset, time], oldest first. */
  private keys: Map<string, [number, number]> | null = null;

  append(pub: Publication, policy: TopicPolicy): void {
    if (policy.historySize === 0) return;
    if (policy.mode === 'conflated') {
      this.latest.delete(pub.key ?? '');
      this.latest.set(pub.key ?? '', pub);
      if (this.latest.size > policy.historySize) this.latest.delete(this.latest.keys().next().value!);
    } else if (this.ring.length < policy.historySize) {
      this.ring.push(pub);
    } else {
      this.ring[this.head] = pub;
      this.head = (this.head + 1) % this.ring.length;
    }
    this.expire(pub.time, policy);
  }

  /** The offset a publish with this idempotency key got, if it is within the window. */
  recall(key: string, now: number, policy: TopicPolicy): number | undefined {
    if (this.keys === null) return undefined;
    this.expireKeys(now, policy);
    return this.keys.get(key)?.[0];
  }

  /** Remembers the offset a publish with this idempotency key got (at most MAX_IDEMPOTENCY_KEYS, oldest forgotten first). */
  remember(key: string, offset: number, now: number): void {
    const keys = (this.keys ??= new Map());
    keys.set(key, [offset, now]);
    if (keys.size > MAX_IDEMPOTENCY_KEYS) keys.delete(keys.keys().next().value!);
  }

  /** Whether the stream holds nothing worth keeping (no history left). */
  get empty(): boolean {
    return this.ring.length === 0 && this.latest.size === 0;
  }

  /**
   * History for a subscriber (the rules of docs/protocol.md §2.3):
   * - no `since`: the position only; conflated topics also the latest message per key;
   * - `since` in this epoch, with every offset after it still held (or since == offset):
   *   the messages after it, `recovered` true;
   * - otherwise (another epoch, past the head, or history too short): `recovered` false,
   *   and every message of this epoch still held, so nothing that history keeps is lost.
   * Conflated topics always return their whole snapshot: a client's highest offset says
   * nothing about keys whose latest value it never received (conflation may have held
   * them back); clients drop what they already have by per-key offset.
   */
  read(policy: TopicPolicy, now: number, since?: { epoch: string; offset: number }): HistoryResult {
    this.expire(now, policy);
    const result: HistoryResult = { epoch: this.epoch, offset: this.offset, publications: [], recovered: false };
    const sameStream = since !== undefined && since.epoch === this.epoch && since.offset <= this.offset;
    if (policy.mode === 'conflated') {
      result.recovered = sameStream;
      for (const p of this.latest.values()) result.publications.push(p);
      result.publications.sort((a, b) => a.offset - b.offset);
      return result;
    }
    if (since === undefined) return result;
    const n = this.ring.length;
    // The ring holds offsets (offset - n, offset] (a contiguous run ending at the head).
    const missed = sameStream ? this.offset - since.offset : Infinity;
    result.recovered = missed <= n;
    const count = Math.min(missed, n);
    for (let i = n - count; i < n; i++) result.publications.push(this.ring[(this.head + i) % n]!);
    return result;
  }

  /** When this stream may be forgotten once nobody listens: its last activity plus the longer of its history TTL and idempotency window. */
  keepUntil(lastActive: number, policy: TopicPolicy): number {
    return lastActive + Math.max(policy.historyTtl, policy.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW);
  }

  private expireKeys(now: number, policy: TopicPolicy): void {
    const cutoff = now - (policy.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW);
    for (const [k, [, time]] of this.keys!) {
      if (time >= cutoff) break;
      this.keys!.delete(k);
    }
  }

  private expire(now: number, policy: TopicPolicy): void {
    const cutoff = now - policy.historyTtl;
    if (policy.mode === 'conflated') {
      // Entries are in update order: the oldest come first.
      for (const [k, p] of this.latest) {
        if (p.time >= cutoff) break;
        this.latest.delete(k);
      }
      return;
    }
    const n = this.ring.length;
    let drop = 0;
    while (drop < n && this.ring[(this.head + drop) % n]!.time < cutoff) drop++;
    if (drop === 0) return;
    const kept: Publication[] = [];
    for (let i = drop; i < n; i++) kept.push(this.ring[(this.head + i) % n]!);
    this.ring = kept;
    this.head = 0;
  }
}
