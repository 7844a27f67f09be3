import { PreparedMessage, SendStatus } from '../../server/index.js';
import type { Member, Publication, TopicPolicy } from '../adapters/adapter.js';
import { jsonCodec } from '../wire/codec.js';
import type { RealtimeCounters } from './realtime-stats.js';
import { publicationMessage, type Session, type SessionSubscription } from './session.js';
import { Msg } from '../wire/wire-protocol.js';

interface LocalTopic {
  policy: TopicPolicy;
  members: Map<Session, SessionSubscription>;
  /** Settles when this node listens to the topic (the adapter's listen, started by the first subscriber). */
  listening: Promise<void>;
  /** The epoch and offset of the last publication delivered. */
  epoch: string | undefined;
  offset: number;
}

/** Called for a live subscriber that got a publication of another epoch than the one it was told: resynchronize it from `since`. */
export type RestartHandler = (session: Session, topic: string, since: { epoch: string; offset: number }) => void;

/**
 * This node's subscribers per topic, and the fan-out of what the adapter delivers: each
 * message is encoded once per codec and framed once (PreparedMessage), and the same bytes
 * go to every subscriber. Subscribers still reading history get it buffered. On conflated
 * topics a congested subscriber is skipped and only the latest message per key is kept for
 * it, sent when its socket drains.
 */
export class TopicFanout {
  private readonly topics = new Map<string, LocalTopic>();

  constructor(
    private readonly restart: RestartHandler,
    private readonly counters: RealtimeCounters,
  ) {}

  /** Topics with local subscribers. */
  get size(): number {
    return this.topics.size;
  }

  /**
   * Adds a subscriber. The topic's first subscriber on this node starts `listen`; every
   * subscriber gets the same promise, so none reads history before the node receives the
   * topic's live messages (with a broker, listening is not instant).
   */
  add(session: Session, sub: SessionSubscription, listen: () => Promise<void>): Promise<void> {
    let t = this.topics.get(sub.topic);
    if (t === undefined) {
      const listening = listen();
      listening.catch(() => {});
      this.topics.set(sub.topic, (t = { policy: sub.policy, members: new Map(), listening, epoch: undefined, offset: 0 }));
    }
    t.members.set(session, sub);
    return t.listening;
  }

  /** Removes a subscriber; true when it was the topic's last on this node (the node may stop listening). */
  remove(session: Session, topic: string): boolean {
    const t = this.topics.get(topic);
    if (t === undefined || !t.members.delete(session)) return false;
    session.conflated?.delete(topic);
    if (t.members.size > 0) return false;
    this.topics.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Number of local subscribers of a topic. */
  count(topic: string): number {
    return this.topics.get(topic)?.members.size ?? 0;
  }

  deliver(pub: Publication): void {
    const t = this.topics.get(pub.topic);
    if (t === undefined) return;
    const conflated = t.policy.mode === 'conflated';
    const frames = new CodecFrames(publicationMessage(pub));
    let sent = 0;
    for (const [s, sub] of t.members) {
      if (sub.buffer === null && sub.epoch !== pub.epoch) {
        // The stream restarted under a new epoch (its history was lost, e.g. a broker
        // restart): the subscriber is resynchronized (Subscribed, then the new epoch's
        // history), with this publication buffered behind it.
        this.restart(s, pub.topic, { epoch: sub.epoch, offset: sub.epoch === t.epoch ? t.offset : 0 });
      }
      if (sub.buffer !== null) {
        sub.buffer.push(pub);
      } else if (s.isExcepted(pub.except)) {
        s.send([Msg.Skip, pub.topic, pub.offset]);
      } else if (conflated && (s.conflated?.has(pub.topic) || s.socket.needsDrain)) {
        this.counters.conflated++;
        stash(s, pub);
      } else if (frames.sendTo(s)) {
        sent++;
      }
    }
    this.counters.deliveries += sent;
    t.epoch = pub.epoch;
    t.offset = pub.offset;
  }

  deliverPresence(topic: string, joined: boolean, member: Member): void {
    const t = this.topics.get(topic);
    if (t === undefined || !t.policy.presence) return;
    const message = [Msg.Presence, topic, joined ? 1 : 0, member.sessionId, member.info ?? null];
    for (const [s, sub] of t.members) {
      if (s.id === member.sessionId) continue;
      if (sub.buffer !== null) sub.buffer.push({ presence: true, joined, sessionId: member.sessionId, info: member.info });
      else s.send(message);
    }
  }

  /** The session's socket drained: send what conflation kept for it, oldest first, until it congests again. */
  flushConflated(s: Session): void {
    const pending = s.conflated;
    if (pending === null) return;
    for (const [topic, byKey] of pending) {
      const list = [...byKey.values()].sort((a, b) => a.offset - b.offset);
      for (const p of list) {
        if (s.socket.needsDrain) return;
        byKey.delete(p.key ?? '');
        s.sendPublication(p);
        this.counters.deliveries++;
      }
      pending.delete(topic);
    }
    s.conflated = null;
  }
}

function stash(s: Session, pub: Publication): void {
  const pending = (s.conflated ??= new Map());
  let byKey = pending.get(pub.topic);
  if (byKey === undefined) pending.set(pub.topic, (byKey = new Map()));
  byKey.set(pub.key ?? '', pub);
}

/**
 * One protocol message for many sessions: encoded once per codec in use and framed once
 * (PreparedMessage), on first need, then the same bytes for every session of that codec.
 */
export class CodecFrames {
  private json: PreparedMessage | null = null;
  private msgpack: PreparedMessage | null = null;

  constructor(private readonly message: unknown[]) {}

  /** False when the session's connection did not take it (closing, or dropped over its backpressure limit). */
  sendTo(s: Session): boolean {
    const message = s.codec === jsonCodec
      ? (this.json ??= new PreparedMessage(jsonCodec.encode(this.message)))
      : (this.msgpack ??= new PreparedMessage(s.codec.encode(this.message), { binary: true }));
    return message.sendTo(s.socket) !== SendStatus.Dropped;
  }
}
