import type { PendingRequests } from '../wire/pending-requests.js';
import { RealtimeError } from '../wire/realtime-error.js';
import { ErrorCode } from '../wire/wire-protocol.js';
import type { OutgoingFrame } from './outgoing-frame.js';

interface Queued {
  /** The message, encoded when it was given. */
  frame: OutgoingFrame;
  /** The request's id, 0 for a message that expects no answer. */
  id: number;
}

/**
 * What the client sends while it is offline, and the publishes that were sent but not
 * acknowledged. Queued messages go out in order on the next connection; a request that
 * timed out while queued is not sent. Publishes carry an idempotency key, so one the
 * connection lost before its acknowledgement goes out again on the next connection, ahead
 * of what was queued since: the server publishes it once.
 */
export class Outbox {
  private queue: Queued[] = [];
  private readonly unacknowledged = new Map<number, OutgoingFrame>();

  constructor(
    private readonly limit: number,
    private readonly requests: PendingRequests,
  ) {}

  /** Queues a message for the next connection; throws `queue_full` at the limit. */
  push(frame: OutgoingFrame, id: number): void {
    // Drop requests that timed out while queued before judging the queue full.
    if (this.queue.length >= this.limit) this.queue = this.queue.filter((q) => q.id === 0 || this.requests.has(q.id));
    if (this.queue.length >= this.limit) throw new RealtimeError(ErrorCode.QueueFull, `offline queue full (${this.limit} messages)`);
    this.queue.push({ frame, id });
  }

  /** A request to send again after a reconnect until it is answered (it must be safe to repeat). */
  resendUntilSettled(id: number, frame: OutgoingFrame, result: Promise<unknown>): void {
    this.unacknowledged.set(id, frame);
    const settled = (): void => void this.unacknowledged.delete(id);
    result.then(settled, settled);
  }

  /**
   * The connection was lost: unacknowledged requests go back to the front of the queue.
   * Returns the ids of every queued request (the others in flight are lost with the connection).
   */
  connectionLost(): Set<number> {
    const queued = new Set(this.queue.map((q) => q.id));
    const resend: Queued[] = [];
    for (const [id, frame] of this.unacknowledged) if (!queued.has(id)) resend.push({ frame, id });
    this.queue = [...resend, ...this.queue];
    for (const r of resend) queued.add(r.id);
    return queued;
  }

  /** Sends what is queued, in order (requests that timed out meanwhile are skipped). */
  flush(send: (frame: OutgoingFrame, id: number) => void): void {
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) if (q.id === 0 || this.requests.has(q.id)) send(q.frame, q.id);
  }

  /** Fails every queued and pending request with `code`. */
  fail(code: string, message: string): void {
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) if (q.id !== 0) this.requests.reject(q.id, new RealtimeError(code, message));
    this.requests.rejectAll(() => new RealtimeError(code, message));
  }
}
