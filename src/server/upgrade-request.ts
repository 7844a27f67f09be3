/** The opening handshake request as the verify hook and the open handler see it. */
export interface UpgradeRequest {
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
  data: unknown;
}

export function splitTarget(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: new URLSearchParams() } : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}
