import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_IDEMPOTENCY_WINDOW, MAX_IDEMPOTENCY_KEYS, type Adapter, type AdapterLink, type AdapterNode, type HistoryResult, type Member, type Publication, type PublishOptions, type PublishResult, type TopicPolicy } from './adapter.js';
import { decodeMsgpack, encodeMsgpack } from '../wire/msgpack.js';
import { RespClient, type RespValue } from './resp-client.js';
import { openClientConnections, redisClientKind, type RedisClientKind, type RedisConnection } from './redis-clients.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from './redis-scripts.js';
import { newEpoch } from './topic-stream.js';

export interface RedisAdapterOptions {
  /**
   * The application's own client: an ioredis `Redis` or `Cluster`, or a connected node-redis
   * (`redis` package) client from `createClient` or `createCluster`. AUTH, TLS, Sentinel and Cluster then come from its own
   * configuration. The adapter sends its commands on it (it does not close it) and opens its
   * subscriber with duplicate(). Without it, the built-in client connects to host:port.
   */
  client?: unknown;
  port?: number;
  host?: string;
  /** Prefix of every key and channel, to share one Redis between applications. Default 'tether:'. */
  prefix?: string;
  /** A node that stops refreshing its liveness key for this long is considered gone (its presence members leave). Default 15 s. */
  nodeTtl?: number;
  /** A topic's offset and epoch are kept this long after its last publish (at least its history's age). Default 1 day. */
  metaTtl?: number;
}

/**
 * The adapter for several processes or machines: nodes share topics, history and presence
 * through Redis. Offsets, history and the publish to other nodes happen in one Lua script
 * (see redis-scripts.ts); each node listens on one pub/sub channel per topic and one for
 * direct messages and broadcasts. Presence members are owned by their node, which keeps a
 * liveness key fresh: members of a node that died are dropped when presence is read.
 */
export class RedisAdapter implements Adapter {
  readonly options: Required<RedisAdapterOptions>;
  /** @internal Which library `client` comes from (null: the built-in client). */
  readonly clientKind: RedisClientKind | null;

  constructor(options: RedisAdapterOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    for (const k of Object.keys(options)) {
      if (!['client', 'port', 'host', 'prefix', 'nodeTtl', 'metaTtl'].includes(k)) throw new TypeError(`unknown option ${k}`);
    }
    const kind = options.client === undefined ? null : redisClientKind(options.client);
    if (options.client !== undefined && kind === null) throw new TypeError('client must be an ioredis Redis or Cluster instance, or a node-redis client (createClient or createCluster)');
    if (options.client !== undefined && (options.port !== undefined || options.host !== undefined)) throw new TypeError('give either client or port/host, not both');
    const port = options.port ?? 6379;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError('port must be an integer between 1 and 65535');
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new TypeError('prefix must be a string');
    for (const name of ['nodeTtl', 'metaTtl'] as const) {
      const v = options[name];
      if (v !== undefined && (!Number.isInteger(v) || v < 1000)) throw new TypeError(`${name} must be an integer >= 1000 (ms)`);
    }
    this.clientKind = kind;
    this.options = {
      client: options.client,
      port,
      host: options.host ?? '127.0.0.1',
      prefix: options.prefix ?? 'tether:',
      nodeTtl: options.nodeTtl ?? 15_000,
      metaTtl: options.metaTtl ?? 86_400_000,
    };
  }

  attach(node: AdapterNode): AdapterLink {
    return new RedisLink(this.options, this.clientKind, node);
  }
}

const SCRIPTS = new Map([PUBLISH_SCRIPT, HISTORY_SCRIPT].map((s) => [s, createHash('sha1').update(s).digest('hex')]));

interface Connection {
  cmd: RedisConnection;
  sub: RedisConnection;
}

class RedisLink implements AdapterLink {
  readonly nodeId = randomBytes(9).toString('base64url');
  /** The current connection; replaced by a pending one while reconnecting, so commands wait for Redis to come back. */
  private ready: Promise<Connection>;
  private current: Connection | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Presence members this node added: topic → sessionId → info. */
  private readonly members = new Map<string, Map<string, unknown>>();
  /** Topics this node listens to, with their policy once known, and the last publication delivered. */
  private readonly listened = new Map<string, { policy?: TopicPolicy; epoch?: string; offset: number; buffer: Publication[] | null }>();
  private closed = false;
  private reconnecting = false;
  /** When the meta of listened topics was last kept alive. */
  private metaRefreshed = Date.now();

  constructor(
    private readonly o: Required<RedisAdapterOptions>,
    private readonly kind: RedisClientKind | null,
    private readonly node: AdapterNode,
  ) {
    this.ready = this.connect();
    this.ready.catch(() => {});
  }

  /**
   * Opens the command and subscriber connections. Whatever fails (or a close() that comes
   * meanwhile) closes what was opened, so no socket outlives the adapter.
   */
  get connected(): boolean {
    return this.current !== null && !this.closed;
  }

  private async connect(): Promise<Connection> {
    if (this.kind !== null) return this.setUp(await openClientConnections(this.o.client, this.kind), false);
    const opened = await Promise.allSettled([
      RespClient.connect({ port: this.o.port, host: this.o.host }),
      RespClient.connect({ port: this.o.port, host: this.o.host }),
    ]);
    const clients = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const release = async (err: unknown): Promise<never> => {
      await Promise.all(clients.map((c) => c.close()));
      throw err;
    };
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) return release(failed.reason);
    const [cmd, sub] = clients as [RespClient, RespClient];
    return this.setUp({ cmd, sub }, true);
  }

  /** Subscribes, beats, starts the heartbeat; on failure closes what was opened. */
  private async setUp(conn: Connection, name: boolean): Promise<Connection> {
    const { cmd, sub } = conn;
    try {
      if (this.closed) throw new Error('redis adapter closed');
      // Named, so that an operator (or a test) can tell this node's connections apart in CLIENT LIST
      // (not an application's client: its name is the application's).
      const label = `${this.o.prefix.replace(/[^\x21-\x7e]/g, '_')}node-${this.nodeId}`;
      if (name) await Promise.all([cmd.command(['CLIENT', 'SETNAME', label]), sub.command(['CLIENT', 'SETNAME', label])]);
      sub.onMessage = (channel, payload) => this.onMessage(channel, payload);
      cmd.onClose = sub.onClose = () => this.lost(conn);
      await sub.subscribe(`${this.o.prefix}all`);
      await this.beat(cmd);
      if (this.closed) throw new Error('redis adapter closed');
    } catch (err) {
      cmd.onClose = sub.onClose = null;
      await Promise.all([cmd.close(), sub.close()]);
      throw err;
    }
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.beat(cmd).catch(() => {}), Math.floor(this.o.nodeTtl / 3));
    this.heartbeat.unref?.();
    this.current = conn;
    return conn;
  }

  /**
   * Redis went away (or dropped a connection): reconnect with backoff, listen again, put this
   * node's presence members back, and deliver what was published meanwhile from history, so
   * subscribers lose nothing that history still holds.
   */
  private lost(conn: Connection): void {
    if (this.closed || this.reconnecting || this.current !== conn) return;
    this.reconnecting = true;
    this.current = null;
    void conn.cmd.close();
    void conn.sub.close();
    for (const t of this.listened.values()) t.buffer ??= [];
    this.ready = (async () => {
      for (let attempt = 0; ; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        if (this.closed) throw new Error('redis adapter closed');
        try {
          const next = await this.connect();
          if (this.closed) {
            await Promise.all([next.cmd.close(), next.sub.close()]);
            throw new Error('redis adapter closed');
          }
          for (const topic of this.listened.keys()) await this.subscribeTopic(next.sub, topic);
          for (const [topic, local] of this.members) {
            for (const [sessionId, info] of local) await this.store(next.cmd, topic, sessionId, info);
          }
          this.reconnecting = false;
          return next;
        } catch (err) {
          if (this.closed) throw err;
          // Not back yet: try again.
        }
      }
    })();
    this.ready.then(() => this.catchUp(), () => {});
  }

  private async catchUp(): Promise<void> {
    for (const [topic, t] of this.listened) {
      const buffered = t.buffer ?? [];
      try {
        if (t.policy !== undefined && t.epoch !== undefined) {
          const h = await this.history(topic, t.policy, { epoch: t.epoch, offset: t.offset });
          // Recovered: what was missed. Otherwise what history holds of the current epoch (a
          // restarted stream's first messages): subscribers are resynchronized from it.
          for (const p of h.publications) this.deliver(p, true);
        }
      } catch {
        // Redis went away again: the next reconnection catches up.
      }
      t.buffer = null;
      for (const p of buffered) this.deliver(p, true);
    }
  }

  /** Delivers a publication to the node, once per offset (catch-up and live messages may overlap). */
  private deliver(p: Publication, catchingUp = false): void {
    const t = this.listened.get(p.topic);
    if (t !== undefined) {
      if (!catchingUp && t.buffer !== null) {
        t.buffer.push(p);
        return;
      }
      if (t.epoch === p.epoch && p.offset <= t.offset) return;
      t.epoch = p.epoch;
      t.offset = p.offset;
    }
    this.node.deliver(p);
  }

  private beat(cmd: RedisConnection): Promise<RespValue> {
    const now = Date.now();
    if (now - this.metaRefreshed >= this.o.metaTtl / 4) {
      // Topics this node listens to stay alive however long nobody publishes to them.
      this.metaRefreshed = now;
      for (const [topic, t] of this.listened) if (t.policy !== undefined) void cmd.command(['PEXPIRE', this.keys(topic)[0]!, this.metaTtl(t.policy)]).catch(() => {});
    }
    return cmd.command(['SET', this.nodeKey(this.nodeId), '1', 'PX', this.o.nodeTtl]);
  }

  private nodeKey(id: string): string {
    return `${this.o.prefix}n:${id}`;
  }

  private keys(topic: string): string[] {
    const t = `${this.o.prefix}t:{${topic}}`;
    return [`${t}:meta`, `${t}:h`, `${t}:cv`, `${t}:ci`, `${t}:ik`, `${t}:iz`];
  }

  /** How long a topic's meta (epoch and offset) lives after its last use. */
  private metaTtl(policy: TopicPolicy): number {
    return Math.max(this.o.metaTtl, policy.historyTtl, policy.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW);
  }

  private async script(source: string, keys: string[], args: Array<string | Buffer | number>): Promise<RespValue> {
    const { cmd } = await this.ready;
    const sha = SCRIPTS.get(source)!;
    try {
      return await cmd.command(['EVALSHA', sha, keys.length, ...keys, ...args]);
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
      return cmd.command(['EVAL', source, keys.length, ...keys, ...args]);
    }
  }

  async listen(topic: string): Promise<void> {
    if (!this.listened.has(topic)) this.listened.set(topic, { offset: 0, buffer: null });
    const { sub } = await this.ready;
    await this.subscribeTopic(sub, topic);
  }

  private subscribeTopic(sub: RedisConnection, topic: string): Promise<unknown> {
    return Promise.all([sub.subscribe(`${this.o.prefix}c:${topic}`), sub.subscribe(`${this.o.prefix}p:${topic}`)]);
  }

  async unlisten(topic: string): Promise<void> {
    const policy = this.listened.get(topic)?.policy;
    this.listened.delete(topic);
    const { cmd, sub } = await this.ready;
    // The stream outlives its last subscriber on this node for at least its TTL from now.
    if (policy !== undefined && !cmd.closed) await cmd.command(['PEXPIRE', this.keys(topic)[0]!, this.metaTtl(policy)]);
    if (sub.closed || this.listened.has(topic)) return;
    await Promise.all([sub.unsubscribe(`${this.o.prefix}c:${topic}`), sub.unsubscribe(`${this.o.prefix}p:${topic}`)]);
  }

  async publish(topic: string, data: unknown, policy: TopicPolicy, options: PublishOptions = {}): Promise<PublishResult> {
    const now = Date.now();
    const tail = encodeMsgpack([options.key ?? null, options.except ?? null, data]);
    const reply = (await this.script(PUBLISH_SCRIPT, this.keys(topic), [
      `${this.o.prefix}c:${topic}`, policy.mode, policy.historySize, Math.max(1, policy.historyTtl), now, asBuffer(tail),
      options.key ?? '', newEpoch(), this.metaTtl(policy),
      options.idempotencyKey ?? '', Math.max(1, policy.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW), MAX_IDEMPOTENCY_KEYS,
    ])) as [number, Buffer, number?];
    const pub: PublishResult = { topic, data, offset: reply[0], epoch: reply[1].toString(), time: now };
    if (reply[2] === 1) pub.duplicate = true;
    if (options.key !== undefined) pub.key = options.key;
    if (options.except !== undefined) pub.except = options.except;
    return pub;
  }

  async history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult> {
    const t = this.listened.get(topic);
    if (t !== undefined) t.policy = policy;
    const reply = (await this.script(HISTORY_SCRIPT, this.keys(topic).slice(0, 3), [
      policy.mode, newEpoch(), this.metaTtl(policy), since === undefined ? -1 : since.offset, since?.epoch ?? '',
    ])) as [Buffer, number, RespValue[]];
    const epoch = reply[0].toString();
    const offset = reply[1];
    const result: HistoryResult = { epoch, offset, publications: [], recovered: false };
    const sameStream = since !== undefined && since.epoch === epoch && since.offset <= offset;
    const cutoff = Date.now() - policy.historyTtl;
    if (policy.mode === 'conflated') {
      result.recovered = sameStream;
      for (const v of reply[2] as Buffer[]) {
        const p = parseStored(topic, epoch, v);
        if (p.time >= cutoff) result.publications.push(p);
      }
      result.publications.sort((a, b) => a.offset - b.offset);
      return result;
    }
    if (since === undefined) return result;
    // What history holds and can be used: the run of consecutive, young enough offsets ending at the head.
    const entries = (reply[2] as Array<[Buffer, Buffer[]]>).map((e) => parseEntry(topic, epoch, e));
    let first = entries.length;
    while (first > 0 && entries[first - 1]!.offset === offset - (entries.length - first) && entries[first - 1]!.time >= cutoff) first--;
    result.publications = entries.slice(first);
    result.recovered = sameStream && result.publications.length === offset - since.offset;
    return result;
  }

  async presenceJoin(topic: string, member: Member): Promise<void> {
    const { cmd } = await this.ready;
    let local = this.members.get(topic);
    if (local === undefined) this.members.set(topic, (local = new Map()));
    local.set(member.sessionId, member.info);
    await this.store(cmd, topic, member.sessionId, member.info);
  }

  /** Records a member owned by this node and announces it if it is new. */
  private async store(cmd: RedisConnection, topic: string, sessionId: string, info: unknown): Promise<void> {
    const added = await cmd.command(['HSET', `${this.o.prefix}p:{${topic}}`, sessionId, asBuffer(encodeMsgpack([info ?? null, this.nodeId]))]);
    if (added === 1) await this.announce(cmd, topic, true, sessionId, info);
  }

  async presenceLeave(topic: string, sessionId: string): Promise<void> {
    const { cmd } = await this.ready;
    const local = this.members.get(topic);
    const info = local?.get(sessionId);
    local?.delete(sessionId);
    if (local?.size === 0) this.members.delete(topic);
    const removed = await cmd.command(['HDEL', `${this.o.prefix}p:{${topic}}`, sessionId]);
    if (removed === 1) await this.announce(cmd, topic, false, sessionId, info);
  }

  private announce(cmd: RedisConnection, topic: string, joined: boolean, sessionId: string, info: unknown): Promise<RespValue> {
    return cmd.command(['PUBLISH', `${this.o.prefix}p:${topic}`, asBuffer(encodeMsgpack([joined, sessionId, info ?? null]))]);
  }

  async presence(topic: string): Promise<Member[]> {
    const { cmd } = await this.ready;
    const flat = flatHash(await cmd.command(['HGETALL', `${this.o.prefix}p:{${topic}}`]));
    const entries: Array<{ sessionId: string; info: unknown; node: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [info, node] = decodeMsgpack(flat[i + 1]!) as [unknown, string];
      entries.push({ sessionId: flat[i]!.toString(), info, node });
    }
    const nodes = [...new Set(entries.map((e) => e.node))];
    // One GET per node, not MGET: on Redis Cluster the node keys live in different slots.
    const alive = await Promise.all(nodes.map((n) => cmd.command(['GET', this.nodeKey(n)])));
    const dead = new Set(nodes.filter((_, i) => alive[i] === null));
    const members: Member[] = [];
    for (const e of entries) {
      if (!dead.has(e.node)) {
        members.push({ sessionId: e.sessionId, info: e.info });
      } else if ((await cmd.command(['HDEL', `${this.o.prefix}p:{${topic}}`, e.sessionId])) === 1) {
        // A member of a node that is gone: it leaves now, for everyone.
        await this.announce(cmd, topic, false, e.sessionId, e.info);
      }
    }
    return members;
  }

  async sendToSession(sessionId: string, event: string, data: unknown): Promise<void> {
    const { cmd } = await this.ready;
    await cmd.command(['PUBLISH', `${this.o.prefix}all`, asBuffer(encodeMsgpack([0, sessionId, event, data]))]);
  }

  async broadcast(event: string, data: unknown, except?: string): Promise<void> {
    const { cmd } = await this.ready;
    await cmd.command(['PUBLISH', `${this.o.prefix}all`, asBuffer(encodeMsgpack([1, except ?? null, event, data]))]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    // Still connecting (or reconnecting): connect() sees `closed` and closes what it opened.
    const conn = this.current ?? (await this.ready.then((c) => c, () => null));
    if (conn === null) return;
    try {
      for (const [topic, local] of [...this.members]) for (const id of [...local.keys()]) await this.presenceLeave(topic, id);
      await conn.cmd.command(['DEL', this.nodeKey(this.nodeId)]);
    } catch {
      // Redis went away meanwhile: the node key expires by itself.
    }
    await Promise.all([conn.cmd.close(), conn.sub.close()]);
  }

  private onMessage(channel: string, payload: Buffer): void {
    const p = this.o.prefix;
    try {
      if (channel === `${p}all`) {
        const [kind, target, event, data] = decodeMsgpack(payload) as [number, string | null, string, unknown];
        if (kind === 0) this.node.deliverToSession(target!, event, data);
        else this.node.deliverToAll(event, data, target ?? undefined);
      } else if (channel.startsWith(`${p}c:`)) {
        const topic = channel.slice(p.length + 2);
        const nl = payload.indexOf(10);
        const [offset, epoch, time] = payload.subarray(0, nl).toString().split(' ');
        this.deliver(withTail({ topic, data: null, offset: Number(offset), epoch: epoch!, time: Number(time) }, payload.subarray(nl + 1)));
      } else if (channel.startsWith(`${p}p:`)) {
        const [joined, sessionId, info] = decodeMsgpack(payload) as [boolean, string, unknown];
        this.node.deliverPresence(channel.slice(p.length + 2), joined, { sessionId, info });
      }
    } catch {
      // Not ours (another application on the same prefix?): ignore it rather than crash the node.
    }
  }
}

/** HGETALL's reply as a flat [field, value, ...] list (ioredis turns it into an object). */
function flatHash(reply: unknown): Buffer[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return reply as Buffer[];
  if (reply instanceof Map) return [...reply].flat().map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));
  return Object.entries(reply as Record<string, Buffer>).flatMap(([k, v]) => [Buffer.from(k), v]);
}

/** Fills key, except and data from a stored tail. */
function withTail(p: Publication, tail: Uint8Array): Publication {
  const [key, except, data] = decodeMsgpack(tail) as [string | null, string | null, unknown];
  p.data = data;
  if (key !== null) p.key = key;
  if (except !== null) p.except = except;
  return p;
}

/** A conflated value: "<offset> <time>\n" + tail. */
function parseStored(topic: string, epoch: string, v: Buffer): Publication {
  const nl = v.indexOf(10);
  const [offset, time] = v.subarray(0, nl).toString().split(' ');
  return withTail({ topic, data: null, offset: Number(offset), epoch, time: Number(time) }, v.subarray(nl + 1));
}

/** A history stream entry: [id "<offset>-1", [t, time, m, tail]]. */
function parseEntry(topic: string, epoch: string, entry: [Buffer, Buffer[]]): Publication {
  const id = entry[0].toString();
  const fields = entry[1];
  let time = 0;
  let tail: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const f = fields[i]!.toString();
    if (f === 't') time = Number(fields[i + 1]!.toString());
    else if (f === 'm') tail = fields[i + 1];
  }
  return withTail({ topic, data: null, offset: Number(id.slice(0, id.indexOf('-'))), epoch, time }, tail ?? Buffer.alloc(0));
}

/** A Buffer over the encoder's bytes, without copying them. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
