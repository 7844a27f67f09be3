/** CloseEvent as browsers define it (Node has no global one before v23). */
export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
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
