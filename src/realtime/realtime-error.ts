import { ErrorCode } from './wire-protocol.js';

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
