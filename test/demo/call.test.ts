/**
 * The video call in Chromium with fake camera and microphone: two people join a room, their
 * browsers negotiate over Tether (presence for who is there, call.signal for offers,
 * answers and ICE candidates), the peer connections reach "connected" on loopback, and
 * each receives the other's video (frames with a size, time advancing). The call outlives a
 * server restart; leaving ends the other's connection at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import type { Page } from 'playwright-core';
import { FAKE_MEDIA, LOOPBACK_ICE } from '../interop/chromium.js';
import { closeVisitors, screenshot, startTestDemo, STEP, until } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

interface PeerView {
  name: string;
  /** In the room's presence (not away). */
  present: boolean;
  connectionState: string;
  videoWidth: number;
  currentTime: number;
  tracks: string[];
}

const fx = useDemo({ chromiumArgs: [...FAKE_MEDIA, ...LOOPBACK_ICE] });

const peers = (p: Page): Promise<PeerView[]> => p.evaluate(() => (globalThis as any).tetherCall.peers() as PeerView[]);

/** This machine's own addresses: media may use them (the kernel delivers them locally), never anything else. */
function ownAddresses(): Set<string> {
  const out = new Set<string>(['', '127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(i.address);
  return out;
}

test('call: two participants connect peer to peer over loopback ICE and each receives the other\'s video; leaving ends it', async () => {
  const visitors = await fx.open('/call/?fresh#standup', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  try {
    for (const p of [a, b]) {
      await p.waitForFunction(() => (globalThis as any).tetherCall.loopbackOnly() !== null, undefined, { timeout: STEP });
      assert.equal(await p.evaluate(() => (globalThis as any).tetherCall.loopbackOnly()), true, 'served on loopback: loopback candidates only');
    }
    await a.click('text=Join the call');
    await b.waitForFunction(() => /In the call: /.test(document.querySelector('.call-lobby')?.textContent ?? ''), undefined, { timeout: STEP });
    await b.click('text=Join the call');

    for (const p of [a, b]) {
      await p.waitForFunction(
        () => {
          const list = (globalThis as any).tetherCall.peers() as PeerView[];
          return list.length === 1 && list[0]!.connectionState === 'connected' && list[0]!.videoWidth > 0;
        },
        undefined,
        { timeout: 30_000 },
      );
    }
    // Frames keep coming: the remote video's clock advances.
    const t0 = await Promise.all([a, b].map(async (p) => (await peers(p))[0]!.currentTime));
    await until('remote video plays on both', async () => {
      const t1 = await Promise.all([a, b].map(async (p) => (await peers(p))[0]!.currentTime));
      return (t1[0]! > t0[0]! + 0.3 && t1[1]! > t0[1]! + 0.3) || undefined;
    });
    for (const p of [a, b]) assert.deepEqual([...(await peers(p))[0]!.tracks].sort(), ['audio', 'video']);

    // Only loopback candidates were signalled; the media path stays on this machine.
    const own = ownAddresses();
    for (const p of [a, b]) {
      const pairs = (await p.evaluate(() => (globalThis as any).tetherCall.pairs())) as Array<{ local: string; remote: string }>;
      assert.ok(pairs.length > 0, 'a selected candidate pair');
      for (const pair of pairs) assert.ok(own.has(pair.local) && own.has(pair.remote), JSON.stringify(pair));
    }
    // The signalling went through Tether, both ways: a description each way, candidates each way.
    for (const p of [a, b]) {
      const { sent, received } = (await p.evaluate(() => (globalThis as any).tetherCall.signals())) as Record<'sent' | 'received', Record<string, number>>;
      for (const side of [sent, received]) {
        assert.ok((side.offer ?? 0) + (side.answer ?? 0) >= 1, JSON.stringify({ sent, received }));
        assert.ok((side.candidate ?? 0) >= 1, JSON.stringify({ sent, received }));
      }
    }
    assert.match((await a.textContent('.call-log')) ?? '', /candidate (127\.0\.0\.1|::1)/);
    for (const p of [a, b]) assert.equal(await p.evaluate(() => document.querySelectorAll('.call-people li').length), 2);
    await screenshot(a, 'call');

    // The server restarts: media keeps flowing peer to peer, and when both are back in the
    // room's presence (new sessions, same peers) the call goes on without renegotiating.
    const port = fx.demo.port;
    await fx.demo.close({ minDelay: 200, maxDelay: 400 });
    fx.demo = await startTestDemo({ port });
    for (const p of [a, b]) await p.waitForSelector('#conn[data-state="live"]', { timeout: STEP });
    await until('both back in the room', async () => {
      const views = await Promise.all([a, b].map(peers));
      return views.every((l) => l.length === 1 && l[0]!.present) || undefined;
    });
    const during = await Promise.all([a, b].map(async (p) => (await peers(p))[0]!));
    for (const v of during) assert.equal(v.connectionState, 'connected');
    await new Promise((r) => setTimeout(r, 500));
    for (const [i, p] of [a, b].entries()) assert.ok((await peers(p))[0]!.currentTime > during[i]!.currentTime, 'video still playing after the restart');

    // b leaves: a's connection to b ends at once (a "bye" over Tether), not after a timeout.
    await b.click('text=Leave');
    await until('a forgets b', async () => (await peers(a)).length === 0 || undefined, 5000);
    // While the server was away the browser itself logged its failed connection attempts: nothing else.
    for (const v of visitors) assert.deepEqual(v.errors.filter((e) => !/^console: WebSocket connection to '\S+' failed: /.test(e)), []);
  } finally {
    await closeVisitors(visitors);
  }
});
