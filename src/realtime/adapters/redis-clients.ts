/**
 * The Redis adapter speaks to Redis through one small interface, RedisConnection: the
 * built-in RESP client implements it, and so do the wrappers here around an application's
 * own ioredis or node-redis (`redis`) client, so that AUTH, TLS, Sentinel and Cluster come
 * from the library the application already configures. Neither library is imported: the
 * wrappers use the instance they are given.
 */
import type { RespValue } from './resp-client.js';

export interface RedisConnection {
  command(args: Array<string | Buffer | number>): Promise<RespValue>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  onMessage: ((channel: string, payload: Buffer) => void) | null;
  /** Called when the connection is lost (the adapter then reconnects and catches up). */
  onClose: ((err?: Error) => void) | null;
  readonly closed: boolean;
  close(): Promise<void>;
}

type Listener = (...args: any[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
}

/** What the adapter uses of an ioredis Redis or Cluster instance. */
export interface IoRedisLike extends Emitter {
  callBuffer(command: string, ...args: Array<string | Buffer>): Promise<unknown>;
  duplicate(): IoRedisLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  disconnect(): void;
  status: string;
}

/** What the adapter uses of a node-redis (`redis` package) client. */
export interface NodeRedisLike extends Emitter {
  sendCommand(args: Array<string | Buffer>): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): NodeRedisLike;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
  isReady: boolean;
}

/** What the adapter uses of a node-redis cluster client (`createCluster`): commands are routed by their first key. */
export interface NodeRedisClusterLike extends Omit<NodeRedisLike, 'sendCommand' | 'duplicate' | 'withTypeMapping'> {
  sendCommand(firstKey: string | Buffer | undefined, isReadonly: boolean | undefined, args: Array<string | Buffer>): Promise<unknown>;
  duplicate(): NodeRedisClusterLike;
  withTypeMapping(mapping: Record<number, unknown>): NodeRedisClusterLike;
  readonly masters: unknown[];
}

export type RedisClientKind = 'ioredis' | 'node-redis' | 'node-redis-cluster';

/** Which library a client given as the `client` option comes from, or null. */
export function redisClientKind(client: unknown): RedisClientKind | null {
  const c = client as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || typeof c.duplicate !== 'function') return null;
  if (typeof c.callBuffer === 'function') return 'ioredis';
  if (typeof c.sendCommand === 'function' && typeof c.withTypeMapping === 'function') {
    // createCluster's client: sendCommand(firstKey, isReadonly, args); a single client's: sendCommand(args).
    return Array.isArray(c.masters) || 'nodeByAddress' in c ? 'node-redis-cluster' : 'node-redis';
  }
  return null;
}

/**
 * The key a command is routed by on a cluster (every key of one command shares a hash tag):
 * EVAL/EVALSHA's first key, PUBLISH's channel (any node relays it to the whole cluster),
 * otherwise the first argument.
 */
function firstKey(a: Array<string | Buffer>): string | Buffer | undefined {
  const name = String(a[0]).toUpperCase();
  if (name === 'EVAL' || name === 'EVALSHA') return Number(String(a[2])) > 0 ? a[3] : undefined;
  return a[1];
}

const args = (a: Array<string | Buffer | number>): Array<string | Buffer> => a.map((x) => (typeof x === 'number' ? String(x) : x));

/**
 * What both client wrappers share: the listeners they put on the application's client (taken
 * off again by close(), so the client is left as it was) and the one-time loss report.
 */
abstract class ClientConnection {
  onMessage: ((channel: string, payload: Buffer) => void) | null = null;
  onClose: ((err?: Error) => void) | null = null;
  private isClosed = false;
  private readonly listeners: Array<[string, Listener]> = [];

  protected constructor(private readonly emitter: Emitter) {}

  protected listen(event: string, listener: Listener): void {
    this.emitter.on(event, listener);
    this.listeners.push([event, listener]);
  }

  protected lost(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.onClose?.(new Error('redis connection lost'));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Marks the connection closed and takes its listeners off the client. */
  protected detach(): void {
    this.isClosed = true;
    for (const [event, listener] of this.listeners.splice(0)) this.emitter.removeListener(event, listener);
  }
}

/** An ioredis instance (the application's, for commands; a duplicate the adapter owns, for pub/sub). */
class IoRedisConnection extends ClientConnection implements RedisConnection {
  constructor(private readonly c: IoRedisLike, private readonly owned: boolean) {
    super(c);
    this.listen('close', () => this.lost());
    this.listen('end', () => this.lost());
    if (owned) {
      this.listen('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage?.(channel.toString(), message));
      this.listen('error', () => {}); // reported through 'close'; an unhandled 'error' would crash the process
    }
  }

  command(a: Array<string | Buffer | number>): Promise<RespValue> {
    const [name, ...rest] = args(a);
    return this.c.callBuffer(String(name), ...rest) as Promise<RespValue>;
  }

  subscribe(channel: string): Promise<unknown> {
    return this.c.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.c.unsubscribe(channel);
  }

  async close(): Promise<void> {
    this.detach();
    // The application's client stays open: only the duplicate the adapter made is closed.
    if (this.owned) this.c.disconnect();
  }
}

/**
 * A node-redis client or cluster client (the application's, for commands, with Buffers for
 * replies; a connected duplicate for pub/sub). A cluster routes each command by its first key
 * and reconnects its nodes by itself: a node reconnecting counts as a loss here, so that the
 * adapter catches up from history what the subscriber may have missed meanwhile.
 */
class NodeRedisConnection extends ClientConnection implements RedisConnection {
  private readonly buffers: NodeRedisLike | NodeRedisClusterLike;

  constructor(private readonly c: NodeRedisLike | NodeRedisClusterLike, private readonly owned: boolean, private readonly cluster: boolean) {
    super(c);
    // 36 '$' blob strings and 43 '+' simple strings as Buffers: payloads are binary.
    this.buffers = c.withTypeMapping({ 36: Buffer, 43: Buffer });
    for (const event of cluster ? ['node-reconnecting', 'disconnect'] : ['reconnecting', 'end']) this.listen(event, () => this.lost());
    if (owned) this.listen(cluster ? 'node-error' : 'error', () => {});
    if (owned && cluster) this.listen('error', () => {});
  }

  command(a: Array<string | Buffer | number>): Promise<RespValue> {
    const list = args(a);
    if (this.cluster) return (this.buffers as NodeRedisClusterLike).sendCommand(firstKey(list), false, list) as Promise<RespValue>;
    return (this.buffers as NodeRedisLike).sendCommand(list) as Promise<RespValue>;
  }

  subscribe(channel: string): Promise<unknown> {
    return this.c.subscribe(channel, (message, ch) => this.onMessage?.(ch.toString(), message), true);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.c.unsubscribe(channel);
  }

  async close(): Promise<void> {
    this.detach();
    if (this.owned) {
      if (typeof this.c.destroy === 'function') this.c.destroy();
      else await this.c.disconnect?.().catch(() => {});
    }
  }
}

/** Command and subscriber connections over an application's client. */
export async function openClientConnections(client: unknown, kind: RedisClientKind): Promise<{ cmd: RedisConnection; sub: RedisConnection }> {
  if (kind === 'ioredis') {
    const app = client as IoRedisLike;
    const sub = app.duplicate();
    return { cmd: new IoRedisConnection(app, false), sub: new IoRedisConnection(sub, true) };
  }
  const cluster = kind === 'node-redis-cluster';
  const app = client as NodeRedisLike | NodeRedisClusterLike;
  const sub = app.duplicate();
  const wrapped = new NodeRedisConnection(sub, true, cluster);
  try {
    await sub.connect();
  } catch (err) {
    await wrapped.close();
    throw err;
  }
  return { cmd: new NodeRedisConnection(app, false, cluster), sub: wrapped };
}
