/**
 * Redis set-ups as applications run them, started by the tests on loopback: a server that
 * requires a password, and a Redis Cluster of three masters (redis-server
 * --cluster-enabled yes, joined by redis-cli --cluster create). Fails loudly when Debian's
 * redis-server or redis-cli is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers.js';
import { REDIS_SERVER } from './redis-fixture.js';

export const REDIS_CLI = '/usr/bin/redis-cli';

/** A free port whose cluster bus (port + 10000, where cluster nodes also listen) fits too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 55000) return port;
  }
}

/** Sends one inline command and resolves with the first reply line (or rejects). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1');
    let data = '';
    s.setTimeout(1000, () => {
      s.destroy();
      reject(new Error('no answer'));
    });
    s.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n')) {
        s.destroy();
        resolve(data);
      }
    });
    s.on('error', reject);
    s.write(`${command}\r\n`);
  });
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function startServer(args: string[]): Proc {
  const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {});
  return { child, exited };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out: ${what}`);
}

function requireBinaries(): void {
  if (!existsSync(REDIS_SERVER)) throw new Error(`redis-server is not installed at ${REDIS_SERVER} (install the Debian "redis-server" package)`);
  if (!existsSync(REDIS_CLI)) throw new Error(`redis-cli is not installed at ${REDIS_CLI} (it comes with the Debian "redis-server" package, via redis-tools)`);
}

/** A redis-server that refuses commands until AUTH with `password`. */
export async function startRedisWithPassword(password: string): Promise<{ port: number; stop(): Promise<void> }> {
  requireBinaries();
  const port = await freePort();
  const p = startServer(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password]);
  await until(`redis-server with a password on ${port}`, async () => /NOAUTH/.test(await ask(port, 'GET x')));
  return { port, stop: () => stop(p) };
}

/** Three masters on loopback sharing the 16384 slots. */
export async function startRedisCluster(): Promise<{ ports: number[]; stop(): Promise<void> }> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'tether-redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freeClusterPort();
    if (!ports.includes(p)) ports.push(p);
  }
  const procs = ports.map((port) => startServer([
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000', '--dir', dir,
  ]));
  const stopAll = async () => {
    await Promise.all(procs.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await until(`cluster node ${port}`, async () => /PONG/.test(await ask(port, 'PING')));
    const create = spawnSync(REDIS_CLI, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}\n${create.stderr}`);
    for (const port of ports) await until(`cluster state ok on ${port}`, async () => /cluster_state:ok/.test(await ask(port, 'CLUSTER INFO')), 20_000);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { ports, stop: stopAll };
}
