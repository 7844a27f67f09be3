/**
 * Tether Live, chat page, in Chromium: messages cross between two people with their
 * delivered tick, presence and typing show, a late joiner gets the history, and a server
 * restart in the middle of a conversation loses and duplicates nothing (with the adapter
 * outliving the server, as a broker does, and with a fresh in-memory one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { MemoryAdapter } from '../../src/realtime/index.js';
import { closeVisitors, screenshot, startTestDemo, STEP, waitLive, type Visitor } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

const adapter = new MemoryAdapter();
const fx = useDemo({ demo: { adapter } });

async function person(name: string, room: string): Promise<Visitor> {
  const [v] = await fx.open(`/chat/?room=${room}&name=${name}`, 1);
  return v!;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('.chat-input', text);
  await page.press('.chat-input', 'Enter');
}

/** The texts of the messages shown, in order. */
function texts(page: Page): Promise<string[]> {
  return page.$$eval('.chat-msg .chat-text', (els) => els.map((e) => e.textContent ?? ''));
}

async function waitTexts(page: Page, expected: string[]): Promise<void> {
  try {
    await page.waitForFunction((want) => {
      const got = Array.from(document.querySelectorAll('.chat-msg .chat-text')).map((e) => e.textContent);
      return want.every((w) => got.includes(w));
    }, expected, { timeout: STEP });
  } catch (err) {
    throw new Error(`${(err as Error).message}: waiting for ${JSON.stringify(expected)}, the page shows ${JSON.stringify(await texts(page))}`);
  }
}

async function waitDelivered(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => Array.from(document.querySelectorAll('.chat-msg')).some((m) => m.querySelector('.chat-text')?.textContent === t && m.getAttribute('data-status') === 'delivered'), text, { timeout: STEP });
}

test('chat: a message crosses with its delivered tick, presence shows both, typing shows, a late joiner sees the history', async () => {
  const alice = await person('Alice', 'lobby');
  const bob = await person('Bob', 'lobby');
  const visitors = [alice, bob];
  try {
    for (const v of visitors) {
      await v.page.waitForFunction(() => ['Alice', 'Bob'].every((n) => document.querySelector(`.chat-people li[data-name="${n}"]`)), undefined, { timeout: STEP });
    }
    await say(alice.page, 'hello from Alice');
    await waitTexts(bob.page, ['hello from Alice']);
    await waitDelivered(alice.page, 'hello from Alice');
    // Bob's copy is someone else's message: no tick of his own.
    assert.equal(await bob.page.getAttribute('.chat-msg', 'data-status'), 'received');

    await bob.page.type('.chat-input', 'hi Al');
    await alice.page.waitForFunction(() => document.querySelector('.chat-typing')?.textContent === 'Bob is typing…', undefined, { timeout: STEP });
    await bob.page.fill('.chat-input', 'hi Alice, Bob here');
    await bob.page.press('.chat-input', 'Enter');
    await waitTexts(alice.page, ['hello from Alice', 'hi Alice, Bob here']);
    await waitDelivered(bob.page, 'hi Alice, Bob here');

    const carol = await person('Carol', 'lobby');
    visitors.push(carol);
    await waitTexts(carol.page, ['hello from Alice', 'hi Alice, Bob here']);
    assert.deepEqual(await texts(carol.page), ['hello from Alice', 'hi Alice, Bob here']);
    await alice.page.waitForSelector('.chat-people li[data-name="Carol"]', { timeout: STEP });
    await screenshot(alice.page, 'chat');
    await alice.page.setViewportSize({ width: 390, height: 800 });
    await screenshot(alice.page, 'chat-phone');
    for (const v of visitors) assert.deepEqual(v.errors, []);
  } finally {
    await closeVisitors(visitors);
  }
});

/** Restarts the demo on the same port while a message is typed; every message must show exactly once everywhere. */
async function restartMidConversation(room: string, freshAdapter: boolean): Promise<void> {
  const alice = await person('Alice', room);
  const bob = await person('Bob', room);
  try {
    await say(alice.page, `${room} one`);
    await say(bob.page, `${room} two`);
    for (const v of [alice, bob]) await waitTexts(v.page, [`${room} one`, `${room} two`]);
    await waitDelivered(bob.page, `${room} two`);

    const port = fx.demo.port;
    await fx.demo.close({ minDelay: 300, maxDelay: 800 });
    await alice.page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: STEP });
    // Typed while the server is away: shown at once as pending, sent when it is back.
    await say(alice.page, `${room} three (during the restart)`);
    assert.equal(await alice.page.getAttribute('.chat-msg:last-child', 'data-status'), 'pending');
    fx.demo = await startTestDemo({ port, adapter: freshAdapter ? new MemoryAdapter() : adapter });
    for (const v of [alice, bob]) await waitLive(v.page);
    await waitDelivered(alice.page, `${room} three (during the restart)`);
    await say(bob.page, `${room} four (after)`);
    const all = [`${room} one`, `${room} two`, `${room} three (during the restart)`, `${room} four (after)`];
    for (const v of [alice, bob]) {
      await waitTexts(v.page, all);
      assert.deepEqual(await texts(v.page), all, 'each message exactly once, in order');
      assert.deepEqual(v.errors, []);
    }
  } finally {
    await closeVisitors([alice, bob]);
  }
}

test('chat: a server restart mid-conversation loses nothing and duplicates nothing (adapter kept, as a broker)', async () => {
  await restartMidConversation('random', false);
});

test('chat: the same with a fresh in-memory adapter (a plain `npm start` restart)', async () => {
  await restartMidConversation('tether-dev', true);
});
