import type { EventEmitter } from 'node:events';

/**
 * The browser-style side of ws's WebSocket: addEventListener/removeEventListener and the
 * onopen/onmessage/onerror/onclose attributes, with ws's own event classes (plain objects
 * with type and target, not DOM events) on top of the EventEmitter events.
 */

const kTarget = Symbol('tether.ws.target');
const kListener = Symbol('tether.ws.listener');
const kAttribute = Symbol('tether.ws.attribute');

export class Event {
  [kTarget]: unknown = null;
  readonly type: string;
  constructor(type: string) {
    this.type = type;
  }
  get target(): unknown {
    return this[kTarget];
  }
}

export class MessageEvent extends Event {
  readonly data: unknown;
  constructor(type: string, options: { data?: unknown } = {}) {
    super(type);
    this.data = options.data === undefined ? null : options.data;
  }
}

export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, options: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = options.code ?? 0;
    this.reason = options.reason ?? '';
    this.wasClean = options.wasClean ?? false;
  }
}

export class ErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
  constructor(type: string, options: { error?: unknown; message?: string } = {}) {
    super(type);
    this.error = options.error === undefined ? null : options.error;
    this.message = options.message ?? '';
  }
}

export type EventListener = ((this: unknown, event: any) => unknown) | { handleEvent(event: any): unknown };
type Wrapper = ((...args: any[]) => void) & { [kListener]?: EventListener; [kAttribute]?: boolean };

/** What the wrappers need from the socket to build close events. */
export interface EventSource extends EventEmitter {
  readonly wasClean: boolean;
}

function call(listener: EventListener, target: unknown, event: Event): void {
  if (typeof listener === 'object') listener.handleEvent.call(listener, event);
  else listener.call(target, event);
}

function wrap(type: string, listener: EventListener): Wrapper | null {
  switch (type) {
    case 'message':
      return function (this: EventSource, data: Buffer, isBinary: boolean) {
        const event = new MessageEvent('message', { data: isBinary ? data : data.toString() });
        event[kTarget] = this;
        call(listener, this, event);
      };
    case 'close':
      return function (this: EventSource, code: number, reason: Buffer) {
        const event = new CloseEvent('close', { code, reason: reason.toString(), wasClean: this.wasClean });
        event[kTarget] = this;
        call(listener, this, event);
      };
    case 'error':
      return function (this: EventSource, error: Error) {
        const event = new ErrorEvent('error', { error, message: error.message });
        event[kTarget] = this;
        call(listener, this, event);
      };
    case 'open':
      return function (this: EventSource) {
        const event = new Event('open');
        event[kTarget] = this;
        call(listener, this, event);
      };
    default:
      return null;
  }
}

/** Adds a listener for 'open', 'message', 'error' or 'close' (other types are ignored, as in ws). */
export function addEventListener(target: EventEmitter, type: string, listener: EventListener, options: { once?: boolean; [kAttribute]?: boolean } = {}): void {
  const attribute = options[kAttribute] === true;
  if (!attribute) {
    for (const l of target.listeners(type) as Wrapper[]) if (l[kListener] === listener && !l[kAttribute]) return;
  }
  const wrapper = wrap(type, listener);
  if (wrapper === null) return;
  wrapper[kListener] = listener;
  wrapper[kAttribute] = attribute;
  if (options.once) target.once(type, wrapper);
  else target.on(type, wrapper);
}

export function removeEventListener(target: EventEmitter, type: string, listener: EventListener): void {
  for (const l of target.listeners(type) as Wrapper[]) {
    if (l[kListener] === listener && !l[kAttribute]) {
      target.removeListener(type, l);
      return;
    }
  }
}

/** The value of an onopen/onmessage/onerror/onclose attribute. */
export function getAttribute(target: EventEmitter, type: string): EventListener | null {
  for (const l of target.listeners(type) as Wrapper[]) if (l[kAttribute]) return l[kListener] ?? null;
  return null;
}

export function setAttribute(target: EventEmitter, type: string, handler: unknown): void {
  for (const l of target.listeners(type) as Wrapper[]) {
    if (l[kAttribute]) {
      target.removeListener(type, l);
      break;
    }
  }
  if (typeof handler === 'function') addEventListener(target, type, handler as EventListener, { [kAttribute]: true });
}
