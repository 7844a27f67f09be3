import { ARENA_H, ARENA_W, MAX_ORBS, MAX_PLAYERS, ORB_RADIUS, PLAYER_RADIUS, SPEED, type Orb, type RosterEntry, type Snapshot } from './snapshot.js';

const COLOURS = ['#22d3ee', '#f472b6', '#facc15', '#4ade80', '#fb923c', '#a78bfa', '#f87171', '#2dd4bf'];

interface Player {
  id: number;
  name: string;
  colour: string;
  x: number;
  y: number;
  /** The stick, each axis -1..1. */
  ix: number;
  iy: number;
  score: number;
  rtt: number | null;
}

/**
 * The authoritative game state: players steer with a stick, the server moves them, keeps
 * them inside the arena and apart, and awards a point for each orb collected (the orb
 * reappears elsewhere). Pure state: the page's server drives it with a timer.
 */
export class Arena {
  private readonly players = new Map<string, Player>();
  private readonly orbs: Orb[] = [];
  tick = 0;

  constructor(private readonly random: () => number = Math.random) {
    for (let i = 0; i < MAX_ORBS; i++) this.orbs.push(this.freeSpot(ORB_RADIUS));
  }

  get size(): number {
    return this.players.size;
  }

  /** Adds a player (or returns the one this key already has); null when the arena is full. */
  join(key: string, name: string): Player | null {
    const existing = this.players.get(key);
    if (existing !== undefined) return existing;
    if (this.players.size >= MAX_PLAYERS) return null;
    const used = new Set([...this.players.values()].map((p) => p.id));
    let id = 1;
    while (used.has(id)) id++;
    const spot = this.freeSpot(PLAYER_RADIUS);
    const player: Player = { id, name, colour: COLOURS[(id - 1) % COLOURS.length]!, x: spot.x, y: spot.y, ix: 0, iy: 0, score: 0, rtt: null };
    this.players.set(key, player);
    return player;
  }

  leave(key: string): boolean {
    return this.players.delete(key);
  }

  player(key: string): Player | undefined {
    return this.players.get(key);
  }

  keys(): string[] {
    return [...this.players.keys()];
  }

  /** The stick of a player, each axis -100..100 (longer than 1 is scaled down). */
  steer(key: string, x: number, y: number): void {
    const p = this.players.get(key);
    if (p === undefined) return;
    const len = Math.hypot(x, y) / 100;
    const k = len > 1 ? 1 / len : 1;
    p.ix = (x / 100) * k;
    p.iy = (y / 100) * k;
  }

  /** Advances the world by dt seconds. */
  step(dt: number): void {
    this.tick++;
    const list = [...this.players.values()];
    for (const p of list) {
      p.x = clamp(p.x + p.ix * SPEED * dt, PLAYER_RADIUS, ARENA_W - PLAYER_RADIUS);
      p.y = clamp(p.y + p.iy * SPEED * dt, PLAYER_RADIUS, ARENA_H - PLAYER_RADIUS);
    }
    // Players bump each other: push overlapping pairs apart along the line between them.
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!, b = list[j]!;
        const dx = b.x - a.x, dy = b.y - a.y;
        const d = Math.hypot(dx, dy);
        const overlap = 2 * PLAYER_RADIUS - d;
        if (overlap <= 0) continue;
        const nx = d > 0 ? dx / d : 1, ny = d > 0 ? dy / d : 0;
        a.x = clamp(a.x - (nx * overlap) / 2, PLAYER_RADIUS, ARENA_W - PLAYER_RADIUS);
        a.y = clamp(a.y - (ny * overlap) / 2, PLAYER_RADIUS, ARENA_H - PLAYER_RADIUS);
        b.x = clamp(b.x + (nx * overlap) / 2, PLAYER_RADIUS, ARENA_W - PLAYER_RADIUS);
        b.y = clamp(b.y + (ny * overlap) / 2, PLAYER_RADIUS, ARENA_H - PLAYER_RADIUS);
      }
    }
    for (let i = 0; i < this.orbs.length; i++) {
      const orb = this.orbs[i]!;
      const taker = list.find((p) => Math.hypot(p.x - orb.x, p.y - orb.y) < PLAYER_RADIUS + ORB_RADIUS);
      if (taker === undefined) continue;
      taker.score++;
      this.orbs[i] = this.freeSpot(ORB_RADIUS);
    }
  }

  snapshot(): Snapshot {
    const players = [...this.players.values()].map((p) => ({ id: p.id, x: p.x, y: p.y, score: p.score, rtt: p.rtt }));
    return { tick: this.tick, players, orbs: this.orbs.map((o) => ({ ...o })) };
  }

  roster(): RosterEntry[] {
    return [...this.players.values()].map((p) => ({ id: p.id, name: p.name, colour: p.colour }));
  }

  /** A random spot at least a little away from every player and orb (a few tries, then any). */
  private freeSpot(radius: number): Orb {
    const margin = radius + 20;
    let spot = { x: ARENA_W / 2, y: ARENA_H / 2 };
    for (let attempt = 0; attempt < 20; attempt++) {
      spot = { x: margin + this.random() * (ARENA_W - 2 * margin), y: margin + this.random() * (ARENA_H - 2 * margin) };
      const clear = (x: number, y: number, d: number): boolean => Math.hypot(x - spot.x, y - spot.y) > d;
      if ([...this.players.values()].every((p) => clear(p.x, p.y, PLAYER_RADIUS * 3)) && this.orbs.every((o) => clear(o.x, o.y, ORB_RADIUS * 8))) break;
    }
    return spot;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
