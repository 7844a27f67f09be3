import { createHash } from 'node:crypto';
// Types only: `nats` is an optional peer dependency, loaded by the adapter when it connects.
import type { DeliverPolicy, DiscardPolicy, JetStreamClient, JetStreamManager, RetentionPolicy, StorageType, StreamInfo } from 'nats';
import { DEFAULT_IDEMPOTENCY_WINDOW, type HistoryResult, type Publication, type TopicPolicy } from './adapter.js';
import { decodeMsgpack } from '../wire/msgpack.js';
import { compatible, createOrUse } from './nats-create.js';

/**
 * The JetStream side of the NATS adapter: one stream per topic, so that the stream sequence
 * is the topic's offset (1, 2, 3... with no holes from other topics). The epoch is derived
 * from the stream's creation time: a stream that is deleted or lost with the server's
 * storage is created again with another time, hence another epoch.
 *
 * Stored message: "<time>\n" + tail, tail being MessagePack [key | nil, except | nil, data].
 * Reliable topics store on `<prefix>.h.<topic>`; conflated ones on `<prefix>.h.<topic>.<key>`
 * with one message per subject, so the stream holds the latest value of every key.
 */

/** A subject token for any string: base64url, never empty. */
export function token(s: string): string {
  return `_${Buffer.from(s, 'utf8').toString('base64url')}`;
}

export function fromToken(t: string): string {
  return Buffer.from(t.slice(1), 'base64url').toString('utf8');
}

export interface TopicStreamRef {
  name: string;
  epoch: string;
}

const NS = 1_000_000;

interface InfoQueue {
  running: boolean;
  waiting: Array<{ resolve(info: StreamInfo | null): void; reject(err: unknown): void }>;
}

export class NatsStreams {
  /** Streams known to exist, by topic. Dropped when a publish finds the stream gone. */
  private readonly known = new Map<string, Promise<TopicStreamRef>>();

  constructor(
    private readonly prefix: string,
    private readonly storage: 'file' | 'memory',
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
  ) {}

  streamName(topic: string): string {
    // Stream names may not hold '.', '*', '>' or spaces: a hash names the topic's stream.
    return `${this.prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_${createHash('sha256').update(topic).digest('base64url').slice(0, 27)}`;
  }

  subject(topic: string, key?: string): string {
    const base = `${this.prefix}.h.${token(topic)}`;
    return key === undefined ? base : `${base}.${token(key)}`;
  }

  forget(topic: string): void {
    this.known.delete(topic);
  }

  /** After a reconnection: any stream may have been lost with the server's storage. */
  forgetAll(): void {
    this.known.clear();
  }

  /** The topic's stream, created with the policy's limits when it does not exist yet. */
  ensure(topic: string, policy: TopicPolicy): Promise<TopicStreamRef> {
    let ref = this.known.get(topic);
    if (ref === undefined) {
      ref = this.open(topic, policy);
      this.known.set(topic, ref);
      ref.catch(() => this.known.delete(topic));
    }
    return ref;
  }

  private async open(topic: string, policy: TopicPolicy): Promise<TopicStreamRef> {
    const name = this.streamName(topic);
    const info = (await this.info(name)) ?? (await this.create(topic, name, policy));
    return { name, epoch: epochOf(info) };
  }

  /**
   * Stream info, or null when the stream does not exist. Calls for one stream made while a
   * request for it is on its way share the next request (sent after all of them), so that
   * 10,000 subscribers arriving at once cost a handful of JetStream API requests, not 10,000,
   * and each still gets a state read after its call.
   */
  info(name: string): Promise<StreamInfo | null> {
    return new Promise((resolve, reject) => {
      let q = this.infoQueues.get(name);
      if (q === undefined) this.infoQueues.set(name, (q = { running: false, waiting: [] }));
      q.waiting.push({ resolve, reject });
      if (!q.running) void this.runInfo(name, q);
    });
  }

  private readonly infoQueues = new Map<string, InfoQueue>();

  private async runInfo(name: string, q: InfoQueue): Promise<void> {
    q.running = true;
    while (q.waiting.length > 0) {
      const batch = q.waiting.splice(0);
      try {
        const info = await this.jsm.streams.info(name).catch((err: unknown) => {
          if (isNotFound(err)) return null;
          throw err;
        });
        for (const w of batch) w.resolve(info);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    q.running = false;
    this.infoQueues.delete(name);
  }

  private async create(topic: string, name: string, policy: TopicPolicy): Promise<StreamInfo> {
    const window = Math.max(1, policy.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW);
    const conflated = policy.mode === 'conflated';
    const subjects = [conflated ? `${this.subject(topic)}.*` : this.subject(topic)];
    // Another node may create it at the same moment, or a sweep delete it: see createOrUse.
    return createOrUse(
      () =>
        this.jsm.streams.add({
          name,
          // The topic's token: what the sweep (NatsLink) reads to find who listens to it.
          description: token(topic),
          subjects,
          retention: 'limits' as RetentionPolicy,
          storage: this.storage as StorageType,
          discard: 'old' as DiscardPolicy,
          max_msgs: Math.max(1, policy.historySize),
          ...(conflated ? { max_msgs_per_subject: 1 } : {}),
          // JetStream wants the duplicate window within max_age: history ages are also filtered when read.
          max_age: Math.max(policy.historyTtl, window) * NS,
          duplicate_window: window * NS,
          num_replicas: 1,
        }),
      async () => compatible(await this.info(name), name, subjects),
    );
  }

  /**
   * Deletes this prefix's topic streams that are gone: no message left (the last publish is
   * older than the stream's max age, which is at least the history TTL and the idempotency
   * window), no activity for that long, and no live node listening (`listening(token)`).
   * Returns the names deleted. A topic published again later starts a new stream, under a
   * new epoch, which is what its history (empty) would have told a subscriber anyway.
   */
  async sweep(listening: (topicToken: string) => Promise<boolean>, now = Date.now()): Promise<string[]> {
    const deleted: string[] = [];
    const mine = `${this.prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_`;
    for await (const info of this.jsm.streams.list()) {
      const { name, description, max_age: maxAge } = info.config;
      if (!name.startsWith(mine) || description === undefined || !description.startsWith('_') || info.state.messages > 0) continue;
      const lastTs = Date.parse(info.state.last_ts);
      const activity = Math.max(Date.parse(info.created), Number.isFinite(lastTs) ? lastTs : 0);
      if (now - activity < maxAge / NS) continue;
      if (await listening(description)) continue;
      try {
        await this.jsm.streams.delete(name);
        deleted.push(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      for (const [topic, ref] of this.known) if (token(topic) === description) void ref.then((r) => r.name === name && this.known.delete(topic), () => {});
    }
    return deleted;
  }

  /** History after `since` (HistoryResult rules, as the other adapters apply them). */
  async history(topic: string, policy: TopicPolicy, since?: { epoch: string; offset: number }): Promise<HistoryResult> {
    const ref = await this.ensure(topic, policy);
    let info = await this.info(ref.name);
    if (info === null || epochOf(info) !== ref.epoch) {
      // The stream was lost (server restarted without its storage): a new one, a new epoch.
      this.forget(topic);
      await this.ensure(topic, policy);
      info = await this.info(ref.name);
      if (info === null) throw new Error(`nats adapter: stream ${ref.name} could not be created`);
    }
    const epoch = epochOf(info);
    const offset = info.state.last_seq;
    const result: HistoryResult = { epoch, offset, publications: [], recovered: false };
    const sameStream = since !== undefined && since.epoch === epoch && since.offset <= offset;
    const cutoff = Date.now() - policy.historyTtl;
    if (policy.mode === 'conflated') {
      result.recovered = sameStream;
      if (policy.historySize > 0) result.publications = (await this.read(topic, ref.name, epoch, info.state.first_seq, offset, info.state.messages)).filter((p) => p.time >= cutoff);
      return result;
    }
    if (since === undefined) return result;
    if (sameStream && since.offset === offset) {
      result.recovered = true;
      return result;
    }
    let entries: Publication[] = [];
    if (policy.historySize > 0 && info.state.messages > 0) {
      const from = Math.max(info.state.first_seq, sameStream ? since.offset + 1 : 0);
      if (from <= offset) entries = await this.read(topic, ref.name, epoch, from, offset, offset - from + 1);
    }
    // What can be used: the run of consecutive, young enough offsets ending at the head.
    let first = entries.length;
    while (first > 0 && entries[first - 1]!.offset === offset - (entries.length - first) && entries[first - 1]!.time >= cutoff) first--;
    result.publications = entries.slice(first);
    result.recovered = sameStream && result.publications.length === offset - since.offset;
    return result;
  }

  /** Up to `count` stored messages from sequence `from` to `last`, through an ordered consumer. */
  private async read(topic: string, stream: string, epoch: string, from: number, last: number, count: number): Promise<Publication[]> {
    const out: Publication[] = [];
    if (count <= 0 || from > last) return out;
    const consumer = await this.js.consumers.get(stream, { deliver_policy: 'by_start_sequence' as DeliverPolicy, opt_start_seq: Math.max(1, from) });
    try {
      while (out.length < count) {
        const batch = await consumer.fetch({ max_messages: Math.min(count - out.length, 1000), expires: 2000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          if (m.seq > last) break;
          out.push(parseStored(topic, epoch, m.seq, m.data));
          if (m.seq >= last) break;
        }
        if (got === 0 || out.length === 0 || out[out.length - 1]!.offset >= last) break;
      }
    } finally {
      await consumer.delete().catch(() => {});
    }
    return out;
  }
}

/** A stream's epoch: its creation time, hashed to a short token. */
export function epochOf(info: StreamInfo): string {
  return createHash('sha256').update(`${info.config.name} ${info.created}`).digest('hex').slice(0, 16);
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string | number; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(String((err as Error)?.message));
}

/** Fills key, except and data from a tail (MessagePack [key, except, data]). */
export function withTail(p: Publication, tail: Uint8Array): Publication {
  const [key, except, data] = decodeMsgpack(tail) as [string | null, string | null, unknown];
  p.data = data;
  if (key !== null) p.key = key;
  if (except !== null) p.except = except;
  return p;
}

/** A stored message: "<time>\n" + tail. */
function parseStored(topic: string, epoch: string, seq: number, bytes: Uint8Array): Publication {
  const nl = bytes.indexOf(10);
  const time = Number(Buffer.from(bytes.buffer, bytes.byteOffset, nl).toString());
  return withTail({ topic, data: null, offset: seq, epoch, time }, bytes.subarray(nl + 1));
}
