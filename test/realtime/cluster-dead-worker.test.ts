/**
 * A worker killed outright (SIGKILL, the OOM killer) must not take the cluster's primary
 * with it: deliveries that reach its channel before the primary has noticed the exit fail
 * with EPIPE, and the hub ignores them instead of raising an unhandled 'error' event. On the
 * worker's side, a call that cannot reach a primary that is gone is rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ClusterAdapter } from '../../src/realtime/index.js';

const script = fileURLToPath(new URL('./cluster-dead-worker-primary.js', import.meta.url));

test('ClusterHub: deliveries to a worker killed with SIGKILL fail quietly; the primary goes on', { timeout: 30_000 }, () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 25_000 });
  const output = `${r.stdout}${r.stderr}`;
  // The race this test sets up: the channel still looked open when the delivery was made.
  assert.match(r.stdout, /worker connected after its death: true/, output);
  assert.doesNotMatch(output, /EPIPE|Unhandled 'error'/, output);
  assert.match(r.stdout, /survived/, output);
  assert.equal(r.status, 0, output);
});

test('ClusterAdapter: a call whose message cannot be written (the primary is gone) is rejected, not thrown as an event', async () => {
  const proc = Object.assign(new EventEmitter(), {
    send(_m: unknown, callback: (error: Error | null) => void): boolean {
      process.nextTick(callback, Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return false;
    },
  });
  const link = new ClusterAdapter(proc).attach({ deliver() {}, deliverPresence() {}, deliverToSession() {}, deliverToAll() {} });
  await assert.rejects(link.listen('t'), { name: 'ClusterAdapterError', message: /the primary is gone \(write EPIPE\)/ });
});
