/**
 * The multiplayer game in Chromium: two players join, each moves with the keyboard, and
 * each sees the other move (server-authoritative snapshots, interpolated); round-trip times
 * are measured and shown; after a server restart both play on. Plus the snapshot layout and
 * the arena rules, in Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { Arena } from '../../demo/game/arena.js';
import { ARENA_H, ARENA_W, decodeSnapshot, encodeSnapshot, validInput, type Snapshot } from '../../demo/game/snapshot.js';
import { closeVisitors, screenshot, startTestDemo, STEP, until } from './helpers/demo-harness.js';
import { useDemo } from './helpers/demo-fixture.js';

interface Seen {
  id: number;
  x: number;
  y: number;
  name: string | null;
}

const fx = useDemo();

const me = (p: Page): Promise<number | null> => p.evaluate(() => (globalThis as any).tetherGame.me() as number | null);
const seen = (p: Page): Promise<Seen[]> => p.evaluate(() => (globalThis as any).tetherGame.players() as Seen[]);

async function position(viewer: Page, id: number): Promise<Seen> {
  return until(`player ${id} drawn`, async () => (await seen(viewer)).find((s) => s.id === id));
}

/** a moves sideways (away from the nearer wall), b vertically; each must see the other move. */
async function moveAndWatch(a: Page, b: Page): Promise<void> {
  const idA = (await me(a))!;
  const idB = (await me(b))!;
  const aBefore = await position(b, idA);
  const bBefore = await position(a, idB);
  const aKey = aBefore.x > ARENA_W / 2 ? 'ArrowLeft' : 'ArrowRight';
  const bKey = bBefore.y > ARENA_H / 2 ? 'ArrowUp' : 'ArrowDown';
  await a.keyboard.down(aKey);
  await b.keyboard.down(bKey);
  try {
    await until('b sees a move', async () => Math.abs((await position(b, idA)).x - aBefore.x) > 80 || undefined);
    await until('a sees b move', async () => Math.abs((await position(a, idB)).y - bBefore.y) > 80 || undefined);
  } finally {
    await a.keyboard.up(aKey);
    await b.keyboard.up(bKey);
  }
}

test('game: two players move with the keyboard and each sees the other move; round trips are shown; a restart is survived', async () => {
  const visitors = await fx.open('/game/?fresh', 2);
  const [a, b] = visitors.map((v) => v.page) as [Page, Page];
  try {
    const idA = await until('a joined', () => me(a).then((id) => id ?? undefined));
    const idB = await until('b joined', () => me(b).then((id) => id ?? undefined));
    assert.notEqual(idA, idB);
    for (const p of [a, b]) await until('both players drawn', async () => (await seen(p)).length === 2 || undefined);

    await moveAndWatch(a, b);
    // Both stop: after a moment both screens agree on where everyone is.
    await until('both screens agree', async () => {
      const [sa, sb] = [await seen(a), await seen(b)];
      const key = (l: Seen[]) => JSON.stringify(l.map((s) => [s.id, Math.round(s.x), Math.round(s.y)]).sort());
      return key(sa) === key(sb) || undefined;
    });
    for (const p of [a, b]) {
      await p.waitForFunction(() => /^\d+ ms$/.test(document.querySelectorAll('.game-hud dd')[0]?.textContent ?? ''), undefined, { timeout: STEP });
      assert.equal(await p.evaluate(() => document.querySelectorAll('.game-board li').length), 2);
    }
    // 7 header bytes, 10 per player, 4 per orb.
    assert.equal(await a.evaluate(() => document.querySelectorAll('.game-hud dd')[2]?.textContent), `${7 + 2 * 10 + 5 * 4} B`);
    await screenshot(a, 'game');

    // The server restarts: both pages rejoin the new arena by themselves and play on.
    const tickBefore = (await a.evaluate(() => (globalThis as any).tetherGame.tick())) as number;
    const port = fx.demo.port;
    await fx.demo.close({ minDelay: 200, maxDelay: 400 });
    fx.demo = await startTestDemo({ port });
    for (const p of [a, b]) {
      await until('snapshots of the new arena', async () => ((await p.evaluate(() => (globalThis as any).tetherGame.tick())) as number) < tickBefore || undefined);
      await until('rejoined', () => me(p).then((id) => id ?? undefined));
      await until('both players in the new arena', async () => (await seen(p)).length === 2 || undefined);
    }
    await moveAndWatch(a, b);
    // While the server was away the browser itself logged its failed connection attempts: nothing else.
    for (const v of visitors) assert.deepEqual(v.errors.filter((e) => !/^console: WebSocket connection to '\S+' failed: /.test(e)), []);
  } finally {
    await closeVisitors(visitors);
  }
});

test('game snapshot: the binary layout round-trips, and anything else is refused', () => {
  const s: Snapshot = {
    tick: 123456,
    players: [
      { id: 1, x: 12.3, y: 745.6, score: 7, rtt: 18 },
      { id: 9, x: 1199.9, y: 0, score: 0, rtt: null },
    ],
    orbs: [{ x: 600, y: 375.5 }],
  };
  const bytes = encodeSnapshot(s);
  assert.equal(bytes.length, 7 + 2 * 10 + 4);
  assert.deepEqual(decodeSnapshot(bytes), s);
  assert.equal(decodeSnapshot(bytes.subarray(0, bytes.length - 1)), null);
  assert.equal(decodeSnapshot(new Uint8Array([2, 0, 0, 0, 0, 0, 0])), null);
  assert.deepEqual(validInput([100, -71]), [100, -71]);
  for (const bad of [[101, 0], [0.5, 0], ['1', 0], [1], null, { x: 1 }]) assert.equal(validInput(bad), null, JSON.stringify(bad));
});

test('game arena: steering moves a player within the walls; touching an orb scores and moves the orb', () => {
  let seed = 1;
  const arena = new Arena(() => ((seed = (seed * 16807) % 2147483647) / 2147483647));
  const p = arena.join('a', 'Ada')!;
  assert.equal(arena.join('a', 'Ada'), p, 'joining twice is the same player');
  const x0 = p.x;
  arena.steer('a', 100, 0);
  arena.step(0.1);
  assert.ok(Math.abs(p.x - Math.min(x0 + 38, ARENA_W - 30)) < 1e-9, `moved ${p.x - x0}`);
  for (let i = 0; i < 100; i++) arena.step(0.1);
  assert.equal(p.x, ARENA_W - 30, 'stopped by the wall');
  const orb = arena.snapshot().orbs[0]!;
  p.x = orb.x;
  p.y = orb.y;
  arena.steer('a', 0, 0);
  const near = arena.snapshot().orbs.filter((o) => Math.hypot(o.x - orb.x, o.y - orb.y) < 30 + 14).length;
  const before = p.score;
  arena.step(0.05);
  assert.equal(p.score - before, near, 'one point per orb touched');
  assert.notDeepEqual(arena.snapshot().orbs[0], orb);
  assert.equal(arena.leave('a'), true);
  assert.equal(arena.size, 0);
});
