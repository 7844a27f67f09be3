/**
 * Close status codes (RFC 6455 §7.4.1 and the IANA registry), with what Tether uses each for.
 * Applications may also use 3000-4999 (the realtime layer's own codes are 4000-4999).
 */
export const CloseCode = {
  /** 1000: normal closure; the default of close(). */
  Normal: 1000,
  /** 1001: going away; sent to every client by WebSocketServer.close(). */
  GoingAway: 1001,
  /** 1002: protocol error: a malformed frame, a bad opcode, reserved bits, a masking error, broken fragmentation. */
  ProtocolError: 1002,
  /** 1003: unsupported data: a message of a type the endpoint does not take (the realtime and Yjs layers refuse text or binary this way). */
  UnsupportedData: 1003,
  /** 1005: (never sent) the peer's close frame carried no code; reported by close handlers and CloseEvent. */
  NoStatus: 1005,
  /** 1006: (never sent) the connection ended without a close frame: lost, timed out, or terminate(). */
  Abnormal: 1006,
  /** 1007: invalid payload: text (or a close reason) that is not UTF-8, or an inflated message that does not decompress. */
  InvalidPayload: 1007,
  /** 1008: policy violation: over maxBackpressure with the close policy, a ping flood, or an application's refusal. */
  PolicyViolation: 1008,
  /** 1009: message too big: over maxPayload, refused before it is buffered (compressed ones while inflating). */
  MessageTooBig: 1009,
  /** 1010: a client closes with it when an extension it needs was not negotiated. */
  MandatoryExtension: 1010,
  /** 1011: internal error: the server failed while handling a message. */
  InternalError: 1011,
  /** 1012: service restart; the realtime server's drain() sends it with a reconnect delay hint. */
  ServiceRestart: 1012,
  /** 1013: try again later (overloaded). */
  TryAgainLater: 1013,
  /** 1014: bad gateway. */
  BadGateway: 1014,
  /** 1015: (never sent) the TLS handshake failed. */
  TlsHandshake: 1015,
} as const;

/**
 * Whether a code may appear in a close frame on the wire. 1005, 1006 and 1015 are
 * reserved for local reporting; 1004 and 1016-2999 are unassigned; 3000-4999 belong
 * to libraries and applications.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code !== 1004 && code !== 1005 && code !== 1006;
}

/** Codes an application may pass to close(): the browser's rule plus the ones servers need. */
export function isValidApplicationCloseCode(code: number): boolean {
  return Number.isInteger(code) && isValidWireCloseCode(code);
}
