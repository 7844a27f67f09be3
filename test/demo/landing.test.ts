/**
 * Tether Live in Chromium: the landing page lists every use case and counts connected
 * clients live; every page loads and shows its connection state; a blank screenshot is
 * caught by the check the other demo tests rely on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeVisitors, distinctColours, MIN_COLOURS, screenshot, startTestDemo, STEP, waitLive } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

test('landing: lists the eight use cases with a line each and counts connected clients live', async () => {
  const visitors = await fx.open('/', 2);
  try {
    const [a] = visitors.map((v) => v.page);
    const cards = await a!.$$eval('.card', (els) => els.map((e) => ({ href: e.getAttribute('href'), title: e.querySelector('.card-title')?.textContent, summary: e.querySelector('.card-summary')?.textContent })));
    assert.equal(cards.length, 8);
    for (const c of cards) {
      assert.match(c.href ?? '', /^\/[a-z-]+\/$/);
      assert.ok((c.title ?? '').length > 2 && (c.summary ?? '').length > 20, JSON.stringify(c));
    }
    // Two visitors: the count reaches 2 on both; a third arrives and it follows.
    for (const v of visitors) await v.page.waitForFunction(() => document.getElementById('client-count')?.textContent === '2', undefined, { timeout: STEP });
    const [third] = await fx.open('/', 1);
    await a!.waitForFunction(() => document.getElementById('client-count')?.textContent === '3', undefined, { timeout: STEP });
    assert.equal(fx.demo.host.connectionCount(), 3);
    await third!.context.close();
    await a!.waitForFunction(() => document.getElementById('client-count')?.textContent === '2', undefined, { timeout: STEP });
    await screenshot(a!, 'landing');
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});

test('landing: every page opens from its card and goes live', async () => {
  const [v] = await fx.open('/', 1);
  try {
    const hrefs = await v!.page.$$eval('.card', (els) => els.map((e) => e.getAttribute('href')!));
    for (const href of hrefs) {
      await v!.page.goto(new URL(href, fx.demo.url).href);
      await waitLive(v!.page);
      assert.ok((await v!.page.textContent('.topbar-title'))!.length > 2);
    }
    assert.deepEqual(v!.errors, []);
  } finally {
    await closeVisitors([v!]);
  }
});

test('landing: the badge shows reconnecting with a countdown while the server is away, then live again', async () => {
  const [v] = await fx.open('/', 1);
  try {
    // Drain with a 1.5-2 s hint: the badge counts down, then the page comes back on a new server on the same port.
    const port = fx.demo.port;
    await fx.demo.close({ minDelay: 1500, maxDelay: 2000 });
    await v!.page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: STEP });
    assert.match((await v!.page.textContent('#conn'))!, /^reconnecting (in \d+\.\d s|now…)$/);
    fx.demo = await startTestDemo({ port });
    await waitLive(v!.page);
    await v!.page.waitForFunction(() => document.getElementById('client-count')?.textContent === '1', undefined, { timeout: STEP });
  } finally {
    await closeVisitors([v!]);
  }
});

test('the blank-screenshot check fails on a blank page', async () => {
  const context = await fx.browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent('<body style="background:#0b1220"></body>');
    const colours = distinctColours(await page.screenshot());
    assert.ok(colours < MIN_COLOURS, `a blank page has ${colours} colours`);
  } finally {
    await context.close();
  }
});
