/**
 * Tether Live, task progress page, in Chromium: a job started in one tab runs on the server
 * and reaches 100 % in both; a tab reloaded mid-job shows where the job is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeVisitors, screenshot, STEP, waitLive } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

function progressOf(page: Page, id: string): Promise<{ status: string; progress: number } | null> {
  return page.evaluate((jobId) => {
    const el = document.querySelector(`.tasks-job[data-id="${jobId}"]`);
    return el ? { status: el.getAttribute('data-status')!, progress: Number(el.getAttribute('data-progress')) } : null;
  }, id);
}

test('tasks: a job started in one context reaches 100 % in both; a reload mid-job shows its current state', async () => {
  const visitors = await fx.open('/tasks/', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  try {
    await a.click('button[data-kind="report"]');
    const id = (await a.waitForSelector('.tasks-job', { timeout: STEP }).then((el) => el.getAttribute('data-id')))!;
    await b.waitForSelector(`.tasks-job[data-id="${id}"]`, { timeout: STEP });
    // Mid-job: some progress, not finished; then B reloads and finds it at least as far along.
    await b.waitForFunction((jobId) => {
      const p = Number(document.querySelector(`.tasks-job[data-id="${jobId}"]`)?.getAttribute('data-progress'));
      return p >= 10 && p < 70;
    }, id, { timeout: STEP });
    const before = (await progressOf(b, id))!;
    assert.equal(before.status, 'running');
    await screenshot(a, 'tasks');
    await b.reload();
    await waitLive(b);
    await b.waitForSelector(`.tasks-job[data-id="${id}"]`, { timeout: STEP });
    const afterReload = (await progressOf(b, id))!;
    assert.ok(afterReload.progress >= before.progress, `after the reload ${afterReload.progress} % (before ${before.progress} %)`);
    assert.ok(afterReload.progress < 100 && afterReload.status === 'running', JSON.stringify(afterReload));
    for (const p of [a, b]) {
      await p.waitForSelector(`.tasks-job[data-id="${id}"][data-status="done"][data-progress="100"]`, { timeout: 30_000 });
    }
    assert.match((await a.textContent(`.tasks-job[data-id="${id}"] .tasks-pct`))!, /^100 %$/);
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});
