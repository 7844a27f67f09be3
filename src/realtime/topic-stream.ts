import type { HistoryResult, Publication, TopicPolicy } from './adapter.js';

/** A random epoch: distinct for every stream a process creates, and across restarts. */
export function newEpoch(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * One topic's stream inside an adapter: the offset counter, the epoch and the bounded
 * history. Reliable topics keep the last `historySize` messages in a ring; conflated ones
 * keep the latest message per key. Both drop entries older than `historyTtl` lazily (on
 * append and read), so no timer is needed.
 */
export class TopicStream {
  readonly epoch = newEpoch();
  offset = 0;
  /** reliable: ring of messages, oldest at `head`. */
  private ring: Publication[] = [];
  private head = 0;
  /** conflated: latest message per key, in the order of their last update. */
  private latest = new Map<string, Publication>();

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

  /** Whether the stream holds nothing worth keeping (no history left). */
  get empty(): boolean {
    return this.ring.length === 0 && this.latest.size === 0;
  }

  read(policy: TopicPolicy, now: number, since?: { epoch: string; offset: number }): HistoryResult {
    this.expire(now, policy);
    const result: HistoryResult = { epoch: this.epoch, offset: this.offset, publications: [], recovered: true };
    const honoured = since !== undefined && since.epoch === this.epoch && since.offset <= this.offset;
    if (policy.mode === 'conflated') {
      // Always the whole snapshot: a client's highest offset says nothing about keys whose
      // latest value it never received (conflation may have held them back). Clients drop
      // what they already have by per-key offset.
      if (since !== undefined && !honoured) result.recovered = false;
      for (const p of this.latest.values()) result.publications.push(p);
      result.publications.sort((a, b) => a.offset - b.offset);
      return result;
    }
    if (since === undefined) return result;
    if (!honoured) {
      result.recovered = false;
      return result;
    }
    const missed = this.offset - since.offset;
    if (missed === 0) return result;
    const n = this.ring.length;
    // The ring holds offsets (offset - n, offset]; recovery needs since.offset + 1 in it.
    if (missed > n) {
      result.recovered = false;
      return result;
    }
    for (let i = n - missed; i < n; i++) result.publications.push(this.ring[(this.head + i) % n]!);
    return result;
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
