/** Requests of one session for one topic that may wait behind the one running; more are refused. */
export const MAX_QUEUED_PER_TOPIC = 64;

/**
 * One session's operations on its topics (subscribe, resync, unsubscribe, presence query),
 * run one at a time per topic in the order they were asked. Without this, two requests for
 * the same topic sent back to back would interleave at every await of the subscription
 * flow, and the session's subscription state would depend on timing.
 */
export class TopicQueues {
  private readonly queues = new Map<string, Array<() => Promise<void>>>();

  /** `owner.topicQueues` is set to null when no operation is left: an idle session keeps none. */
  constructor(private readonly owner: { topicQueues: TopicQueues | null }) {}

  /**
   * Runs `op` after the operations already queued for `topic`. Returns false (and does not
   * queue it) when MAX_QUEUED_PER_TOPIC are waiting, unless `force` (the server's own
   * operations: cleanup on close, stream restarts). An operation reports its own errors.
   */
  run(topic: string, op: () => Promise<void>, force = false): boolean {
    const queue = this.queues.get(topic);
    if (queue === undefined) {
      const fresh = [op];
      this.queues.set(topic, fresh);
      void this.drain(topic, fresh);
      return true;
    }
    if (!force && queue.length > MAX_QUEUED_PER_TOPIC) return false;
    queue.push(op);
    return true;
  }

  /** Topics with an operation running or waiting. */
  topics(): string[] {
    return [...this.queues.keys()];
  }

  private async drain(topic: string, queue: Array<() => Promise<void>>): Promise<void> {
    while (queue.length > 0) {
      try {
        await queue[0]!();
      } catch {
        // Each operation answers for itself; a failure must not stall the ones behind it.
      }
      queue.shift();
    }
    this.queues.delete(topic);
    if (this.queues.size === 0 && this.owner.topicQueues === this) this.owner.topicQueues = null;
  }
}
