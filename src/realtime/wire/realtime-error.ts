import { ErrorCode, Msg } from './wire-protocol.js';

/**
 * An error that travels over the wire: thrown by a request handler on one side, it rejects
 * the caller's promise on the other with the same code and message. Any other error thrown
 * by a handler reaches the caller as `internal` without its message (it may hold secrets).
 */
export class RealtimeError extends Error {
  override name = 'RealtimeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Turns anything a handler threw into the [code, message] pair sent back. */
export function errorPayload(err: unknown): [string, string] {
  if (err instanceof RealtimeError) return [err.code, err.message];
  return [ErrorCode.Internal, 'internal error'];
}

/**
 * Runs a request handler and sends its outcome: a Reply with its result (at once when it
 * returns a plain value), or an Error with errorPayload's code and message. `unexpected`
 * hears about errors that are not RealtimeErrors (bugs the caller only sees as `internal`).
 */
export function settleRequest(id: number, run: () => unknown, send: (message: unknown[]) => void, unexpected?: (err: unknown) => void): void {
  const fail = (err: unknown): void => {
    if (!(err instanceof RealtimeError)) unexpected?.(err);
    const [code, message] = errorPayload(err);
    send([Msg.Error, id, code, message]);
  };
  // A result the codec cannot encode (a BigInt in JSON, a cycle) is a failure of the handler.
  const reply = (v: unknown): void => {
    try {
      send([Msg.Reply, id, v ?? null]);
    } catch (err) {
      fail(err);
    }
  };
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    return fail(err);
  }
  if (result instanceof Promise) result.then(reply, fail);
  else reply(result);
}
