import type { ResolvedServerOptions, ServerHandlers } from './options.js';
import type { ServerSocket } from './server-socket.js';
import type { ServerCounters } from './server-stats.js';

/** What a connection needs from its server: settings, handlers, a coarse clock, and a way out. */
export interface ServerCore<U> {
  readonly options: ResolvedServerOptions;
  readonly handlers: ServerHandlers<U>;
  /** Milliseconds, updated by the server's timers; cheap to read on every message. */
  readonly clock: number;
  /** What stats() reports; connections count their messages and closes here. */
  readonly counters: ServerCounters;
  forget(ws: ServerSocket<U>): void;
}
