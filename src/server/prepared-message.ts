import { encodeFrame, Opcode, toBytes, type MessageData } from '../protocol/index.js';
import { SendStatus, type ServerSocket } from './server-socket.js';

type Frame = Buffer | [Buffer, Uint8Array];

/**
 * A message framed once for many connections: the plain frame is built on first use and
 * shared; compressed frames are built once per shared compressor (connections that keep
 * their own compression context get the message compressed individually). Used by
 * broadcast and by the realtime layer's topic fan-out.
 */
export class PreparedMessage {
  private readonly bytes: Uint8Array;
  private readonly isText: boolean;
  private readonly opcode: number;
  private readonly compress: boolean;
  private plain: Frame | null = null;
  private compressed: Map<string, Frame> | null = null;

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
      let frame = this.compressed.get(d.outgoingKey);
      if (frame === undefined) {
        frame = encodeFrame(this.opcode, d.compress(this.bytes), true, true, false);
        this.compressed.set(d.outgoingKey, frame);
      }
      return ws.sendEncoded(frame, this.bytes.length);
    }
    return ws.sendEncoded((this.plain ??= encodeFrame(this.opcode, this.bytes, true, false, false)), this.bytes.length);
  }
}
