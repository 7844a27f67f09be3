/** CloseEvent as browsers define it (Node has no global one before v23). */
export class CloseEvent extends Event {
  /** The close code: the peer's, 1005 when its close frame had none, 1006 when the connection was lost or terminated. */
  readonly code: number;
  /** The peer's close reason ('' when none). */
  readonly reason: string;
  /** Whether the closing handshake completed (both close frames crossed). */
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/**
 * The 'error' event. Browsers fire a plain Event; on Node the cause is useful, so it is
 * attached as `error` and `message` without changing what browser code sees.
 */
export class ErrorEvent extends Event {
  /** What went wrong (a handshake refusal, a protocol error, a socket error), when known. */
  readonly error: Error | undefined;
  readonly message: string;
  constructor(type: string, error?: Error) {
    super(type);
    this.error = error;
    this.message = error?.message ?? '';
  }
}

/** MessageEvent: Node 20 has a global one; the fallback keeps older runtimes working. */
export const MessageEventImpl: typeof MessageEvent =
  typeof MessageEvent === 'function'
    ? MessageEvent
    : (class MessageEventFallback extends Event {
        readonly data: unknown;
        readonly origin: string;
        readonly lastEventId = '';
        readonly source = null;
        readonly ports: readonly MessagePort[] = [];
        constructor(type: string, init: { data?: unknown; origin?: string } = {}) {
          super(type);
          this.data = init.data;
          this.origin = init.origin ?? '';
        }
      } as unknown as typeof MessageEvent);

/**
 * The events of a WebSocket and their types, as the DOM library declares them (with this
 * module's CloseEvent and ErrorEvent, which carry the same fields and, on Node, the cause).
 */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/** The options of addEventListener (DOM's AddEventListenerOptions, declared here so that Node-only programs need no DOM types). */
export interface WebSocketListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: AbortSignal;
}
