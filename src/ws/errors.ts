/**
 * ws reports a peer's protocol violation as an Error (or RangeError) with a WS_ERR_* code.
 * Tether's engine reports it as a close code and a short reason; this table turns one into
 * the other, with the message and code ws uses for the same violation.
 */
export type WsError = (Error | RangeError) & { code?: string };

interface Rule {
  match: RegExp;
  make: (m: RegExpExecArray) => [ctor: ErrorConstructor | RangeErrorConstructor, message: string, code: string];
}

const frame = (s: string): string => `Invalid WebSocket frame: ${s}`;

const RULES: Rule[] = [
  { match: /^unmasked frame from client$/, make: () => [RangeError, frame('MASK must be set'), 'WS_ERR_EXPECTED_MASK'] },
  { match: /^masked frame from server$/, make: () => [RangeError, frame('MASK must be clear'), 'WS_ERR_UNEXPECTED_MASK'] },
  { match: /^reserved bits set on a (control|continuation) frame$/, make: () => [RangeError, frame('RSV1 must be clear'), 'WS_ERR_UNEXPECTED_RSV_1'] },
  { match: /^RSV1 set without a negotiated extension$/, make: () => [RangeError, frame('RSV1 must be clear'), 'WS_ERR_UNEXPECTED_RSV_1'] },
  { match: /^reserved bits set$/, make: () => [RangeError, frame('RSV2 and RSV3 must be clear'), 'WS_ERR_UNEXPECTED_RSV_2_3'] },
  { match: /^reserved opcode (\d+)$/, make: (m) => [RangeError, frame(`invalid opcode ${m[1]}`), 'WS_ERR_INVALID_OPCODE'] },
  { match: /^continuation frame without a message$/, make: () => [RangeError, frame('invalid opcode 0'), 'WS_ERR_INVALID_OPCODE'] },
  { match: /^new message inside a fragmented message(?: \(opcode (\d)\))?$/, make: (m) => [RangeError, frame(`invalid opcode ${m[1] ?? 1}`), 'WS_ERR_INVALID_OPCODE'] },
  { match: /^fragmented control frame$/, make: () => [RangeError, frame('FIN must be set'), 'WS_ERR_EXPECTED_FIN'] },
  { match: /^control frame payload over 125 bytes(?: \((\d+)\))?$/, make: (m) => [RangeError, frame(`invalid payload length ${m[1] ?? 126}`), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'] },
  { match: /^close frame with a 1-byte payload$/, make: () => [RangeError, frame('invalid payload length 1'), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'] },
  { match: /^invalid close code (\d+)$/, make: (m) => [RangeError, frame(`invalid status code ${m[1]}`), 'WS_ERR_INVALID_CLOSE_CODE'] },
  { match: /^(invalid UTF-8 in text message|close reason is not UTF-8)$/, make: () => [Error, frame('invalid UTF-8 sequence'), 'WS_ERR_INVALID_UTF8'] },
  { match: /^message too big$/, make: () => [RangeError, 'Max payload size exceeded', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'] },
  { match: /^payload length with the most significant bit set$/, make: () => [RangeError, 'Unsupported WebSocket frame: payload length > 2^53 - 1', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'] },
  { match: /^too many fragments$/, make: () => [RangeError, 'Too many message fragments', 'WS_ERR_TOO_MANY_BUFFERED_PARTS'] },
  { match: /^invalid compressed data$/, make: () => [Error, 'invalid compressed data', 'Z_DATA_ERROR'] },
];

/** The error ws would emit for the violation Tether's engine reported as (closeCode, reason). */
export function protocolErrorFor(closeCode: number, reason: string): WsError {
  for (const rule of RULES) {
    const m = rule.match.exec(reason);
    if (m !== null) {
      const [Ctor, message, code] = rule.make(m);
      return withCode(new Ctor(message), code);
    }
  }
  // A violation ws has no name for: keep Tether's reason and the close code in the message.
  return withCode(new Error(frame(`${reason} (${closeCode})`)), 'WS_ERR_PROTOCOL');
}

function withCode(err: Error, code: string): WsError {
  (err as WsError).code = code;
  return err;
}

const STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

/** The error of send(), ping() or pong() when the socket is not open. */
export function notOpenError(readyState: number): Error {
  return new Error(`WebSocket is not open: readyState ${readyState} (${STATES[readyState]})`);
}
