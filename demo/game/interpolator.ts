import type { Orb, PlayerState, Snapshot } from './snapshot.js';

export interface DrawnPlayer extends PlayerState {}

/**
 * Smooth motion from snapshots that arrive 20 times a second with jitter: each snapshot is
 * placed on the local clock by its tick number (tick × interval + an offset learned from
 * arrivals), and the screen shows the world a little in the past (`delay`), interpolating
 * between the two snapshots around that moment.
 */
export class Interpolator {
  private readonly buffer: Snapshot[] = [];
  /** Local time of tick 0: the smallest arrival - tick × interval seen, allowed to creep up slowly (clock drift). */
  private offset: number | null = null;

  constructor(
    private readonly interval: number,
    /** How far in the past the screen is: two ticks absorbs a late snapshot. */
    private readonly delay = interval * 2,
  ) {}

  push(snap: Snapshot, arrival: number): void {
    const last = this.buffer[this.buffer.length - 1];
    const estimate = arrival - snap.tick * this.interval;
    // A server restart starts again from tick 0; after a long pause old snapshots are useless.
    if (last !== undefined && (snap.tick <= last.tick || Math.abs(estimate - this.offset!) > 1000)) {
      this.buffer.length = 0;
      this.offset = null;
    }
    this.offset = this.offset === null ? estimate : Math.min(estimate, this.offset + 0.5);
    this.buffer.push(snap);
    if (this.buffer.length > 30) this.buffer.shift();
  }

  latest(): Snapshot | undefined {
    return this.buffer[this.buffer.length - 1];
  }

  /** The world as it should be drawn at local time `now`. */
  at(now: number): { players: DrawnPlayer[]; orbs: Orb[] } {
    const n = this.buffer.length;
    if (n === 0 || this.offset === null) return { players: [], orbs: [] };
    const t = now - this.delay;
    const timeOf = (s: Snapshot): number => s.tick * this.interval + this.offset!;
    let i = n - 1;
    while (i > 0 && timeOf(this.buffer[i - 1]!) > t) i--;
    const b = this.buffer[i]!;
    const a = i > 0 ? this.buffer[i - 1]! : b;
    if (a === b || t >= timeOf(b)) return { players: b.players.map((p) => ({ ...p })), orbs: b.orbs };
    const alpha = Math.max(0, Math.min(1, (t - timeOf(a)) / (timeOf(b) - timeOf(a))));
    const before = new Map(a.players.map((p) => [p.id, p]));
    const players = b.players.map((p) => {
      const q = before.get(p.id);
      return q === undefined ? { ...p } : { ...p, x: q.x + (p.x - q.x) * alpha, y: q.y + (p.y - q.y) * alpha };
    });
    // Orbs jump (collected and respawned): show the older set until the newer one is due.
    return { players, orbs: alpha < 1 ? a.orbs : b.orbs };
  }
}
