/**
 * Workers of one machine (node:cluster) sharing topics, history, presence and direct
 * messages without a broker: every worker's ClusterAdapter forwards its calls over the IPC
 * channel to a ClusterHub in the primary, which runs them on an adapter of its own (a
 * MemoryAdapter by default) and sends deliveries back, in order, to the workers that listen.
 * The channel must use `serialization: 'advanced'` (structured clone), so that binary data
 * crosses it as it is: ClusterHub sets it up, before the workers are forked.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Adapter, AdapterLink, AdapterNode, HistoryResult, Member, PublishResult } from './adapter.js';
import { MemoryAdapter } from './memory-adapter.js';

const TAG = 'tether-cluster';

type Method = 'attach' | 'listen' | 'unlisten' | 'publish' | 'history' | 'presenceJoin' | 'presenceLeave' | 'presence' | 'sendToSession' | 'broadcast' | 'close';
type ToPrimary =
  | { t: typeof TAG; op: 'call'; link: number; id: number; method: Method; args: unknown[] }
  | { t: typeof TAG; op: 'snapshots'; id: number }
  | { t: typeof TAG; op: 'snapshot-reply'; id: number; value: unknown };
type ToWorker =
  | { t: typeof TAG; op: 'reply'; id: number; ok: boolean; value: unknown }
  | { t: typeof TAG; op: 'deliver'; link: number; kind: 'pub' | 'presence' | 'session' | 'all'; args: unknown[] }
  | { t: typeof TAG; op: 'snapshot'; id: number };

export interface IpcProcess {
  /** Node's `process.send`: a failed write (the other end is gone) goes to `callback`, not to an 'error' event. */
  send?: (message: unknown, callback: (error: Error | null) => void) => boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  connected?: boolean;
}

/** A send to a process that is gone fails; its exit or disconnect is handled elsewhere. */
const ignoreSendError = (): void => {};

const isOurs = (m: unknown): m is { t: string; op: string } => typeof m === 'object' && m !== null && (m as { t?: unknown }).t === TAG;

/**
 * The worker side. Every RealtimeServer in a worker attaches through it; calls wait for the
 * primary's answer. `snapshot`, when set, answers the primary's requests for this worker's
 * metrics (see clusterSnapshots()).
 */
export class ClusterAdapter implements Adapter {
  private nextLink = 0;
  private nextId = 0;
  /** @internal */ readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** @internal */ readonly nodes = new Map<number, AdapterNode>();
  /** Answers the primary's metrics requests for this worker. */
  snapshot: (() => unknown) | null = null;

  constructor(private readonly proc: IpcProcess = process) {
    if (typeof proc.send !== 'function') throw new TypeError('ClusterAdapter runs in a worker (a process with an IPC channel to the primary)');
    proc.on('message', (m) => {
      if (isOurs(m)) this.receive(m as ToWorker);
    });
  }

  attach(node: AdapterNode): AdapterLink {
    const link = ++this.nextLink;
    this.nodes.set(link, node);
    // The primary attaches it now, so that direct messages and broadcasts reach it from the start.
    void this.call(link, 'attach', []).catch(() => {});
    return new ClusterLink(this, link);
  }

  /** @internal */
  call(link: number, method: Method, args: unknown[]): Promise<unknown> {
    return this.request({ t: TAG, op: 'call', link, id: 0, method, args });
  }

  /** Every worker's snapshot, gathered by the primary (for /metrics served by any worker). */
  snapshots(): Promise<unknown[]> {
    return this.request({ t: TAG, op: 'snapshots', id: 0 }) as Promise<unknown[]>;
  }

  private request(message: ToPrimary): Promise<unknown> {
    const id = ++this.nextId;
    message.id = id;
    if (this.proc.connected === false) return Promise.reject(new Error('cluster adapter: the primary is gone'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.send!(message, (err) => {
        if (err === null || err === undefined || !this.pending.delete(id)) return;
        reject(Object.assign(new Error(`cluster adapter: the primary is gone (${err.message})`), { name: 'ClusterAdapterError' }));
      });
    });
  }

  private receive(m: ToWorker): void {
    if (m.op === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(Object.assign(new Error(String((m.value as { message?: string })?.message ?? m.value)), { name: 'ClusterAdapterError' }));
    } else if (m.op === 'deliver') {
      const node = this.nodes.get(m.link);
      if (node === undefined) return;
      const a = m.args;
      if (m.kind === 'pub') node.deliver(a[0] as never);
      else if (m.kind === 'presence') node.deliverPresence(a[0] as string, a[1] as boolean, a[2] as Member);
      else if (m.kind === 'session') node.deliverToSession(a[0] as string, a[1] as string, a[2]);
      else node.deliverToAll(a[0] as string, a[1], a[2] as string | undefined);
    } else if (m.op === 'snapshot') {
      let value: unknown = null;
      try {
        value = this.snapshot?.() ?? null;
      } catch {
        value = null;
      }
      this.proc.send!({ t: TAG, op: 'snapshot-reply', id: m.id, value } satisfies ToPrimary, ignoreSendError);
    }
  }
}

class ClusterLink implements AdapterLink {
  private closed = false;
  constructor(private readonly hub: ClusterAdapter, private readonly id: number) {}
  get connected(): boolean {
    return !this.closed && process.connected !== false;
  }
  listen(topic: string): Promise<void> {
    return this.hub.call(this.id, 'listen', [topic]) as Promise<void>;
  }
  unlisten(topic: string): Promise<void> {
    return this.hub.call(this.id, 'unlisten', [topic]) as Promise<void>;
  }
  publish(...args: Parameters<AdapterLink['publish']>): Promise<PublishResult> {
    return this.hub.call(this.id, 'publish', args) as Promise<PublishResult>;
  }
  history(...args: Parameters<AdapterLink['history']>): Promise<HistoryResult> {
    return this.hub.call(this.id, 'history', args) as Promise<HistoryResult>;
  }
  presenceJoin(topic: string, member: Member): Promise<void> {
    return this.hub.call(this.id, 'presenceJoin', [topic, member]) as Promise<void>;
  }
  presenceLeave(topic: string, sessionId: string): Promise<void> {
    return this.hub.call(this.id, 'presenceLeave', [topic, sessionId]) as Promise<void>;
  }
  presence(topic: string): Promise<Member[]> {
    return this.hub.call(this.id, 'presence', [topic]) as Promise<Member[]>;
  }
  sendToSession(sessionId: string, event: string, data: unknown): Promise<void> {
    return this.hub.call(this.id, 'sendToSession', [sessionId, event, data]) as Promise<void>;
  }
  broadcast(event: string, data: unknown, except?: string): Promise<void> {
    return this.hub.call(this.id, 'broadcast', [event, data, except]) as Promise<void>;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hub.call(this.id, 'close', []).catch(() => {});
    this.hub.nodes.delete(this.id);
  }
}

/** A worker as the hub sees it: what it can send to, and an id. */
export interface HubPeer {
  id: number | string;
  send(message: unknown): unknown;
}

/**
 * The primary side: runs every worker's adapter calls on `adapter` (a MemoryAdapter by
 * default) and sends deliveries back. With node:cluster, `new ClusterHub()` in the primary
 * (before forking) is all it takes; `connect()` and `disconnect()` serve other channels
 * (and the tests).
 */
export class ClusterHub {
  readonly adapter: Adapter;
  private readonly links = new Map<HubPeer['id'], Map<number, AdapterLink>>();
  private readonly peers = new Map<HubPeer['id'], HubPeer>();
  private nextSnapshot = 0;
  private readonly snapshotWaits = new Map<number, { left: number; values: unknown[]; done(): void }>();

  constructor(options: { adapter?: Adapter; cluster?: boolean } = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    for (const k of Object.keys(options)) if (!['adapter', 'cluster'].includes(k)) throw new TypeError(`unknown option ${k}`);
    if (options.adapter !== undefined && typeof options.adapter?.attach !== 'function') throw new TypeError('adapter must be an Adapter');
    this.adapter = options.adapter ?? new MemoryAdapter();
    if (options.cluster !== false) {
      if (!cluster.isPrimary) throw new TypeError('ClusterHub runs in the primary process');
      cluster.setupPrimary({ serialization: 'advanced' });
      // A worker killed outright is still "connected" until the primary reads the end of its
      // channel: a delivery meanwhile fails with EPIPE. Without a callback that failure is an
      // 'error' event on the Worker, and unhandled it would end the primary and every worker
      // with it. The worker's 'exit' (below) is what detaches its links.
      cluster.on('message', (worker: Worker, m: unknown) => this.receive({ id: worker.id, send: (x) => worker.isConnected() && worker.send(x as never, ignoreSendError) }, m));
      cluster.on('exit', (worker: Worker) => void this.disconnect(worker.id));
    }
  }

  /** Handles a message from a peer (node:cluster does this by itself). */
  receive(peer: HubPeer, m: unknown): void {
    if (!isOurs(m)) return;
    this.peers.set(peer.id, peer);
    const msg = m as ToPrimary;
    if (msg.op === 'call') void this.call(peer, msg);
    else if (msg.op === 'snapshots') void this.gather(peer, msg.id);
    else if (msg.op === 'snapshot-reply') {
      const w = this.snapshotWaits.get(msg.id);
      if (w !== undefined) {
        if (msg.value !== null) w.values.push(msg.value);
        if (--w.left === 0) w.done();
      }
    }
  }

  /** A peer is gone (a worker exited): its links close, so its presence members leave. */
  async disconnect(id: HubPeer['id']): Promise<void> {
    const links = this.links.get(id);
    this.links.delete(id);
    this.peers.delete(id);
    for (const w of this.snapshotWaits.values()) if (--w.left === 0) w.done();
    for (const link of links?.values() ?? []) await link.close().catch(() => {});
  }

  private link(peer: HubPeer, id: number): AdapterLink {
    let mine = this.links.get(peer.id);
    if (mine === undefined) this.links.set(peer.id, (mine = new Map()));
    let link = mine.get(id);
    if (link === undefined) {
      const deliver = (kind: 'pub' | 'presence' | 'session' | 'all', args: unknown[]) => peer.send({ t: TAG, op: 'deliver', link: id, kind, args } satisfies ToWorker);
      link = this.adapter.attach({
        deliver: (p) => deliver('pub', [p]),
        deliverPresence: (topic, joined, member) => deliver('presence', [topic, joined, member]),
        deliverToSession: (sessionId, event, data) => deliver('session', [sessionId, event, data]),
        deliverToAll: (event, data, except) => deliver('all', [event, data, except]),
      });
      mine.set(id, link);
    }
    return link;
  }

  private async call(peer: HubPeer, m: Extract<ToPrimary, { op: 'call' }>): Promise<void> {
    let reply: ToWorker;
    try {
      const link = this.link(peer, m.link);
      const value = m.method === 'attach' ? null : await (link[m.method] as (...a: unknown[]) => Promise<unknown>).apply(link, m.args);
      if (m.method === 'close') this.links.get(peer.id)?.delete(m.link);
      reply = { t: TAG, op: 'reply', id: m.id, ok: true, value: value ?? null };
    } catch (err) {
      reply = { t: TAG, op: 'reply', id: m.id, ok: false, value: { message: (err as Error)?.message ?? String(err) } };
    }
    peer.send(reply);
  }

  /** Asks every peer for its snapshot and answers the asking one with all of them (≤ 2 s). */
  private async gather(asker: HubPeer, id: number): Promise<void> {
    const values = await this.snapshots();
    asker.send({ t: TAG, op: 'reply', id, ok: true, value: values } satisfies ToWorker);
  }

  /** Every connected peer's snapshot (those that answer within 2 s). */
  snapshots(): Promise<unknown[]> {
    const peers = [...this.peers.values()];
    if (peers.length === 0) return Promise.resolve([]);
    const sid = ++this.nextSnapshot;
    return new Promise((resolve) => {
      const values: unknown[] = [];
      const timer = setTimeout(() => done(), 2000);
      const done = () => {
        clearTimeout(timer);
        this.snapshotWaits.delete(sid);
        resolve(values);
      };
      this.snapshotWaits.set(sid, { left: peers.length, values, done });
      for (const p of peers) p.send({ t: TAG, op: 'snapshot', id: sid } satisfies ToWorker);
    });
  }
}
