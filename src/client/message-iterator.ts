import { AsyncQueue } from '../protocol/async-queue.js';
import type { CloseEvent, ErrorEvent } from './events.js';

/** What `for await (const data of ws)` yields: the message's data as binaryType says. */
export type WebSocketData = string | Buffer | ArrayBuffer | Blob;

/** What the iterator needs from its WebSocket: its events, and a way to hold reading back. */
export interface IterableSocket {
  addEventListener(type: string, listener: (ev: any) => void): void;
  removeEventListener(type: string, listener: (ev: any) => void): void;
  /** Adds (+1) or removes (-1) a reason to stop reading from the network. */
  holdReading(delta: 1 | -1): void;
}

/**
 * `for await (const data of ws)`: yields each message's data in order and ends when the
 * connection closes cleanly (it throws when the connection failed). While messages wait for
 * the loop's body, the socket stops reading, so TCP flow control slows the server down
 * instead of messages piling up in memory. Leaving the loop stops listening; it does not
 * close the connection.
 */
export function iterateMessages(ws: IterableSocket): AsyncIterableIterator<WebSocketData> {
  let listening = true;
  let holding = false;
  let lastError: Error | undefined;

  const hold = (on: boolean): void => {
    if (holding === on) return;
    holding = on;
    ws.holdReading(on ? 1 : -1);
  };
  const stop = (): void => {
    if (!listening) return;
    listening = false;
    hold(false);
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('error', onError);
    ws.removeEventListener('close', onClose);
  };
  const queue = new AsyncQueue<WebSocketData>({ backlog: hold, stop });
  const onMessage = (e: MessageEvent): void => queue.push(e.data as WebSocketData);
  const onError = (e: ErrorEvent): void => {
    lastError = e.error;
  };
  const onClose = (e: CloseEvent): void => {
    stop();
    if (e.wasClean) queue.end();
    else queue.end(new Error(`the connection closed abnormally (${e.code}${lastError ? `: ${lastError.message}` : ''})`, { cause: lastError }));
  };
  ws.addEventListener('message', onMessage);
  ws.addEventListener('error', onError);
  ws.addEventListener('close', onClose);
  return queue;
}
