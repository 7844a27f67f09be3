/**
 * The CLI's --deflate flags: `tether serve --echo --deflate` negotiates permessage-deflate
 * with a `ws` client and echoes; `tether connect --deflate` offers it to a Tether echo
 * server, shows the extension in its "connected" line and echoes lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WsClient from 'ws';
import type { ServerSocket } from '../../src/server/index.js';
import { startEchoServer, within } from '../helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));

function waitForOutput(stream: NodeJS.ReadableStream, child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    stream.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${out}`)));
  });
}

test('tether serve --echo --deflate negotiates compression with a ws client and echoes', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--echo', '--deflate'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let ws: WsClient | null = null;
  try {
    const [, url] = await within(waitForOutput(child.stdout!, child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'server start');
    let header: string | undefined;
    ws = new WsClient(url!, { perMessageDeflate: { threshold: 0 } });
    const client = ws;
    client.on('upgrade', (res) => (header = res.headers['sec-websocket-extensions'] as string | undefined));
    const text = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, name: `item-${i % 10}` })));
    const bin = Buffer.alloc(100_000, 'abc');
    const got: Array<{ data: Buffer; isBinary: boolean }> = [];
    await within(new Promise<void>((resolve, reject) => {
      client.on('open', () => {
        client.send(text);
        client.send(bin);
        client.send('short');
      });
      client.on('message', (data, isBinary) => {
        got.push({ data: data as Buffer, isBinary });
        if (got.length === 3) resolve();
      });
      client.on('error', reject);
      client.on('close', (code) => reject(new Error(`closed with ${code}`)));
    }), 10_000, 'echoes');
    assert.equal(client.extensions, 'permessage-deflate');
    assert.match(header ?? '', /^permessage-deflate(;|$)/);
    assert.deepEqual(got.map((m) => m.isBinary), [false, true, false]);
    assert.equal(got[0]!.data.toString(), text);
    assert.ok(got[1]!.data.equals(bin));
    assert.equal(got[2]!.data.toString(), 'short');
    client.removeAllListeners('close');
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    client.close(1000);
    assert.equal(await within(closed, 5000, 'close'), 1000);
  } finally {
    ws?.terminate();
    child.kill('SIGTERM');
    await within(new Promise((r) => child.once('exit', r)), 10_000, 'serve exit');
  }
});

test('tether serve --echo without --deflate does not negotiate compression', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--echo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let ws: WsClient | null = null;
  try {
    const [, url] = await within(waitForOutput(child.stdout!, child, /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/), 10_000, 'server start');
    ws = new WsClient(url!, { perMessageDeflate: { threshold: 0 } });
    const client = ws;
    const echo = await within(new Promise<Buffer>((resolve, reject) => {
      client.on('open', () => client.send('x'.repeat(1000)));
      client.on('message', (d) => resolve(d as Buffer));
      client.on('error', reject);
    }), 10_000, 'echo');
    assert.equal(client.extensions, '');
    assert.equal(echo.toString(), 'x'.repeat(1000));
  } finally {
    ws?.terminate();
    child.kill('SIGTERM');
    await within(new Promise((r) => child.once('exit', r)), 10_000, 'serve exit');
  }
});

test('tether connect --deflate shows the extension in its connected line and echoes lines', async () => {
  const opened: ServerSocket[] = [];
  const { server, url } = await startEchoServer({ perMessageDeflate: { threshold: 0 }, open: (ws) => opened.push(ws) });
  try {
    const child = spawn(process.execPath, [CLI, 'connect', '--deflate', url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const long = `{"items":[${Array.from({ length: 200 }, (_, i) => `"entry ${i % 5}"`).join(',')}]}`;
    const echoed = waitForOutput(child.stdout!, child, /< last line/);
    child.stdin!.write(`first line\n${long}\nlast line\n`);
    await within(echoed, 10_000, 'echoed lines');
    child.stdin!.end();
    const code = await within(new Promise<number | null>((r) => child.once('exit', r)), 10_000, 'connect exit');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `< first line\n< ${long}\n< last line\n`);
    assert.equal(opened.length, 1);
    assert.match(opened[0]!.extensions, /^permessage-deflate(;|$)/);
    assert.notEqual(opened[0]!.perMessageDeflate, null);
    const connected = stderr.split('\n').find((l) => l.startsWith('connected to '));
    assert.ok(connected, stderr);
    assert.ok(connected.includes(`(extensions ${opened[0]!.extensions})`), connected);
    assert.match(stderr, /closed: 1000/);
  } finally {
    await server.close({ timeout: 100 });
  }
});
