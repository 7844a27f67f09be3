/**
 * The slices of large compressed messages, for every connection of the process (see
 * ZLIB_SLICE in protocol/connection.ts). One setImmediate runs the pending slices in turn
 * within a time budget and leaves the rest for the next turn of the event loop, so that
 * however many connections send large messages at once, the other I/O of the process
 * gets a turn every few milliseconds.
 */

interface Sliced {
  runZlibSlice(): void;
}

/** Time the slices of one turn may take before the rest waits for the next turn. */
const TURN_BUDGET_MS = 4;

let queue: Sliced[] = [];
let scheduled = false;

/** Runs target.runZlibSlice() in a later turn of the event loop. */
export function scheduleZlibSlice(target: Sliced): void {
  queue.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runSlices);
  }
}

function runSlices(): void {
  scheduled = false;
  const list = queue;
  queue = [];
  const deadline = performance.now() + TURN_BUDGET_MS;
  let i = 0;
  try {
    while (i < list.length && (i === 0 || performance.now() < deadline)) list[i++]!.runZlibSlice();
  } finally {
    // Those not reached (or after a handler that threw) go first next time.
    if (i < list.length) {
      queue = list.slice(i).concat(queue);
      if (!scheduled) {
        scheduled = true;
        setImmediate(runSlices);
      }
    }
  }
}
