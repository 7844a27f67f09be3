/**
 * Collaborative editing in Chromium: two people type at the same time in two browser
 * contexts and end with the same text; a Node client on the stock y-websocket provider
 * (Tether's WebSocket underneath) edits the same document and converges too; after a server
 * restart the pages reconnect by themselves and nothing is lost or repeated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { WebSocket } from 'tether-ws';
import { closeVisitors, screenshot, startTestDemo, STEP, until, waitLive } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const fx = useDemo();

const text = (page: Page): Promise<string> => page.evaluate(() => (globalThis as any).tetherCollab.text() as string);
const synced = (page: Page): Promise<void> => page.waitForFunction(() => (globalThis as any).tetherCollab.synced() === true, undefined, { timeout: STEP }).then(() => {});

async function sameText(pages: Page[], what: string): Promise<string> {
  return until(what, async () => {
    const texts = await Promise.all(pages.map(text));
    return texts.every((t) => t === texts[0]) ? texts[0] : undefined;
  });
}

test('collab: concurrent edits in two browsers and a Node y-websocket client converge; cursors and names are shared; a restart loses nothing', async () => {
  const visitors = await fx.open('/collab/?fresh#scratch', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  const doc = new Y.Doc();
  let node: WebsocketProvider | undefined;
  try {
    for (const p of [a, b]) await synced(p);
    const start = await sameText([a, b], 'both pages show the document');
    assert.match(start, /^A blank page for anything\./);

    // Both type at once: a at the end, b at the very start.
    await a.click('.cm-content');
    await a.keyboard.press('Control+End');
    await b.click('.cm-content');
    await b.keyboard.press('Control+Home');
    await Promise.all([a.keyboard.type('alpha from A. ', { delay: 15 }), b.keyboard.type('beta from B. ', { delay: 15 })]);
    const merged = await sameText([a, b], 'the two pages converge');
    assert.ok(merged.startsWith('beta from B. A blank page'), merged);
    assert.ok(merged.endsWith('alpha from A. '), merged);

    // Each sees the other in the people list, and the other's cursor with its name in the editor.
    for (const p of [a, b]) {
      await until('two people listed', async () => ((await p.evaluate(() => (globalThis as any).tetherCollab.people() as string[])).length === 2) || undefined);
      await p.waitForSelector('.cm-ySelectionInfo', { timeout: STEP });
    }
    const nameOfA = await a.evaluate(() => (globalThis as any).tetherCollab.people()[0] as string);
    assert.equal(await b.textContent('.cm-ySelectionInfo'), nameOfA);

    // A Node client with the stock provider, on Tether's WebSocket.
    const url = fx.demo.url.replace(/^http/, 'ws') + 'collab/ws';
    node = new WebsocketProvider(url, 'scratch', doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
    node.awareness.setLocalStateField('user', { name: 'Node script', color: '#a78bfa' });
    await until('the Node client syncs', () => node!.synced || undefined);
    assert.equal(doc.getText('body').toString(), merged);
    doc.getText('body').insert(0, 'node was here. ');
    await b.keyboard.type('more from B. ');
    const all = await sameText([a, b], 'pages see the Node edit');
    await until('Node sees the page edit', () => doc.getText('body').toString() === all || undefined);
    assert.ok(all.startsWith('node was here. '), all);
    assert.ok(all.includes('more from B. '), all);
    await until('the Node client is listed', async () => (await a.evaluate(() => (globalThis as any).tetherCollab.people() as string[])).includes('Node script') || undefined);
    await screenshot(a, 'collab');

    // Restart: the pages come back by themselves; the document is whole and nothing doubled.
    const port = fx.demo.port;
    await fx.demo.close({ minDelay: 200, maxDelay: 400 });
    await a.waitForSelector('#conn[data-state="reconnecting"]', { timeout: STEP });
    fx.demo = await startTestDemo({ port });
    for (const p of [a, b]) {
      await waitLive(p);
      await synced(p);
    }
    await a.keyboard.type('after the restart.');
    const final = await sameText([a, b], 'pages converge after the restart');
    assert.equal(final, `${all}after the restart.`);
    assert.equal(final.split('A blank page for anything.').length, 2, 'the seed text appears once');
    await until('Node converges after the restart', () => doc.getText('body').toString() === final || undefined);
    // While the server was away the browser itself logged its failed connection attempts: nothing else.
    for (const v of visitors) assert.deepEqual(v.errors.filter((e) => !/^console: WebSocket connection to '\S+' failed: /.test(e)), []);
  } finally {
    node?.destroy();
    doc.destroy();
    await closeVisitors(visitors);
  }
});
