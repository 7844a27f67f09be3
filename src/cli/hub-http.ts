import type { IncomingMessage, ServerResponse } from 'node:http';

interface Resource {
  type: string;
  body: Buffer;
}

/**
 * The plain HTTP side of `tether serve --realtime`: the browser client and its source map,
 * and a page at / that says what this server is. GET and HEAD (the same headers, no body);
 * other methods get 405, other paths 404.
 */
export function hubHttpHandler(bundle: Buffer, sourceMap: Buffer | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  const resources = new Map<string, Resource>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(PAGE) }],
    ['/tether-realtime.js', { type: 'text/javascript; charset=utf-8', body: bundle }],
  ]);
  if (sourceMap !== undefined) resources.set('/tether-realtime.js.map', { type: 'application/json; charset=utf-8', body: sourceMap });
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const resource = resources.get(path);
    if (resource === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: this realtime hub serves /, /tether-realtime.js and its source map\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
      return;
    }
    res.writeHead(200, { 'content-type': resource.type, 'content-length': resource.body.length, 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : resource.body);
  };
}

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tether realtime hub</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{font:14px ui-monospace,monospace;background:#f4f4f5;border-radius:4px}pre{padding:.75rem;overflow:auto}code{padding:0 .2rem}</style>
<h1>Tether realtime hub</h1>
<p>This is <code>tether serve --realtime</code>, a realtime hub for development: a WebSocket
endpoint speaking the tether.v1 protocol (subprotocols <code>tether.v1.json</code> for JSON,
<code>tether.v1.msgpack</code> for MessagePack) on this address, at any path. Anonymous
sessions may subscribe and publish to any topic, every topic has presence, and the request
<code>echo</code> answers with what it is sent.</p>
<p>The browser client is served here as an ES module: <a href="/tether-realtime.js">/tether-realtime.js</a>
(with its <a href="/tether-realtime.js.map">source map</a>).</p>
<pre><code>&lt;script type="module"&gt;
import { RealtimeClient } from '/tether-realtime.js';
const client = new RealtimeClient(location.origin.replace(/^http/, 'ws') + '/');
const room = client.subscribe('room', { info: { name: 'me' } });
room.on('message', (msg) =&gt; console.log(msg));
await client.publish('room', { text: 'hello' });
console.log(await client.request('echo', 'round trip'));
&lt;/script&gt;</code></pre>
<p>Tether is a WebSocket toolkit for TypeScript on Node.js (npm <code>tether-ws</code>).</p>
</html>
`;
