import { Listeners } from './listeners.js';
import { iterateSubscription } from './subscription-iterator.js';

export interface PublicationMeta {
  offset: number;
  /** Conflated topics: the key whose latest value this is. */
  key?: string;
}

export interface SubscribeResult {
  /** The subscription asked to resume after a reconnect (or a gap). */
  resumed: boolean;
  /** Every missed message was (or is about to be) delivered. False after resuming means: some may be lost. */
  recovered: boolean;
  epoch: string;
  /** The topic's latest offset. */
  offset: number;
  /**
   * Messages after this offset (up to `offset`) are about to be delivered from history. When
   * `recovered` is false they are what history still held of the current epoch: an
   * application that reloads its state should skip those its reloaded state already has.
   */
  from: number;
}

export interface PresenceMember {
  sessionId: string;
  info: unknown;
}

export interface SubscriptionOwner {
  sendSubscribe(sub: Subscription<any>): void;
  sendUnsubscribe(sub: Subscription<any>): Promise<void>;
  queryPresence(topic: string): Promise<PresenceMember[]>;
}

/**
 * One topic the client subscribes to. It remembers the epoch and the last offset it
 * delivered, so that after a reconnect (or a detected gap) the client resumes exactly
 * where it stopped. Reliable topics deliver offsets strictly in sequence (anything else is
 * a duplicate or a gap); conflated topics deliver a key's value only if it is newer than
 * the one delivered before, so values never go backwards.
 *
 * `T` is the type of the topic's messages, as `client.subscribe<T>()` gave it (not checked
 * at run time). `for await (const msg of subscription)` iterates over the messages.
 */
export class Subscription<T = unknown> {
  state: 'subscribing' | 'subscribed' | 'unsubscribed' = 'subscribing';
  epoch: string | undefined = undefined;
  /** The last offset received (reliable: delivered in sequence; conflated: highest seen). */
  offset = 0;
  /** The topic's delivery mode, as the server announced it (undefined before the first reply). */
  mode: 'reliable' | 'conflated' | undefined = undefined;
  /** Presence members by session id, when the topic has presence. */
  readonly members = new Map<string, unknown>();
  /** @internal request id of the subscribe in flight (0: none). */ pendingId = 0;
  /** @internal a gap was seen: a resync is in flight. */ resyncing = false;
  private readonly keyOffsets = new Map<string, number>();
  private readonly onMessage = new Listeners<(data: T, meta: PublicationMeta) => void>();
  private readonly onEnded = new Listeners<() => void>();
  private readonly onSubscribed = new Listeners<(result: SubscribeResult) => void>();
  private readonly onUnrecoverable = new Listeners<(result: SubscribeResult) => void>();
  private readonly onJoin = new Listeners<(member: PresenceMember) => void>();
  private readonly onLeave = new Listeners<(member: PresenceMember) => void>();
  private readonly onError = new Listeners<(err: Error) => void>();
  private readonly onUnsubscribed = new Listeners<(reason: string) => void>();
  private firstReply: { resolve(): void; reject(err: Error): void } | null = null;
  /** Resolves at the first successful subscribe; rejects if it is refused. */
  readonly ready: Promise<void>;

  constructor(
    readonly topic: string,
    /** Presence info sent with the subscription. */
    readonly info: unknown,
    private readonly owner: SubscriptionOwner,
  ) {
    this.ready = new Promise<void>((resolve, reject) => (this.firstReply = { resolve, reject }));
    this.ready.catch(() => {});
  }

  on(event: 'message', fn: (data: T, meta: PublicationMeta) => void): () => void;
  on(event: 'subscribed' | 'unrecoverable', fn: (result: SubscribeResult) => void): () => void;
  on(event: 'join' | 'leave', fn: (member: PresenceMember) => void): () => void;
  on(event: 'error', fn: (err: Error) => void): () => void;
  on(event: 'unsubscribed', fn: (reason: string) => void): () => void;
  on(event: string, fn: (...args: any[]) => void): () => void {
    switch (event) {
      case 'message': return this.onMessage.add(fn);
      case 'subscribed': return this.onSubscribed.add(fn);
      case 'unrecoverable': return this.onUnrecoverable.add(fn);
      case 'join': return this.onJoin.add(fn);
      case 'leave': return this.onLeave.add(fn);
      case 'error': return this.onError.add(fn);
      case 'unsubscribed': return this.onUnsubscribed.add(fn);
      default: throw new TypeError(`unknown subscription event ${event}`);
    }
  }

  /** Who is subscribed (asks the server; the topic must have presence). */
  presence(): Promise<PresenceMember[]> {
    return this.owner.queryPresence(this.topic);
  }

  unsubscribe(): Promise<void> {
    if (this.state === 'unsubscribed') return Promise.resolve();
    this.state = 'unsubscribed';
    this.onEnded.emit();
    return this.owner.sendUnsubscribe(this);
  }

  /**
   * The topic's messages, in order, each once (`for await (const msg of subscription)`). The
   * loop ends when the subscription ends and throws if subscribing is refused; messages that
   * arrive while its body runs wait in order. Leaving the loop does not unsubscribe.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return iterateSubscription<T>(this);
  }

  /** @internal Called once the subscription ends (unsubscribe(), the server's end, a refused subscribe). */
  onEnd(fn: () => void): () => void {
    return this.onEnded.add(fn);
  }

  /** @internal What to send as `since`, or undefined on a first subscribe. */
  since(): [string, number] | undefined {
    return this.epoch === undefined ? undefined : [this.epoch, this.offset];
  }

  /**
   * @internal The server's reply to a subscribe (or a Subscribed). The replay that follows
   * starts after `from`; within one epoch an offset is never delivered twice, so a replay
   * of what was delivered already is dropped.
   */
  subscribed(reply: Record<string, unknown>, resumed: boolean): void {
    const epoch = String(reply.epoch);
    const offset = Number(reply.offset);
    const recovered = resumed && reply.recovered === true;
    // Servers before `from` existed continued from the head unless recovered.
    const from = typeof reply.from === 'number' ? reply.from : recovered ? this.offset : offset;
    if (epoch !== this.epoch) {
      this.keyOffsets.clear();
      this.offset = from;
    } else {
      this.offset = Math.max(this.offset, from);
    }
    this.epoch = epoch;
    if (reply.mode === 'reliable' || reply.mode === 'conflated') this.mode = reply.mode;
    this.resyncing = false;
    if (this.state === 'subscribing') this.state = 'subscribed';
    if (Array.isArray(reply.members)) {
      this.members.clear();
      for (const m of reply.members) if (Array.isArray(m)) this.members.set(String(m[0]), m[1]);
    }
    const result: SubscribeResult = { resumed, recovered, epoch, offset, from };
    this.firstReply?.resolve();
    this.firstReply = null;
    this.onSubscribed.emit(result);
    if (resumed && !recovered) this.onUnrecoverable.emit(result);
  }

  /** @internal The subscribe failed. */
  failed(err: Error): void {
    this.resyncing = false;
    if (this.firstReply !== null) {
      this.state = 'unsubscribed';
      this.firstReply.reject(err);
      this.firstReply = null;
    }
    this.onError.emit(err);
    if (this.state === 'unsubscribed') this.onEnded.emit();
  }

  /**
   * @internal One publication (data undefined for a Skip). Returns true when a gap was
   * detected and a resync must be requested.
   */
  receive(offset: number, data: unknown, key: string | undefined, skip: boolean): boolean {
    if (this.state === 'unsubscribed' || this.pendingId !== 0 && !this.resyncing) return false;
    if (key === undefined && skip && this.mode === 'conflated') {
      // A conflated topic's offsets have gaps by design: a Skip only moves the highest offset.
      if (offset > this.offset) this.offset = offset;
      return false;
    }
    if (key !== undefined) {
      if (offset > this.offset) this.offset = offset;
      const seen = this.keyOffsets.get(key);
      if (seen !== undefined && offset <= seen) return false;
      this.keyOffsets.set(key, offset);
      if (!skip) this.onMessage.emit(data as T, { offset, key });
      return false;
    }
    if (offset <= this.offset) return false; // Already delivered.
    if (offset !== this.offset + 1) return !this.resyncing; // A gap: resync unless one is in flight.
    this.offset = offset;
    if (!skip) this.onMessage.emit(data as T, { offset });
    return false;
  }

  /** @internal */
  presenceChanged(joined: boolean, sessionId: string, info: unknown): void {
    if (joined) {
      this.members.set(sessionId, info);
      this.onJoin.emit({ sessionId, info });
    } else {
      this.members.delete(sessionId);
      this.onLeave.emit({ sessionId, info });
    }
  }

  /** @internal The server ended the subscription. */
  ended(reason: string): void {
    this.state = 'unsubscribed';
    this.onUnsubscribed.emit(reason);
    this.onEnded.emit();
  }
}
