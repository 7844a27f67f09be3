import { appRoot, connectRealtime, h } from '../shared/page.js';
import { streamingChart, type SeriesSpec, type StreamingChart } from '../shared/chart.js';
import { SAMPLES_TOPIC, type Sample } from './sample.js';
import './monitor.css';

const client = connectRealtime();

const kib = (v: number): string => (v >= 1048576 ? `${(v / 1048576).toFixed(1)} MiB` : v >= 1024 ? `${Math.round(v / 1024)} KiB` : `${Math.round(v)} B`);
const int = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v)));
const ms = (v: number): string => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
const mib = (v: number): string => `${v.toFixed(0)} MiB`;

interface ChartSpec {
  id: string;
  title: string;
  series: Array<SeriesSpec & { key: keyof Sample }>;
  format: (v: number) => string;
}

const CYAN = '#22d3ee', VIOLET = '#a78bfa', GREEN = '#34d399', AMBER = '#fbbf24', RED = '#f87171';
const CHARTS: ChartSpec[] = [
  { id: 'connections', title: 'Connections and sessions', format: int, series: [{ key: 'connections', label: 'connections', stroke: CYAN, fill: 'rgba(34,211,238,.08)' }, { key: 'sessions', label: 'realtime sessions', stroke: VIOLET }] },
  { id: 'messages', title: 'Messages per second', format: int, series: [{ key: 'messagesIn', label: 'in', stroke: CYAN }, { key: 'messagesOut', label: 'out', stroke: VIOLET }] },
  { id: 'bytes', title: 'Bytes per second (wire)', format: kib, series: [{ key: 'bytesIn', label: 'in', stroke: CYAN }, { key: 'bytesOut', label: 'out', stroke: VIOLET }] },
  { id: 'realtime', title: 'Publishes and deliveries per second', format: int, series: [{ key: 'publishes', label: 'publishes', stroke: GREEN }, { key: 'deliveries', label: 'deliveries', stroke: CYAN }] },
  { id: 'trouble', title: 'Backpressure and handshake failures per second', format: int, series: [{ key: 'backpressure', label: 'backpressure', stroke: AMBER }, { key: 'handshakeFailures', label: 'handshake failures', stroke: RED }] },
  { id: 'loop', title: 'Event-loop delay', format: ms, series: [{ key: 'loopMean', label: 'mean', stroke: GREEN }, { key: 'loopP99', label: 'p99', stroke: AMBER }] },
  { id: 'memory', title: 'Memory', format: mib, series: [{ key: 'heapMiB', label: 'heap used', stroke: VIOLET }, { key: 'rssMiB', label: 'RSS', stroke: CYAN }] },
];

const TILES: Array<{ key: keyof Sample; label: string; format: (v: number) => string }> = [
  { key: 'connections', label: 'connections', format: int },
  { key: 'sessions', label: 'sessions', format: int },
  { key: 'messagesIn', label: 'messages in /s', format: int },
  { key: 'messagesOut', label: 'messages out /s', format: int },
  { key: 'loopP99', label: 'event loop p99', format: ms },
  { key: 'rssMiB', label: 'RSS', format: mib },
];

const tiles = new Map<string, HTMLElement>();
const tileRow = h('div', { class: 'mon-tiles' });
for (const t of TILES) {
  const value = h('strong', { class: 'mon-tile-value' }, '–');
  tiles.set(t.key, value);
  tileRow.append(h('div', { class: 'panel mon-tile', 'data-metric': t.key }, value, h('span', { class: 'muted' }, t.label)));
}
const loadButton = h('button', { class: 'btn', type: 'button' }, 'Make some traffic');
const grid = h('div', { class: 'mon-grid' });
appRoot().append(
  h('div', { class: 'mon-head' },
    h('div', {}, h('h1', {}, 'Live monitoring'), h('p', { class: 'muted' }, 'This server’s own numbers, from WebSocketServer.stats() and RealtimeServer.stats() of every endpoint, sampled every second; event-loop delay and memory from the process.')),
    loadButton,
  ),
  tileRow,
  grid,
);

const charts = new Map<string, { spec: ChartSpec; chart: StreamingChart; box: HTMLElement }>();
for (const spec of CHARTS) {
  const box = h('div', { class: 'mon-chart' });
  grid.append(h('section', { class: 'panel mon-card', 'data-chart': spec.id }, h('h2', {}, spec.title), box));
  charts.set(spec.id, { spec, box, chart: streamingChart(box, { series: spec.series, height: 170, window: 300, format: spec.format, yMin: 0 }) });
}

let lastT = 0;
function add(s: Sample): void {
  if (s.t <= lastT) return;
  lastT = s.t;
  for (const { spec, chart, box } of charts.values()) {
    chart.push(s.t, spec.series.map((x) => s[x.key] as number));
    box.dataset.points = String(chart.length);
    box.dataset.last = JSON.stringify(Object.fromEntries(spec.series.map((x) => [x.key, s[x.key]])));
  }
  for (const t of TILES) {
    const el = tiles.get(t.key)!;
    el.textContent = t.format(s[t.key] as number);
    el.parentElement!.dataset.value = String(s[t.key]);
  }
  document.body.dataset.sample = JSON.stringify({ t: s.t, connections: s.connections, sessions: s.sessions, totals: s.totals });
}

function reset(): void {
  lastT = 0;
  for (const { chart } of charts.values()) chart.set([], []);
}

async function loadHistory(): Promise<void> {
  const list = (await client.request('monitor.history')) as Sample[];
  reset();
  for (const s of list) add(s);
}

const sub = client.subscribe(SAMPLES_TOPIC);
sub.on('subscribed', (r) => {
  if (!r.resumed || !r.recovered) loadHistory().catch(() => {});
});
sub.on('message', (data) => add(data as Sample));

// Traffic to watch: 2,000 requests over about two seconds.
loadButton.addEventListener('click', async () => {
  loadButton.disabled = true;
  try {
    for (let burst = 0; burst < 20; burst++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => client.request('monitor.ping', { burst, i, pad: 'x'.repeat(200) })));
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch {
    // The connection went away: nothing more to send.
  } finally {
    loadButton.disabled = false;
  }
});
