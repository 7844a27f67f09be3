/**
 * The arena's state snapshot: what the server sends every tick, as bytes (shared by the
 * server and the front-end). All integers little-endian:
 *
 *   offset  size  field
 *   0       1     kind: 1 = snapshot
 *   1       4     tick number (u32; the server ticks every TICK_MS)
 *   5       1     player count P
 *   6       1     orb count O
 *   7       10×P  players: id u16, x u16, y u16 (positions in 1/10 arena units), score u16, rtt u16 (ms, 65535 = unknown)
 *   7+10P   4×O   orbs: x u16, y u16 (1/10 arena units)
 *
 * Two players and five orbs take 47 bytes. Names and colours change rarely and travel
 * separately, in the roster.
 */
export const TICK_MS = 50;
export const ARENA_W = 1200;
export const ARENA_H = 750;
export const PLAYER_RADIUS = 30;
export const ORB_RADIUS = 14;
export const MAX_PLAYERS = 16;
export const MAX_ORBS = 5;
/** Units per second at full stick. */
export const SPEED = 380;

export const SNAPSHOT = 1;
const HEADER = 7;
const PLAYER_BYTES = 10;
const ORB_BYTES = 4;
const SCALE = 10;

export interface PlayerState {
  id: number;
  x: number;
  y: number;
  score: number;
  /** Round-trip time the server measured, in ms; null before the first measurement. */
  rtt: number | null;
}

export interface Orb {
  x: number;
  y: number;
}

export interface Snapshot {
  tick: number;
  players: PlayerState[];
  orbs: Orb[];
}

const clampU16 = (v: number): number => Math.max(0, Math.min(0xffff, Math.round(v)));

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const bytes = new Uint8Array(HEADER + s.players.length * PLAYER_BYTES + s.orbs.length * ORB_BYTES);
  const v = new DataView(bytes.buffer);
  v.setUint8(0, SNAPSHOT);
  v.setUint32(1, s.tick >>> 0, true);
  v.setUint8(5, s.players.length);
  v.setUint8(6, s.orbs.length);
  let o = HEADER;
  for (const p of s.players) {
    v.setUint16(o, p.id, true);
    v.setUint16(o + 2, clampU16(p.x * SCALE), true);
    v.setUint16(o + 4, clampU16(p.y * SCALE), true);
    v.setUint16(o + 6, clampU16(p.score), true);
    v.setUint16(o + 8, p.rtt === null ? 0xffff : clampU16(Math.min(p.rtt, 0xfffe)), true);
    o += PLAYER_BYTES;
  }
  for (const orb of s.orbs) {
    v.setUint16(o, clampU16(orb.x * SCALE), true);
    v.setUint16(o + 2, clampU16(orb.y * SCALE), true);
    o += ORB_BYTES;
  }
  return bytes;
}

/** Decodes a snapshot; null when the bytes are not one (wrong kind or length). */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | null {
  if (bytes.length < HEADER || bytes[0] !== SNAPSHOT) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const np = v.getUint8(5);
  const no = v.getUint8(6);
  if (bytes.length !== HEADER + np * PLAYER_BYTES + no * ORB_BYTES) return null;
  const players: PlayerState[] = [];
  let o = HEADER;
  for (let i = 0; i < np; i++, o += PLAYER_BYTES) {
    const rtt = v.getUint16(o + 8, true);
    players.push({ id: v.getUint16(o, true), x: v.getUint16(o + 2, true) / SCALE, y: v.getUint16(o + 4, true) / SCALE, score: v.getUint16(o + 6, true), rtt: rtt === 0xffff ? null : rtt });
  }
  const orbs: Orb[] = [];
  for (let i = 0; i < no; i++, o += ORB_BYTES) orbs.push({ x: v.getUint16(o, true) / SCALE, y: v.getUint16(o + 2, true) / SCALE });
  return { tick: v.getUint32(1, true), players, orbs };
}

/** One roster entry: who a player id is (published when someone joins or leaves). */
export interface RosterEntry {
  id: number;
  name: string;
  colour: string;
}

/** The stick: each axis an integer in -100..100. */
export function validInput(data: unknown): [number, number] | null {
  if (!Array.isArray(data) || data.length !== 2) return null;
  const [x, y] = data as unknown[];
  if (!Number.isInteger(x) || !Number.isInteger(y) || Math.abs(x as number) > 100 || Math.abs(y as number) > 100) return null;
  return [x as number, y as number];
}
