// Builds the CommonJS entry of `tether-ws/ws` (Node 20 cannot require() an ES module):
//   dist/cjs/ws.cjs    one file: module.exports = WebSocket (with WebSocketServer, Server,
//                      createWebSocketStream and WebSocket as properties), as `require('ws')` gives
//   dist/cjs/ws.d.cts  its types, taken from the ES module's declarations
// Node built-ins stay external; everything else comes from src/ (the core has no dependency).
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}dist/cjs`, { recursive: true });
try {
  const result = await build({
    absWorkingDir: root,
    stdin: {
      contents: "module.exports = require('./src/ws/index.ts').default;\n",
      resolveDir: root,
      sourcefile: 'ws-cjs-entry.js',
      loader: 'js',
    },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile: 'dist/cjs/ws.cjs',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.startsWith('src/') && input !== 'ws-cjs-entry.js') throw new Error(`unexpected input in the CommonJS build: ${input}`);
  }
} catch (err) {
  for (const e of err?.errors ?? []) console.error(`build-ws-cjs: error: ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
  if (!err?.errors?.length) console.error(`build-ws-cjs: ${err?.stack ?? err}`);
  process.exit(1);
}

// The CommonJS types: the same declarations, seen through `export =`.
writeFileSync(
  `${root}dist/cjs/ws.d.cts`,
  `type M = typeof import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } });
declare const WebSocket: M['WebSocket'];
type WebSocket = InstanceType<M['WebSocket']>;
declare namespace WebSocket {
  type WebSocketServer = InstanceType<M['WebSocketServer']>;
  type Server = InstanceType<M['WebSocketServer']>;
  type RawData = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.RawData;
  type Data = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.Data;
  type ServerOptions = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.ServerOptions;
  type ClientOptions = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.ClientOptions;
  type VerifyClientCallbackSync = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.VerifyClientCallbackSync;
  type VerifyClientCallbackAsync = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.VerifyClientCallbackAsync;
  type PerMessageDeflateOptions = import('../src/ws/index.js', { with: { 'resolution-mode': 'import' } }).WebSocket.PerMessageDeflateOptions;
}
export = WebSocket;
`,
);
