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
  const queue: WebSocketData[] = [];
  let waiter: { resolve(r: IteratorResult<WebSocketData>): void; reject(err: Error): void } | null = null;
  let ended = false;
  let failure: Error | null = null;
  let holding = false;
  let lastError: Error | undefined;

  const hold = (on: boolean): void => {
    if (holding === on) return;
    holding = on;
    ws.holdReading(on ? 1 : -1);
  };
  const onMessage = (e: MessageEvent): void => {
    if (waiter !== null) {
      const w = waiter;
      waiter = null;
      w.resolve({ value: e.data as WebSocketData, done: false });
      return;
    }
    queue.push(e.data as WebSocketData);
    hold(true);
  };
  const onError = (e: ErrorEvent): void => {
    lastError = e.error;
  };
  const onClose = (e: CloseEvent): void => {
    stop();
    if (!e.wasClean) {
      failure = new Error(`the connection closed abnormally (${e.code}${lastError ? `: ${lastError.message}` : ''})`, { cause: lastError });
    }
    if (waiter !== null) {
      const w = waiter;
      waiter = null;
      if (failure !== null) w.reject(failure);
      else w.resolve({ value: undefined, done: true });
    }
  };
  const stop = (): void => {
    if (ended) return;
    ended = true;
    hold(false);
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('error', onError);
    ws.removeEventListener('close', onClose);
  };
  ws.addEventListener('message', onMessage);
  ws.addEventListener('error', onError);
  ws.addEventListener('close', onClose);

  return {
    next(): Promise<IteratorResult<WebSocketData>> {
      if (queue.length > 0) {
        const value = queue.shift()!;
        if (queue.length === 0) hold(false);
        return Promise.resolve({ value, done: false });
      }
      if (failure !== null) {
        const err = failure;
        failure = null; // Thrown once; the iterator is then done.
        return Promise.reject(err);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      if (waiter !== null) return Promise.reject(new Error('next() called again before the previous call settled'));
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    return(): Promise<IteratorResult<WebSocketData>> {
      stop();
      queue.length = 0;
      failure = null;
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w.resolve({ value: undefined, done: true });
      }
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
