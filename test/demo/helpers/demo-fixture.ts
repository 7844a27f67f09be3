/**
 * The page-launch setup every Tether Live test file shares: one headless Chromium and one
 * demo server for the file, started before its tests and closed after them.
 */
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import type { DemoOptions } from '../../../demo/app/demo-server.js';
import { launchChromium, openVisitors, startTestDemo, type TestDemo, type Visitor } from './demo-harness.js';

export interface DemoFixture {
  /** The file's Chromium (set once its `before` has run). */
  readonly browser: Browser;
  /** The running demo; a test that restarts the demo puts the new one here (closed after the tests). */
  demo: TestDemo;
  /** Opens `path` of the demo in `n` browser contexts: openVisitors on this browser and demo. */
  open(path: string, n: number, options?: Parameters<typeof openVisitors>[4]): Promise<Visitor[]>;
}

/** Registers the file's before/after hooks; `chromiumArgs` are added to the browser's flags. */
export function useDemo(options: { chromiumArgs?: readonly string[]; demo?: DemoOptions } = {}): DemoFixture {
  let browser: Browser | undefined;
  const fixture = {
    get browser(): Browser {
      if (browser === undefined) throw new Error('the demo fixture has not started (useDemo() outside a test file?)');
      return browser;
    },
    demo: undefined as unknown as TestDemo,
    open: (path: string, n: number, openOptions?: Parameters<typeof openVisitors>[4]) => openVisitors(fixture.browser, fixture.demo.url, path, n, openOptions),
  };
  before(async () => {
    browser = await launchChromium(options.chromiumArgs);
    fixture.demo = await startTestDemo(options.demo);
  });
  after(async () => {
    await browser?.close();
    await (fixture.demo as TestDemo | undefined)?.close({ minDelay: 0, maxDelay: 0 });
  });
  return fixture;
}
