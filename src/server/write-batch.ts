/**
 * One write per socket per tick: the first frame sent to a socket in a tick corks it,
 * and a single nextTick uncorks every socket touched, so frames queued together leave
 * in one writev.
 */
interface Corkable {
  uncork(): void;
}

let pending: Corkable[] = [];
let scheduled = false;

function flush(): void {
  const list = pending;
  pending = [];
  scheduled = false;
  for (let i = 0; i < list.length; i++) list[i]!.uncork();
}

export function scheduleUncork(target: Corkable): void {
  pending.push(target);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flush);
  }
}
