/** Small helpers shared by the client tests (loopback only, every wait bounded). */
import { within } from '../helpers.js';
import { WebSocket } from '../../src/index.js';

export { freePort } from '../helpers.js';

/** Resolves with the next event of `type`, or rejects after `ms`. */
export function nextEvent<T extends Event = Event>(target: EventTarget, type: string, ms = 3000): Promise<T> {
  return within(new Promise<T>((resolve) => target.addEventListener(type, (ev) => resolve(ev as T), { once: true })), ms, `"${type}" event`);
}

export interface LoggedEvent {
  type: string;
  event: Event;
  readyState: number;
}

/** Records every open/message/error/close event of ws, with the readyState seen in the listener. */
export function record(ws: WebSocket): { log: LoggedEvent[]; closed: Promise<LoggedEvent[]> } {
  const log: LoggedEvent[] = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    ws.addEventListener(type, (event) => log.push({ type, event, readyState: ws.readyState }));
  }
  const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
  return { log, closed: within(closed, 5000, 'close event').then(() => log) };
}

/** Opens a client and waits for 'open'. */
export async function openClient(url: string, protocols?: string | string[], options?: ConstructorParameters<typeof WebSocket>[2]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  const opened = nextEvent(ws, 'open');
  const failed = nextEvent(ws, 'close', 5000).then(() => {
    throw new Error('closed before opening');
  });
  failed.catch(() => {});
  await Promise.race([opened, failed]);
  return ws;
}

/** Makes sure ws is CLOSED (closing it if needed), within a bound. */
export async function finish(ws: WebSocket | undefined): Promise<void> {
  if (!ws || ws.readyState === WebSocket.CLOSED) return;
  const closed = nextEvent(ws, 'close', 8000);
  if (ws.readyState !== WebSocket.CLOSING) ws.close();
  await closed;
}

/** Polls `cond` every few ms until true, failing after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Asserts that fn throws a DOMException with the given name. */
export function isDomException(name: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof DOMException && err.name === name;
}

import type { Socket } from 'node:net';
import { frame, parseFrames, startRawServer, type ParsedFrame } from '../helpers.js';

/**
 * A raw server that records every frame the client sends, answers a close frame with a
 * close frame carrying `closeReply` (default: echo of the code) and then ends TCP.
 */
export async function startCaptureServer(opts: { closeReply?: (payload: Buffer) => Buffer } = {}) {
  const frames: ParsedFrame[] = [];
  const sockets: Socket[] = [];
  let waiters: Array<() => void> = [];
  const raw = await startRawServer((socket, _req, rest) => {
    sockets.push(socket);
    let buf: Buffer = Buffer.from(rest);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const parsed = parseFrames(buf);
      buf = Buffer.from(parsed.rest);
      for (const f of parsed.frames) {
        frames.push(f);
        if (f.opcode === 8) {
          const reply = opts.closeReply ? opts.closeReply(f.payload) : f.payload.subarray(0, 2);
          socket.end(frame(8, reply, { mask: false }));
        }
      }
      const w = waiters;
      waiters = [];
      for (const fn of w) fn();
    };
    socket.on('data', onData);
    if (rest.length) onData(Buffer.alloc(0));
  });
  return {
    ...raw,
    frames,
    sockets,
    async waitFrames(n: number, ms = 3000): Promise<ParsedFrame[]> {
      await until(() => frames.length >= n, ms, `${n} frames (have ${frames.length})`);
      return frames;
    },
  };
}
