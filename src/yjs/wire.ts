/**
 * The y-websocket wire format: each binary message is a varUint message type followed by
 * its body. Sync bodies are a varUint sync type and a length-prefixed Yjs payload (a state
 * vector or an update); awareness bodies are a length-prefixed awareness update. Integers
 * are lib0 varUints: 7 bits per byte, least significant group first, high bit = more.
 */

export const MessageType = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3 } as const;
export const SyncType = { Step1: 0, Step2: 1, Update: 2 } as const;

/**
 * A message that does not follow the y-websocket format. `code` is the close code it
 * earns: 1007 for a malformed message, 1003 for a type this server does not take.
 */
export class YjsWireError extends Error {
  override readonly name = 'YjsWireError';
  constructor(
    message: string,
    readonly code: 1003 | 1007 = 1007,
  ) {
    super(message);
  }
}

/** Reads varUints and length-prefixed byte strings from one message, refusing truncation. */
export class WireReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos === this.bytes.length;
  }

  varUint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new YjsWireError('message ends inside an integer');
      const b = this.bytes[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 53) throw new YjsWireError('integer out of range');
    }
  }

  /** A varUint length then that many bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const len = this.varUint();
    if (len > this.bytes.length - this.pos) throw new YjsWireError('message ends inside a byte string');
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  end(): void {
    if (!this.done) throw new YjsWireError('unexpected bytes after the message');
  }
}

function varUintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarUint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** One message: the given varUints, then (when given) a length-prefixed payload. */
export function encodeMessage(header: readonly number[], payload?: Uint8Array): Uint8Array {
  let size = 0;
  for (const n of header) size += varUintSize(n);
  if (payload !== undefined) size += varUintSize(payload.length) + payload.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const n of header) pos = writeVarUint(out, pos, n);
  if (payload !== undefined) {
    pos = writeVarUint(out, pos, payload.length);
    out.set(payload, pos);
  }
  return out;
}

/**
 * Checks that an awareness update is well formed before it is applied (applying stops
 * half-way on a broken entry otherwise): a count, then per entry a client id, a clock and
 * a JSON state.
 */
export function checkAwarenessUpdate(update: Uint8Array): void {
  const r = new WireReader(update);
  const count = r.varUint();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i++) {
    r.varUint();
    r.varUint();
    let json: string;
    try {
      json = decoder.decode(r.bytesField());
      JSON.parse(json);
    } catch (err) {
      if (err instanceof YjsWireError) throw err;
      throw new YjsWireError('awareness state is not UTF-8 JSON');
    }
  }
  r.end();
}
