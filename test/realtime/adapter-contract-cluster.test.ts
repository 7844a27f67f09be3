/**
 * The adapter contract through the cluster IPC adapter: workers' ClusterAdapters talk to a
 * ClusterHub over channels that behave like node:cluster's with advanced serialization
 * (asynchronous, in order, structured clone). Real worker processes are in test/cli/workers.test.ts.
 */
import { EventEmitter } from 'node:events';
import { ClusterAdapter, ClusterHub } from '../../src/realtime/index.js';
import { adapterContract } from './adapter-contract.js';

const hubs = new Map<string, ClusterHub>();
let workers = 0;

/** A worker's end of an IPC channel to `hub`. */
function workerChannel(hub: ClusterHub): EventEmitter & { send(m: unknown): boolean; connected: boolean } {
  const id = ++workers;
  const proc = Object.assign(new EventEmitter(), {
    connected: true,
    send(m: unknown): boolean {
      const copy = structuredClone(m);
      setImmediate(() => hub.receive(peer, copy));
      return true;
    },
  });
  const peer = { id, send: (m: unknown) => setImmediate(() => proc.emit('message', structuredClone(m))) };
  return proc;
}

adapterContract('cluster IPC (workers through the primary)', async () => ({
  adapter(scope) {
    let hub = hubs.get(scope);
    if (hub === undefined) hubs.set(scope, (hub = new ClusterHub({ cluster: false })));
    return new ClusterAdapter(workerChannel(hub));
  },
}));
