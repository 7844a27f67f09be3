/** Close status codes (RFC 6455 §7.4.1 and the IANA registry). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
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
