import type { Duplex } from 'node:stream';
import { kBytesRead, kBytesWritten } from './http2-upgrade.js';

/**
 * What a WebSocketServer has seen and holds, from stats(). Counters only grow (since the
 * server was created); gauges are values of the moment. Cheap enough to be always on: the
 * hot path pays one increment per message; bytes are read from the sockets' own counters
 * when stats() is called.
 */
export interface WebSocketServerStats {
  /** Gauge: open connections (past the handshake, not yet closed). */
  connections: number;
  /** Gauge: sockets still in the opening handshake. */
  handshaking: number;
  /** Counter: connections accepted (101 sent). */
  connectionsOpened: number;
  /** Counter: connections closed, by the code the close handler reported (1005: none given, 1006: no close frame). */
  closesByCode: Record<string, number>;
  /**
   * Counter: upgrade requests refused or abandoned, by reason: bad_request (400),
   * unauthorized (401), forbidden (403: Origin), not_found (404: path), header_too_large (431),
   * upgrade_required (426: version), server_error (500: a hook threw), unavailable (503:
   * shutting down or maxConnections), timeout (handshakeTimeout), other_<status>.
   */
  handshakeFailures: Record<string, number>;
  /** Counter: data messages received (whole messages, not frames). */
  messagesIn: number;
  /** Counter: data messages sent (send, broadcast and prepared messages; each recipient counts). */
  messagesOut: number;
  /** Counter: bytes read from the sockets of accepted connections, as on the wire (handshake and frames; compressed size). On HTTP/2, the WebSocket frames of each stream (not HTTP/2's framing). */
  bytesIn: number;
  /** Counter: bytes written to those sockets, as on the wire. */
  bytesOut: number;
  /**
   * Counter: backpressure episodes as the application sees them: a send returned
   * SendStatus.Backpressure, counted once per connection until its buffer drains (a tick's
   * batch of writes over the socket's high-water mark counts too, even if the kernel then
   * takes it at once).
   */
  backpressure: number;
  /** Counter: messages (and automatic pongs) dropped over maxBackpressure (backpressurePolicy 'drop'). */
  backpressureDrops: number;
  /** Counter: connections closed with 1008 over maxBackpressure (backpressurePolicy 'close'). */
  backpressureCloses: number;
}

/** The number fields of a counters object. */
export type Counts<C> = { [K in keyof C as C[K] extends number ? K : never]: number };

/**
 * A copy of a counters object's number fields, for a stats() snapshot that later counting
 * does not change. Counters are plain fields (one increment on the hot path); this is the
 * one place that reads them all, for the server's stats() and the realtime layer's.
 */
export function countsOf<C extends object>(counters: C): Counts<C> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters)) if (typeof value === 'number') out[name] = value;
  return out as Counts<C>;
}

/** The mutable counters behind stats(), shared by a server and its connections. */
export class ServerCounters {
  connectionsOpened = 0;
  messagesIn = 0;
  messagesOut = 0;
  backpressure = 0;
  backpressureDrops = 0;
  backpressureCloses = 0;
  /** Bytes of connections already closed (open ones are read from their sockets). */
  readonly closedBytes = { in: 0, out: 0 };
  readonly closes = new Map<number, number>();
  readonly handshakeFailures = new Map<string, number>();

  handshakeFailed(reason: string): void {
    this.handshakeFailures.set(reason, (this.handshakeFailures.get(reason) ?? 0) + 1);
  }

  closed(code: number, socket: Duplex): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
    this.closedBytes.in += bytesRead(socket);
    this.closedBytes.out += bytesWritten(socket);
  }

  snapshot(open: Iterable<{ socket: Duplex }>, connections: number, handshaking: number): WebSocketServerStats {
    let bytesIn = this.closedBytes.in;
    let bytesOut = this.closedBytes.out;
    for (const ws of open) {
      bytesIn += bytesRead(ws.socket);
      bytesOut += bytesWritten(ws.socket);
    }
    return {
      connections,
      handshaking,
      ...countsOf<ServerCounters>(this),
      closesByCode: Object.fromEntries([...this.closes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      handshakeFailures: Object.fromEntries([...this.handshakeFailures].sort()),
      bytesIn,
      bytesOut,
    };
  }
}

const REASONS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  426: 'upgrade_required',
  431: 'header_too_large',
  500: 'server_error',
  503: 'unavailable',
};

/** The handshakeFailures key of a refusal with this HTTP status. */
export function refusalReason(status: number): string {
  return REASONS[status] ?? `other_${status}`;
}

// Any Duplex may come through handleUpgrade; net and tls sockets count their bytes, and HTTP/2
// streams carry counts under kBytesRead and kBytesWritten (describeStream, http2-upgrade.ts).
function bytesRead(socket: Duplex): number {
  return (socket as Duplex & { bytesRead?: number }).bytesRead ?? (socket as Duplex & { [kBytesRead]?: number })[kBytesRead] ?? 0;
}

function bytesWritten(socket: Duplex): number {
  return (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? (socket as Duplex & { [kBytesWritten]?: number })[kBytesWritten] ?? 0;
}
