import { CloseCode, ReadyState } from '../protocol/index.js';
import type { ServerSocket } from './server-socket.js';

/**
 * Heartbeats and idle timeouts for all connections of a server with one timer each,
 * not one per socket. A peer that sent nothing since the last tick is pinged; one that
 * still sent nothing by the next tick is dropped.
 */
export class Liveness {
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Coarse clock for idle accounting. */
  clock = Date.now();

  constructor(
    private readonly sockets: Set<ServerSocket<any>>,
    private readonly heartbeatInterval: number,
    private readonly idleTimeout: number,
  ) {}

  start(): void {
    if (this.heartbeatInterval > 0 && this.heartbeatTimer === null) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatInterval);
      this.heartbeatTimer.unref();
    }
    if (this.idleTimeout > 0 && this.idleTimer === null) {
      this.idleTimer = setInterval(() => this.checkIdle(), Math.max(10, Math.floor(this.idleTimeout / 4)));
      this.idleTimer.unref();
    }
  }

  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.heartbeatTimer = this.idleTimer = null;
  }

  private heartbeat(): void {
    for (const ws of this.sockets) {
      if (ws.readyState !== ReadyState.OPEN) continue;
      // A peer we stopped reading because it did not drain what we sent cannot be heard;
      // while it keeps taking our bytes it is alive.
      if (ws.readHolds !== 0 && ws.outputProgressed()) ws.heard = true;
      if (ws.heard) {
        ws.heard = false;
        ws.pinged = false;
      } else if (ws.pinged) {
        ws.terminate();
      } else {
        ws.pinged = true;
        ws.ping();
      }
    }
  }

  private checkIdle(): void {
    const now = (this.clock = Date.now());
    for (const ws of this.sockets) {
      if (ws.readyState === ReadyState.OPEN && now - ws.lastMessageAt >= this.idleTimeout) ws.close(CloseCode.GoingAway, 'idle timeout');
    }
  }
}
