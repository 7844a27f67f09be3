import type { ServerCounters } from './server-stats.js';

/** The settings a connection reads (a part of ResolvedServerOptions, which also holds the handshake's). */
export interface ConnectionSettings {
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly maxBackpressure: number;
  readonly dropOnBackpressure: boolean;
  readonly closeTimeout: number;
  readonly autoPong: boolean;
  readonly textAsBytes: boolean;
  readonly validateUtf8: boolean;
  readonly echoCloseReason: boolean;
}

/**
 * The handlers a connection calls, with itself as W: ServerHandlers but open, which the
 * server calls. Generic so that this file needs neither ServerSocket nor the options.
 */
export interface ConnectionHandlers<W> {
  message?(ws: W, data: string | Buffer, isBinary: boolean): void;
  drain?(ws: W): void;
  close?(ws: W, code: number, reason: string): void;
  ping?(ws: W, payload: Buffer): void;
  pong?(ws: W, payload: Buffer): void;
  protocolError?(ws: W, code: number, reason: string): void;
}

/** What a connection (W) needs from its server: settings, handlers, a coarse clock, and a way out. */
export interface ServerCore<W> {
  readonly options: ConnectionSettings;
  readonly handlers: ConnectionHandlers<W>;
  /** Milliseconds, updated by the server's timers; cheap to read on every message. */
  readonly clock: number;
  /** What stats() reports; connections count their messages and closes here. */
  readonly counters: ServerCounters;
  forget(ws: W): void;
}
