// The package entry `tether-ws/ws`: a real require() from CommonJS, the ES module with the
// same shape as ws's, and type declarations for both kinds of TypeScript users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test("require('tether-ws/ws') works from CommonJS and has ws's shape", () => {
  const script = `
    const WebSocket = require('tether-ws/ws');
    const shape = [typeof WebSocket, WebSocket.WebSocket === WebSocket, WebSocket.Server === WebSocket.WebSocketServer,
      typeof WebSocket.createWebSocketStream, WebSocket.OPEN, require.resolve('tether-ws/ws').endsWith('.cjs')];
    const wss = new WebSocket.Server({ port: 0, host: '127.0.0.1' }, () => {
      const c = new WebSocket('ws://127.0.0.1:' + wss.address().port);
      c.on('open', () => c.send('ping'));
      c.on('message', (d) => { console.log(JSON.stringify([...shape, String(d)])); c.close(); wss.close(); process.exit(0); });
    });
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(String(d) + '/pong')));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), ['function', true, true, 'function', 1, true, 'ping/pong']);
});

test("import 'tether-ws/ws': named exports and the default export with ws's aliases", async () => {
  const m = await import('tether-ws/ws' as string);
  assert.equal(m.default, m.WebSocket);
  assert.equal(m.default.WebSocketServer, m.WebSocketServer);
  assert.equal(m.default.Server, m.WebSocketServer);
  assert.equal(m.Server, m.WebSocketServer);
  assert.equal(m.default.createWebSocketStream, m.createWebSocketStream);
});

test('type declarations serve CommonJS (import = require) and ES module users, and the README example compiles', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Migrating from ws'));
  const snippet = section.slice(section.indexOf('```ts\n') + 6, section.indexOf('```\n', section.indexOf('```ts\n') + 6));
  assert.equal(snippet, readFileSync(`${root}test/fixtures/ws-types/readme-snippet.mts`, 'utf8'), 'the README example is the checked fixture');
  const tsc = `${root}node_modules/typescript/bin/tsc`;
  const r = spawnSync(process.execPath, [tsc, '-p', `${root}test/fixtures/ws-types/tsconfig.json`], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
