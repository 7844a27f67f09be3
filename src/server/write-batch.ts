import type { Duplex } from 'node:stream';
import { writeServerHeader } from '../protocol/index.js';

/**
 * Fewer, larger writes. Three mechanisms:
 *
 * - Small frames are copied into a shared slab, one contiguous region per socket, and a
 *   region goes to its socket in one write() when another socket starts writing, when a
 *   large frame must follow it, or at the end of the batch. An echo of 16 pipelined
 *   messages is then one write, not 16. A region handed to a socket is never overwritten:
 *   the slab only grows, and a full slab is replaced by a new one.
 * - The first write to a socket in a tick corks it, and one nextTick (or the end of the
 *   data callback) uncorks every socket touched, so a region and large frames leave
 *   together in one writev.
 * - Frames prepared once for many sockets (broadcast, topic fan-out) are logged once per
 *   tick; a socket keeps the range of the log it was given, and at the end of the tick
 *   gets it in one write, the same buffer for every socket with the same range (a window
 *   of 8 publishes to 10,000 subscribers is one join and 10,000 writes, not 80,000
 *   buffered writes and 10,000 writevs). Such a socket is not corked: the write goes
 *   straight to the kernel.
 */

export interface Batched {
  readonly socket: Duplex;
  /** This tick's shared frames waiting for the socket: its range record (see appendShared), or -1. */
  sharedRange: number;
  uncork(): void;
}

/** Where a shared frame is in this tick's log (kept by the frame's owner, e.g. PreparedMessage). */
export interface SharedSlot {
  sharedEpoch: number;
  sharedIndex: number;
}

/** Frames up to this size are copied into the slab; larger ones are written as they are. */
export const SMALL_FRAME = 2048;
const SLAB_SIZE = 64 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let used = 0;
let owner: Batched | null = null;
let regionStart = 0;

/** Appends a small frame to the target's region of the slab. */
export function appendSmall(target: Batched, frame: Uint8Array): void {
  const at = reserveSmall(target, frame.length);
  slab.set(frame, at);
}

/**
 * Reserves n bytes at the end of the target's region and returns their offset in
 * slabBuffer(); the caller fills them at once.
 */
export function reserveSmall(target: Batched, n: number): number {
  if (owner !== target) {
    closeRegion();
    if (target.sharedRange >= 0) writeShared(target);
    owner = target;
    regionStart = used;
  }
  if (used + n > slab.length) {
    closeRegion();
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    used = regionStart = 0;
    owner = target;
  }
  const at = used;
  used += n;
  return at;
}

/** Encodes an unmasked final frame straight into the target's region. */
export function encodeSmallFrame(target: Batched, opcode: number, payload: Uint8Array, rsv1: boolean): void {
  const n = payload.length;
  const at = reserveSmall(target, (n < 126 ? 2 : 4) + n);
  // Read `slab` only after reserving: reserving may have started a new one.
  slab.set(payload, writeServerHeader(slab, at, opcode, n, rsv1));
}

/** Encodes a text frame straight into the target's region; n is the text's UTF-8 length. */
export function encodeSmallText(target: Batched, text: string, n: number, ascii: boolean): void {
  const at = reserveSmall(target, (n < 126 ? 2 : 4) + n);
  let o = writeServerHeader(slab, at, 0x1, n, false);
  if (ascii) {
    // Short ASCII: a JS loop beats a native call.
    for (let k = 0; k < n; k++) slab[o++] = text.charCodeAt(k);
  } else {
    slab.write(text, o, n, 'utf8');
  }
}

/** Hands the open region, if it belongs to target, to its socket (before a direct write). */
export function flushRegion(target: Batched): void {
  // At most one of the two is open: opening either writes out the other first.
  if (target.sharedRange >= 0) writeShared(target);
  else if (owner === target) closeRegion();
}

function closeRegion(): void {
  const o = owner;
  if (o === null) return;
  owner = null;
  if (used > regionStart && o.socket.writable) o.socket.write(slab.subarray(regionStart, used));
  regionStart = used;
}

/** A socket's shared frames go out once they reach this many bytes (Node's default high-water mark). */
const SHARED_LIMIT = 16 * 1024;
let shared: Buffer[] = [];
/** sharedEnds[i]: the bytes of shared[0 .. i), so that a range's size is one subtraction. */
let sharedEnds: number[] = [0];
let joined: Map<number, Buffer> | null = null;
let sharedEpoch = 0;
// This tick's range records, one per socket with shared frames waiting (target.sharedRange
// is its index): the frames [rangeFrom, rangeTo) of the log, and rangeBase, the socket's
// own backlog when the range opened (-1 if it needed to drain then). Within a tick that
// backlog cannot change while the range is open (any other write to the socket writes the
// range out first, and writes complete only between ticks), so extendShared needs neither
// the socket nor its stream state.
let ranges = 0;
const rangeTarget: Array<Batched | null> = [];
const rangeFrom: number[] = [];
const rangeTo: number[] = [];
const rangeBase: number[] = [];

/** Gives the target a frame shared by many sockets, to be written with its other shared frames of this tick. */
export function appendShared(target: Batched, slot: SharedSlot, frame: Buffer): void {
  if (slot.sharedEpoch !== sharedEpoch) {
    slot.sharedEpoch = sharedEpoch;
    slot.sharedIndex = shared.length;
    shared.push(frame);
    sharedEnds.push(sharedEnds[shared.length - 1]! + frame.length);
    schedule();
  }
  const i = slot.sharedIndex;
  let r = target.sharedRange;
  if (r >= 0 && rangeTo[r] === i) {
    rangeTo[r] = i + 1;
  } else {
    if (r >= 0) writeShared(target); // Not contiguous with what it has: that goes first.
    else if (owner === target) closeRegion();
    const s = target.socket;
    r = target.sharedRange = ranges++;
    rangeTarget[r] = target;
    rangeFrom[r] = i;
    rangeTo[r] = i + 1;
    rangeBase[r] = s.writableNeedDrain ? -1 : s.writableLength;
  }
  // Up to a limit, then out at once: whether the socket needs to drain stays Node's own
  // answer (a write the kernel takes at once needs none, and emits no 'drain').
  if (sharedEnds[rangeTo[r]!]! - sharedEnds[rangeFrom[r]!]! >= SHARED_LIMIT) writeShared(target);
}

/**
 * The common case of a broadcast, in short: the frame is the next one of this tick's log
 * for a target whose range is open, and it fits under `limit` (maxBackpressure). Then it
 * joins the range and true is returned (the send status is Sent: the socket did not need
 * to drain when the range opened). Otherwise false: the caller takes the general path.
 */
export function extendShared(target: Batched, slot: SharedSlot, size: number, limit: number): boolean {
  const r = target.sharedRange;
  if (r < 0 || slot.sharedEpoch !== sharedEpoch || slot.sharedIndex !== rangeTo[r]) return false;
  const base = rangeBase[r]!;
  const from = sharedEnds[rangeFrom[r]!]!;
  const buffered = base + sharedEnds[slot.sharedIndex]! - from;
  if (base < 0 || (buffered > 0 && buffered + size > limit) || sharedEnds[slot.sharedIndex + 1]! - from >= SHARED_LIMIT) return false;
  rangeTo[r] = slot.sharedIndex + 1;
  return true;
}

/** Bytes of shared frames waiting for the target (they count against its backpressure limit). */
export function sharedBytes(target: Batched): number {
  const r = target.sharedRange;
  return r < 0 ? 0 : sharedEnds[rangeTo[r]!]! - sharedEnds[rangeFrom[r]!]!;
}

function writeShared(target: Batched): void {
  const r = target.sharedRange;
  const from = rangeFrom[r]!;
  const to = rangeTo[r]!;
  target.sharedRange = -1;
  rangeTarget[r] = null;
  if (target.socket.writable) target.socket.write(to - from === 1 ? shared[from]! : join(from, to));
}

/** The frames [from, to) of the log in one buffer, made once per range and tick. */
function join(from: number, to: number): Buffer {
  const key = from * 0x100000000 + to;
  joined ??= new Map();
  let bytes = joined.get(key);
  if (bytes === undefined) {
    const start = sharedEnds[from]!;
    bytes = Buffer.allocUnsafe(sharedEnds[to]! - start);
    for (let i = from; i < to; i++) bytes.set(shared[i]!, sharedEnds[i]! - start);
    joined.set(key, bytes);
  }
  return bytes;
}

function flushShared(): void {
  for (let r = 0; r < ranges; r++) {
    const target = rangeTarget[r];
    if (target != null) writeShared(target);
  }
  ranges = 0;
  shared = [];
  sharedEnds = [0];
  joined = null;
  sharedEpoch++;
}

let pending: Batched[] = [];
let scheduled = false;

function flush(): void {
  closeRegion();
  scheduled = false;
  if (shared.length > 0) flushShared();
  const list = pending;
  pending = [];
  for (let i = 0; i < list.length; i++) list[i]!.uncork();
}

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flush);
  }
}

/** Uncorks the target on the next tick (with every other socket touched in this tick). */
export function scheduleUncork(target: Batched): void {
  pending.push(target);
  schedule();
}
