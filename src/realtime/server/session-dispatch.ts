import { CloseCode } from '../../protocol/index.js';
import { CodecError, jsonCodec } from '../wire/codec.js';
import { RealtimeError, settleRequest } from '../wire/realtime-error.js';
import { ErrorCode, isId, isIdempotencyKey, isName, isRecord, isSessionId, isTopic, MAX_PREVIOUS_SESSIONS, Msg, RealtimeClose } from '../wire/wire-protocol.js';
import type { Member } from '../adapters/adapter.js';
import type { AuthResult, EventHandler, RealtimeServerOptions, RequestHandler, ResolvedRealtimeOptions } from './realtime-options.js';
import type { RealtimeCounters } from './realtime-stats.js';
import type { Session } from './session.js';
import type { SessionInbox } from './session-inbox.js';
import type { SubscriptionFlow } from './subscription-flow.js';

/**
 * What dispatch needs of its server (RealtimeServer is one): a narrow view, so that
 * dispatch sits below the server instead of importing it.
 */
export interface DispatchHost {
  readonly options: Pick<ResolvedRealtimeOptions, 'heartbeatInterval' | 'maxPayload'>;
  readonly config: Pick<RealtimeServerOptions<any>, 'authenticate' | 'authorize' | 'onConnect'>;
  readonly counters: RealtimeCounters;
  readonly flow: SubscriptionFlow;
  readonly inbox: SessionInbox;
  readonly events: ReadonlyMap<string, EventHandler<any>>;
  readonly methods: ReadonlyMap<string, RequestHandler<any>>;
  publish(topic: string, data: unknown, options: { key?: string; except?: Session<any>; idempotencyKey?: string }): Promise<{ offset: number; duplicate: boolean }>;
  presence(topic: string): Promise<Member[]>;
  queueTopicOp(session: Session<any>, topic: string, op: () => Promise<void>, force?: boolean): boolean;
  /** Tracks the session's deadline (connect timeout or token expiry). */
  watch(session: Session<any>): void;
  reportError(err: unknown, session: Session<any> | undefined): void;
}

/**
 * A session with more than this many messages refused over its rate limit, each within
 * REFUSALS_FORGOTTEN of the one before, is closed (4029): it keeps sending over its limit.
 */
const MAX_REFUSED = 100;
const REFUSALS_FORGOTTEN = 1000;

/** Client messages that expect an answer with their id (a refused one gets `rate_limited` with that id). */
const REQUESTS = new Set<unknown>([Msg.Subscribe, Msg.Unsubscribe, Msg.Publish, Msg.Request, Msg.Refresh, Msg.PresenceQuery]);

/**
 * The rate limit, applied as a message arrives (before it waits in the inbox): true when
 * the message may be processed; otherwise it is answered with `rate_limited`.
 */
export function admit(s: Session<any>, data: string | Buffer): boolean {
  if (s.limiter === null) return true;
  const now = Date.now();
  if (s.limiter.take(typeof data === 'string' ? Buffer.byteLength(data) : data.length, now)) return true;
  refuse(s, data, now);
  return false;
}

/** Reads one incoming message of a session and acts on it. */
export function dispatch(server: DispatchHost, s: Session<any>, data: string | Buffer): void {
  // tether.v1.json travels in text frames, tether.v1.msgpack in binary ones: nothing to guess.
  if ((typeof data === 'string') !== (s.codec === jsonCodec)) {
    return s.close(CloseCode.UnsupportedData, `${s.codec.subprotocol} takes ${s.codec === jsonCodec ? 'text' : 'binary'} frames only`);
  }
  let m: unknown;
  try {
    m = s.codec.decode(data);
  } catch (err) {
    return s.close(CloseCode.InvalidPayload, err instanceof CodecError ? 'undecodable message' : 'bad message');
  }
  if (!Array.isArray(m) || typeof m[0] !== 'number') return bad(s, 'a message must be an array starting with its type');
  if (!s.authenticated) {
    // Messages after Connect wait in the inbox until authentication is done: this is the first one.
    if (m[0] !== Msg.Connect || s.connecting) return bad(s, 'the first message must be connect');
    const meta = m[2];
    if (meta !== undefined && meta !== null && isRecord(meta) && meta.previous !== undefined) {
      const previous = meta.previous;
      if (!Array.isArray(previous) || previous.length > MAX_PREVIOUS_SESSIONS || !previous.every(isSessionId)) {
        return bad(s, `connect: previous must be an array of at most ${MAX_PREVIOUS_SESSIONS} session ids`);
      }
      if (previous.length > 0) s.previous = previous as string[];
    }
    void connect(server, s, m).catch((err) => server.reportError(err, s));
    return;
  }
  switch (m[0]) {
    case Msg.Event: {
      const [, event, payload] = m;
      if (!isName(event)) return bad(s, 'event: bad name');
      const handler = server.events.get(event);
      if (handler === undefined) return;
      try {
        handler(payload ?? null, s);
      } catch (err) {
        server.reportError(err, s);
      }
      return;
    }
    case Msg.Request: {
      const [, id, method, payload] = m;
      if (!isId(id) || !isName(method)) return bad(s, 'request: bad id or method');
      const handler = server.methods.get(method);
      if (handler === undefined) return s.sendError(id, ErrorCode.NotFound, `no method ${method}`);
      return answer(server, s, id, () => handler(payload ?? null, s));
    }
    case Msg.Reply: {
      if (!isId(m[1])) return bad(s, 'reply: bad id');
      s.sent?.resolve(m[1], m[2] ?? null);
      return;
    }
    case Msg.Error: {
      const [, id, code, message] = m;
      if (!isId(id) || typeof code !== 'string' || typeof message !== 'string') return bad(s, 'error: bad fields');
      s.sent?.reject(id, new RealtimeError(code, message));
      return;
    }
    case Msg.Ping: {
      const n = m[1] ?? 0;
      if (!Number.isSafeInteger(n) || (n as number) < 0) return bad(s, 'ping: n must be an integer >= 0');
      s.send([Msg.Pong, n]);
      return;
    }
    case Msg.Subscribe: {
      const [, id, topic, opts] = m;
      if (!isId(id) || !isTopic(topic) || (opts !== undefined && opts !== null && !isRecord(opts))) return bad(s, 'subscribe: bad id, topic or options');
      const o = (opts ?? {}) as Record<string, unknown>;
      let since: { epoch: string; offset: number } | undefined;
      if (o.since !== undefined && o.since !== null) {
        const v = o.since;
        if (!Array.isArray(v) || typeof v[0] !== 'string' || !Number.isSafeInteger(v[1]) || (v[1] as number) < 0) return bad(s, 'subscribe: since must be [epoch, offset]');
        since = { epoch: v[0], offset: v[1] as number };
      }
      return queued(server, s, topic, id, () => server.flow.subscribe(s, topic, id, since, o.info, true));
    }
    case Msg.Unsubscribe: {
      const [, id, topic] = m;
      if (!isId(id) || !isTopic(topic)) return bad(s, 'unsubscribe: bad id or topic');
      return queued(server, s, topic, id, () => new Promise<void>((done) => answer(server, s, id, () => server.flow.unsubscribe(s, topic).then(() => null), done)));
    }
    case Msg.Publish: {
      const [, id, topic, payload, opts] = m;
      if (!isId(id) || !isTopic(topic) || (opts !== undefined && opts !== null && !isRecord(opts))) return bad(s, 'publish: bad id, topic or options');
      const o = (opts ?? {}) as Record<string, unknown>;
      if (o.key !== undefined && o.key !== null && typeof o.key !== 'string') return bad(s, 'publish: key must be a string');
      if (o.exceptSelf !== undefined && o.exceptSelf !== null && typeof o.exceptSelf !== 'boolean') return bad(s, 'publish: exceptSelf must be a boolean');
      const idem = o.idempotencyKey;
      if (idem !== undefined && idem !== null && !isIdempotencyKey(idem)) return bad(s, 'publish: idempotencyKey must be a string of 1 to 64 characters without control characters');
      answer(server, s, id, async () => {
        const allow = server.config.authorize?.publish;
        if (allow === undefined) throw new RealtimeError(ErrorCode.Forbidden, 'clients may not publish on this server');
        if (!(await allow(s, topic))) throw new RealtimeError(ErrorCode.Forbidden, `not allowed to publish to ${topic}`);
        const key = typeof o.key === 'string' ? o.key : undefined;
        const r = await server.publish(topic, payload ?? null, { key, except: o.exceptSelf === true ? s : undefined, idempotencyKey: typeof idem === 'string' ? idem : undefined });
        return r.duplicate ? { offset: r.offset, duplicate: true } : { offset: r.offset };
      });
      return;
    }
    case Msg.PresenceQuery: {
      const [, id, topic] = m;
      if (!isId(id) || !isTopic(topic)) return bad(s, 'presence: bad id or topic');
      return queued(server, s, topic, id, () => new Promise<void>((done) => answer(server, s, id, async () => {
        const sub = s.subscriptions.get(topic);
        if (sub === undefined) throw new RealtimeError(ErrorCode.Forbidden, `subscribe to ${topic} to see its presence`);
        if (!sub.policy.presence) throw new RealtimeError(ErrorCode.BadRequest, `${topic} has no presence`);
        return (await server.presence(topic)).map((p) => [p.sessionId, p.info ?? null]);
      }, done)));
    }
    case Msg.Connect:
      return bad(s, 'connect: the session is already connected');
    case Msg.Refresh: {
      const [, id, token] = m;
      if (!isId(id)) return bad(s, 'refresh: bad id');
      answer(server, s, id, async () => {
        const auth = await authenticate(server, s, token ?? null, true);
        if (typeof auth === 'string') throw new RealtimeError(ErrorCode.Unauthorized, auth === 'unauthorized' ? 'token refused' : auth);
        apply(server, s, auth, true);
        return { expiresAt: s.expiresAt ?? null };
      });
      return;
    }
    default:
      return bad(s, `unknown message type ${String(m[0])}`);
  }
}

function bad(s: Session<any>, why: string): void {
  s.close(RealtimeClose.BadMessage, why.slice(0, 120));
}

/** Over the rate limit: answer requests with rate_limited, others with an error of id 0; close persistent offenders. */
function refuse(s: Session<any>, data: string | Buffer, now: number): void {
  if (now - s.lastRefused > REFUSALS_FORGOTTEN) s.refused = 0;
  s.lastRefused = now;
  if (++s.refused > MAX_REFUSED) return s.close(RealtimeClose.RateLimited, 'rate limit exceeded');
  let id = 0;
  try {
    const m = s.codec.decode(data);
    if (Array.isArray(m) && REQUESTS.has(m[0]) && isId(m[1])) id = m[1];
  } catch {
    // Undecodable and over the limit: the error of id 0 says enough.
  }
  s.sendError(id, ErrorCode.RateLimited, 'rate limit exceeded: message refused');
}

/** Runs a request's handler and sends its reply or error; `done` hears when it is answered. */
function answer(server: DispatchHost, s: Session<any>, id: number, run: () => unknown, done?: () => void): void {
  settleRequest(
    id,
    run,
    (m) => {
      try {
        s.send(m);
      } finally {
        done?.(); // Even when the answer cannot be encoded: the topic's next request must not wait for ever.
      }
    },
    (err) => server.reportError(err, s),
  );
}

/** Queues a request behind the session's other requests for the same topic; refuses it when too many wait. */
function queued(server: DispatchHost, s: Session<any>, topic: string, id: number, op: () => Promise<void>): void {
  if (!server.queueTopicOp(s, topic, op)) s.sendError(id, ErrorCode.BadRequest, `too many requests waiting for ${topic}`);
}

/** The hook's verdict: an AuthResult, or why the token was refused (a RealtimeError's message, shown to the client). */
async function authenticate(server: DispatchHost, s: Session<any>, token: unknown, refresh: boolean): Promise<AuthResult | string> {
  const hook = server.config.authenticate;
  if (hook === undefined) return {};
  try {
    const auth = await hook(token, refresh ? { session: s } : { request: s.upgradeRequest! });
    if (auth === true) return {};
    return typeof auth === 'object' && auth !== null ? auth : 'unauthorized';
  } catch (err) {
    if (err instanceof RealtimeError) return err.message || 'unauthorized';
    server.reportError(err, s);
    return 'unauthorized';
  }
}

function apply(server: DispatchHost, s: Session<any>, auth: AuthResult, refresh: boolean): void {
  if (!refresh || 'user' in auth) s.user = auth.user;
  if (!refresh || 'info' in auth) s.info = auth.info;
  s.expiresAt = typeof auth.expiresAt === 'number' ? auth.expiresAt : undefined;
  server.watch(s);
}

async function connect(server: DispatchHost, s: Session<any>, m: unknown[]): Promise<void> {
  s.connecting = true;
  const auth = await authenticate(server, s, m[1] ?? null, false);
  if (!s.open) return;
  // The close reason carries the refusal (at most 123 bytes of UTF-8).
  if (typeof auth === 'string') {
    server.counters.authFailures++;
    return s.close(RealtimeClose.Unauthorized, truncateUtf8(auth, 123));
  }
  s.authenticated = true;
  server.counters.sessionsOpened++;
  apply(server, s, auth, false);
  // maxPayload: clients refuse a message over it when it is given, instead of being closed with 1009.
  s.send([Msg.Connected, s.id, { heartbeat: server.options.heartbeatInterval, expiresAt: s.expiresAt ?? null, maxPayload: server.options.maxPayload }]);
  try {
    server.config.onConnect?.(s);
  } catch (err) {
    server.reportError(err, s);
  }
  s.upgradeRequest = null;
  // What the client sent after Connect without waiting for Connected is processed now, in order.
  server.inbox.release(s);
}

function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = text.slice(0, max);
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1);
  return out;
}
