import type { Duplex } from 'node:stream';
import type { UpgradeRequestHead } from '../protocol/index.js';

/**
 * The opening handshake request as the verify hook and the open handler see it. `U` is the
 * type of `data`, the server's connection data type (`WebSocketServer<U>`).
 */
export interface UpgradeRequest<U = unknown> {
  method: string;
  /** Request target as sent, e.g. "/chat?room=1". */
  url: string;
  /** The path part of url. */
  path: string;
  /** Parsed query string of url. */
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  /** Subprotocols offered by the client, in its order. */
  protocols: string[];
  origin: string | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** True when the connection is TLS (wss://). */
  secure: boolean;
  /** Set by the verify hook (for example the authenticated user); becomes ws.data. */
  data: U | undefined;
}

/** The path part of a request target ("/chat?room=1" → "/chat"). */
export function targetPath(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The UpgradeRequest the server builds: a class, so that a handshake allocates one plain
 * object of a stable shape (an object literal with getters is built on a slow path).
 * The query, the remote address and the port are looked up only if asked (the socket
 * keeps the address for its lifetime).
 */
export class IncomingUpgrade<U> implements UpgradeRequest<U> {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  data: U | undefined = undefined;
  private parsedQuery: URLSearchParams | undefined = undefined;

  constructor(
    head: UpgradeRequestHead,
    readonly protocols: string[],
    readonly origin: string | undefined,
    private readonly socket: Duplex,
    readonly secure: boolean,
  ) {
    this.method = head.method;
    this.url = head.target;
    this.path = targetPath(head.target);
    this.headers = head.headers;
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.url.slice(this.path.length + 1)));
  }

  get remoteAddress(): string | undefined {
    return (this.socket as Duplex & { remoteAddress?: string }).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.socket as Duplex & { remotePort?: number }).remotePort;
  }
}
