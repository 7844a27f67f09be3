import { performance } from 'node:perf_hooks';
import { RealtimeError } from 'tether-ws/realtime';
import type { DemoPage } from '../app/demo-page.js';
import { Arena } from './arena.js';
import { encodeSnapshot, TICK_MS, validInput } from './snapshot.js';

/** The game's one topic: conflated, so a slow client gets the latest snapshot, never a backlog. */
export const GAME_TOPIC = 'game:arena';
/** How often the server measures each player's round trip. */
const RTT_EVERY = 1000;

export const page: DemoPage = {
  id: 'game',
  title: 'Multiplayer game',
  summary: 'A real-time arena: an authoritative server ticking binary snapshots, interpolated.',
  mount(app) {
    const rt = app.realtime;
    const arena = new Arena();
    // Two keys: 'snap' (the binary snapshot, every tick) and 'roster' (names and colours, on change).
    app.topics('game:', { mode: 'conflated', historySize: 2, historyTtl: 60_000 });
    const report = (err: unknown): void => console.error('game:', err);
    const publishRoster = (): void => void rt.publish(GAME_TOPIC, arena.roster(), { key: 'roster' }).catch(report);

    rt.handle('game.join', (_data, session) => {
      const player = arena.join(session.id, session.user.name);
      if (player === null) throw new RealtimeError('full', 'the arena is full, try again soon');
      publishRoster();
      return { id: player.id };
    });
    rt.on('game.input', (data, session) => {
      const stick = validInput(data);
      if (stick !== null) arena.steer(session.id, stick[0], stick[1]);
    });
    app.onDisconnect((session) => {
      if (arena.leave(session.id)) publishRoster();
    });

    let last = performance.now();
    app.every(TICK_MS, () => {
      const now = performance.now();
      // The real elapsed time (timers drift under load), capped so a stall does not teleport anyone.
      const dt = Math.min(now - last, 250) / 1000;
      last = now;
      if (arena.size === 0) return;
      arena.step(dt);
      void rt.publish(GAME_TOPIC, encodeSnapshot(arena.snapshot()), { key: 'snap' }).catch(report);
    });

    // Round trips measured by the server (a request the client answers), shown to everyone.
    app.every(RTT_EVERY, () => {
      for (const key of arena.keys()) {
        const session = rt.sessions.get(key);
        if (session === undefined) continue;
        const t0 = performance.now();
        session.request('game.ping', null, { timeout: 5000 }).then(
          () => {
            const p = arena.player(key);
            if (p !== undefined) p.rtt = Math.round(performance.now() - t0);
          },
          () => {},
        );
      }
    });
  },
};
