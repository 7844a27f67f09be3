import { randomBytes } from 'node:crypto';
import type { ServerSocket, UpgradeRequest } from '../../server/index.js';
import type { Publication, TopicPolicy } from '../adapters/adapter.js';
import type { Codec } from '../wire/codec.js';
import { PendingRequests } from '../wire/pending-requests.js';
import type { RateLimiter } from './rate-limit.js';
import { SessionSubscriptions } from './session-subscriptions.js';
import { RealtimeError } from '../wire/realtime-error.js';
import { checkName, ErrorCode, Msg } from '../wire/wire-protocol.js';
import type { TopicQueues } from './topic-queues.js';

/** What a session's node does for it (implemented by RealtimeServer). */
export interface SessionHost {
  readonly requestTimeout: number;
  subscribeSession(session: Session<any>, topic: string): Promise<void>;
  unsubscribeSession(session: Session<any>, topic: string, notice?: [string, string]): Promise<void>;
}

/** A presence change waiting, like publications, for a subscription to become live. */
export type Buffered = Publication | { presence: true; joined: boolean; sessionId: string; info: unknown };

/** One topic a session is subscribed to. */
export interface SessionSubscription {
  topic: string;
  policy: TopicPolicy;
  /** Presence info of this subscription (the client's, or the session's). */
  info: unknown;
  /** While history is being read: what arrived meanwhile, sent after it. null once live. */
  buffer: Buffered[] | null;
  /** The epoch this subscriber was last told (in a Reply or Subscribed); '' before. */
  epoch: string;
}

/**
 * One authenticated client connection of the realtime server. Its socket's `data` points
 * back to it.
 */
export class Session<U = unknown> {
  readonly id = randomBytes(12).toString('base64url');
  /** Private user data from authenticate. */
  user: U = undefined as U;
  /** Public presence info from authenticate. */
  info: unknown = undefined;
  /** Token expiry (ms since 1970), if authenticate gave one. */
  expiresAt: number | undefined = undefined;
  /** Free slot for the application. */
  data: unknown = undefined;
  /** @internal */ authenticated = false;
  /** @internal set once Connect was received (authentication may still be running). */ connecting = false;
  /** @internal */ readonly subscriptions = new SessionSubscriptions<SessionSubscription>();
  /** @internal requests this server sent to the client; created at the first one (most sessions never get one). */
  sent: PendingRequests | null = null;
  /** @internal latest undelivered publication per topic and key while the socket is congested. */
  conflated: Map<string, Map<string, Publication>> | null = null;
  /** @internal */ limiter: RateLimiter | null = null;
  /** @internal messages refused over the rate limit lately, for closing persistent offenders, and when the last was. */ refused = 0;
  /** @internal */ lastRefused = 0;
  /** @internal messages waiting to be processed (reading is paused meanwhile); null when none wait. */
  inbox: Array<string | Buffer> | null = null;
  /** @internal the turn of the event loop this session last had messages processed in, and how many. */
  turn = -1;
  /** @internal */ used = 0;
  /** @internal subscription requests per topic, run one at a time in arrival order. */
  topicQueues: TopicQueues | null = null;
  /** @internal new subscriptions waiting for their authorization hook (they count against maxSubscriptions). */
  reserved = 0;
  /** @internal session ids this client had before (Connect's `previous`): their "except me" publications are not for it either. */
  previous: readonly string[] | null = null;

  /**
   * The opening handshake (headers, address, query) until the session is authenticated:
   * authenticate and onConnect see it; then it is dropped (null), which halves what a session
   * costs. Copy what you need later (a header, say) into session.data in onConnect.
   */
  upgradeRequest: UpgradeRequest | null;
  /** The peer's address and the request target, kept for the session's lifetime. */
  readonly remoteAddress: string | undefined;
  readonly url: string;

  constructor(
    /** @internal */ readonly socket: ServerSocket<Session<any>>,
    upgradeRequest: UpgradeRequest,
    readonly codec: Codec,
    /** @internal */ readonly host: SessionHost,
  ) {
    this.upgradeRequest = upgradeRequest;
    this.remoteAddress = upgradeRequest.remoteAddress;
    // A string of its own: the request's is a slice of the whole request head, which it
    // would keep alive for the session's lifetime.
    this.url = Buffer.from(upgradeRequest.url, 'utf8').toString('utf8');
  }

  /** Whether the connection is still open. */
  get open(): boolean {
    return this.socket.readyState === 1;
  }

  /** Topics this session is subscribed to. */
  get topics(): string[] {
    return this.subscriptions.keys();
  }

  /** Sends an event to this session's client. */
  emit(event: string, data?: unknown): boolean {
    checkName(event, 'event');
    return this.send([Msg.Event, event, data ?? null]);
  }

  /** Asks the client; resolves with its handler's answer (of type `Res`, not checked) or rejects with a RealtimeError (timeout, not_found...). */
  request<Res = unknown>(method: string, data?: unknown, options: { timeout?: number } = {}): Promise<Res> {
    checkName(method, 'method');
    if (!this.open) return Promise.reject(new RealtimeError(ErrorCode.Disconnected, 'the session is closed'));
    const { id, result } = (this.sent ??= new PendingRequests()).open(options.timeout ?? this.host.requestTimeout, `request ${method}`);
    this.send([Msg.Request, id, method, data ?? null]);
    return result as Promise<Res>;
  }

  /** Subscribes the session from the server side (no authorization hook). */
  subscribe(topic: string): Promise<void> {
    return this.host.subscribeSession(this, topic);
  }

  /** Ends a subscription from the server side; the client is told with an Unsubscribed message. */
  unsubscribe(topic: string, reason = 'unsubscribed by the server'): Promise<void> {
    return this.host.unsubscribeSession(this, topic, ['unsubscribed', reason]);
  }

  /** Closes the connection with a WebSocket close code. */
  close(code = 1000, reason = ''): void {
    if (this.inbox !== null) {
      // Messages were waiting (and reading paused): drop them, and read again to see the client's close.
      this.inbox = null;
      this.socket.resume();
    }
    this.socket.close(code, reason);
  }

  /** @internal Encodes and sends one protocol message. */
  send(message: unknown[]): boolean {
    if (!this.open) return false;
    return this.socket.send(this.codec.encode(message) as string | Uint8Array) !== 2;
  }

  /** @internal */
  sendError(id: number, code: string, message: string): void {
    this.send([Msg.Error, id, code, message]);
  }

  /** @internal Whether a publication's `except` names this session (or one this client had before). */
  isExcepted(except: string | undefined): boolean {
    return except !== undefined && (except === this.id || (this.previous !== null && this.previous.includes(except)));
  }

  /** @internal Sends one publication on its own (history, recovery, conflation). */
  sendPublication(p: Publication): void {
    if (this.isExcepted(p.except)) this.send([Msg.Skip, p.topic, p.offset]);
    else this.send(publicationMessage(p));
  }
}

/** The wire form of a publication. */
export function publicationMessage(p: Publication): unknown[] {
  return p.key === undefined ? [Msg.Publication, p.topic, p.data ?? null, p.offset] : [Msg.Publication, p.topic, p.data ?? null, p.offset, p.key];
}
