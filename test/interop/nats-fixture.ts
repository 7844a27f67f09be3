/**
 * Starts a throwaway nats-server (Debian's, with JetStream) on a free loopback port for a
 * test, its storage in a temporary directory. Tests that need NATS fail, never skip, when it
 * is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers.js';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsInstance {
  port: number;
  url: string;
  pid: number;
  /** The JetStream storage directory (kept across restart() unless wiped). */
  storeDir: string;
  stop(): Promise<void>;
  /** Stops it (SIGKILL) and starts it again on the same port, keeping or wiping its storage. */
  restart(options: { wipe: boolean }): Promise<void>;
  pause(): void;
  resume(): void;
}

/** Resolves when the server sends its INFO line. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('INFO')));
    s.once('error', () => done(false));
  });
}

function spawnServer(port: number, storeDir: string): { child: ChildProcess; exited: Promise<void>; output: () => string } {
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => void (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', (err) => void (output += `\nspawn error: ${err.message}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

async function waitReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited early on port ${port}:\n${output()}`);
    if (await answers(port)) return;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`nats-server on port ${port} did not answer within 10 s:\n${output()}`);
}

export async function startNats(): Promise<NatsInstance> {
  if (!existsSync(NATS_SERVER)) throw new Error('nats-server is not installed at /usr/sbin/nats-server (install the Debian "nats-server" package)');
  const storeDir = mkdtempSync(join(tmpdir(), 'tether-nats-'));
  let port = 0;
  let proc: ReturnType<typeof spawnServer> | undefined;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    proc = spawnServer(port, storeDir);
    try {
      await waitReady(port, proc.child, proc.output);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc!;
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGCONT');
    p.child.kill(signal);
    const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
    await p.exited.finally(() => clearTimeout(t));
  };
  const instance: NatsInstance = {
    port,
    url: `nats://127.0.0.1:${port}`,
    get pid() {
      return proc!.child.pid!;
    },
    storeDir,
    async stop() {
      await kill('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
    async restart({ wipe }) {
      await kill('SIGKILL');
      if (wipe) rmSync(join(storeDir, 'jetstream'), { recursive: true, force: true });
      for (let attempt = 1; ; attempt++) {
        proc = spawnServer(port, storeDir);
        try {
          await waitReady(port, proc.child, proc.output);
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(200); // The old server's port may not be free yet.
        }
      }
    },
    pause: () => void proc!.child.kill('SIGSTOP'),
    resume: () => void proc!.child.kill('SIGCONT'),
  };
  return instance;
}
