import { randomBytes } from 'node:crypto';
// Types only: `nats` is an optional peer dependency, imported when a link connects on its own.
import type { ConnectionOptions, JetStreamClient, JetStreamManager, KV, NatsConnection, PubAck, Subscription } from 'nats';
import type { Adapter, AdapterLink, AdapterNode, HistoryResult, Member, PublishOptions, PublishResult, TopicPolicy } from './adapter.js';
import { decodeMsgpack, encodeMsgpack } from '../wire/msgpack.js';
import { openBucket, whenListening } from './nats-create.js';
import { epochOf, NatsStreams, token, withTail } from './nats-streams.js';
import { TopicOrder } from './topic-order.js';

/**
 * A `NatsConnection` from the `nats` package, described by the one method the declarations
 * check, so that applications without the optional `nats` package still type-check.
 */
export interface NatsConnectionLike {
  jetstream(...args: never[]): unknown;
}

/** nats' `ConnectionOptions` (servers, user/pass, token, tls...), passed to its connect() as given. */
export interface NatsConnectOptions {
  servers?: string | string[];
  [option: string]: unknown;
}

export interface NatsAdapterOptions {
  /** The application's own connection (auth, TLS, cluster URLs come from it); it is not closed by the adapter. */
  connection?: NatsConnectionLike;
  /** Without `connection`: the options of nats' connect() (servers, user/pass, token, tls...). Default servers 127.0.0.1:4222. */
  connect?: NatsConnectOptions;
  /** First token of every subject, stream and bucket name, to share one NATS between applications. Default 'tether'. */
  prefix?: string;
  /** JetStream storage of topic streams: 'file' survives a server restart, 'memory' does not. Default 'file'. */
  storage?: 'file' | 'memory';
  /** A node that stops refreshing its liveness entry for this long is gone (its presence members leave). Default 15 s. */
  nodeTtl?: number;
  /** How long a JetStream publish waits for its acknowledgement, in ms. Default 5000. */
  publishTimeout?: number;
  /**
   * How often a node looks for topic streams that are gone (empty for their max age and
   * listened to by no live node) and deletes them, in ms. Default 60 s.
   */
  sweepInterval?: number;
}

const OPTIONS = ['connection', 'connect', 'prefix', 'storage', 'nodeTtl', 'publishTimeout', 'sweepInterval'];

/**
 * The adapter for NATS (the official `nats` client, an optional peer dependency). A topic's
 * messages are stored in a JetStream stream of its own, whose sequence is the offset; after
 * the acknowledgement, the publishing node sends the publication on a core NATS subject that
 * only nodes with subscribers to the topic listen to. Nodes put each topic's publications
 * back in offset order, and fetch from the stream what core NATS did not bring (a publisher
 * that died after storing, a reconnection). Presence lives in a JetStream key-value bucket,
 * with each node's liveness in another whose entries expire.
 */
export class NatsAdapter implements Adapter {
  readonly options: Required<Omit<NatsAdapterOptions, 'connection' | 'connect'>> & Pick<NatsAdapterOptions, 'connection' | 'connect'>;

  constructor(options: NatsAdapterOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    for (const k of Object.keys(options)) if (!OPTIONS.includes(k)) throw new TypeError(`unknown option ${k}`);
    if (options.connection !== undefined && (typeof options.connection !== 'object' || typeof options.connection?.jetstream !== 'function')) throw new TypeError('connection must be a NatsConnection from the nats package');
    if (options.connection !== undefined && options.connect !== undefined) throw new TypeError('give either connection or connect, not both');
    if (options.connect !== undefined && (typeof options.connect !== 'object' || options.connect === null)) throw new TypeError('connect must be an object (nats ConnectionOptions)');
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || !/^[A-Za-z0-9_-]+$/.test(options.prefix))) throw new TypeError('prefix must be letters, digits, _ or -');
    if (options.storage !== undefined && options.storage !== 'file' && options.storage !== 'memory') throw new TypeError("storage must be 'file' or 'memory'");
    for (const name of ['nodeTtl', 'publishTimeout', 'sweepInterval'] as const) {
      const v = options[name];
      if (v !== undefined && (!Number.isInteger(v) || v < 100)) throw new TypeError(`${name} must be an integer >= 100 (ms)`);
    }
    this.options = {
      connection: options.connection,
      connect: options.connect,
      prefix: options.prefix ?? 'tether',
      storage: options.storage ?? 'file',
      nodeTtl: options.nodeTtl ?? 15_000,
      publishTimeout: options.publishTimeout ?? 5000,
      sweepInterval: options.sweepInterval ?? 60_000,
    };
  }

  attach(node: AdapterNode): AdapterLink {
    return new NatsLink(this.options, node);
  }
}

interface Ready {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  streams: NatsStreams;
  members: KV;
  nodes: KV;
  /** Which node listens to which topic: `<topic token>.<node id>`, so that a stream still listened to is kept. */
  listeners: KV;
}

class NatsLink implements AdapterLink {
  readonly nodeId = randomBytes(9).toString('base64url');
  private readonly ready: Promise<Ready>;
  private current: Ready | null = null;
  private disconnected = false;
  private reconnects = 0;
  /** Publishes sent by this node, for message ids. */
  private sent = 0;
  private closed = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private readonly subs = new Map<string, Subscription[]>();
  private readonly order: TopicOrder;
  /** Presence members this node added: topic → sessionId → info. */
  private readonly members = new Map<string, Map<string, unknown>>();
  private readonly p: string;

  constructor(
    private readonly o: NatsAdapter['options'],
    private readonly node: AdapterNode,
  ) {
    this.p = o.prefix;
    this.order = new TopicOrder((p) => node.deliver(p), (topic, policy, since) => this.history(topic, policy, since));
    this.ready = this.open();
    this.ready.catch(() => {});
  }

  get connected(): boolean {
    return this.current !== null && !this.disconnected && !this.closed && !this.current.nc.isClosed();
  }

  private async open(): Promise<Ready> {
    const nc = (this.o.connection as NatsConnection | undefined) ?? (await (await loadNats()).connect({ servers: '127.0.0.1:4222', maxReconnectAttempts: -1, reconnectTimeWait: 250, ...(this.o.connect as ConnectionOptions | undefined) }));
    try {
      if (this.closed) throw new Error('nats adapter closed');
      const jsm = await nc.jetstreamManager();
      const js = nc.jetstream({ timeout: this.o.publishTimeout });
      const [members, nodes, listeners] = await Promise.all([
        // Nodes starting together create these at the same moment: openBucket survives the race.
        openBucket(js, `${this.p}_presence`, { history: 1 }),
        openBucket(js, `${this.p}_nodes`, { history: 1, ttl: this.o.nodeTtl }),
        openBucket(js, `${this.p}_listeners`, { history: 1 }),
      ]);
      const ready: Ready = { nc, jsm, js, streams: new NatsStreams(this.p, this.o.storage, jsm, js), members, nodes, listeners };
      nc.subscribe(`${this.p}.all`, { callback: (err, m) => err === null && this.onDirect(m.data) });
      // The subscription is in place on the server once a round trip has gone through.
      await nc.flush();
      await whenListening(() => nodes.put(this.nodeId, '1'));
      this.heartbeat = setInterval(() => void nodes.put(this.nodeId, '1').catch(() => {}), Math.max(50, Math.floor(this.o.nodeTtl / 3)));
      this.heartbeat.unref?.();
      this.sweeper = setInterval(() => void this.sweep(ready).catch(() => {}), this.o.sweepInterval);
      this.sweeper.unref?.();
      void this.watch(ready);
      if (this.closed) throw new Error('nats adapter closed');
      this.current = ready;
      return ready;
    } catch (err) {
      if (this.o.connection === undefined) await nc.close().catch(() => {});
      throw err;
    }
  }

  /** Follows the connection: after a reconnection, what core NATS missed is read from the streams. */
  private async watch(r: Ready): Promise<void> {
    for await (const s of r.nc.status()) {
      if (s.type === 'disconnect') {
        this.disconnected = true;
      } else if (s.type === 'reconnect') {
        this.disconnected = false;
        this.reconnects++;
        r.streams.forgetAll();
        // Streams and the presence bucket may be gone with the server's storage: put back this node's members.
        for (const [topic, local] of this.members) for (const [id, info] of local) void this.store(r, topic, id, info).catch(() => {});
        void r.nodes.put(this.nodeId, '1').catch(() => {});
        for (const topic of this.subs.keys()) void r.listeners.put(this.listenerKey(topic), '1').catch(() => {});
        this.order.catchUpAll();
      }
    }
  }

  async listen(topic: string): Promise<void> {
    if (this.subs.has(topic)) return;
    const r = await this.ready;
    if (this.subs.has(topic)) return;
    const t = token(topic);
    this.order.listen(topic);
    this.subs.set(topic, [
      r.nc.subscribe(`${this.p}.c.${t}`, { callback: (err, m) => err === null && this.onPublication(topic, m.data) }),
      r.nc.subscribe(`${this.p}.p.${t}`, { callback: (err, m) => err === null && this.onPresence(topic, m.data) }),
    ]);
    // Recorded for the sweep, off the subscribe path: a stream is only swept after being
    // empty and idle for its max age, so it cannot vanish in the moment before this lands.
    void whenListening(() => r.listeners.put(this.listenerKey(topic), '1')).catch(() => {});
    // The subscriptions are in place on the server once a round trip has gone through.
    await r.nc.flush();
    // Then where the stream stands: publications after it are delivered in order from there.
    const info = await r.streams.info(r.streams.streamName(topic)).catch(() => undefined);
    this.order.base(topic, info === undefined ? null : info === null ? { epoch: undefined, offset: 0 } : { epoch: epochOf(info), offset: info.state.last_seq });
  }

  async unlisten(topic: string): Promise<void> {
    const subs = this.subs.get(topic);
    this.subs.delete(topic);
    this.order.unlisten(topic);
    for (const s of subs ?? []) s.unsubscribe();
    if (subs !== undefined && this.current !== null) await this.current.listeners.delete(this.listenerKey(topic)).catch(() => {});
  }

  private listenerKey(topic: string): string {
    return `${token(topic)}.${this.nodeId}`;
  }

  /**
   * Deletes the streams of topics that are gone (see NatsStreams.sweep): a topic is listened
   * to while a live node has its entry in the listeners bucket; entries of dead nodes go.
   */
  async sweep(r: Ready): Promise<string[]> {
    return r.streams.sweep(async (topicToken) => {
      let listened = false;
      for await (const key of await r.listeners.keys(`${topicToken}.*`)) {
        const node = key.slice(topicToken.length + 1);
        if (node === this.nodeId ? this.subs.size > 0 && [...this.subs.keys()].some((t) => token(t) === topicToken) : (await r.nodes.get(node))?.operation === 'PUT') listened = true;
        else if (node !== this.nodeId) await r.listeners.delete(key).catch(() => {});
      }
      return listened;
    });
  }

  async publish(topic: string, data: unknown, policy: TopicPolicy, options: PublishOptions = {}): Promise<PublishResult> {
    const r = await this.ready;
    const time = Date.now();
    const tail = encodeMsgpack([options.key ?? null, options.except ?? null, data]);
    const stored = concat(`${time}\n`, tail);
    const subject = r.streams.subject(topic, policy.mode === 'conflated' ? (options.key ?? '') : undefined);
    // Every publish carries a message id, so that a retry after a lost acknowledgement is not stored twice.
    const msgID = options.idempotencyKey ?? `${this.nodeId}.${++this.sent}`;
    const reconnects = this.reconnects;
    let ref = await r.streams.ensure(topic, policy);
    let ack: PubAck;
    for (let attempt = 0; ; attempt++) {
      try {
        ack = await r.js.publish(subject, stored, { expect: { streamName: ref.name }, msgID });
        if (ack.duplicate && (attempt > 0 || options.idempotencyKey === undefined)) ack = { ...ack, duplicate: false };
        break;
      } catch (err) {
        const message = String((err as Error)?.message ?? err);
        if (attempt < 2 && /no responders|503|stream not found/i.test(message)) {
          // The stream is gone (a broker restarted without its storage): create it again, under a new epoch.
          r.streams.forget(topic);
          ref = await r.streams.ensure(topic, policy);
        } else if (!(attempt < 2 && /TIMEOUT/.test(message) && (this.disconnected || this.reconnects !== reconnects))) {
          throw err;
        }
        // A request sent while the connection was down can be lost: try again (the message id keeps it once).
      }
    }
    const pub: PublishResult = { topic, data, offset: ack.seq, epoch: ref.epoch, time };
    if (options.key !== undefined) pub.key = options.key;
    if (options.except !== undefined) pub.except = options.except;
    if (ack.duplicate) {
      pub.duplicate = true;
      return pub;
    }
    r.nc.publish(`${this.p}.c.${token(topic)}`, concat(`${ack.seq} ${ref.epoch} ${time}\n`, tail));
    this.order.policy(topic, policy);
    return pub;
  }

  async history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult> {
    const r = await this.ready;
    this.order.policy(topic, policy);
    return r.streams.history(topic, policy, since);
  }

  async presenceJoin(topic: string, member: Member): Promise<void> {
    const r = await this.ready;
    let local = this.members.get(topic);
    if (local === undefined) this.members.set(topic, (local = new Map()));
    local.set(member.sessionId, member.info);
    await this.store(r, topic, member.sessionId, member.info);
  }

  /** Records a member owned by this node and announces it if it is new. */
  private async store(r: Ready, topic: string, sessionId: string, info: unknown): Promise<void> {
    const key = `${token(topic)}.${token(sessionId)}`;
    const value = encodeMsgpack([info ?? null, this.nodeId]);
    let added = true;
    try {
      await whenListening(() => r.members.create(key, value));
    } catch {
      added = false;
      await whenListening(() => r.members.put(key, value));
    }
    if (added) this.announce(r, topic, true, sessionId, info);
  }

  private announce(r: Ready, topic: string, joined: boolean, sessionId: string, info: unknown): void {
    r.nc.publish(`${this.p}.p.${token(topic)}`, encodeMsgpack([joined, sessionId, info ?? null]));
  }

  async presenceLeave(topic: string, sessionId: string): Promise<void> {
    const r = await this.ready;
    const local = this.members.get(topic);
    const info = local?.get(sessionId);
    local?.delete(sessionId);
    if (local?.size === 0) this.members.delete(topic);
    await this.remove(r, topic, sessionId, info);
  }

  private async remove(r: Ready, topic: string, sessionId: string, info: unknown): Promise<void> {
    const key = `${token(topic)}.${token(sessionId)}`;
    const entry = await r.members.get(key);
    if (entry === null || entry.operation !== 'PUT') return;
    await r.members.delete(key);
    this.announce(r, topic, false, sessionId, info);
  }

  async presence(topic: string): Promise<Member[]> {
    const r = await this.ready;
    // The topic's keys from one stream-info request (bounded by the request timeout), not
    // from keys(): its consumer waits for a last message that nats-server 2.9 may never send
    // once keys were deleted (nats-io/nats-server#3481), and a subscribe would hang on it.
    const subjects = `$KV.${this.p}_presence.`;
    const info = await r.jsm.streams.info(`KV_${this.p}_presence`, { subjects_filter: `${subjects}${token(topic)}.*` });
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(subjects.length));
    const entries = (await Promise.all(keys.map((k) => r.members.get(k)))).flatMap((e) => {
      if (e === null || e.operation !== 'PUT') return [];
      const [info, node] = decodeMsgpack(e.value) as [unknown, string];
      return [{ sessionId: fromKey(e.key), info, node }];
    });
    const nodes = [...new Set(entries.map((e) => e.node))];
    const alive = new Set((await Promise.all(nodes.map(async (n) => ((await r.nodes.get(n))?.operation === 'PUT' ? n : null)))).filter((n) => n !== null));
    const members: Member[] = [];
    for (const e of entries) {
      if (alive.has(e.node)) members.push({ sessionId: e.sessionId, info: e.info });
      // A member of a node that is gone: it leaves now, for everyone.
      else await this.remove(r, topic, e.sessionId, e.info);
    }
    return members.sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
  }

  async sendToSession(sessionId: string, event: string, data: unknown): Promise<void> {
    const r = await this.ready;
    r.nc.publish(`${this.p}.all`, encodeMsgpack([0, sessionId, event, data]));
  }

  async broadcast(event: string, data: unknown, except?: string): Promise<void> {
    const r = await this.ready;
    r.nc.publish(`${this.p}.all`, encodeMsgpack([1, except ?? null, event, data]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.order.close();
    const r = this.current ?? (await this.ready.then((c) => c, () => null));
    if (r === null) return;
    try {
      for (const [topic, local] of [...this.members]) for (const id of [...local.keys()]) await this.presenceLeave(topic, id);
      for (const topic of this.subs.keys()) await r.listeners.delete(this.listenerKey(topic));
      await r.nodes.delete(this.nodeId);
    } catch {
      // NATS went away meanwhile: the liveness entry expires by itself.
    }
    for (const subs of this.subs.values()) for (const s of subs) s.unsubscribe();
    this.subs.clear();
    if (this.o.connection === undefined) await r.nc.close().catch(() => {});
  }

  private onPublication(topic: string, payload: Uint8Array): void {
    try {
      const nl = payload.indexOf(10);
      const [offset, epoch, time] = Buffer.from(payload.buffer, payload.byteOffset, nl).toString().split(' ');
      this.order.receive(withTail({ topic, data: null, offset: Number(offset), epoch: epoch!, time: Number(time) }, payload.subarray(nl + 1)));
    } catch {
      // Not ours (another application on the same prefix?): ignore it rather than crash the node.
    }
  }

  private onPresence(topic: string, payload: Uint8Array): void {
    try {
      const [joined, sessionId, info] = decodeMsgpack(payload) as [boolean, string, unknown];
      this.node.deliverPresence(topic, joined, { sessionId, info });
    } catch {
      // Not ours: ignore.
    }
  }

  private onDirect(payload: Uint8Array): void {
    try {
      const [kind, target, event, data] = decodeMsgpack(payload) as [number, string | null, string, unknown];
      if (kind === 0) this.node.deliverToSession(target!, event, data);
      else this.node.deliverToAll(event, data, target ?? undefined);
    } catch {
      // Not ours: ignore.
    }
  }
}

async function loadNats(): Promise<typeof import('nats')> {
  try {
    return await import('nats');
  } catch (err) {
    throw new Error(`the NATS adapter needs the nats package: npm install nats (${(err as Error).message})`);
  }
}

function fromKey(key: string): string {
  return Buffer.from(key.slice(key.indexOf('.') + 2), 'base64url').toString('utf8');
}

function concat(head: string, tail: Uint8Array): Uint8Array {
  const h = Buffer.from(head);
  const out = Buffer.allocUnsafe(h.length + tail.length);
  h.copy(out, 0);
  out.set(tail, h.length);
  return out;
}
