import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'tether-ws';
import type { RealtimeServer, Session, TopicOptions } from 'tether-ws/realtime';

/**
 * The contract between the demo server and its pages (see demo/README.md). A page is a
 * folder `demo/<id>/` with `server.ts` exporting `page: DemoPage` and `client.ts`, the
 * entry of its front-end, which esbuild bundles to `/assets/<id>/app.js` (+ `app.css`).
 */
export interface DemoPage {
  /** The folder name and the URL: the page is served at `/<id>/`. Lower case, a-z0-9 and '-'. */
  readonly id: string;
  /** Shown in the page's header and on the landing page. */
  readonly title: string;
  /** One line for the landing page. */
  readonly summary: string;
  /** Registers the page's HTTP routes, WebSocket endpoints, topics and realtime handlers. */
  mount(app: DemoApp): void | Promise<void>;
}

/** Who a realtime session is: every demo page connects with `{ name }` as its token. */
export interface DemoUser {
  name: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** Something that takes WebSocket upgrades: a WebSocketServer (or RealtimeServer). */
export type UpgradeTarget = Pick<WebSocketServer<any>, 'handleUpgrade'>;

/** What a page gets to plug itself in. Everything it registers is shared by the one process. */
export interface DemoApp {
  /** The one HTTP server (pages rarely need it: use route() and websocket()). */
  readonly http: HttpServer;
  /**
   * The shared realtime server, at `/rt`. Name what you register after your page:
   * topics `chat:…`, events and methods `chat.typing`, `chat.history`.
   */
  readonly realtime: RealtimeServer<DemoUser>;
  /** The page's own URL prefix, `/<id>/`. */
  readonly base: string;
  /**
   * An HTTP route. `path` is exact ('/chat/api/rooms') or a prefix ending in '/*'
   * ('/collab/docs/*'). Answered before static files. Errors become a 500.
   */
  route(method: string, path: string, handler: RouteHandler): void;
  /**
   * WebSocket upgrades whose path is `prefix` or starts with `prefix + '/'` go to `target`
   * (don't set its `path` option). A WebSocketServer counts in the landing page's client
   * count and in the monitoring page, and is closed with 1012 when the demo stops.
   */
  websocket(prefix: string, target: WebSocketServer<any>): void;
  /** Settings of the realtime topics starting with `prefix` (the first matching prefix wins). */
  topics(prefix: string, options: TopicOptions): void;
  /**
   * Lets clients publish to topics starting with `prefix` (by default they may not);
   * `check` may refuse per session and topic.
   */
  allowPublish(prefix: string, check?: (session: Session<DemoUser>, topic: string) => boolean): void;
  /** Every WebSocket endpoint of the demo: the realtime server's (path '/rt') and the pages'. */
  endpoints(): Array<{ path: string; server: WebSocketServer<any> }>;
  /** Open WebSocket connections of the whole demo, all endpoints together. */
  connections(): number;
  /** Called when a realtime session ends (after its subscriptions are gone). */
  onDisconnect(fn: (session: Session<DemoUser>) => void): void;
  /** An interval that stops when the demo stops (and never keeps the process alive). */
  every(ms: number, fn: () => void): void;
  /** Called when the demo stops, after connections are drained. */
  onClose(fn: () => void | Promise<void>): void;
}

export type { Duplex };
