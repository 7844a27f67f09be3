/**
 * Tether Live, live comments page, in Chromium: a comment sent in one context flies across
 * the other's stage; a flood of 500 arrives complete, once each, in both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeVisitors, screenshot, STEP } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

type Flying = Array<{ text: string; x: number; lane: number }>;
function onStage(page: Page): Promise<Flying> {
  return page.evaluate(() => (window as unknown as { danmaku: { onStage(): Flying } }).danmaku.onStage());
}

test('danmaku: a comment flies across the other stage; a flood of 500 arrives complete in both contexts', async () => {
  const visitors = await fx.open('/danmaku/', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  try {
    await a.fill('.dm-input', 'hello from A');
    await a.press('.dm-input', 'Enter');
    await b.waitForFunction(() => (window as unknown as { danmaku: { onStage(): Array<{ text: string }> } }).danmaku.onStage().some((f) => f.text === 'hello from A'), undefined, { timeout: STEP });
    const x1 = (await onStage(b)).find((f) => f.text === 'hello from A')!.x;
    await b.waitForFunction((x) => {
      const f = (window as unknown as { danmaku: { onStage(): Array<{ text: string; x: number }> } }).danmaku.onStage().find((c) => c.text === 'hello from A');
      return f === undefined || f.x < x - 50;
    }, x1, { timeout: STEP });

    const idleFps = Number(await b.getAttribute('[data-stat="fps"]', 'data-value'));
    await a.click('text=Flood ×500');
    for (const p of [a, b]) {
      await p.waitForSelector('.dm-floods li[data-received="500"]', { timeout: 30_000 });
      assert.match((await p.textContent('.dm-floods li'))!, /: 500 \/ 500 received$/);
    }
    // The stage is busy and still animating: comments on stage, frames counted.
    await b.waitForFunction(() => Number(document.querySelector('[data-stat="stage"]')?.getAttribute('data-value')) > 20, undefined, { timeout: STEP });
    await screenshot(b, 'danmaku');
    const fps = Number(await b.getAttribute('[data-stat="fps"]', 'data-value'));
    assert.ok(fps > 0, `frames per second during the flood: ${fps}`);
    console.log(`danmaku: ${idleFps} frames/s on the receiving stage before, ${fps} during a 500-comment flood`);
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});
