import type { DemoPage } from '../app/demo-page.js';
import { Market } from './market.js';

export const PRICES_TOPIC = 'ticker:prices';
/** Market steps per second, and instruments moved per step: about 120 quotes a second. */
const STEPS_PER_SECOND = 10;
const MOVES_PER_STEP = 12;

/**
 * Stock ticker: a simulated market publishes every quote to one conflated topic, keyed by
 * symbol. A subscriber gets the latest quote of every symbol at once; a subscriber whose
 * connection is congested (a slow client, a suspended tab) is sent only the latest quote
 * per symbol when it drains, never a backlog.
 */
export const page: DemoPage = {
  id: 'ticker',
  title: 'Stock ticker',
  summary: 'A simulated market of 60 symbols on a conflated topic: cells flash on change, a streaming chart; slow clients get the latest, never a backlog.',
  mount(app) {
    app.topics('ticker:', { mode: 'conflated', historySize: 1000 });
    const market = new Market(60);
    const rt = app.realtime;
    // The opening quotes, so that the first subscriber gets all 60 at once.
    for (const inst of market.instruments) void rt.publish(PRICES_TOPIC, market.quote(inst), { key: inst.symbol });

    app.every(1000 / STEPS_PER_SECOND, () => {
      for (const q of market.step(MOVES_PER_STEP)) void rt.publish(PRICES_TOPIC, q, { key: q.s });
    });

    rt.handle('ticker.instruments', () => market.instruments.map((i) => ({ symbol: i.symbol, name: i.name, open: i.open })));
    rt.handle('ticker.series', (data) => market.get(String((data as { symbol?: unknown } | null)?.symbol))?.series ?? []);
    // The latest quote of every symbol, for scripts (and the tests) to compare with.
    app.route('GET', '/ticker/api/quotes', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(market.instruments.map((i) => market.quote(i))));
    });
  },
};
