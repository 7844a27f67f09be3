import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from '../../src/client/index.js';
import { frame, RawPeer, startEchoServer, within } from '../helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));

function run(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${out}`)));
  });
}

test('--help works for the command and each subcommand', () => {
  for (const args of [['--help'], ['serve', '--help'], ['connect', '--help']]) {
    const r = run(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /Usage:/);
  }
});

test('a bad flag gives a one-line error and exit status 2', () => {
  for (const args of [['serve', '--echo', '--bogus'], ['serve', '--echo', '--port', 'abc'], ['connect'], ['nope']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^tether: /);
  }
});

test('tether serve --echo prints its URL and echoes text and binary', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--echo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [, url] = await within(waitForLine(child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'server start');
    const ws = new WebSocket(url!);
    ws.binaryType = 'nodebuffer';
    const got: unknown[] = [];
    await within(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => {
          ws.send('hello');
          ws.send(Buffer.from([1, 2, 3]));
        };
        ws.onmessage = (e) => {
          got.push(e.data);
          if (got.length === 2) ws.close(1000);
        };
        ws.onerror = () => reject(new Error('client error'));
        ws.onclose = () => resolve();
      }),
      10_000,
      'echo',
    );
    assert.equal(got[0], 'hello');
    assert.deepEqual(got[1], Buffer.from([1, 2, 3]));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

test('tether connect sends typed lines and prints messages, closing cleanly at end of input', async () => {
  const { server, url } = await startEchoServer();
  try {
    const child = spawn(process.execPath, [CLI, 'connect', url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const echoed = waitForLine(child, /< line two/);
    child.stdin!.write('line one\nline two\n');
    await within(echoed, 10_000, 'echoed lines');
    child.stdin!.end();
    const code = await within(new Promise<number | null>((r) => child.once('exit', r)), 10_000, 'connect exit');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /connected to ws:\/\/127\.0\.0\.1/);
    assert.match(stderr, /closed: 1000/);
  } finally {
    await server.close({ timeout: 100 });
  }
});

test('tether serve --echo echoes pipelined large messages in order without closing the slow reader', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--echo', '--max-payload', '1100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [, url] = await within(waitForLine(child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'server start');
    const ws = new WebSocket(url!);
    ws.binaryType = 'nodebuffer';
    const count = 24;
    let received = 0;
    const closeCode = await within(
      new Promise<number>((resolve) => {
        ws.onopen = () => {
          for (let i = 0; i < count; i++) ws.send(Buffer.alloc(1 << 20, i));
        };
        ws.onmessage = (e) => {
          const d = e.data as Buffer;
          assert.equal(d.length, 1 << 20);
          assert.equal(d[0], received);
          assert.equal(d[d.length - 1], received);
          if (++received === count) ws.close(1000);
        };
        ws.onclose = (e) => resolve(e.code);
      }),
      20_000,
      'pipelined echoes',
    );
    assert.equal(received, count);
    assert.equal(closeCode, 1000);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

test('tether serve --max-fragments closes a message in more frames than that with 1009, before its payload', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--echo', '--max-fragments', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [, url] = await within(waitForLine(child, /listening on (ws:\/\/127\.0\.0\.1:(\d+)\/)/), 10_000, 'server start');
    const port = Number(new URL(url!).port);
    // Three frames are within the limit: the message comes back whole.
    const ok = await RawPeer.connect(port);
    await ok.send(Buffer.concat([frame(1, 'a', { fin: false }), frame(0, 'b', { fin: false }), frame(0, 'c')]));
    const [echo] = await ok.waitFrames(1);
    assert.equal(echo!.opcode, 1);
    assert.equal(echo!.payload.toString(), 'abc');
    ok.destroy();
    // A fourth is refused at its header: its payload (announced, never sent) is not awaited.
    const over = await RawPeer.connect(port);
    const header = frame(0, Buffer.alloc(1000), { fin: false }).subarray(0, 8);
    await over.send(Buffer.concat([frame(1, 'a', { fin: false }), frame(0, 'b', { fin: false }), frame(0, 'c', { fin: false }), header]));
    await over.waitClosed();
    assert.equal(over.closeFrame()?.code, 1009);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

test('tether serve --max-fragments takes a positive integer only', () => {
  const r = run(['serve', '--echo', '--max-fragments', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^tether: --max-fragments must be an integer of at least 1, got "0"$/m);
});
