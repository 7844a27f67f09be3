/** Per-session limits: at most `messages` messages and `bytes` bytes per second, with bursts of `burst` seconds' worth. */
export interface RateLimitOptions {
  messages?: number;
  bytes?: number;
  /** How many seconds of allowance may be saved up for a burst. Default 1. */
  burst?: number;
}

/**
 * Two token buckets (messages and bytes) refilled continuously. take() is called once per
 * incoming message with the server's clock; no timers.
 */
export class RateLimiter {
  private msgTokens: number;
  private byteTokens: number;
  private last: number;

  constructor(
    private readonly msgRate: number,
    private readonly byteRate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.msgTokens = msgRate * burst;
    this.byteTokens = byteRate * burst;
    this.last = now;
  }

  /** Charges one message of `size` bytes; false (and nothing charged) when over either limit. */
  take(size: number, now: number): boolean {
    const dt = (now - this.last) / 1000;
    this.last = now;
    if (dt > 0) {
      this.msgTokens = Math.min(this.msgRate * this.burst, this.msgTokens + dt * this.msgRate);
      this.byteTokens = Math.min(this.byteRate * this.burst, this.byteTokens + dt * this.byteRate);
    }
    if (this.msgTokens < 1 || this.byteTokens < size) return false;
    this.msgTokens -= 1;
    this.byteTokens -= size;
    return true;
  }
}
