import type { Publication } from './adapter.js';
import type { RealtimeServer } from './realtime-server.js';
import { errorPayload, RealtimeError } from './realtime-error.js';
import type { Session, SessionSubscription } from './session.js';
import { ErrorCode, Msg } from './wire-protocol.js';

/**
 * Subscribing and unsubscribing a session, including recovery. The order of a subscribe
 * is what makes recovery exact with any adapter, even one across a network:
 *
 * 1. the session joins the topic's local fan-out in buffering mode (and this node listens
 *    to the topic if it did not already), so nothing published from now on is missed;
 * 2. history is read after the client's last offset;
 * 3. the reply goes out, then the missed messages, then whatever was buffered with an
 *    offset past the history's end (older buffered ones were in the history): each
 *    offset exactly once, in order; then the subscription is live.
 *
 * A subscribe for a topic the session already has resynchronizes it the same way (the
 * client does that when it detects a gap), without authorization or presence changes.
 */
export class SubscriptionFlow {
  constructor(private readonly server: RealtimeServer<any>) {}

  /** id 0: a server-side subscription (no reply is sent, errors reject). */
  async subscribe(s: Session<any>, topic: string, id: number, since: { epoch: string; offset: number } | undefined, info: unknown, fromClient: boolean): Promise<void> {
    const server = this.server;
    const existing = s.subscriptions.get(topic);
    let sub: SessionSubscription;
    try {
      if (existing !== undefined) {
        if (existing.buffer !== null) throw new RealtimeError(ErrorCode.BadRequest, `already subscribing to ${topic}`);
        sub = existing;
        sub.buffer = [];
      } else {
        if (s.subscriptions.size >= server.options.maxSubscriptions) throw new RealtimeError(ErrorCode.BadRequest, 'too many subscriptions');
        const policy = server.policy(topic);
        if (fromClient) {
          const allow = server.config.authorize?.subscribe;
          if (allow !== undefined && !(await allow(s, topic))) throw new RealtimeError(ErrorCode.Forbidden, `not allowed to subscribe to ${topic}`);
          if (!s.open || s.subscriptions.has(topic)) throw new RealtimeError(ErrorCode.BadRequest, `already subscribing to ${topic}`);
        }
        sub = { topic, policy, info: info === undefined || info === null ? s.info : info, buffer: [] };
        s.subscriptions.set(topic, sub);
        await server.fanout.add(s, sub, () => server.link.listen(topic));
      }
      const history = await server.link.history(topic, sub.policy, since);
      server.fanout.noteEpoch(topic, history.epoch);
      let members: Array<[string, unknown]> | undefined;
      if (sub.policy.presence) {
        if (existing === undefined) await server.link.presenceJoin(topic, { sessionId: s.id, info: sub.info });
        members = (await server.link.presence(topic)).map((m) => [m.sessionId, m.info ?? null]);
      }
      if (s.subscriptions.get(topic) !== sub) {
        // Unsubscribed (or closed) meanwhile: the request still gets its answer.
        if (id !== 0) s.sendError(id, ErrorCode.BadRequest, `unsubscribed from ${topic} while subscribing`);
        return;
      }
      const reply: Record<string, unknown> = { epoch: history.epoch, offset: history.offset, recovered: history.recovered };
      if (members !== undefined) reply.members = members;
      if (id !== 0) s.send([Msg.Reply, id, reply]);
      else s.send([Msg.Subscribed, topic, reply]);
      for (const p of history.publications) s.sendPublication(p);
      const buffered = sub.buffer!;
      sub.buffer = null;
      for (const b of buffered) {
        if ('presence' in b) s.send([Msg.Presence, topic, b.joined ? 1 : 0, b.sessionId, b.info ?? null]);
        else if (isAfter(b, history.epoch, history.offset)) s.sendPublication(b);
      }
    } catch (err) {
      if (existing === undefined && s.subscriptions.get(topic) === sub!) await this.unsubscribe(s, topic);
      else if (existing !== undefined) existing.buffer = null;
      if (id === 0) throw err;
      if (!(err instanceof RealtimeError)) server.reportError(err, s);
      const [code, message] = errorPayload(err);
      s.sendError(id, code, message);
    }
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

function isAfter(p: Publication, epoch: string, offset: number): boolean {
  return p.epoch === epoch && p.offset > offset;
}
