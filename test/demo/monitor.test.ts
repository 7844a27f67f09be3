/**
 * Tether Live, monitoring page, in Chromium: the charts fill with live, non-zero values, and
 * what the page shows is what stats() says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeVisitors, screenshot, STEP } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

/** stats() of every endpoint of the demo, summed, now. */
function serverTotals(): { connections: number; messagesIn: number; messagesOut: number; bytesIn: number } {
  const t = { connections: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0 };
  for (const e of fx.demo.host.endpoints()) {
    const s = e.server.stats();
    t.connections += s.connections;
    t.messagesIn += s.messagesIn;
    t.messagesOut += s.messagesOut;
    t.bytesIn += s.bytesIn;
  }
  return t;
}

interface Shown { t: number; connections: number; sessions: number; totals: { messagesIn: number; messagesOut: number; bytesIn: number } }
async function shown(page: Page): Promise<Shown> {
  return JSON.parse((await page.getAttribute('body', 'data-sample'))!) as Shown;
}

function chartLast(page: Page, id: string): Promise<Record<string, number>> {
  return page.$eval(`[data-chart="${id}"] .mon-chart`, (el) => JSON.parse(el.getAttribute('data-last') ?? '{}'));
}

test('monitoring: live non-zero values in every chart, matching stats()', async () => {
  const visitors = await fx.open('/monitor/', 2);
  const [a] = visitors.map((v) => v.page) as [Page];
  try {
    const before = serverTotals();
    await a.click('text=Make some traffic');
    // 2,000 requests: in and out per second must show them.
    await a.waitForFunction(() => JSON.parse(document.querySelector('[data-chart="messages"] .mon-chart')?.getAttribute('data-last') ?? '{}').messagesIn >= 100, undefined, { timeout: STEP });
    await a.waitForFunction(() => Number(document.querySelector('[data-chart="messages"] .mon-chart')?.getAttribute('data-points')) >= 3, undefined, { timeout: STEP });
    const messages = await chartLast(a, 'messages');
    assert.ok(messages.messagesOut! >= 100, JSON.stringify(messages));
    const bytes = await chartLast(a, 'bytes');
    assert.ok(bytes.bytesIn! > 100 * 200 && bytes.bytesOut! > 0, JSON.stringify(bytes));
    const loop = await chartLast(a, 'loop');
    assert.ok(loop.loopP99! > 0 && loop.loopMean! > 0, JSON.stringify(loop));
    const memory = await chartLast(a, 'memory');
    assert.ok(memory.heapMiB! > 1 && memory.rssMiB! > memory.heapMiB!, JSON.stringify(memory));

    // The traffic is over when the button comes back.
    await a.waitForSelector('.mon-head button:not([disabled])', { timeout: STEP });
    // The next sample against stats() read in this process: connections and sessions are
    // steady (two pages), counters lie between what stats() said before and after it.
    const last = (await shown(a)).t;
    await a.waitForFunction((t) => JSON.parse(document.body.getAttribute('data-sample') ?? '{}').t > t, last, { timeout: STEP });
    const s = await shown(a);
    const now = serverTotals();
    assert.equal(s.connections, now.connections);
    assert.equal(s.connections, 2);
    assert.equal(s.sessions, fx.demo.host.realtime.stats().sessions);
    assert.equal(Number(await a.getAttribute('[data-metric="connections"]', 'data-value')), now.connections);
    for (const k of ['messagesIn', 'messagesOut', 'bytesIn'] as const) {
      assert.ok(s.totals[k] >= before[k] + (k === 'bytesIn' ? 2000 * 200 : 2000) && s.totals[k] <= now[k], `${k}: ${before[k]} + traffic <= ${s.totals[k]} <= ${now[k]}`);
    }
    assert.equal((await chartLast(a, 'connections')).connections, 2);
    await screenshot(a, 'monitor', { fullPage: true });
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});
