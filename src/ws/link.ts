import type { PerMessageDeflate } from '../protocol/index.js';

/**
 * What a ws-compatible WebSocket drives: the core's ServerSocket on the accepting side,
 * ClientLink on the connecting side. Both are Tether protocol connections.
 */
export interface Link {
  readonly readyState: number;
  readonly closeSent: boolean;
  readonly closeReceived: boolean;
  readonly closeCode: number;
  readonly closeReason: string;
  readonly sendingFragments: boolean;
  readonly bufferedAmount: number;
  readonly perMessageDeflate: PerMessageDeflate | null;
  sendText(text: string, compress?: boolean): boolean;
  sendBinary(data: Uint8Array, compress?: boolean): boolean;
  sendFragment(data: Uint8Array, isBinary: boolean, fin: boolean): boolean;
  sendPing(payload?: Uint8Array): boolean;
  sendPong(payload?: Uint8Array): boolean;
  close(code: number | null, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  whenWritten(callback: (err?: Error | null) => void): void;
  receive(chunk: Buffer): void;
}

/** What a link reports to the WebSocket that owns it. */
export interface LinkOwner {
  linkMessage(data: Buffer, isBinary: boolean): void;
  linkPing(payload: Buffer): void;
  linkPong(payload: Buffer): void;
  linkError(code: number, reason: string): void;
  linkClosed(): void;
}

/** ws's maxFragments (default 16,384; 0 or less: no limit) as the engine's. */
export function wsMaxFragments(value: number | undefined): number {
  if (value === undefined) return 16 * 1024;
  return value > 0 ? value : Infinity;
}
