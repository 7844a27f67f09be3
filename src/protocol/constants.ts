/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** The GUID that RFC 6455 §1.3 appends to Sec-WebSocket-Key before hashing. */
export const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Ready states shared by the server socket and the browser-compatible client. */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** Largest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Default limit on one message, fragmented or not. */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

/**
 * Default limit on the frames of one message (`ws` has the same default). Each frame costs
 * parsing work whatever its size, and small ones let a message creep up to maxPayload: an
 * endless message in 1 KiB fragments is cut off at 16 MiB instead of 64.
 */
export const DEFAULT_MAX_FRAGMENTS = 16 * 1024;

/**
 * The server's default limit on connections with permessage-deflate. A compressed message
 * inflates up to about 1000 times its size: 16 KB on the wire may cost 16 MiB of memory and
 * the CPU to inflate (and often to compress an answer) that much.
 */
export const DEFAULT_COMPRESSED_MAX_PAYLOAD = 16 * 1024 * 1024;
