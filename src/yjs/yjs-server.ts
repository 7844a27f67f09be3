import type { Server as HttpServer } from 'node:http';
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { CloseCode } from '../protocol/index.js';
import { WebSocketServer, type ServerOptions, type ServerSocket, type UpgradeRequest, type VerifyResult } from '../server/index.js';
import { WebSocketHost } from '../server/websocket-host.js';
import { SharedDocument, YjsConnection } from './shared-document.js';
import { YjsWireError } from './wire.js';

/** The options of the WebSocketServer under a YjsServer: all but those the Yjs server sets itself. */
export type YjsWebSocketOptions = Omit<
  ServerOptions<YjsConnection>,
  'open' | 'message' | 'drain' | 'close' | 'ping' | 'pong' | 'path' | 'port' | 'host' | 'tls' | 'protocols' | 'selectProtocol'
>;

export interface YjsServerOptions {
  /** Standalone: port to listen on (0 picks one). Without it, use attach() or handleUpgrade(). */
  port?: number;
  host?: string;
  tls?: ServerOptions['tls'];
  /**
   * Where documents live: a client connecting to `<prefix><name>` edits document `<name>`
   * (percent-decoded), which is what y-websocket's `new WebsocketProvider(serverUrl, name, doc)`
   * asks for when serverUrl ends with the prefix. Default "/".
   */
  prefix?: string;
  /** Options of the underlying WebSocketServer (maxPayload, default here 16 MiB; verify; limits...). */
  websocket?: YjsWebSocketOptions;
  /** Most documents held in memory; a connection that would create one more is refused (503). Default 1000. */
  maxDocuments?: number;
  /** Longest document name, in characters. Default 512. */
  maxNameLength?: number;
  /** Called once when a document is created, before anyone receives it: seed or load its content here. */
  onDocument?(name: string, doc: Y.Doc): void;
  /** A connection was closed because of an unexpected error (not a malformed message). Default: console.error. */
  onError?(err: unknown, name: string): void;
}

/** Close codes this server uses, besides the RFC's for framing errors. */
export const YjsClose = {
  /** A text message: y-websocket speaks binary only. */
  TextMessage: CloseCode.UnsupportedData,
  /** A message of an unknown type. */
  UnknownMessage: CloseCode.UnsupportedData,
  /** A message that does not follow the format of its type (truncated, malformed update or awareness state). */
  MalformedMessage: CloseCode.InvalidPayload,
  /** The document limit was reached between the handshake and the connection. */
  TooManyDocuments: CloseCode.TryAgainLater,
  /** Handling a message failed unexpectedly. */
  InternalError: CloseCode.InternalError,
} as const;

const KNOWN = new Set(['port', 'host', 'tls', 'prefix', 'websocket', 'maxDocuments', 'maxNameLength', 'onDocument', 'onError']);

/**
 * Serves Yjs documents over the y-websocket protocol (sync, awareness, awareness query), so
 * that the stock y-websocket client provider connects unchanged. Documents live in memory
 * for the life of the server; a newcomer receives the whole document, and its awareness
 * (cursor, name) is relayed to the others and removed when it leaves.
 */
export class YjsServer extends WebSocketHost<YjsConnection> {
  readonly websocket: WebSocketServer<YjsConnection>;
  readonly prefix: string;
  private readonly docs = new Map<string, SharedDocument>();
  private readonly maxDocuments: number;
  private readonly maxNameLength: number;
  private readonly config: YjsServerOptions;

  constructor(options: YjsServerOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new TypeError(`unknown option ${key}`);
    const prefix = options.prefix ?? '/';
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) throw new TypeError('prefix must be a string starting with "/"');
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.maxDocuments = count(options.maxDocuments, 'maxDocuments', 1000);
    this.maxNameLength = count(options.maxNameLength, 'maxNameLength', 512);
    for (const name of ['onDocument', 'onError'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${name} must be a function`);
    }
    if (options.websocket !== undefined && (typeof options.websocket !== 'object' || options.websocket === null)) throw new TypeError('websocket must be an object');
    this.config = options;
    const ws = options.websocket ?? {};
    const userVerify = ws.verify;
    const wsOptions: ServerOptions<YjsConnection> = {
      // Documents arrive whole in one sync message: a larger limit than realtime messages, smaller than the bare default.
      maxPayload: 16 * 1024 * 1024,
      ...ws,
      path: (path) => path.length > this.prefix.length && path.startsWith(this.prefix),
      verify: (request) => this.verify(request, userVerify),
      open: (socket, request) => this.opened(socket, request),
      message: (socket, data, isBinary) => this.received(socket, data, isBinary),
      close: (socket) => {
        if (socket.data instanceof YjsConnection) socket.data.document.leave(socket);
      },
    };
    if (options.tls !== undefined) wsOptions.tls = options.tls;
    this.websocket = new WebSocketServer<YjsConnection>(wsOptions);
    this.listenIfPort(options.port, options.host);
  }

  /** The document of that name, if it is in memory. */
  document(name: string): Y.Doc | undefined {
    return this.docs.get(name)?.doc;
  }

  /** The awareness (who is there, their cursors) of a document in memory. */
  awareness(name: string): Awareness | undefined {
    return this.docs.get(name)?.awareness;
  }

  /** Names of the documents in memory. */
  get documents(): string[] {
    return [...this.docs.keys()];
  }

  /** Connections editing a document (0 if it is not in memory). */
  connections(name: string): number {
    return this.docs.get(name)?.connections.size ?? 0;
  }

  /** Closes every connection (1001), then frees the documents. */
  async close(options: { timeout?: number } = {}): Promise<void> {
    await this.websocket.close({ timeout: options.timeout ?? 5000 });
    for (const d of this.docs.values()) d.destroy();
    this.docs.clear();
  }

  /** The document name of a request path, or null when it cannot be one. */
  private nameOf(path: string): string | null {
    let name: string;
    try {
      name = decodeURIComponent(path.slice(this.prefix.length));
    } catch {
      return null;
    }
    return name.length > 0 && name.length <= this.maxNameLength ? name : null;
  }

  private verify(request: UpgradeRequest<YjsConnection>, userVerify: YjsWebSocketOptions['verify']): VerifyResult | Promise<VerifyResult> {
    const name = this.nameOf(request.path);
    if (name === null) return { status: 400, message: 'bad document name' };
    if (!this.docs.has(name) && this.docs.size >= this.maxDocuments) return { status: 503, message: 'too many documents' };
    return userVerify ? userVerify(request) : true;
  }

  private opened(socket: ServerSocket<YjsConnection>, request: UpgradeRequest): void {
    const name = this.nameOf(request.path)!;
    let document = this.docs.get(name);
    if (document === undefined) {
      // An asynchronous verify hook may have let several new documents past the check.
      if (this.docs.size >= this.maxDocuments) return socket.close(YjsClose.TooManyDocuments, 'too many documents');
      document = new SharedDocument(name, this.websocket);
      try {
        this.config.onDocument?.(name, document.doc);
      } catch (err) {
        document.destroy();
        this.report(err, name);
        return socket.close(YjsClose.InternalError, 'document could not be created');
      }
      this.docs.set(name, document);
    }
    socket.data = new YjsConnection(document, request.data);
    document.join(socket);
  }

  private received(socket: ServerSocket<YjsConnection>, data: string | Buffer, isBinary: boolean): void {
    const conn = socket.data;
    if (!(conn instanceof YjsConnection)) return; // Refused in open(), closing.
    if (!isBinary) return socket.close(YjsClose.TextMessage, 'y-websocket messages are binary');
    try {
      conn.document.receive(socket, data as Buffer);
    } catch (err) {
      if (err instanceof YjsWireError) return socket.close(err.code, err.message.slice(0, 120));
      this.report(err, conn.document.name);
      socket.close(YjsClose.InternalError, 'internal error');
    }
  }

  private report(err: unknown, name: string): void {
    if (this.config.onError) this.config.onError(err, name);
    else console.error(`tether yjs (document ${JSON.stringify(name)}):`, err);
  }
}

function count(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be an integer >= 1, got ${String(v)}`);
  return v;
}

/** Creates a YjsServer that takes the upgrades under `options.prefix` from an http/https server. */
export function attachYjs(server: HttpServer, options: Omit<YjsServerOptions, 'port' | 'host' | 'tls'> = {}): YjsServer {
  return new YjsServer(options).attach(server);
}
