import type { Session } from './session.js';

/**
 * Messages of one session processed in one turn of the event loop; the rest wait for the
 * next turns (reading from that client is paused meanwhile), so that a client sending a
 * burst cannot hold up everyone else. Each waiting session gets this many per turn, in turn.
 */
export const MESSAGES_PER_TURN = 32;

/** A counter that moves at every turn of the event loop (bumped in the check phase). */
let turn = 0;
let bumpScheduled = false;
function bump(): void {
  turn++;
  bumpScheduled = false;
}
function currentTurn(): number {
  if (!bumpScheduled) {
    bumpScheduled = true;
    setImmediate(bump);
  }
  return turn;
}

/**
 * Where a realtime server's incoming messages wait their turn. A message is processed at
 * once while its session has budget left in this turn and nothing queued; otherwise it is
 * queued, the session's socket stops reading, and the queue is worked through
 * MESSAGES_PER_TURN at a time per session, round robin, one turn after another.
 *
 * Messages that arrive after Connect wait (held) until authentication has finished, then
 * are processed in order: a client may send its subscriptions right behind Connect and save
 * a round trip. What is held is bounded by what one read from the socket brought (reading
 * stops as soon as something waits); the rest waits in TCP.
 */
export class SessionInbox {
  private readonly backlog = new Set<Session<any>>();
  private scheduled = false;

  constructor(private readonly process: (s: Session<any>, data: string | Buffer) => void) {}

  /** A message arrived (and passed the rate limit). */
  receive(s: Session<any>, data: string | Buffer): void {
    if (!s.open) return; // Closing: nothing more is processed.
    if (s.inbox === null && !held(s)) {
      const t = currentTurn();
      if (s.turn !== t) {
        s.turn = t;
        s.used = 0;
      }
      if (s.used < MESSAGES_PER_TURN) {
        s.used++;
        this.process(s, data);
        return;
      }
    }
    if (s.inbox === null) {
      s.inbox = [];
      s.socket.pause();
    }
    // Binary data may be a view of the socket's chunk or reader buffer: keep a copy of its own.
    s.inbox.push(typeof data === 'string' ? data : Buffer.from(data));
    if (!held(s)) this.wake(s);
  }

  /** Authentication finished: what the session sent meanwhile is processed now, in order. */
  release(s: Session<any>): void {
    if (s.inbox !== null) this.wake(s);
  }

  private wake(s: Session<any>): void {
    this.backlog.add(s);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.work());
    }
  }

  /** One round: each waiting session gets up to its budget for this turn. */
  private work(): void {
    this.scheduled = false;
    const t = currentTurn();
    for (const s of this.backlog) {
      const inbox = s.inbox;
      if (inbox === null || !s.open) {
        s.inbox = null;
        this.backlog.delete(s);
        continue;
      }
      if (s.turn !== t) {
        s.turn = t;
        s.used = 0;
      }
      let i = 0;
      while (i < inbox.length && s.used < MESSAGES_PER_TURN && !held(s) && s.inbox === inbox) {
        s.used++;
        this.process(s, inbox[i++]!);
      }
      if (s.inbox !== inbox) {
        this.backlog.delete(s); // Closed while processing.
        continue;
      }
      inbox.splice(0, i);
      if (inbox.length === 0) {
        s.inbox = null;
        this.backlog.delete(s);
        s.socket.resume();
      } else if (held(s)) {
        this.backlog.delete(s); // A Connect is being authenticated: release() wakes it.
      }
    }
    if (this.backlog.size > 0) this.wake(this.backlog.values().next().value!);
  }
}

/** Messages after Connect wait while the token is being checked. */
function held(s: Session<any>): boolean {
  return s.connecting && !s.authenticated;
}
