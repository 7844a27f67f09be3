import { WebSocketServer, type ServerOptions, type ServerSocket, type UpgradeRequest } from '../../server/index.js';
// Internal to the server part (not in its index, so not public API): shared with the Yjs server.
import { countsOf } from '../../server/server-stats.js';
import { WebSocketHost } from '../../server/websocket-host.js';
import type { Adapter, AdapterLink, HistoryResult, Member, Publication, TopicPolicy } from '../adapters/adapter.js';
import { codecForSubprotocol, codecs, jsonCodec, type Codec } from '../wire/codec.js';
import { MemoryAdapter } from '../adapters/memory-adapter.js';
import { RateLimiter } from './rate-limit.js';
import { resolveRealtimeOptions, resolveTopicPolicy, type EventHandler, type RealtimeServerOptions, type RequestHandler, type ResolvedRealtimeOptions } from './realtime-options.js';
import { Session, type SessionHost } from './session.js';
import { admit, dispatch } from './session-dispatch.js';
import { SessionInbox } from './session-inbox.js';
import { TopicQueues } from './topic-queues.js';
import { SubscriptionFlow } from './subscription-flow.js';
import { CodecFrames, TopicFanout } from './topic-fanout.js';
import { RealtimeError } from '../wire/realtime-error.js';
import { meteredLink } from '../adapters/metered-link.js';
import { RealtimeCounters, type RealtimeServerStats } from './realtime-stats.js';
import { checkName, checkTopic, drainReason, ErrorCode, isIdempotencyKey, Msg, RealtimeClose } from '../wire/wire-protocol.js';

export type { EventHandler, RequestHandler };

/** Default largest incoming message of a realtime connection, in bytes (websocket.maxPayload overrides it). */
export const DEFAULT_REALTIME_MAX_PAYLOAD = 1024 * 1024;

/** How often deadlines (connect timeout, token expiry) are checked, in ms. */
const SWEEP_INTERVAL = 250;

/**
 * The realtime server: sessions authenticated by a token, topics with history and
 * recovery, events and requests both ways, presence, all on top of a WebSocketServer.
 * Fan-out, history and presence go through an adapter, so several servers can share them.
 */
// Also the DispatchHost and FlowHost of its dispatch and subscription flow (checked where it
// hands itself to them, not declared: those members are internal and stay out of the declarations).
export class RealtimeServer<U = unknown> extends WebSocketHost<Session<U>> implements SessionHost {
  readonly options: ResolvedRealtimeOptions;
  readonly websocket: WebSocketServer<Session<U>>;
  readonly adapter: Adapter;
  /** This node's sessions by id (authenticated or still connecting). */
  readonly sessions = new Map<string, Session<U>>();
  /** @internal */ readonly link: AdapterLink;
  /** @internal What stats() reports. */ readonly counters = new RealtimeCounters();
  /** @internal */ readonly fanout = new TopicFanout((s, topic, since) => this.flow.resync(s, topic, since), this.counters);
  /** @internal incoming messages waiting their turn (fair processing across sessions). */
  readonly inbox = new SessionInbox((s, data) => dispatch(this, s, data));
  /** @internal */ readonly config: RealtimeServerOptions<U>;
  /** @internal */ readonly events = new Map<string, EventHandler<any>>();
  /** @internal */ readonly methods = new Map<string, RequestHandler<any>>();
  /** @internal */ readonly flow: SubscriptionFlow;
  /** Sessions with a deadline: not yet connected, or with an expiring token. */
  private readonly deadlines = new Set<Session<U>>();
  private sweeper: NodeJS.Timeout | null = null;
  private draining = false;

  constructor(options: RealtimeServerOptions<U> = {}) {
    super();
    const ws = options.websocket ?? {};
    this.options = resolveRealtimeOptions(options, typeof ws.maxPayload === 'number' ? ws.maxPayload : DEFAULT_REALTIME_MAX_PAYLOAD);
    this.config = options;
    this.adapter = options.adapter ?? new MemoryAdapter();
    const userVerify = ws.verify;
    const wsOptions: ServerOptions<Session<U>> = {
      // Realtime messages are small: a smaller default limit than a bare WebSocketServer's.
      maxPayload: DEFAULT_REALTIME_MAX_PAYLOAD,
      ...ws,
      tls: options.tls,
      selectProtocol: (offered) => offered.find((p) => codecForSubprotocol(p) !== undefined),
      verify: (request) => {
        if (request.protocols.length > 0 && !request.protocols.some((p) => codecForSubprotocol(p) !== undefined)) {
          return { status: 400, message: `unsupported subprotocol: offer ${codecs.map((c) => c.subprotocol).join(' or ')}` };
        }
        return userVerify ? userVerify(request) : true;
      },
      open: (socket, request) => this.opened(socket, request),
      message: (socket, data) => {
        if (admit(socket.data, data)) this.inbox.receive(socket.data, data);
        else this.counters.rateLimited++;
      },
      drain: (socket) => this.fanout.flushConflated(socket.data),
      close: (socket, code, reason) => this.closed(socket.data, code, reason),
    };
    if (wsOptions.tls === undefined) delete wsOptions.tls;
    this.websocket = new WebSocketServer<Session<U>>(wsOptions);
    const link = this.adapter.attach({
      deliver: (p) => this.fanout.deliver(p),
      deliverPresence: (topic, joined, member) => this.fanout.deliverPresence(topic, joined, member),
      deliverToSession: (id, event, data) => this.sessions.get(id)?.emit(event, data),
      deliverToAll: (event, data, except) => this.deliverToAll(event, data, except),
    });
    this.link = meteredLink(link, this.counters.adapter);
    this.flow = new SubscriptionFlow(this);
    this.listenIfPort(options.port, options.host);
  }

  /**
   * Whether a load balancer should send new connections here: not draining or closed, and
   * the adapter reaches its broker (what /readyz answers).
   */
  get ready(): boolean {
    return !this.draining && this.link.connected !== false;
  }

  get requestTimeout(): number {
    return this.options.requestTimeout;
  }

  /** Handles an event clients emit. One handler per event name. `T` is the type of its data (not checked: validate what clients send). */
  on<T = unknown>(event: string, handler: EventHandler<U, T>): this {
    checkName(event, 'event');
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    this.events.set(event, handler as EventHandler<U>);
    return this;
  }

  /**
   * Answers a request method; the handler's return value (or promise) is the reply, a thrown
   * RealtimeError the error. `Req` is the type of the request's data (not checked: validate
   * what clients send), `Res` the reply's.
   */
  handle<Req = unknown, Res = unknown>(method: string, handler: RequestHandler<U, Req, Res>): this {
    checkName(method, 'method');
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    this.methods.set(method, handler as RequestHandler<U>);
    return this;
  }

  /** @internal The settings of a topic. */
  policy(topic: string): TopicPolicy {
    return resolveTopicPolicy(topic, this.config.topics?.(topic));
  }

  /**
   * Publishes to a topic on every node. `key` names the value a conflated topic replaces;
   * `except` leaves out one session (the sender); an `idempotencyKey` already used on this
   * topic within its idempotency window publishes nothing and resolves with the first
   * publish's offset (`duplicate: true`). Resolves with the message's offset and epoch.
   */
  async publish(topic: string, data: unknown, options: { key?: string; except?: Session<U> | string; idempotencyKey?: string } = {}): Promise<{ offset: number; epoch: string; duplicate: boolean }> {
    checkTopic(topic);
    if (options.key !== undefined && typeof options.key !== 'string') throw new TypeError('key must be a string');
    if (options.idempotencyKey !== undefined && !isIdempotencyKey(options.idempotencyKey)) throw new TypeError('idempotencyKey must be a string of 1 to 64 characters without control characters');
    const except = sessionIdOf(options.except);
    const policy = this.policy(topic);
    // Conflated messages always carry a key on the wire ('' for a single value): that is how clients tell the modes apart.
    const key = policy.mode === 'conflated' ? (options.key ?? '') : undefined;
    this.counters.publishes++;
    const p = await this.link.publish(topic, data, policy, { key, except, idempotencyKey: options.idempotencyKey });
    return { offset: p.offset, epoch: p.epoch, duplicate: p.duplicate === true };
  }
  /**
   * Counters and gauges of this node: sessions, subscriptions, topics, publishes,
   * deliveries, conflation, recovery outcomes, rate limiting, and its WebSocketServer's
   * stats (connections, messages and bytes, backpressure, closes, handshake failures).
   * Always on; a call walks the sessions once.
   */
  stats(): RealtimeServerStats {
    let sessions = 0;
    let subscriptions = 0;
    for (const s of this.sessions.values()) {
      if (s.authenticated) sessions++;
      subscriptions += s.subscriptions.size;
    }
    const c = this.counters;
    return {
      sessions,
      sessionsConnecting: this.sessions.size - sessions,
      subscriptions,
      topics: this.fanout.size,
      ...countsOf(c),
      adapter: { ...countsOf(c.adapter), connected: this.link.connected !== false },
      websocket: this.websocket.stats(),
    };
  }


  /** Sends an event to every session on every node, except one if given. */
  emitAll(event: string, data?: unknown, options: { except?: Session<U> | string } = {}): Promise<void> {
    checkName(event, 'event');
    return this.link.broadcast(event, data ?? null, sessionIdOf(options.except));
  }

  /** Sends an event to one session, whichever node holds it. */
  emitTo(sessionId: string, event: string, data?: unknown): Promise<void> {
    checkName(event, 'event');
    return this.link.sendToSession(sessionId, event, data ?? null);
  }

  /** Members of a topic with presence, across nodes. */
  presence(topic: string): Promise<Member[]> {
    return this.link.presence(topic);
  }

  /**
   * A topic's history: after `since` when given (see HistoryResult), or its latest `last`
   * publications still in history, in order (what a newcomer is shown; a conflated topic
   * gives every key). Without either: the topic's epoch and offset, no publications.
   */
  history(topic: string, from?: { epoch: string; offset: number } | { last: number }): Promise<HistoryResult> {
    checkTopic(topic);
    const policy = this.policy(topic);
    if (from !== undefined && 'last' in from) {
      const last = from.last;
      if (!Number.isInteger(last) || last < 0) throw new TypeError('last must be an integer >= 0');
      return this.latest(topic, policy, last);
    }
    return this.link.history(topic, policy, from);
  }

  /** The latest `last` publications: asked from no epoch, an adapter answers with everything history holds. */
  private async latest(topic: string, policy: TopicPolicy, last: number): Promise<HistoryResult> {
    const h = await this.link.history(topic, policy, { epoch: '', offset: 0 });
    if (policy.mode === 'reliable') h.publications = h.publications.slice(Math.max(0, h.publications.length - last));
    return h;
  }

  subscribeSession(session: Session<U>, topic: string): Promise<void> {
    return this.queued(session, topic, () => this.flow.subscribe(session, topic, 0, undefined, undefined, false));
  }

  unsubscribeSession(session: Session<U>, topic: string, notice?: [string, string]): Promise<void> {
    return this.queued(session, topic, () => this.flow.unsubscribe(session, topic, notice));
  }

  /** @internal Runs op after the session's other operations on topic (false: too many wait; see TopicQueues). */
  queueTopicOp(session: Session<any>, topic: string, op: () => Promise<void>, force = false): boolean {
    return (session.topicQueues ??= new TopicQueues(session)).run(topic, op, force);
  }

  /** A server-side operation on a session's topic, in order with the client's, with its outcome. */
  private queued(session: Session<U>, topic: string, op: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => void this.queueTopicOp(session, topic, () => op().then(resolve, reject), true));
  }

  /**
   * Graceful drain for a deploy: stop accepting connections, then close every session
   * with 1012 and a reconnect delay hint drawn at random between minDelay and maxDelay
   * ms, so clients come back spread out (to another node). Resolves when all are gone.
   */
  async drain(options: { minDelay?: number; maxDelay?: number; timeout?: number } = {}): Promise<void> {
    const min = options.minDelay ?? 1000;
    const max = options.maxDelay ?? 30_000;
    if (typeof min !== 'number' || !(min >= 0)) throw new TypeError('minDelay must be a number >= 0');
    if (typeof max !== 'number' || !(max >= min)) throw new TypeError('maxDelay must be a number >= minDelay');
    this.draining = true;
    await this.websocket.close({
      code: RealtimeClose.ServiceRestart,
      reason: () => drainReason(min + Math.random() * (max - min)),
      timeout: options.timeout ?? 5000,
    });
    await this.shutdown();
  }

  /** Closes every connection (1001) and leaves the adapter. */
  async close(options: { timeout?: number } = {}): Promise<void> {
    this.draining = true;
    await this.websocket.close({ timeout: options.timeout ?? 5000 });
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.link.close();
  }

  private opened(socket: ServerSocket<Session<U>>, request: UpgradeRequest): void {
    const codec: Codec = codecForSubprotocol(socket.protocol) ?? jsonCodec;
    const session = new Session<U>(socket, request, codec, this);
    socket.data = session;
    this.sessions.set(session.id, session);
    const r = this.options.rateLimit;
    if (r !== null) session.limiter = new RateLimiter(r.messages, r.bytes, r.burst, Date.now());
    session.expiresAt = Date.now() + this.options.connectTimeout;
    this.watch(session);
  }

  /** @internal Tracks a session's deadline (connect timeout or token expiry). */
  watch(session: Session<U>): void {
    if (session.expiresAt === undefined) {
      this.deadlines.delete(session);
      return;
    }
    this.deadlines.add(session);
    if (this.sweeper === null && !this.draining) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL);
      this.sweeper.unref();
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.deadlines) {
      if (s.expiresAt === undefined || s.expiresAt > now) continue;
      this.deadlines.delete(s);
      if (!s.authenticated) s.close(RealtimeClose.ConnectTimeout, 'no connect message in time');
      else s.close(RealtimeClose.TokenExpired, 'token expired');
    }
    if (this.deadlines.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private closed(session: Session<U>, code: number, reason: string): void {
    this.sessions.delete(session.id);
    this.deadlines.delete(session);
    session.sent?.rejectAll(() => new RealtimeError(ErrorCode.Disconnected, 'the session closed'));
    session.inbox = null;
    // After whatever is still running for a topic (a subscribe may be half way), leave it.
    const topics = new Set([...session.subscriptions.keys(), ...(session.topicQueues?.topics() ?? [])]);
    for (const topic of topics) {
      this.queueTopicOp(session, topic, () => this.flow.unsubscribe(session, topic).catch((err) => this.reportError(err, session)), true);
    }
    session.conflated = null;
    if (session.authenticated) {
      try {
        this.config.onDisconnect?.(session, code, reason);
      } catch (err) {
        this.reportError(err, session);
      }
    }
  }

  private deliverToAll(event: string, data: unknown, except: string | undefined): void {
    const frames = new CodecFrames([Msg.Event, event, data]);
    for (const s of this.sessions.values()) if (s.authenticated && s.id !== except) frames.sendTo(s);
  }

  /** @internal */
  reportError(err: unknown, session: Session<U> | undefined): void {
    if (this.config.onError) this.config.onError(err, session);
    else console.error('tether realtime:', err);
  }
}

export type { Publication };

function sessionIdOf(s: Session<any> | string | undefined): string | undefined {
  return s instanceof Session ? s.id : s;
}
