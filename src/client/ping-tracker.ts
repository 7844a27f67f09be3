/**
 * Pings sent by WebSocket.ping() waiting for their pong. A peer may answer only the most
 * recent of several pings (RFC 6455 §5.5.3), so a pong settles the ping it echoes and every
 * ping sent before it; pongs that echo no ping of ours (unsolicited ones) are ignored.
 */
export class PingTracker {
  private readonly waiting: Array<{ payload: Buffer; sentAt: number; resolve(ms: number): void; reject(err: Error): void }> = [];
  private counter = 0;

  /** A payload that tells this ping apart from the others of the connection. */
  nextPayload(): Buffer {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(0x74706e67); // "tpng"
    payload.writeUInt32BE(++this.counter >>> 0, 4);
    return payload;
  }

  /** Resolves with the round trip in ms when the pong for `payload` (or a later ping) arrives. */
  track(payload: Buffer): Promise<number> {
    return new Promise((resolve, reject) => this.waiting.push({ payload, sentAt: performance.now(), resolve, reject }));
  }

  pongReceived(payload: Buffer): void {
    const i = this.waiting.findIndex((w) => w.payload.equals(payload));
    if (i < 0) return;
    const now = performance.now();
    for (const w of this.waiting.splice(0, i + 1)) w.resolve(now - w.sentAt);
  }

  /** The connection is gone: no pong will come. */
  rejectAll(err: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
