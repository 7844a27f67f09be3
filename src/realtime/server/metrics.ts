import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { WebSocketServerStats } from '../../server/index.js';
import type { RealtimeServerStats } from './realtime-stats.js';

/** The content type of the Prometheus text exposition format this module writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Event-loop delay over the window since the previous collection, in seconds. */
export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** The figures of one process (or worker) at one moment: what a scrape turns into samples. */
export interface MetricsSnapshot {
  /** Labels added to every sample of this snapshot (a worker's number, for example). */
  labels?: Record<string, string>;
  /** A RealtimeServer's stats() (which holds its WebSocketServer's), or a bare WebSocketServer's. */
  stats: RealtimeServerStats | WebSocketServerStats;
  eventLoop?: EventLoopDelay;
}

/** Anything with a stats() method: a RealtimeServer or a WebSocketServer. */
export interface StatsSource {
  stats(): RealtimeServerStats | WebSocketServerStats;
  /** RealtimeServer: whether new connections should come here (see /readyz). */
  readonly ready?: boolean;
}

export interface MetricsOptions {
  /** Prefix of every metric name. Default 'tether_'. */
  prefix?: string;
  /** Labels added to every sample (an instance or region name, for example). */
  labels?: Record<string, string>;
  /** Measure the event loop's delay (node:perf_hooks, 10 ms resolution). Default true. */
  eventLoopDelay?: boolean;
  /** What /readyz answers: true for 200. Default: the source's `ready` (true for a source without one). */
  ready?: () => boolean;
}

type Sample = [labels: Record<string, string>, value: number];
interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples(s: MetricsSnapshot): Sample[];
}

const none = {};
const ws = (s: MetricsSnapshot): WebSocketServerStats => ('websocket' in s.stats ? s.stats.websocket : s.stats);
const rt = (s: MetricsSnapshot): RealtimeServerStats | undefined => ('websocket' in s.stats ? s.stats : undefined);
const one = (v: number | undefined): Sample[] => (v === undefined ? [] : [[none, v]]);
const byKey = (record: Record<string, number>, label: string): Sample[] => Object.entries(record).map(([k, v]) => [{ [label]: k }, v]);

/** Every family: name (without prefix), type, help, and how to read it from a snapshot. */
const FAMILIES: Family[] = [
  { name: 'connections', type: 'gauge', help: 'Open WebSocket connections.', samples: (s) => one(ws(s).connections) },
  { name: 'handshaking', type: 'gauge', help: 'Sockets in the opening handshake.', samples: (s) => one(ws(s).handshaking) },
  { name: 'connections_opened_total', type: 'counter', help: 'Connections accepted (101 sent).', samples: (s) => one(ws(s).connectionsOpened) },
  { name: 'closes_total', type: 'counter', help: 'Connections closed, by close code (1006: no close frame).', samples: (s) => byKey(ws(s).closesByCode, 'code') },
  { name: 'handshake_failures_total', type: 'counter', help: 'Upgrade requests refused or abandoned, by reason.', samples: (s) => byKey(ws(s).handshakeFailures, 'reason') },
  { name: 'messages_received_total', type: 'counter', help: 'WebSocket data messages received.', samples: (s) => one(ws(s).messagesIn) },
  { name: 'messages_sent_total', type: 'counter', help: 'WebSocket data messages sent (each recipient counts).', samples: (s) => one(ws(s).messagesOut) },
  { name: 'received_bytes_total', type: 'counter', help: 'Bytes read from accepted connections, as on the wire.', samples: (s) => one(ws(s).bytesIn) },
  { name: 'sent_bytes_total', type: 'counter', help: 'Bytes written to accepted connections, as on the wire.', samples: (s) => one(ws(s).bytesOut) },
  { name: 'backpressure_events_total', type: 'counter', help: 'Sends that met a full socket buffer (once per connection until it drains).', samples: (s) => one(ws(s).backpressure) },
  { name: 'backpressure_drops_total', type: 'counter', help: 'Messages dropped over maxBackpressure.', samples: (s) => one(ws(s).backpressureDrops) },
  { name: 'backpressure_closes_total', type: 'counter', help: 'Connections closed over maxBackpressure.', samples: (s) => one(ws(s).backpressureCloses) },
  { name: 'sessions', type: 'gauge', help: 'Authenticated realtime sessions.', samples: (s) => one(rt(s)?.sessions) },
  { name: 'sessions_connecting', type: 'gauge', help: 'Realtime connections that have not sent Connect yet.', samples: (s) => one(rt(s)?.sessionsConnecting) },
  { name: 'subscriptions', type: 'gauge', help: 'Subscriptions of this node\'s sessions.', samples: (s) => one(rt(s)?.subscriptions) },
  { name: 'topics', type: 'gauge', help: 'Topics with at least one subscriber on this node.', samples: (s) => one(rt(s)?.topics) },
  { name: 'sessions_opened_total', type: 'counter', help: 'Sessions authenticated.', samples: (s) => one(rt(s)?.sessionsOpened) },
  { name: 'auth_failures_total', type: 'counter', help: 'Connect messages refused by authenticate.', samples: (s) => one(rt(s)?.authFailures) },
  { name: 'publishes_total', type: 'counter', help: 'Publications made through this node.', samples: (s) => one(rt(s)?.publishes) },
  { name: 'deliveries_total', type: 'counter', help: 'Publications sent to sessions (live, replayed, conflated).', samples: (s) => one(rt(s)?.deliveries) },
  { name: 'conflated_total', type: 'counter', help: 'Publications held back for a congested subscriber of a conflated topic.', samples: (s) => one(rt(s)?.conflated) },
  {
    name: 'recoveries_total', type: 'counter', help: 'Subscribes with a position, by outcome.',
    samples: (s) => { const r = rt(s); return r ? [[{ outcome: 'recovered' }, r.recovered], [{ outcome: 'unrecoverable' }, r.unrecoverable]] : []; },
  },
  { name: 'rate_limited_total', type: 'counter', help: 'Incoming messages refused over the session rate limit.', samples: (s) => one(rt(s)?.rateLimited) },
  { name: 'adapter_requests_total', type: 'counter', help: 'Calls to the adapter (broker round trips).', samples: (s) => one(rt(s)?.adapter.requests) },
  { name: 'adapter_errors_total', type: 'counter', help: 'Calls to the adapter that failed.', samples: (s) => one(rt(s)?.adapter.errors) },
  { name: 'adapter_request_seconds_total', type: 'counter', help: 'Time spent waiting for the adapter, summed over calls.', samples: (s) => one(rt(s)?.adapter.seconds) },
  { name: 'adapter_connected', type: 'gauge', help: '1 when the adapter reaches its broker.', samples: (s) => { const r = rt(s); return r ? one(r.adapter.connected ? 1 : 0) : []; } },
  { name: 'event_loop_delay_p50_seconds', type: 'gauge', help: 'Median event-loop delay since the previous scrape.', samples: (s) => one(s.eventLoop?.p50) },
  { name: 'event_loop_delay_p99_seconds', type: 'gauge', help: '99th percentile event-loop delay since the previous scrape.', samples: (s) => one(s.eventLoop?.p99) },
  { name: 'event_loop_delay_max_seconds', type: 'gauge', help: 'Longest event-loop delay since the previous scrape.', samples: (s) => one(s.eventLoop?.max) },
];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function checkLabels(labels: unknown, what: string): Record<string, string> {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null) throw new TypeError(`${what} must be an object of strings`);
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) throw new TypeError(`${what}: "${k}" is not a valid Prometheus label name`);
    if (typeof v !== 'string') throw new TypeError(`${what}: the value of "${k}" must be a string`);
  }
  return labels as Record<string, string>;
}

/**
 * Renders snapshots in the Prometheus text exposition format (version 0.0.4): one family per
 * figure, one sample per snapshot (so several workers' snapshots give one series per worker,
 * told apart by their labels; sum them in PromQL for the machine).
 */
export function renderPrometheus(snapshots: MetricsSnapshot[], options: { prefix?: string; labels?: Record<string, string> } = {}): string {
  const prefix = options.prefix ?? 'tether_';
  const common = options.labels ?? {};
  let out = '';
  for (const f of FAMILIES) {
    let lines = '';
    for (const s of snapshots) {
      for (const [labels, value] of f.samples(s)) lines += `${prefix}${f.name}${formatLabels({ ...common, ...s.labels, ...labels })} ${Number.isFinite(value) ? value : 0}\n`;
    }
    if (lines !== '') out += `# HELP ${prefix}${f.name} ${f.help}\n# TYPE ${prefix}${f.name} ${f.type}\n${lines}`;
  }
  return out;
}

/** The part of a prom-client Registry this module uses (registerMetric). */
export interface PromRegistryLike {
  registerMetric(metric: never): void;
}

/**
 * Prometheus metrics of a RealtimeServer or WebSocketServer (or of several workers, through
 * a function that collects their snapshots): `text()` for a scrape, `handle()` to answer
 * /metrics, /healthz and /readyz on an HTTP server, `registerWith()` to add the figures to
 * a prom-client registry the application already has. Figures come from stats(), which the
 * servers keep anyway; only the event-loop monitor is extra (stop it with close()).
 */
export class Metrics {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private readonly prefix: string;
  private readonly labels: Record<string, string>;
  private readonly loop: IntervalHistogram | null;
  private readonly isReady: () => boolean;
  /** One collection serves every family of one prom-client scrape. */
  private collecting: Promise<MetricsSnapshot[]> | null = null;

  constructor(
    private readonly source: StatsSource | (() => MetricsSnapshot[] | Promise<MetricsSnapshot[]>),
    options: MetricsOptions = {},
  ) {
    if (typeof source !== 'function' && (typeof source !== 'object' || source === null || typeof source.stats !== 'function')) {
      throw new TypeError('source must have a stats() method or be a function returning snapshots');
    }
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    for (const k of Object.keys(options)) if (!['prefix', 'labels', 'eventLoopDelay', 'ready'].includes(k)) throw new TypeError(`unknown option ${k}`);
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(options.prefix))) throw new TypeError('prefix must be a valid start of a Prometheus metric name');
    if (options.eventLoopDelay !== undefined && typeof options.eventLoopDelay !== 'boolean') throw new TypeError('eventLoopDelay must be a boolean');
    if (options.ready !== undefined && typeof options.ready !== 'function') throw new TypeError('ready must be a function');
    this.prefix = options.prefix ?? 'tether_';
    this.labels = checkLabels(options.labels, 'labels');
    this.isReady = options.ready ?? (() => (typeof source === 'function' ? true : source.ready !== false));
    if (options.eventLoopDelay === false) {
      this.loop = null;
    } else {
      this.loop = monitorEventLoopDelay({ resolution: 10 });
      this.loop.enable();
    }
  }

  /** This process's event-loop delay since the previous call (the window restarts). */
  eventLoopDelay(): EventLoopDelay | undefined {
    if (this.loop === null) return undefined;
    const h = this.loop;
    // Nanoseconds; before the first sample the histogram reports NaN or huge values.
    const seconds = (ns: number): number => (h.count === 0 || !Number.isFinite(ns) ? 0 : ns / 1e9);
    const d = { p50: seconds(h.percentile(50)), p99: seconds(h.percentile(99)), max: seconds(h.max) };
    h.reset();
    return d;
  }

  /** The snapshots of one scrape. */
  async collect(): Promise<MetricsSnapshot[]> {
    if (typeof this.source === 'function') return this.source();
    const snapshot: MetricsSnapshot = { stats: this.source.stats() };
    const loop = this.eventLoopDelay();
    if (loop !== undefined) snapshot.eventLoop = loop;
    return [snapshot];
  }

  /** The exposition text of one scrape. */
  async text(): Promise<string> {
    return renderPrometheus(await this.collect(), { prefix: this.prefix, labels: this.labels });
  }

  /** Whether /readyz answers 200. */
  get ready(): boolean {
    return this.isReady();
  }

  /**
   * Answers GET /metrics (the exposition), /healthz (200 while the process runs) and /readyz
   * (200 when ready, else 503); returns false, touching nothing, for any other request, so an
   * application's own handler can go on: `if (metrics.handle(req, res)) return;`.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = this.ready;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(ready ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics') {
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${(err as Error)?.message ?? String(err)}\n`),
      );
    } else {
      return false;
    }
    return true;
  }

  /**
   * Adds every family to a prom-client Registry (`registry.metrics()` then includes them,
   * beside the application's own metrics and prom-client's default ones). prom-client is not
   * imported: any object with its registerMetric() contract works.
   */
  registerWith(registry: PromRegistryLike): void {
    if (typeof registry?.registerMetric !== 'function') throw new TypeError('registry must be a prom-client Registry');
    for (const f of FAMILIES) {
      const name = `${this.prefix}${f.name}`;
      const metric = {
        name,
        help: f.help,
        type: f.type,
        aggregator: 'sum',
        labelNames: [] as string[],
        reset: () => {},
        get: async () => {
          const snapshots = await this.shared();
          const values: Array<{ labels: Record<string, string>; value: number }> = [];
          for (const s of snapshots) for (const [labels, value] of f.samples(s)) values.push({ labels: { ...this.labels, ...s.labels, ...labels }, value });
          return { name, help: f.help, type: f.type, aggregator: 'sum', values };
        },
      };
      registry.registerMetric(metric as never);
    }
  }

  /** One collection for every family read in the same scrape (prom-client reads them one by one). */
  private shared(): Promise<MetricsSnapshot[]> {
    if (this.collecting === null) {
      this.collecting = this.collect();
      const clear = (): void => void setImmediate(() => (this.collecting = null));
      this.collecting.then(clear, clear);
    }
    return this.collecting;
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.loop?.disable();
  }
}
