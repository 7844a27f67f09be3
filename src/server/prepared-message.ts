import { encodeFrame, Opcode, toBytes, type MessageData } from '../protocol/index.js';
import { SendStatus, type ServerSocket } from './server-socket.js';
import type { SharedSlot } from './write-batch.js';

type Frame = Buffer | [Buffer, Uint8Array];

/** A compressed frame and where it is in this tick's shared frames. */
interface Compressed extends SharedSlot {
  readonly frame: Frame;
}

/**
 * A message framed once for many connections: the plain frame is built on first use and
 * shared; compressed frames are built once per shared compressor (connections that keep
 * their own compression context get the message compressed individually). Used by
 * broadcast and by the realtime layer's topic fan-out.
 */
export class PreparedMessage {
  /** @internal The plain frame's place in this tick's shared frames (see write-batch). */
  sharedEpoch = -1;
  /** @internal */ sharedIndex = 0;
  private readonly bytes: Uint8Array;
  private readonly isText: boolean;
  private readonly opcode: number;
  private readonly compress: boolean;
  private plain: Frame | null = null;
  private compressed: Map<string, Compressed> | null = null;

  constructor(data: MessageData, options: { binary?: boolean; compress?: boolean } = {}) {
    this.isText = options.binary === undefined ? typeof data === 'string' : !options.binary;
    this.opcode = this.isText ? Opcode.Text : Opcode.Binary;
    this.bytes = typeof data === 'string' ? Buffer.from(data) : toBytes(data);
    this.compress = options.compress !== false;
  }

  /** Sends the message to one connection under its backpressure policy. */
  sendTo(ws: ServerSocket<any>): SendStatus {
    const d = ws.perMessageDeflate;
    if (d !== null && this.compress && this.bytes.length >= d.threshold) {
      if (!d.sharedOutgoing) return ws.send(this.bytes, { binary: !this.isText });
      this.compressed ??= new Map();
      let entry = this.compressed.get(d.outgoingKey);
      if (entry === undefined) {
        entry = { frame: encodeFrame(this.opcode, d.compress(this.bytes), true, true, false), sharedEpoch: -1, sharedIndex: 0 };
        this.compressed.set(d.outgoingKey, entry);
      }
      return ws.sendEncoded(entry.frame, this.bytes.length, entry);
    }
    return ws.sendEncoded((this.plain ??= encodeFrame(this.opcode, this.bytes, true, false, false)), this.bytes.length, this);
  }
}
