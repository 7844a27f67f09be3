import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RealtimeClient, type StateChange } from '../../src/realtime/index.js';
import { within } from '../helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', new URL('../', import.meta.url)));

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

test('tether demo: serves the landing page and every page, takes realtime clients at /rt, drains with 1012 on Ctrl-C', async () => {
  // PORT and HOST are read when the flags are absent.
  const child = spawn(process.execPath, [CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '0', HOST: '127.0.0.1' } });
  let client: RealtimeClient | undefined;
  try {
    const [, url] = await within(waitForLine(child, /running at (http:\/\/127\.0\.0\.1:\d+\/)/), 30_000, 'demo start');
    const landing = await fetch(url!);
    assert.equal(landing.status, 200);
    const html = await landing.text();
    const links = [...html.matchAll(/data-page-link="([a-z-]+)"/g)].map((m) => m[1]);
    assert.deepEqual(links.sort(), ['call', 'chat', 'collab', 'danmaku', 'game', 'monitor', 'tasks', 'ticker']);
    for (const id of links) {
      const page = await fetch(`${url}${id}/`);
      assert.equal(page.status, 200, id);
      assert.match(await page.text(), new RegExp(`<script type="module" src="/assets/${id}/app.js">`));
      const script = await fetch(`${url}assets/${id}/app.js`);
      assert.equal(script.status, 200, `${id} bundle`);
      await script.arrayBuffer();
    }
    assert.equal((await fetch(`${url}nothing-here`)).status, 404);

    client = new RealtimeClient(`${url!.replace('http://', 'ws://')}rt`, { token: { name: 'cli test' }, reconnect: false });
    const sub = client.subscribe('demo:clients');
    // The topic keeps its latest count, possibly from before this client connected (0): wait for one that counts it.
    await within(new Promise<void>((resolve) => sub.on('message', (m) => void ((m as { clients: number }).clients >= 1 && resolve()))), 20_000, 'a client count that includes this client');

    const closed = new Promise<StateChange>((resolve) => client!.onState((s) => s.state === 'closed' && resolve(s)));
    child.kill('SIGINT');
    const s = await within(closed, 20_000, 'drain close');
    assert.equal(s.code, 1012);
    const delay = Number(/^retry after (\d+) ms$/.exec(s.reason ?? '')?.[1]);
    assert.ok(delay >= 500 && delay <= 3000, `delay hint ${s.reason}`);
    assert.equal(await within(new Promise((resolve) => child.once('exit', resolve)), 20_000, 'demo exit'), 0);
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('tether demo: a bad port is a usage error', async () => {
  const child = spawn(process.execPath, [CLI, 'demo', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await within(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'exit');
  assert.equal(code, 2);
  assert.match(err, /--port must be an integer/);
});
