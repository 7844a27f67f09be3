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
