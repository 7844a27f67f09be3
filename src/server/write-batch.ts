import type { Duplex } from 'node:stream';
import { writeServerHeader } from '../protocol/index.js';

/**
 * Fewer, larger writes. Two mechanisms:
 *
 * - Small frames are copied into a shared slab, one contiguous region per socket, and a
 *   region goes to its socket in one write() when another socket starts writing, when a
 *   large frame must follow it, or at the end of the batch. An echo of 16 pipelined
 *   messages is then one write, not 16. A region handed to a socket is never overwritten:
 *   the slab only grows, and a full slab is replaced by a new one.
 * - The first write to a socket in a tick corks it, and one nextTick (or the end of the
 *   data callback) uncorks every socket touched, so a region and large frames leave
 *   together in one writev.
 */

export interface Batched {
  readonly socket: Duplex;
  uncork(): void;
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
  if (owner === target) closeRegion();
}

function closeRegion(): void {
  const o = owner;
  if (o === null) return;
  owner = null;
  if (used > regionStart && o.socket.writable) o.socket.write(slab.subarray(regionStart, used));
  regionStart = used;
}

let pending: Batched[] = [];
let scheduled = false;

function flush(): void {
  closeRegion();
  const list = pending;
  pending = [];
  scheduled = false;
  for (let i = 0; i < list.length; i++) list[i]!.uncork();
}

/** Uncorks the target on the next tick (with every other socket touched in this tick). */
export function scheduleUncork(target: Batched): void {
  pending.push(target);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flush);
  }
}
