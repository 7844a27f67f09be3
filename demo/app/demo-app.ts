import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'tether-ws';
import { RealtimeServer, type Adapter, type Session, type TopicOptions } from 'tether-ws/realtime';
import type { DemoApp, DemoPage, DemoUser, RouteHandler } from './demo-page.js';
import { escapeHtml, pageShell } from './page-shell.js';
import { serveAsset } from './static-files.js';

/** Realtime sessions are anonymous: the token is `{ name }`, cleaned up to a short nickname. */
export function nicknameOf(token: unknown): string {
  const raw = typeof token === 'object' && token !== null ? (token as { name?: unknown }).name : undefined;
  const name = typeof raw === 'string' ? raw.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 24) : '';
  return name || 'guest';
}

interface Route {
  method: string;
  path: string;
  prefix: boolean;
  handler: RouteHandler;
}

/**
 * The demo's one process: an HTTP server for pages, assets and routes, one shared
 * RealtimeServer at /rt, and the WebSocket endpoints pages add. Implements DemoApp for each
 * page (see demo/README.md).
 */
export class DemoHost {
  readonly http: HttpServer;
  readonly realtime: RealtimeServer<DemoUser>;
  /** Page WebSocket servers by path prefix. */
  readonly sockets: Array<{ prefix: string; server: WebSocketServer<any> }> = [];
  readonly pages: DemoPage[] = [];
  private readonly routes: Route[] = [];
  private readonly topicRules: Array<{ prefix: string; options: TopicOptions }> = [];
  private readonly publishRules: Array<{ prefix: string; check?: (session: Session<DemoUser>, topic: string) => boolean }> = [];
  private readonly disconnectHooks: Array<(session: Session<DemoUser>) => void> = [];
  readonly closeHooks: Array<() => void | Promise<void>> = [];
  readonly timers: NodeJS.Timeout[] = [];

  constructor(adapter: Adapter | undefined, private readonly log: (line: string) => void) {
    this.realtime = new RealtimeServer<DemoUser>({
      ...(adapter ? { adapter } : {}),
      authenticate: (token) => {
        const name = nicknameOf(token);
        return { user: { name }, info: { name } };
      },
      authorize: {
        publish: (session, topic) => this.publishRules.some((r) => topic.startsWith(r.prefix) && (r.check?.(session, topic) ?? true)),
      },
      topics: (topic) => this.topicRules.find((r) => topic.startsWith(r.prefix))?.options,
      onDisconnect: (session) => {
        for (const fn of this.disconnectHooks) fn(session);
      },
      onError: (err) => this.log(`realtime error: ${(err as Error)?.stack ?? String(err)}`),
    });
    this.http = createServer((req, res) => this.request(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** The DemoApp a page gets: the same host, with the page's base URL. */
  appFor(page: DemoPage): DemoApp {
    const host = this;
    return {
      http: this.http,
      realtime: this.realtime,
      base: page.id === 'landing' ? '/' : `/${page.id}/`,
      route: (method, path, handler) => {
        const prefix = path.endsWith('/*');
        host.routes.push({ method: method.toUpperCase(), path: prefix ? path.slice(0, -1) : path, prefix, handler });
      },
      websocket: (prefix, server) => {
        if (!prefix.startsWith('/') || prefix === '/rt') throw new TypeError(`websocket prefix ${prefix} must start with "/" and not be /rt`);
        host.sockets.push({ prefix: prefix.replace(/\/$/, ''), server });
      },
      topics: (prefix, options) => void host.topicRules.push({ prefix, options }),
      allowPublish: (prefix, check) => void host.publishRules.push({ prefix, check }),
      endpoints: () => host.endpoints(),
      connections: () => host.connectionCount(),
      onDisconnect: (fn) => void host.disconnectHooks.push(fn),
      every: (ms, fn) => {
        const t = setInterval(fn, ms);
        t.unref();
        host.timers.push(t);
      },
      onClose: (fn) => void host.closeHooks.push(fn),
    };
  }

  endpoints(): Array<{ path: string; server: WebSocketServer<any> }> {
    return [{ path: '/rt', server: this.realtime.websocket }, ...this.sockets.map((s) => ({ path: s.prefix, server: s.server }))];
  }

  /** Open WebSocket connections of the whole demo (realtime sessions and page endpoints). */
  connectionCount(): number {
    let n = 0;
    for (const e of this.endpoints()) n += e.server.clients.size;
    return n;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/rt') return this.realtime.handleUpgrade(req, socket, head);
    for (const s of this.sockets) {
      if (path === s.prefix || path.startsWith(s.prefix + '/')) return s.server.handleUpgrade(req, socket, head);
    }
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    for (const r of this.routes) {
      if (r.method === method && (r.prefix ? path.startsWith(r.path) : path === r.path)) {
        Promise.resolve()
          .then(() => r.handler(req, res, url))
          .catch((err) => {
            this.log(`route ${method} ${path} failed: ${(err as Error)?.stack ?? String(err)}`);
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('internal error\n');
          });
        return;
      }
    }
    if (method !== 'GET' && method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path.startsWith('/assets/') && serveAsset(req, res, path.slice('/assets/'.length))) return;
    if (path === '/') return this.html(res, pageShell(this.landing(), this.pageList()));
    const page = this.pages.find((p) => p.id !== 'landing' && (path === `/${p.id}` || path === `/${p.id}/`));
    if (page !== undefined && path.endsWith('/')) return this.html(res, pageShell(page));
    if (page !== undefined) return void res.writeHead(301, { location: `/${page.id}/` }).end();
    res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(pageShell({ id: 'landing', title: 'Not found', summary: '' }, `<section class="notfound"><h1>Nothing here</h1><p><a href="/">Back to Tether Live</a></p></section>`));
  }

  private landing(): DemoPage {
    return this.pages.find((p) => p.id === 'landing') ?? { id: 'landing', title: 'Tether Live', summary: '', mount() {} };
  }

  /** The landing page's list of use cases, rendered on the server (no script needed to read it). */
  private pageList(): string {
    const items = this.pages
      .filter((p) => p.id !== 'landing')
      .map((p) => `<li><a class="card" href="/${p.id}/" data-page-link="${p.id}"><span class="card-title">${escapeHtml(p.title)}</span><span class="card-summary">${escapeHtml(p.summary)}</span></a></li>`)
      .join('\n');
    return `<section class="hero">
  <h1>Tether Live</h1>
  <p class="lead">Every classic WebSocket use case, working in your browser, served by one Node process on Tether's realtime layer.</p>
  <p class="live-count"><span class="pulse"></span><strong id="client-count">–</strong> <span id="client-count-label">clients connected right now</span></p>
</section>
<ul class="cards">
${items}
</ul>
<p class="hint">Open a page in two windows (or on your phone) to see it shared.</p>`;
  }

  private html(res: ServerResponse, body: string): void {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
    res.end(body);
  }
}
