/**
 * The harness of the Tether Live tests: the real demo server in this process on loopback
 * (port 0), headless Chromium through playwright-core (one browser per test file), pages in
 * separate browser contexts (separate storage: separate people), and screenshots saved under
 * test-output/screenshots/ and checked not to be blank.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { startDemo, type DemoOptions, type RunningDemo } from '../../../demo/app/demo-server.js';
import { launchChromium } from '../../interop/chromium.js';

export { launchChromium };

/** test-output/screenshots at the repository root (git-ignored). */
export const SCREENSHOTS = new URL('../../../../test-output/screenshots/', import.meta.url);

/** How long a step may take on a loaded machine before a test gives up. */
export const STEP = 15_000;

/** A running demo with its log lines. */
export type TestDemo = RunningDemo & { logs: string[] };

/** The demo on 127.0.0.1 and a free port; its log lines are kept for failure messages. */
export async function startTestDemo(options: DemoOptions = {}): Promise<TestDemo> {
  const logs: string[] = [];
  const demo = await startDemo({ port: 0, host: '127.0.0.1', log: (line) => logs.push(line), ...options });
  return Object.assign(demo, { logs });
}

export interface Visitor {
  context: BrowserContext;
  page: Page;
  /** Errors the page threw or logged, for assertions and failure messages. */
  errors: string[];
}

/**
 * Opens `path` of the demo in n new browser contexts (each a separate person: its own
 * storage, so its own nickname) and waits for each page's connection badge to say live.
 */
export async function openVisitors(browser: Browser, baseUrl: string, path: string, n: number, options: { viewport?: { width: number; height: number }; waitLive?: boolean } = {}): Promise<Visitor[]> {
  const visitors: Visitor[] = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1200, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // The browser's own note of a refused connection (the server restarting) is not a page error.
      if (msg.type() === 'error' && !/^WebSocket connection to .* failed/.test(msg.text())) errors.push(`console: ${msg.text()}`);
    });
    await page.goto(new URL(path, baseUrl).href);
    visitors.push({ context, page, errors });
  }
  if (options.waitLive !== false) for (const v of visitors) await waitLive(v.page);
  return visitors;
}

/** Waits for the header's connection badge to say live. */
export async function waitLive(page: Page, timeout = STEP): Promise<void> {
  await page.waitForSelector('#conn[data-state="live"]', { timeout });
}

export async function closeVisitors(visitors: Visitor[]): Promise<void> {
  for (const v of visitors) await v.context.close().catch(() => {});
}

/** Distinct colours of an image, each channel quantized to 16 levels (a background gradient counts as a few). */
export function distinctColours(png: Buffer): number {
  const image = PNG.sync.read(png);
  const seen = new Set<number>();
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) seen.add(((d[i]! >> 4) << 8) | ((d[i + 1]! >> 4) << 4) | (d[i + 2]! >> 4));
  return seen.size;
}

/** A page's screenshot with fewer distinct (quantized) colours than this is judged blank. */
export const MIN_COLOURS = 24;

/**
 * Saves a screenshot of the page as test-output/screenshots/<name>.png and asserts it is
 * not blank (enough distinct colours). Returns the PNG.
 */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<Buffer> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const png = await page.screenshot({ fullPage: options.fullPage ?? false });
  writeFileSync(new URL(`${name}.png`, SCREENSHOTS), png);
  const colours = distinctColours(png);
  assert.ok(colours >= MIN_COLOURS, `screenshot ${name} looks blank: ${colours} distinct colours (need ${MIN_COLOURS})`);
  return png;
}

/** Polls a condition in Node until it returns a value other than undefined/false. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeout = STEP): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
