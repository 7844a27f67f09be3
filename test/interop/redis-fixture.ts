/**
 * Starts a throwaway redis-server on a free loopback port for a test (no config file, no
 * persistence). Tests that need Redis fail, never skip, when it is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespClient } from '../../src/realtime/adapters/resp-client.js';
import { freePort } from '../helpers.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisInstance {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 2000);
  return exited.finally(() => clearTimeout(t));
}

/** Spawns one redis-server and waits (≤ 5 s) until it answers PING. */
async function startOnce(fixedPort?: number): Promise<RedisInstance> {
  const port = fixedPort ?? (await freePort());
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => void (output = (output + d.toString()).slice(-4000)); // last lines, for error messages
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => void (spawnError = err));
  const stop = () => stopChild(child, exited);

  const deadline = Date.now() + 5000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited early (${child.exitCode ?? child.signalCode}) on port ${port}:\n${output}`);
    }
    try {
      const client = await RespClient.connect({ port, connectTimeout: 500 });
      try {
        const pong = await client.command(['PING']);
        if (pong === 'PONG') return { port, pid: child.pid!, stop };
        lastError = new Error(`PING answered ${String(pong)}`);
      } finally {
        await client.close();
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s (${String(lastError)}):\n${output}`);
}

/** Starts a redis-server; with `port`, on that port (to restart one that was stopped). */
export async function startRedis(port?: number): Promise<RedisInstance> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error('redis-server is not installed at /usr/bin/redis-server (install the Debian "redis-server" package)');
  }
  // The free port can be taken by someone else before redis binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(port);
    } catch (err) {
      if (attempt >= 3 || !/exited early/.test(String(err))) throw err;
      if (port !== undefined) await sleep(200); // The old server's port may not be free yet.
    }
  }
}
