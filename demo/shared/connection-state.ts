/**
 * The connection-state badge in every page's header (#conn): connecting, live, reconnecting
 * with a countdown to the next attempt, or offline. Pages on the realtime client get it from
 * connectRealtime(); pages on a WebSocket of their own call `connectionState.set()`.
 */
export type ConnectionPhase = 'connecting' | 'live' | 'reconnecting' | 'offline';

export class ConnectionIndicator {
  phase: ConnectionPhase = 'connecting';
  private retryAt = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private readonly listeners: Array<(phase: ConnectionPhase) => void> = [];

  constructor(private readonly el: HTMLElement | null) {
    this.render();
  }

  /** retryInMs: for 'reconnecting', when the next attempt is due. */
  set(phase: ConnectionPhase, retryInMs?: number): void {
    this.phase = phase;
    this.retryAt = phase === 'reconnecting' && retryInMs !== undefined ? Date.now() + retryInMs : 0;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = this.retryAt > 0 ? setInterval(() => this.render(), 200) : null;
    this.render();
    for (const fn of this.listeners) fn(phase);
  }

  onChange(fn: (phase: ConnectionPhase) => void): void {
    this.listeners.push(fn);
  }

  private render(): void {
    if (this.el === null) return;
    this.el.dataset.state = this.phase;
    let text: string;
    switch (this.phase) {
      case 'connecting':
        text = 'connecting…';
        break;
      case 'live':
        text = 'live';
        break;
      case 'offline':
        text = 'offline';
        break;
      case 'reconnecting': {
        const left = Math.max(0, this.retryAt - Date.now());
        text = this.retryAt === 0 ? 'reconnecting…' : left < 100 ? 'reconnecting now…' : `reconnecting in ${(left / 1000).toFixed(left < 10_000 ? 1 : 0)} s`;
        if (left === 0 && this.ticker !== null) {
          clearInterval(this.ticker);
          this.ticker = null;
        }
        break;
      }
    }
    this.el.textContent = text;
    this.el.title = `connection: ${text}`;
  }
}

/** The page's one badge. */
export const connectionState = new ConnectionIndicator(typeof document === 'undefined' ? null : document.getElementById('conn'));
