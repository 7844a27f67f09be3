/** One second of the server's life, as the monitoring page charts it. */
export interface Sample {
  /** Server time (ms). */
  t: number;
  // Gauges
  connections: number;
  sessions: number;
  subscriptions: number;
  topics: number;
  // Rates over the last interval, per second
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  publishes: number;
  deliveries: number;
  /** Backpressure episodes, drops and closes. */
  backpressure: number;
  handshakeFailures: number;
  // Process
  /** Event-loop delay over the interval, ms. */
  loopMean: number;
  loopP99: number;
  heapMiB: number;
  rssMiB: number;
  /** The counters this sample was computed from (stats() of every endpoint, summed). */
  totals: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number; publishes: number; deliveries: number; backpressure: number; handshakeFailures: number };
}

export const SAMPLES_TOPIC = 'monitor:samples';
