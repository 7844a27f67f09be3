/**
 * Run by cluster-dead-worker.test.ts as its own process: a node:cluster primary with a
 * ClusterHub, and (forked from this same file) one worker listening to topic `t`. The primary
 * SIGKILLs the worker, waits until the process is dead but before its own event loop has
 * seen the channel close, and publishes to `t`: the delivery to the dead worker fails with
 * EPIPE. It prints "survived" once the worker's exit has been handled and a publish after it
 * still resolves. Linux only (/proc tells when the worker is dead).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ClusterAdapter, ClusterHub, type AdapterNode } from '../../src/realtime/index.js';

const quiet: AdapterNode = { deliver() {}, deliverPresence() {}, deliverToSession() {}, deliverToAll() {} };
const policy = { mode: 'history', historySize: 10, historyTtl: 60_000 } as never;

if (cluster.isPrimary) {
  const hub = new ClusterHub();
  const worker = cluster.fork();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: unknown) => {
    if (m !== 'listening') return;
    void (async () => {
      const link = hub.adapter.attach(quiet);
      await link.publish('t', 0, policy, {});
      const pid = worker.process.pid!;
      process.kill(pid, 'SIGKILL');
      // Synchronously, so that the primary cannot notice the exit first. The main thread is a
      // zombie at once; the process's files (its end of the channel) close when its last
      // thread has gone too, which the 200 ms wait leaves time for.
      const deadline = Date.now() + 5000;
      while (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
        if (Date.now() > deadline) throw new Error('the worker did not die within 5 s');
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      const sent = link.publish('t', 1, policy, {});
      process.stdout.write(`worker connected after its death: ${worker.isConnected()}\n`);
      await sent;
      await exited;
      await link.publish('t', 2, policy, {});
      process.stdout.write('survived\n');
      process.exit(0);
    })().catch((err: unknown) => {
      process.stdout.write(`failed: ${String(err)}\n`);
      process.exit(1);
    });
  });
} else {
  const link = new ClusterAdapter().attach(quiet);
  await link.listen('t');
  process.send!('listening');
}
