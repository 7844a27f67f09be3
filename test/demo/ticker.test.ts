/**
 * Tether Live, stock ticker page, in Chromium: prices change and the chart grows; a context
 * whose page is blocked, and one whose CPU is throttled, resume showing the latest prices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeVisitors, screenshot, STEP } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

/** Symbol → update count shown in the page's table. */
function shownSeqs(page: Page): Promise<Record<string, number>> {
  return page.$$eval('tr[data-symbol]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-symbol')!, Number(r.getAttribute('data-seq') ?? -1)])));
}

async function serverQuotes(): Promise<Array<{ s: string; p: number; n: number }>> {
  return (await (await fetch(new URL('/ticker/api/quotes', fx.demo.url))).json()) as Array<{ s: string; p: number; n: number }>;
}

/** Every symbol on the page is at least as recent as the server's quotes fetched now. */
async function waitCaughtUp(page: Page, what: string): Promise<number> {
  const quotes = await serverQuotes();
  const started = Date.now();
  const want = Object.fromEntries(quotes.map((q) => [q.s, q.n]));
  // Polled on a timer, not on animation frames: a page that was just throttled or blocked
  // renders few frames on a loaded machine, and the check would run too seldom.
  await page.waitForFunction((w) => {
    const rows = Array.from(document.querySelectorAll('tr[data-symbol]'));
    return rows.length === Object.keys(w).length && rows.every((r) => Number(r.getAttribute('data-seq') ?? -1) >= w[r.getAttribute('data-symbol')!]!);
  }, want, { timeout: STEP, polling: 100 }).catch(async (err: Error) => {
    throw new Error(`${what}: ${err.message}; page ${JSON.stringify(await shownSeqs(page))} server ${JSON.stringify(want)}`);
  });
  return Date.now() - started;
}

test('ticker: 60 symbols whose prices change, a chart that grows; blocked and throttled contexts resume with the latest prices', async () => {
  const visitors = await fx.open('/ticker/', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  try {
    await a.waitForFunction(() => document.querySelectorAll('tr[data-symbol][data-seq]').length >= 60, undefined, { timeout: STEP });
    const first = await shownSeqs(a);
    assert.ok(Object.keys(first).length >= 60);
    const points = Number(await a.getAttribute('.ticker-chart', 'data-points'));
    await a.waitForFunction((p) => Number(document.querySelector('.ticker-chart')?.getAttribute('data-points')) > p, points, { timeout: STEP });
    const later = await shownSeqs(a);
    assert.ok(Object.keys(later).some((s) => later[s]! > first[s]!), 'some prices changed');
    await a.waitForSelector('td.price.up, td.price.down', { timeout: STEP });
    await screenshot(a, 'ticker');

    // A blocked page: its main thread busy for 3 s while about 360 quotes are published.
    await b.evaluate(() => {
      const end = Date.now() + 3000;
      while (Date.now() < end) { /* blocked */ }
    });
    const blocked = await waitCaughtUp(b, 'after a 3 s block');

    // A throttled CPU (20x slower) for 3 s.
    const cdp = await visitors[1]!.context.newCDPSession(b);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
    await new Promise((r) => setTimeout(r, 3000));
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    const throttled = await waitCaughtUp(b, 'after 3 s of CPU throttling');
    assert.ok(blocked < STEP && throttled < STEP);
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});
