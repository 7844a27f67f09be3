import cluster, { type Worker } from 'node:cluster';
import { ClusterAdapter, ClusterHub, Metrics, type MetricsSnapshot, type RealtimeServer } from '../realtime/index.js';
import { serveRealtime, type MessageLimits } from './serve-realtime.js';

/** What the primary needs to know from a worker's serve command. */
interface WorkerReady {
  t: 'tether-cli';
  url: string;
  slot: number;
}

/**
 * `tether serve --realtime --workers N`, primary side: forks N workers that share the port
 * (node:cluster hands connections round robin, so no sticky sessions are involved), hosts
 * their shared topics, history and presence (ClusterHub over a MemoryAdapter), and starts a
 * worker again when one dies; its clients reconnect to the others and recover by offset.
 * Resolves with the URL once the first worker listens.
 */
export function runPrimary(workers: number, onStop: () => void): Promise<{ url: string; stop(): Promise<void> }> {
  new ClusterHub();
  let stopping = false;
  const slots = new Map<Worker, number>();
  const fork = (slot: number): void => {
    const w = cluster.fork({ TETHER_WORKER_SLOT: String(slot) });
    slots.set(w, slot);
  };
  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker);
    slots.delete(worker);
    if (stopping || slot === undefined) {
      if (stopping && slots.size === 0) onStop();
      return;
    }
    process.stderr.write(`tether: worker ${slot} exited (${signal ?? code}); starting it again\n`);
    fork(slot);
  });
  for (let i = 1; i <= workers; i++) fork(i);
  return new Promise((resolve) => {
    let announced = false;
    cluster.on('message', (_worker, m: WorkerReady) => {
      if (m?.t !== 'tether-cli' || announced) return;
      announced = true;
      resolve({
        url: m.url,
        stop: () => {
          stopping = true;
          // Each worker drains its clients (1012 with a reconnect hint) and exits.
          for (const w of slots.keys()) w.process.kill('SIGTERM');
          if (slots.size === 0) onStop();
          return Promise.resolve();
        },
      });
    });
  });
}

/** Worker side: a realtime hub on the cluster adapter, /metrics answering for every worker. */
export async function runWorker(port: number, host: string, limits: MessageLimits, deflate: boolean, conformance: boolean): Promise<{ close(): Promise<void> }> {
  const slot = process.env.TETHER_WORKER_SLOT ?? String(cluster.worker?.id ?? 0);
  const adapter = new ClusterAdapter();
  let own: Metrics | null = null;
  const hub = await serveRealtime(port, host, limits, deflate, conformance, {
    adapter,
    metrics: (rt: RealtimeServer) => {
      own = new Metrics(rt);
      adapter.snapshot = (): MetricsSnapshot => ({ labels: { worker: slot }, stats: rt.stats(), eventLoop: own!.eventLoopDelay() });
      return new Metrics(() => adapter.snapshots() as Promise<MetricsSnapshot[]>, { eventLoopDelay: false, ready: () => rt.ready });
    },
  });
  process.stdout.write(`tether: worker ${slot} (pid ${process.pid}) ready\n`);
  process.send!({ t: 'tether-cli', url: hub.url, slot: Number(slot) } satisfies WorkerReady);
  return {
    async close() {
      await hub.close();
      (own as Metrics | null)?.close();
    },
  };
}
