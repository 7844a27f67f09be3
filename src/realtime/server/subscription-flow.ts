import type { AdapterLink, HistoryResult, TopicPolicy } from '../adapters/adapter.js';
import { errorPayload, RealtimeError } from '../wire/realtime-error.js';
import { ErrorCode, Msg } from '../wire/wire-protocol.js';
import type { RealtimeServerOptions, ResolvedRealtimeOptions } from './realtime-options.js';
import type { RealtimeCounters } from './realtime-stats.js';
import type { Buffered, Session, SessionSubscription } from './session.js';
import type { TopicFanout } from './topic-fanout.js';

/**
 * What the flow needs of its server (RealtimeServer is one): a narrow view, so that the
 * flow sits below the server instead of importing it.
 */
export interface FlowHost {
  readonly options: Pick<ResolvedRealtimeOptions, 'maxSubscriptions'>;
  readonly config: Pick<RealtimeServerOptions<any>, 'authorize'>;
  readonly link: AdapterLink;
  readonly counters: RealtimeCounters;
  readonly fanout: TopicFanout;
  policy(topic: string): TopicPolicy;
  queueTopicOp(session: Session<any>, topic: string, op: () => Promise<void>, force?: boolean): boolean;
  reportError(err: unknown, session: Session<any> | undefined): void;
}

/**
 * Subscribing and unsubscribing a session, including recovery. The order of a subscribe
 * is what makes recovery exact with any adapter, even one across a network:
 *
 * 1. the session joins the topic's local fan-out in buffering mode (and this node listens
 *    to the topic if it did not already), so nothing published from now on is missed;
 * 2. history is read after the client's last offset;
 * 3. the reply goes out, then the replayed messages, then whatever was buffered with an
 *    offset past the history's end (older buffered ones were in the history): each
 *    offset exactly once, in order; then the subscription is live.
 *
 * A subscribe for a topic the session already has resynchronizes it the same way (the
 * client does that when it detects a gap), without authorization or presence changes; so
 * does the server when a subscriber's stream restarted under a new epoch (id 0: the answer
 * is a Subscribed message). A session's operations on one topic never overlap: they run one
 * after another through its TopicQueues (FlowHost.queueTopicOp).
 */
export class SubscriptionFlow {
  constructor(private readonly server: FlowHost) {}

  /** id 0: a server-side subscription or resync (answered with Subscribed; errors reject). */
  async subscribe(s: Session<any>, topic: string, id: number, since: { epoch: string; offset: number } | undefined, info: unknown, fromClient: boolean): Promise<void> {
    const server = this.server;
    if (!s.open) {
      if (id === 0) throw new RealtimeError(ErrorCode.Disconnected, 'the session is closed');
      return;
    }
    const existing = s.subscriptions.get(topic);
    let sub: SessionSubscription | undefined = existing;
    try {
      if (sub !== undefined) {
        // A resync; a restart may have started buffering already.
        sub.buffer ??= [];
      } else {
        const max = server.options.maxSubscriptions;
        if (s.subscriptions.size + s.reserved >= max) throw new RealtimeError(ErrorCode.BadRequest, `too many subscriptions (at most ${max})`);
        const policy = server.policy(topic);
        const allow = fromClient ? server.config.authorize?.subscribe : undefined;
        if (allow !== undefined) {
          s.reserved++;
          let allowed: boolean;
          try {
            allowed = await allow(s, topic);
          } finally {
            s.reserved--;
          }
          if (!allowed) throw new RealtimeError(ErrorCode.Forbidden, `not allowed to subscribe to ${topic}`);
          if (!s.open) return;
        }
        sub = { topic, policy, info: info === undefined || info === null ? s.info : info, buffer: [], epoch: '' };
        s.subscriptions.set(topic, sub);
        await server.fanout.add(s, sub, () => server.link.listen(topic));
      }
      const history = await server.link.history(topic, sub.policy, since);
      if (since !== undefined) {
        if (history.recovered) server.counters.recovered++;
        else server.counters.unrecoverable++;
      }
      let members: Array<[string, unknown]> | undefined;
      if (sub.policy.presence) {
        if (existing === undefined) await server.link.presenceJoin(topic, { sessionId: s.id, info: sub.info });
        members = (await server.link.presence(topic)).map((m) => [m.sessionId, m.info ?? null]);
      }
      const reply: Record<string, unknown> = { epoch: history.epoch, offset: history.offset, recovered: history.recovered, from: replayFrom(history), mode: sub.policy.mode };
      if (members !== undefined) reply.members = members;
      if (id !== 0) s.send([Msg.Reply, id, reply]);
      else s.send([Msg.Subscribed, topic, reply]);
      for (const p of history.publications) s.sendPublication(p);
      server.counters.deliveries += history.publications.length;
      this.goLive(s, sub, history);
    } catch (err) {
      if (existing === undefined && sub !== undefined && s.subscriptions.get(topic) === sub) await this.unsubscribe(s, topic);
      else if (existing !== undefined) existing.buffer = null;
      if (id === 0) throw err;
      if (!(err instanceof RealtimeError)) server.reportError(err, s);
      const [code, message] = errorPayload(err);
      s.sendError(id, code, message);
    }
  }

  /**
   * Sends what arrived while history was read (presence changes, publications past the
   * history's end), then the subscription is live. A publication of another epoch in
   * between means the stream restarted meanwhile: the subscriber keeps buffering and is
   * resynchronized again, so that it lands in the new epoch without losing anything.
   */
  private goLive(s: Session<any>, sub: SessionSubscription, history: HistoryResult): void {
    const buffered = sub.buffer!;
    sub.buffer = null;
    sub.epoch = history.epoch;
    let last = history.offset;
    for (let i = 0; i < buffered.length; i++) {
      const b = buffered[i]!;
      if ('presence' in b) {
        s.send([Msg.Presence, sub.topic, b.joined ? 1 : 0, b.sessionId, b.info ?? null]);
      } else if (b.epoch !== history.epoch) {
        sub.buffer = buffered.slice(i) as Buffered[];
        this.resync(s, sub.topic, { epoch: history.epoch, offset: last });
        return;
      } else if (b.offset > last) {
        s.sendPublication(b);
        this.server.counters.deliveries++;
        last = b.offset;
      }
    }
  }

  /**
   * Resynchronizes a subscriber from `since` on the server's initiative (its stream
   * restarted): it keeps buffering until its turn comes, then gets Subscribed and the replay.
   */
  resync(s: Session<any>, topic: string, since: { epoch: string; offset: number }): void {
    const sub = s.subscriptions.get(topic);
    if (sub === undefined) return;
    sub.buffer ??= [];
    this.server.queueTopicOp(s, topic, () => this.subscribe(s, topic, 0, since, undefined, false).catch(() => {}), true);
  }

  /** Removes a subscription; `notice` tells the client why when the server ends it. */
  async unsubscribe(s: Session<any>, topic: string, notice?: [string, string]): Promise<void> {
    const sub = s.subscriptions.get(topic);
    if (sub === undefined) return;
    s.subscriptions.delete(topic);
    const server = this.server;
    if (notice !== undefined) s.send([Msg.Unsubscribed, topic, notice[0], notice[1]]);
    if (server.fanout.remove(s, topic)) await server.link.unlisten(topic);
    if (sub.policy.presence) await server.link.presenceLeave(topic, s.id);
  }
}

/** The offset after which the replay that follows a Reply starts (the client's new "last"). */
function replayFrom(history: HistoryResult): number {
  const first = history.publications[0];
  return first === undefined ? history.offset : first.offset - 1;
}
