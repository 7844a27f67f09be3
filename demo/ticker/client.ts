import { appRoot, connectRealtime, h } from '../shared/page.js';
import { streamingChart } from '../shared/chart.js';
import type { Quote } from './market.js';
import './ticker.css';

const PRICES_TOPIC = 'ticker:prices';
const client = connectRealtime();

interface Row {
  quote: Quote | null;
  name: string;
  tr: HTMLTableRowElement;
  price: HTMLTableCellElement;
  change: HTMLTableCellElement;
  /** Direction of the last change not yet shown. */
  pending: 'up' | 'down' | null;
}

const rows = new Map<string, Row>();
const dirty = new Set<string>();
let selected = new URLSearchParams(location.search).get('symbol') ?? '';
let received = 0;

const tbody = h('tbody');
const table = h('table', { class: 'ticker-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Symbol'), h('th', { class: 'ticker-name-col' }, 'Name'), h('th', { class: 'num' }, 'Price'), h('th', { class: 'num' }, 'Change'))), tbody);
const chartBox = h('div', { class: 'ticker-chart' });
const chartTitle = h('h2', { class: 'ticker-chart-title' });
const rate = h('span', { class: 'ticker-rate muted' });

appRoot().append(
  h('div', { class: 'ticker' },
    h('section', { class: 'panel ticker-chart-panel' }, h('div', { class: 'ticker-chart-head' }, chartTitle, rate), chartBox,
      h('p', { class: 'muted ticker-note' }, 'Quotes travel on a conflated topic: a slow connection or a background tab is sent only the latest price of each symbol, never a backlog.')),
    h('section', { class: 'panel ticker-table-panel' }, table),
  ),
);

const chart = streamingChart(chartBox, { series: [{ label: 'price', stroke: '#22d3ee', fill: 'rgba(34,211,238,.08)' }], height: 260, window: 600, format: (v) => v.toFixed(2) });

function fmtChange(c: number): string {
  return `${c > 0 ? '+' : ''}${c.toFixed(2)} %`;
}

function select(symbol: string): void {
  if (!rows.has(symbol)) return;
  rows.get(selected)?.tr.classList.remove('selected');
  selected = symbol;
  rows.get(symbol)!.tr.classList.add('selected');
  chartTitle.textContent = `${symbol} · ${rows.get(symbol)!.name}`;
  history.replaceState(null, '', `?symbol=${symbol}`);
  chart.set([], [[]]);
  chartBox.dataset.points = '0';
  client.request('ticker.series', { symbol }).then((series) => {
    if (symbol !== selected) return;
    const s = series as Array<[number, number]>;
    chart.set(s.map((p) => p[0]), [s.map((p) => p[1])]);
    chartBox.dataset.points = String(chart.length);
  }, () => {});
}

function addRow(symbol: string, name: string): Row {
  const price = h('td', { class: 'num price' }, '–');
  const change = h('td', { class: 'num change' }, '–');
  const tr = h('tr', { 'data-symbol': symbol, tabindex: 0, onclick: () => select(symbol), onkeydown: (e: Event) => (e as KeyboardEvent).key === 'Enter' && select(symbol) },
    h('td', { class: 'sym' }, symbol), h('td', { class: 'ticker-name-col muted' }, name), price, change);
  const row: Row = { quote: null, name, tr, price, change, pending: null };
  rows.set(symbol, row);
  tbody.append(tr);
  return row;
}

/** A quote updates the model at once; the table is redrawn once per frame (not at all in a hidden tab). */
function onQuote(q: Quote): void {
  received++;
  const row = rows.get(q.s) ?? addRow(q.s, q.s);
  if (row.quote !== null && q.n <= row.quote.n) return;
  if (row.quote !== null && q.p !== row.quote.p) row.pending = q.p > row.quote.p ? 'up' : 'down';
  row.quote = q;
  dirty.add(q.s);
  if (q.s === selected) {
    chart.push(q.t, [q.p]);
    chartBox.dataset.points = String(chart.length);
  }
  schedule();
}

let frame = 0;
function schedule(): void {
  if (frame === 0) frame = requestAnimationFrame(paint);
}

function paint(): void {
  frame = 0;
  for (const s of dirty) {
    const row = rows.get(s)!;
    const q = row.quote!;
    row.price.textContent = q.p.toFixed(2);
    row.change.textContent = fmtChange(q.c);
    row.change.className = `num change ${q.c > 0 ? 'pos' : q.c < 0 ? 'neg' : ''}`;
    row.tr.dataset.seq = String(q.n);
    row.tr.dataset.price = String(q.p);
    if (row.pending !== null) {
      // Restart the flash animation.
      row.price.classList.remove('up', 'down');
      void row.price.offsetWidth;
      row.price.classList.add(row.pending);
      row.pending = null;
    }
  }
  dirty.clear();
}

let lastCount = 0;
setInterval(() => {
  rate.textContent = `${received - lastCount} quotes/s`;
  lastCount = received;
}, 1000);

client.request('ticker.instruments').then((list) => {
  for (const i of list as Array<{ symbol: string; name: string }>) {
    const row = rows.get(i.symbol);
    if (row) {
      row.name = i.name;
      row.tr.children[1]!.textContent = i.name;
    } else addRow(i.symbol, i.name);
  }
  select(rows.has(selected) ? selected : (list as Array<{ symbol: string }>)[0]!.symbol);
}, () => {});

const sub = client.subscribe(PRICES_TOPIC);
sub.on('message', (data) => onQuote(data as Quote));
// A restarted server starts a new market: forget what we knew.
sub.on('unrecoverable', () => {
  for (const row of rows.values()) row.quote = null;
  if (selected) select(selected);
});
