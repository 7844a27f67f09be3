/**
 * The package as a user gets it: `npm pack` (its --json output parsed), the tarball's
 * contents checked, installed into a fresh folder outside the repository, every export
 * imported (ES modules, and require() of the CommonJS entry), the `tether` bin run, and a
 * consumer type-checked under strict against the published declarations, without the DOM
 * library and without skipLibCheck. One pack and one install for the whole file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('the packed package, installed in a fresh folder', () => {
  let work = '';
  let installed = '';
  let files: string[] = [];

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'tether-pack-'));
    // dist/ is built by the test run's pretest: pack it as it is (the prepack build is the same build).
    const packed = ok(run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root), 'npm pack');
    const [info] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info!.files.map((f) => f.path);
    const consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // The tarball has no dependencies; the optional peers (yjs, y-protocols) and the types
    // come from npm's cache when it has them (npm ci filled it), else from the registry.
    ok(run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, info!.filename), 'yjs@13', 'y-protocols@1', '@types/node@20'], consumer), 'npm install of the tarball');
    installed = join(consumer, 'node_modules', pkg.name);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('npm pack --json is parseable and the tarball holds what a user needs, and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/browser/tether-realtime.js', 'dist/cjs/ws.cjs', 'dist/cjs/ws.d.cts']) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    const stray = files.filter((f) => /^(src|test|demo|bench|scripts|docs)\//.test(f) || f.startsWith('dist/test/') || f.startsWith('dist/demo/') || (f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts')));
    assert.deepEqual(stray, [], 'no sources, tests, demo or tooling in the tarball');
  });

  test('no prepare script (npm would warn on install from a tarball), and scripts build on prepack', () => {
    const installedPkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    assert.equal(installedPkg.scripts?.prepare, undefined);
    assert.ok(pkg.scripts.prepack, 'prepack builds before npm pack and npm publish');
  });

  test('every source map carries its sources (sourcesContent), so it works without src/', () => {
    const maps = walk(installed).filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 10, `source maps found: ${maps.length}`);
    const missing = maps.filter((m) => {
      const map = JSON.parse(readFileSync(m, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      return !map.sourcesContent || map.sourcesContent.length !== map.sources.length || map.sourcesContent.some((c) => typeof c !== 'string');
    });
    assert.deepEqual(missing.map((m) => relative(installed, m)), []);
  });

  test('members marked @internal are not in the published declarations (stripInternal)', () => {
    const declarations = (file: string) => readFileSync(join(installed, 'dist/src', file), 'utf8');
    const server = declarations('server/server-socket.d.ts');
    const client = declarations('client/websocket.d.ts');
    // Public members are there, internal ones (the protocol engine's plumbing) are not.
    for (const name of ['send(', 'close(', 'bufferedAmount']) assert.ok(server.includes(name), `ServerSocket.${name} is declared`);
    for (const name of ['corked', 'closeTimer', 'lastMessageAt']) assert.ok(!server.includes(name), `ServerSocket.${name} is internal`);
    for (const name of ['ping(', 'terminate(', 'onmessage']) assert.ok(client.includes(name), `WebSocket.${name} is declared`);
    for (const name of ['handshakeDone', 'messageReceived', 'pongReceived', 'connectionClosed']) assert.ok(!client.includes(name), `WebSocket.${name} is internal`);
  });

  test('every export loads: import() of each, require() of the CommonJS entry', () => {
    const entries = Object.keys(pkg.exports).filter((e) => e !== './package.json');
    assert.ok(entries.length >= 8, `exports: ${entries.join(', ')}`);
    const script = `
      const entries = ${JSON.stringify(entries.map((e) => pkg.name + e.slice(1)))};
      const loaded = {};
      for (const e of entries) loaded[e] = Object.keys(await import(e)).length;
      const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const ws = require('${pkg.name}/ws');
      if (typeof ws !== 'function' || typeof ws.WebSocketServer !== 'function' || typeof ws.createWebSocketStream !== 'function') throw new Error('require(ws) is not ws-shaped');
      loaded['require(${pkg.name}/ws)'] = Object.keys(ws).length;
      loaded['require(${pkg.name}/package.json)'] = require('${pkg.name}/package.json').version;
      console.log(JSON.stringify(loaded));
    `;
    const out = ok(run(process.execPath, ['--input-type=module', '-e', script], join(work, 'consumer')), 'importing every export');
    const loaded = JSON.parse(out) as Record<string, number | string>;
    for (const e of entries) assert.ok((loaded[pkg.name + e.slice(1)] as number) > 0, `${e} exports something`);
    assert.equal(loaded[`require(${pkg.name}/package.json)`], pkg.version);
  });

  test('the tether bin runs: --version, --help, and a bad flag exits with status 2', () => {
    const bin = join(work, 'consumer', 'node_modules', '.bin', 'tether');
    assert.equal(ok(run(bin, ['--version'], work), 'tether --version').trim(), pkg.version);
    assert.match(ok(run(bin, ['--help'], work), 'tether --help'), /tether serve/);
    const bad = run(bin, ['serve', '--bogus'], work);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^tether: /);
  });

  test('a consumer type-checks under strict against the published declarations (no DOM, no skipLibCheck)', () => {
    const consumer = join(work, 'consumer');
    const compilerOptions = { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false };
    // A Node program: no DOM library. (tether-ws/yjs is checked apart: yjs's own declarations need the DOM's.)
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, lib: ['ES2022'] }, files: ['main.ts', 'legacy.cts'] }));
    writeFileSync(join(consumer, 'tsconfig.yjs.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, lib: ['ES2022', 'DOM'] }, files: ['collab.ts'] }));
    writeFileSync(join(consumer, 'main.ts'), `
import { WebSocketServer, WebSocket, SendStatus, CloseCode, type ServerSocket } from '${pkg.name}';
import { WebSocketServer as Server2 } from '${pkg.name}/server';
import { WebSocket as Client2 } from '${pkg.name}/client';
import { ReadyState } from '${pkg.name}/protocol';
import { RealtimeServer, RealtimeClient } from '${pkg.name}/realtime';
import WsDefault, { WebSocketServer as WsServer } from '${pkg.name}/ws';

interface User { name: string }
const server = new WebSocketServer<User>({
  port: 0,
  verify(request) { request.data = { name: String(request.query.get('name')) }; },
  open(ws: ServerSocket<User>) { ws.send(\`hello \${ws.data.name}\`); },
  message(ws, data) { if (ws.send(data) === SendStatus.Backpressure) ws.pause(); },
  error(err, request) { console.error(err, request?.path); },
});
const ws = new WebSocket('ws://127.0.0.1:1/');
ws.addEventListener('message', (e) => console.log(e.data));
ws.addEventListener('close', (e) => console.log(e.code, e.wasClean));
ws.onmessage = (e) => console.log(e.data);
const rtt: Promise<number> = ws.ping();
ws.terminate();
async function consume(): Promise<void> { for await (const data of ws) console.log(data); }
const codes: number[] = [CloseCode.Normal, ReadyState.OPEN];
const rt = new RealtimeServer({ port: 0 });
const client = new RealtimeClient('ws://127.0.0.1:1/', { autoConnect: false });
const wss = new WsServer({ noServer: true });
console.log(server, Server2, Client2, rtt, consume, codes, rt, client, wss, WsDefault.OPEN);
`);
    writeFileSync(join(consumer, 'collab.ts'), `
import * as Y from 'yjs';
import { YjsServer, attachYjs } from '${pkg.name}/yjs';
import { createServer } from 'node:http';
const seed = new Y.Doc();
const yjs = new YjsServer({ port: 0, onDocument: (_name, doc) => Y.applyUpdate(doc, Y.encodeStateAsUpdate(seed)) });
const attached = attachYjs(createServer(), { prefix: '/collab/' });
const text: string | undefined = yjs.document('notes')?.getText('body').toString();
console.log(text, attached);
`);
    writeFileSync(join(consumer, 'legacy.cts'), `
import WebSocket = require('${pkg.name}/ws');
const wss = new WebSocket.WebSocketServer({ noServer: true });
const ws: WebSocket = new WebSocket('ws://127.0.0.1:1/');
ws.on('message', (data: WebSocket.RawData) => console.log(data));
export = wss;
`);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer), 'tsc of the consumer');
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.yjs.json'], consumer), 'tsc of the Yjs consumer');
  });

  test('a browser page type-checks against tether-ws/realtime/browser (DOM only, no Node types)', () => {
    const consumer = join(work, 'consumer');
    const compilerOptions = { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [], lib: ['ES2022', 'DOM'], skipLibCheck: false };
    writeFileSync(join(consumer, 'tsconfig.browser.json'), JSON.stringify({ compilerOptions, files: ['page.ts'] }));
    writeFileSync(join(consumer, 'page.ts'), `
import { RealtimeClient, RealtimeError, type StateChange } from '${pkg.name}/realtime/browser';
const client = new RealtimeClient(location.origin.replace(/^http/, 'ws') + '/');
client.onState((change: StateChange) => console.log(change.state));
client.publish('room', { text: 'hi' }).catch((err: unknown) => console.log(err instanceof RealtimeError ? err.code : err));
`);
    ok(run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.browser.json'], consumer), 'tsc of the browser page');
  });

  test('bundlers resolve tether-ws/realtime to a browser-safe module ("browser" condition): no node: import in the bundle', async () => {
    const consumer = join(work, 'consumer');
    writeFileSync(join(consumer, 'app.js'), `import { RealtimeClient } from '${pkg.name}/realtime';\nnew RealtimeClient('ws://127.0.0.1:1/').close();\n`);
    const esbuild = await import('esbuild');
    const result = await esbuild.build({ absWorkingDir: consumer, entryPoints: ['app.js'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((i) => i.includes(`node_modules/${pkg.name}/dist/src/realtime/client/`)), `the client's modules are bundled: ${inputs.join(', ')}`);
    // protocol/async-queue.js is the one protocol file the client takes: it imports nothing (test/imports.test.ts follows every file the client reaches).
    assert.deepEqual(inputs.filter((i) => /\/(server|protocol|adapters)\/|redis|node:/.test(i) && !i.endsWith('/protocol/async-queue.js')), [], 'nothing of the server or Node in the bundle');
    assert.doesNotMatch(result.outputFiles[0]!.text, /from ["']node:/);
  });
});
