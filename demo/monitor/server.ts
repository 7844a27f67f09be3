import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { DemoApp, DemoPage } from '../app/demo-page.js';
import { SAMPLES_TOPIC, type Sample } from './sample.js';

/** Samples kept for a newcomer's charts (5 minutes). */
const KEEP = 300;
const INTERVAL = 1000;

function sum(values: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(values)) n += v;
  return n;
}

/** The demo's counters now: stats() of the realtime server and of every page endpoint. */
function totals(app: DemoApp): Sample['totals'] & { connections: number } {
  const t = { connections: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, publishes: 0, deliveries: 0, backpressure: 0, handshakeFailures: 0 };
  for (const e of app.endpoints()) {
    const s = e.server.stats();
    t.connections += s.connections;
    t.messagesIn += s.messagesIn;
    t.messagesOut += s.messagesOut;
    t.bytesIn += s.bytesIn;
    t.bytesOut += s.bytesOut;
    t.backpressure += s.backpressure + s.backpressureDrops + s.backpressureCloses;
    t.handshakeFailures += sum(s.handshakeFailures);
  }
  const rt = app.realtime.stats();
  t.publishes = rt.publishes;
  t.deliveries = rt.deliveries;
  return t;
}

/**
 * Live monitoring: once a second the server reads its own stats() (every WebSocket endpoint
 * and the realtime layer), the event-loop delay (perf_hooks) and its memory, and publishes
 * the sample on a conflated topic; the page charts them with uPlot.
 */
export const page: DemoPage = {
  id: 'monitor',
  title: 'Live monitoring',
  summary: 'This server’s own numbers from stats(): connections, messages and bytes per second, backpressure, event-loop delay, memory.',
  mount(app) {
    app.topics('monitor:', { mode: 'conflated' });
    const rt = app.realtime;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const samples: Sample[] = [];
    let prev = totals(app);
    let prevAt = Date.now();

    app.every(INTERVAL, () => {
      const now = Date.now();
      const cur = totals(app);
      const per = 1000 / Math.max(1, now - prevAt);
      const rate = (k: keyof Sample['totals']): number => Math.max(0, Math.round((cur[k] - prev[k]) * per));
      const rts = rt.stats();
      const mem = process.memoryUsage();
      const { connections, ...counters } = cur;
      const sample: Sample = {
        t: now,
        connections,
        sessions: rts.sessions,
        subscriptions: rts.subscriptions,
        topics: rts.topics,
        messagesIn: rate('messagesIn'),
        messagesOut: rate('messagesOut'),
        bytesIn: rate('bytesIn'),
        bytesOut: rate('bytesOut'),
        publishes: rate('publishes'),
        deliveries: rate('deliveries'),
        backpressure: rate('backpressure'),
        handshakeFailures: rate('handshakeFailures'),
        loopMean: Math.round(loop.mean / 1e4) / 100,
        loopP99: Math.round(loop.percentile(99) / 1e4) / 100,
        heapMiB: Math.round((mem.heapUsed / 1048576) * 10) / 10,
        rssMiB: Math.round((mem.rss / 1048576) * 10) / 10,
        totals: counters,
      };
      loop.reset();
      prev = cur;
      prevAt = now;
      samples.push(sample);
      if (samples.length > KEEP) samples.shift();
      void rt.publish(SAMPLES_TOPIC, sample);
    });

    rt.handle('monitor.history', () => samples);
    // Something to measure: the page's "make some traffic" button calls this many times.
    rt.handle('monitor.ping', (data) => data);
    app.onClose(() => void loop.disable());
  },
};
