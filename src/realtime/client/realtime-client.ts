import { codecForSubprotocol, jsonCodec, msgpackCodec, type Codec } from '../wire/codec.js';
import { PendingRequests } from '../wire/pending-requests.js';
import { RealtimeError, settleRequest } from '../wire/realtime-error.js';
import { checkName, checkTopic, ErrorCode, isId, isIdempotencyKey, MAX_PREVIOUS_SESSIONS, Msg, parseDrainReason, RealtimeClose } from '../wire/wire-protocol.js';
import { Subscription, type PresenceMember } from './client-subscription.js';
import { backoffDelay, Listeners } from './listeners.js';
import { resolveClientOptions, type RealtimeClientOptions, type ResolvedClientOptions } from './client-options.js';
import { ClientTransport } from './client-transport.js';
import { encodeNow, oversize, type OutgoingFrame } from './outgoing-frame.js';
import { Outbox } from './outbox.js';
import { UrlRotation, type ServerUrls } from './server-urls.js';

export type ClientState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface StateChange {
  state: ClientState;
  /** disconnected/closed: the WebSocket close code and reason. */
  code?: number;
  reason?: string;
  /** disconnected: ms until the next attempt. */
  delay?: number;
}

/**
 * The realtime client, one source for Node and browsers. It keeps a session alive across
 * connections: reconnects with exponential backoff and full jitter (or the server's drain
 * hint), detects dead connections with an application heartbeat, queues what is sent while
 * offline (bounded), resubscribes with recovery, and refreshes its token before it expires.
 *
 * What the application gives (published data, request data, events, presence info) is
 * encoded at once: a value the codec cannot carry is refused by the call, and so is a message
 * over the size the server announced, with an error that names the limit.
 *
 * The type parameters of `request`, `handle`, `on` and `subscribe` say what the application
 * expects the other side to send; they are not checked at run time (validate what comes
 * from untrusted peers).
 */
// The SubscriptionOwner of its subscriptions (checked where it hands itself to them, not
// declared: those members are internal and stay out of the published declarations).
export class RealtimeClient {
  state: ClientState = 'idle';
  /** The server's id for the current session ('' when not connected). */
  sessionId = '';
  readonly codec: Codec;
  /** The largest message the server accepts, in bytes, as its last Connected announced (undefined before). */
  maxPayload: number | undefined = undefined;
  private readonly urls: UrlRotation;
  private readonly o: ResolvedClientOptions;
  private readonly transport: ClientTransport;
  private readonly subs = new Map<string, Subscription>();
  private readonly requests = new PendingRequests();
  /** Subscribe requests in flight, by request id. */
  private readonly subscribing = new Map<number, { sub: Subscription; resumed: boolean }>();
  /** What waits for a connection, and publishes to send again after a reconnect. */
  private readonly outbox: Outbox;
  /** Session ids this client had before, most recent first (sent in Connect: publications they sent "except me" are not for us either). */
  private previousSessions: string[] = [];
  private readonly events = new Map<string, Listeners<(data: unknown) => void>>();
  private readonly methods = new Map<string, (data: unknown) => unknown>();
  private readonly stateListeners = new Listeners<(change: StateChange) => void>();
  private readonly errorListeners = new Listeners<(err: Error) => void>();
  private readonly publicationListeners = new Listeners<(topic: string, data: unknown, offset: number) => void>();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `url`: the server's ws:// or wss:// URL (http(s) is taken as ws(s); a relative one resolves
   * against the page in browsers), several to fail over between, or a function returning the
   * next one. A malformed URL throws a SyntaxError here, as the browser's WebSocket does.
   */
  constructor(url: ServerUrls, options: RealtimeClientOptions = {}) {
    this.o = resolveClientOptions(options);
    // A WebSocket class of the application's may know other schemes (ws+unix:).
    this.urls = new UrlRotation(url, options.WebSocket !== undefined);
    this.outbox = new Outbox(this.o.offlineQueue, this.requests);
    this.codec = this.o.codec === 'msgpack' ? msgpackCodec : jsonCodec;
    this.transport = new ClientTransport(this.codec, this.o, {
      received: (m) => this.receive(m),
      unreadable: (err) => this.errorListeners.emit(err),
      lost: (code, reason) => this.lost(code, reason),
    });
    if (this.o.autoConnect) this.connect();
  }

  /** The URL of the current (or last) connection attempt ('' before the first when a function gives them). */
  get url(): string {
    return this.urls.current;
  }

  // ---- lifecycle -----------------------------------------------------------------

  /** Starts connecting (again, after close()). */
  connect(): void {
    if (this.state === 'connecting' || this.state === 'connected') return;
    this.clearRetry();
    this.open();
  }

  /** Closes for good: no reconnection; queued and pending requests fail with `disconnected`. */
  close(): void {
    this.clearRetry();
    this.drop(1000, 'client closed');
    this.outbox.fail(ErrorCode.Disconnected, 'the client was closed');
    this.setState({ state: 'closed', code: 1000, reason: 'client closed' });
  }

  onState(fn: (change: StateChange) => void): () => void {
    return this.stateListeners.add(fn);
  }

  /** Errors not tied to a call: refused connects, rate limits on events, broken messages. */
  onError(fn: (err: Error) => void): () => void {
    return this.errorListeners.add(fn);
  }

  /** Publications of topics this client did not subscribe to itself (the server subscribed it). */
  onPublication(fn: (topic: string, data: unknown, offset: number) => void): () => void {
    return this.publicationListeners.add(fn);
  }

  // ---- events and requests -------------------------------------------------------

  /** Listens to an event the server emits; `T` is the type of its data (not checked). */
  on<T = unknown>(event: string, fn: (data: T) => void): () => void {
    let l = this.events.get(event);
    if (l === undefined) this.events.set(event, (l = new Listeners()));
    return l.add(fn as (data: unknown) => void);
  }

  /**
   * Answers requests the server sends (one handler per method): the handler's value (or
   * promise) is the reply, a thrown RealtimeError the error. `Req` is the type of the data.
   */
  handle<Req = unknown, Res = unknown>(method: string, fn: (data: Req) => Res | Promise<Res>): void {
    if (typeof fn !== 'function') throw new TypeError('handler must be a function');
    this.methods.set(method, fn as (data: unknown) => unknown);
  }

  /**
   * Sends an event; queued while offline. Throws a TypeError for data the codec cannot
   * encode, a RealtimeError `too_large` over the server's limit, `queue_full` when the offline
   * queue is full.
   */
  emit(event: string, data?: unknown): void {
    checkName(event, 'event');
    const what = `emit ${event}`;
    const frame = encodeNow(this.codec, [Msg.Event, event, data ?? null], what);
    const tooLarge = oversize(frame, this.maxPayload, what);
    if (tooLarge !== null) throw tooLarge;
    this.sendOrQueue(frame, 0);
  }

  /**
   * Calls a server method and resolves with its reply, of type `Res` (not checked). Rejects
   * with a TypeError for data the codec cannot encode, or a RealtimeError: the server's code,
   * or `timeout`, `disconnected`, `queue_full`, `too_large` (over the server's limit).
   */
  request<Res = unknown>(method: string, data?: unknown, options: { timeout?: number } = {}): Promise<Res> {
    checkName(method, 'method');
    return this.call((id) => [Msg.Request, id, method, data ?? null], options.timeout, `request ${method}`) as Promise<Res>;
  }

  /**
   * Publishes to a topic (the server must allow it); resolves with the message's offset.
   * Exactly once, also from a flaky connection: every publish carries an idempotency key (a
   * random one unless given), and one the connection lost before its acknowledgement is
   * sent again after reconnecting, until its timeout; the server publishes a key only once
   * (within the topic's idempotency window, 2 minutes by default) and answers a repeat with
   * the first offset (`duplicate: true`). Data the codec cannot encode rejects with a
   * TypeError, and a message over the server's limit with `too_large`, before anything is sent.
   */
  publish(topic: string, data: unknown, options: { key?: string; exceptSelf?: boolean; timeout?: number; idempotencyKey?: string } = {}): Promise<{ offset: number; duplicate?: boolean }> {
    checkTopic(topic);
    if (options.idempotencyKey !== undefined && !isIdempotencyKey(options.idempotencyKey)) {
      throw new TypeError('idempotencyKey must be a string of 1 to 64 characters without control characters');
    }
    const opts: Record<string, unknown> = { idempotencyKey: options.idempotencyKey ?? randomKey() };
    if (options.key !== undefined) opts.key = options.key;
    if (options.exceptSelf) opts.exceptSelf = true;
    return this.call((id) => [Msg.Publish, id, topic, data ?? null, opts], options.timeout, `publish to ${topic}`, true) as Promise<{ offset: number; duplicate?: boolean }>;
  }

  /**
   * Subscribes to a topic (or returns the existing subscription). `info` is this client's
   * presence info (a value the codec cannot encode is a TypeError here). `T` is the type of
   * the topic's messages (not checked).
   */
  subscribe<T = unknown>(topic: string, options: { info?: unknown } = {}): Subscription<T> {
    checkTopic(topic);
    let sub = this.subs.get(topic);
    if (sub !== undefined) return sub as Subscription<T>;
    if (options.info !== undefined) encodeNow(this.codec, [Msg.Subscribe, 1, topic, { info: options.info }], `subscribe to ${topic}`);
    sub = new Subscription<unknown>(topic, options.info, this);
    this.subs.set(topic, sub);
    if (this.state === 'connected') this.sendSubscribe(sub);
    return sub as Subscription<T>;
  }

  /** The client's subscription to a topic, if any. */
  subscription<T = unknown>(topic: string): Subscription<T> | undefined {
    return this.subs.get(topic) as Subscription<T> | undefined;
  }

  // ---- SubscriptionOwner ---------------------------------------------------------

  /** @internal */
  sendSubscribe(sub: Subscription): void {
    const since = sub.since();
    const opts: Record<string, unknown> = {};
    if (since !== undefined) opts.since = since;
    if (sub.info !== undefined) opts.info = sub.info;
    const { id, result } = this.requests.open(this.o.requestTimeout, `subscribe to ${sub.topic}`);
    sub.pendingId = id;
    // The reply is handled synchronously in receive(): the replayed publications right behind
    // it may be dispatched before any promise callback would run.
    this.subscribing.set(id, { sub, resumed: since !== undefined });
    this.transmit([Msg.Subscribe, id, sub.topic, opts]);
    result.catch((err: Error) => {
      this.subscribing.delete(id);
      if (sub.pendingId !== id) return;
      sub.pendingId = 0;
      if ((err as RealtimeError).code === ErrorCode.Disconnected) return; // Resubscribed on reconnect.
      if (sub.state === 'subscribing' && this.subs.get(sub.topic) === sub) this.subs.delete(sub.topic);
      sub.failed(err);
    });
  }

  /** A subscribe's reply: the subscription takes it before the publications that follow. */
  private subscribeReplied(id: number, reply: unknown): boolean {
    const pending = this.subscribing.get(id);
    if (pending === undefined) return false;
    this.subscribing.delete(id);
    this.requests.resolve(id, null);
    const { sub, resumed } = pending;
    if (sub.pendingId === id) {
      sub.pendingId = 0;
      sub.subscribed((reply ?? {}) as Record<string, unknown>, resumed);
    }
    return true;
  }

  /** @internal */
  async sendUnsubscribe(sub: Subscription): Promise<void> {
    if (this.subs.get(sub.topic) === sub) this.subs.delete(sub.topic);
    sub.pendingId = 0;
    if (this.state !== 'connected') return; // Not resubscribed on reconnect: nothing to tell the server.
    await this.call((id) => [Msg.Unsubscribe, id, sub.topic], undefined, `unsubscribe from ${sub.topic}`);
  }

  /** @internal */
  async queryPresence(topic: string): Promise<PresenceMember[]> {
    const list = await this.call((id) => [Msg.PresenceQuery, id, topic], undefined, `presence of ${topic}`);
    return (Array.isArray(list) ? list : []).map((m: unknown[]) => ({ sessionId: String(m[0]), info: m[1] }));
  }

  // ---- connection ----------------------------------------------------------------

  private open(): void {
    this.setState({ state: 'connecting' });
    try {
      const meta = this.previousSessions.length > 0 ? { previous: [...this.previousSessions] } : {};
      this.transport.open(this.urls.take(), () => (typeof this.o.token === 'function' ? (this.o.token as () => unknown)() : this.o.token), meta);
    } catch (err) {
      this.errorListeners.emit(err as Error);
      this.transport.drop(1000, 'could not open');
      this.scheduleReconnect(1006, 'could not open');
    }
  }

  private receive(m: unknown[]): void {
    switch (m[0]) {
      case Msg.Publication:
      case Msg.Skip: {
        const skip = m[0] === Msg.Skip;
        const [, topic, a, b, key] = m;
        const offset = (skip ? a : b) as number;
        const sub = this.subs.get(topic as string);
        if (sub === undefined) {
          if (!skip) this.publicationListeners.emit(topic as string, a, offset);
          return;
        }
        if (sub.receive(offset, skip ? undefined : a, typeof key === 'string' ? key : undefined, skip)) {
          sub.resyncing = true;
          this.sendSubscribe(sub);
        }
        return;
      }
      case Msg.Event:
        this.events.get(m[1] as string)?.emit(m[2]);
        return;
      case Msg.Reply:
        if (!this.subscribeReplied(m[1] as number, m[2])) this.requests.resolve(m[1] as number, m[2]);
        return;
      case Msg.Error: {
        const err = new RealtimeError(String(m[2]), String(m[3]));
        if (m[1] === 0 || !this.requests.reject(m[1] as number, err)) this.errorListeners.emit(err);
        return;
      }
      case Msg.Request:
        return this.answer(m[1], m[2], m[3]);
      case Msg.Presence:
        this.subs.get(m[1] as string)?.presenceChanged(m[2] === 1, String(m[3]), m[4]);
        return;
      case Msg.Unsubscribed: {
        const sub = this.subs.get(m[1] as string);
        if (sub === undefined) return;
        this.subs.delete(sub.topic);
        sub.ended(String(m[3]));
        return;
      }
      case Msg.Subscribed: {
        // For a subscription the client has: its stream restarted (history lost); continue in
        // the new epoch with the replay that follows.
        const sub = this.subs.get(m[1] as string);
        if (sub !== undefined && sub.state !== 'unsubscribed') sub.subscribed((m[2] ?? {}) as Record<string, unknown>, true);
        return;
      }
      case Msg.Connected:
        return this.connected(String(m[1]), (m[2] ?? {}) as Record<string, unknown>);
      default:
        return; // Pong and future types: liveness was noted already.
    }
  }

  private answer(id: unknown, method: unknown, data: unknown): void {
    if (!isId(id)) return;
    const fn = this.methods.get(method as string);
    if (fn === undefined) return this.transmit([Msg.Error, id, ErrorCode.NotFound, `no method ${String(method)}`]);
    settleRequest(id, () => fn(data), (m) => this.transmit(m));
  }

  private connected(sessionId: string, info: Record<string, unknown>): void {
    this.sessionId = sessionId;
    if (typeof info.maxPayload === 'number' && info.maxPayload > 0) this.maxPayload = info.maxPayload;
    this.attempt = 0;
    this.setState({ state: 'connected' });
    this.transport.connected(typeof info.heartbeat === 'number' && info.heartbeat > 0 ? info.heartbeat : 25_000);
    this.scheduleRefresh(typeof info.expiresAt === 'number' ? info.expiresAt : null);
    for (const sub of this.subs.values()) this.sendSubscribe(sub);
    // What was queued before the limit was known may be over it: refused now, not sent.
    this.outbox.flush((frame, id) => {
      const tooLarge = oversize(frame, this.maxPayload, 'a message queued while offline');
      if (tooLarge === null) this.transport.sendFrame(frame);
      else if (id === 0 || !this.requests.reject(id, tooLarge)) this.errorListeners.emit(tooLarge);
    });
  }

  /** The connection is gone: fail in-flight requests, then reconnect unless told not to. */
  private lost(code: number, reason: string): void {
    this.drop();
    if (code === RealtimeClose.Unauthorized) {
      this.errorListeners.emit(new RealtimeError(ErrorCode.Unauthorized, reason || 'unauthorized'));
      this.outbox.fail(ErrorCode.Unauthorized, 'the server refused the token');
      return this.setState({ state: 'closed', code, reason });
    }
    if (!this.o.reconnect) {
      this.outbox.fail(ErrorCode.Disconnected, 'the connection closed');
      return this.setState({ state: 'closed', code, reason });
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code: number, reason: string): void {
    const hint = code === RealtimeClose.ServiceRestart ? parseDrainReason(reason) : undefined;
    const r = this.o.reconnect || { minDelay: 500, maxDelay: 30_000, factor: 2 };
    // Fail over: the next attempt goes to the next URL. Backoff grows once every URL was tried;
    // a draining server's hint is honoured as it is (it spreads the reconnections).
    this.urls.advance();
    const delay = hint ?? backoffDelay(Math.floor(this.attempt++ / this.urls.count), r.minDelay, r.maxDelay, r.factor);
    this.setState({ state: 'disconnected', code, reason, delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  /** Forgets the current connection and what was in flight on it (closing it with code and reason if still open). */
  private drop(code = 1000, reason = 'connection dropped'): void {
    this.transport.drop(code, reason);
    if (this.sessionId !== '') this.previousSessions = [this.sessionId, ...this.previousSessions].slice(0, MAX_PREVIOUS_SESSIONS);
    this.sessionId = '';
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    // Publishes in flight go out again after reconnecting (their idempotency key keeps them
    // from being published twice). Other requests already sent may or may not have run on
    // the server: they fail rather than run twice.
    const queuedIds = this.outbox.connectionLost();
    this.requests.rejectWhere((id) => !queuedIds.has(id), () => new RealtimeError(ErrorCode.Disconnected, 'the connection was lost'));
  }

  private scheduleRefresh(expiresAt: number | null): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    if (expiresAt === null || typeof this.o.token !== 'function') return;
    const left = expiresAt - Date.now();
    const at = Math.max(0, left - Math.min(this.o.refreshMargin, left / 5));
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.min(at, 2 ** 31 - 1));
  }

  /** Replaces the session's token without reconnecting. */
  async refresh(): Promise<void> {
    const token = typeof this.o.token === 'function' ? await (this.o.token as () => unknown)() : this.o.token;
    try {
      const reply = (await this.call((id) => [Msg.Refresh, id, token ?? null], undefined, 'token refresh')) as Record<string, unknown> | null;
      this.scheduleRefresh(typeof reply?.expiresAt === 'number' ? reply.expiresAt : null);
    } catch (err) {
      this.errorListeners.emit(err as Error);
      throw err;
    }
  }

  // ---- sending -------------------------------------------------------------------

  /** Sends a request (or queues it while offline); `resend`: sent again after a reconnect until answered. */
  private call(build: (id: number) => unknown[], timeout: number | undefined, what: string, resend = false): Promise<unknown> {
    const { id, result } = this.requests.open(timeout ?? this.o.requestTimeout, what);
    try {
      const frame = encodeNow(this.codec, build(id), what);
      const tooLarge = oversize(frame, this.maxPayload, what);
      if (tooLarge !== null) throw tooLarge;
      this.sendOrQueue(frame, id);
      if (resend) this.outbox.resendUntilSettled(id, frame, result);
    } catch (err) {
      this.requests.reject(id, err as Error);
    }
    return result;
  }

  private sendOrQueue(frame: OutgoingFrame, id: number): void {
    if (this.state === 'connected') return this.transport.sendFrame(frame);
    if (this.state === 'closed') throw new RealtimeError(ErrorCode.Disconnected, 'the client is closed');
    this.outbox.push(frame, id);
  }

  private transmit(message: unknown[]): void {
    this.transport.send(message);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(change: StateChange): void {
    this.state = change.state;
    this.stateListeners.emit(change);
  }
}

export { codecForSubprotocol };

/** A random idempotency key: 128 bits in base64url (22 characters). Browser-safe. */
function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
