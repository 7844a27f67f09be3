import { isUtf8 } from 'node:buffer';
import { DEFAULT_MAX_FRAGMENTS, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import { packMask } from './mask.js';
import { unmaskBuffer, unmaskCopy } from './native-mask.js';
import { decodeUtf8, Utf8Validator } from './utf8.js';

const enum ReadState {
  Header = 0,
  Payload = 1,
  /** A close frame arrived or the stream failed: later bytes are ignored. */
  Stopped = 2,
  /** Parsing waits (holdInput) until releaseInput; bytes that arrive meanwhile are kept. */
  Held = 3,
}

/**
 * Reassembly buffers grow with what has arrived, never with what a header announced: to
 * twice the bytes received, or by this much if that is more (a message that spans two
 * chunks usually fits the first allocation), and never past the end of the last frame.
 * A peer that announces 64 MiB and sends one byte costs us about this, not 64 MiB.
 */
const MIN_GROWTH = 4 * 1024;

export interface FrameReaderOptions {
  /** Frames from the peer must be masked (true on the server side). */
  expectMasked: boolean;
  /** Largest message accepted, fragmented or not. */
  maxPayload: number;
  /** Most frames one message may arrive in. Default DEFAULT_MAX_FRAGMENTS (16,384); Infinity for no limit. */
  maxFragments?: number;
  /** Deliver text messages as their UTF-8 bytes (a Buffer) instead of a decoded string. Default false. */
  textAsBytes?: boolean;
  /** Check that text messages and close reasons are UTF-8 (RFC 6455 §8.1). Default true; false trusts the peer. */
  validateUtf8?: boolean;
}

/**
 * Incremental RFC 6455 frame parser and message assembler, sans-I/O. Feed it whatever
 * chunks arrive with `receive`; it calls the protected hooks in order. It unmasks in
 * place (the chunks are ours), hands out views for unfragmented messages, validates
 * UTF-8 as bytes arrive, and refuses oversize messages from the header alone.
 *
 * Subclasses implement the hooks; the connection state machine is the one in
 * connection.ts.
 */
export abstract class FrameReader {
  protected expectMasked: boolean;
  protected maxPayload: number;
  private readonly maxFragments: number;
  /** RSV bits an extension has negotiated (0x40 for permessage-deflate). */
  protected allowedRsv = 0;
  /** Text messages reach onMessage as bytes (already validated unless validateUtf8 is false). */
  protected readonly textAsBytes: boolean;
  protected readonly validateUtf8: boolean;

  private readState: ReadState = ReadState.Header;
  /** Header bytes split across chunks, copied here until the header is whole. */
  private headerScratch: Buffer | null = null;
  private headerFill = 0;

  private frameFin = false;
  private frameOpcode = 0;
  private frameLength = 0;
  private frameReceived = 0;
  /** The frame's mask key, packed (see packMask). */
  private mask = 0;

  /** Opcode of the data message in progress, 0 when none. */
  private messageOpcode = 0;
  private messageCompressed = false;
  private messageBuffer: Buffer | null = null;
  private messageLength = 0;
  private messageFrames = 0;
  private utf8: Utf8Validator | null = null;
  /** Control frame payload split across chunks. */
  private controlBuffer: Buffer | null = null;
  /** While Held: the state to go back to, and the bytes that arrived meanwhile. */
  private held: { state: ReadState; input: Buffer[] } | null = null;

  constructor(options: FrameReaderOptions) {
    this.expectMasked = options.expectMasked;
    this.maxPayload = options.maxPayload;
    this.maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
    this.textAsBytes = options.textAsBytes === true;
    this.validateUtf8 = options.validateUtf8 !== false;
  }

  /** A complete message. Text arrives decoded (as bytes with textAsBytes); binary as a Buffer the receiver may keep. */
  protected abstract onMessage(data: string | Buffer, isBinary: boolean): void;
  /** A compressed message (RSV1 set): the extension layer decodes it. */
  protected onCompressedMessage(data: Buffer, isBinary: boolean): void {
    void data;
    void isBinary;
    this.fail(CloseCode.ProtocolError, 'RSV1 set without a negotiated extension');
  }
  protected abstract onPingFrame(payload: Buffer): void;
  protected abstract onPongFrame(payload: Buffer): void;
  /** The peer's close frame, already validated. code is 1005 when the frame had none. */
  protected abstract onCloseFrame(code: number, reason: string): void;
  /** The peer broke the protocol; the stream is stopped. */
  protected abstract onProtocolError(code: number, reason: string): void;

  /** Whether the reader still accepts bytes (false after a close frame or an error). */
  protected get reading(): boolean {
    return this.readState !== ReadState.Stopped;
  }

  /** Stops parsing: later input is ignored. */
  protected stopReading(): void {
    this.readState = ReadState.Stopped;
    this.messageBuffer = null;
    this.controlBuffer = null;
    this.held = null;
  }

  /**
   * Parsing waits, keeping what arrives, until releaseInput(): a message is still being
   * worked on (see ProtocolConnection's sliced inflate), and nothing after it may be
   * delivered first. The I/O layer is told to stop reading meanwhile (pauseInput).
   */
  protected holdInput(): void {
    if (this.readState === ReadState.Stopped || this.readState === ReadState.Held) return;
    this.held = { state: this.readState, input: [] };
    this.readState = ReadState.Held;
    this.pauseInput();
  }

  /** Parsing goes on where it stopped, first with the bytes kept while it waited. */
  protected releaseInput(): void {
    if (this.readState !== ReadState.Held) return;
    const kept = this.held!.input;
    this.readState = this.held!.state;
    this.held = null;
    for (let i = 0; i < kept.length; i++) {
      if (this.readState === ReadState.Stopped) return;
      if (this.readState === ReadState.Held) {
        // Held again by a message in what was kept: keep the rest, in order.
        for (let j = i; j < kept.length; j++) this.held!.input.push(kept[j]!);
        return;
      }
      this.receive(kept[i]!);
    }
    if (this.readState !== ReadState.Held && this.readState !== ReadState.Stopped) this.resumeInput();
  }

  /** The I/O layer should stop reading from the peer for now (parsing is held). */
  protected pauseInput(): void {}
  /** The I/O layer may read again. */
  protected resumeInput(): void {}

  /** Parses one chunk of bytes from the peer. The chunk may be modified (unmasked). */
  receive(data: Buffer): void {
    let pos = 0;
    const end = data.length;
    while (pos < end) {
      if (this.readState === ReadState.Header) pos = this.readHeader(data, pos, end);
      else if (this.readState === ReadState.Payload) pos = this.readPayload(data, pos, end);
      else {
        if (this.readState === ReadState.Held) this.held!.input.push(pos === 0 ? data : data.subarray(pos));
        return;
      }
    }
  }

  protected fail(code: number, reason: string): void {
    if (this.readState === ReadState.Stopped) return;
    this.stopReading();
    this.onProtocolError(code, reason);
  }

  private readHeader(data: Buffer, pos: number, end: number): number {
    let src: Uint8Array = data;
    let at = pos;
    if (this.headerFill === 0 && end - pos >= 2) {
      const need = this.checkFirstBytes(data[pos]!, data[pos + 1]!);
      if (need < 0) return end;
      if (end - pos < need) return this.stashHeader(data, pos, end);
      pos += need;
    } else {
      const scratch = (this.headerScratch ??= Buffer.allocUnsafe(14));
      if (this.headerFill < 2) {
        scratch[this.headerFill++] = data[pos++]!;
        if (this.headerFill < 2) return pos;
      }
      const need = this.checkFirstBytes(scratch[0]!, scratch[1]!);
      if (need < 0) return end;
      const take = Math.min(need - this.headerFill, end - pos);
      data.copy(scratch, this.headerFill, pos, pos + take);
      this.headerFill += take;
      pos += take;
      if (this.headerFill < need) return pos;
      this.headerFill = 0;
      src = scratch;
      at = 0;
    }
    if (!this.finishHeader(src, at)) return data.length;
    if (this.frameLength === 0) this.frameComplete(data, pos, pos);
    return pos;
  }

  private stashHeader(data: Buffer, pos: number, end: number): number {
    const scratch = (this.headerScratch ??= Buffer.allocUnsafe(14));
    data.copy(scratch, 0, pos, end);
    this.headerFill = end - pos;
    return end;
  }

  /**
   * Validates what the first two header bytes say, before any length or payload is read,
   * so that a bad frame is refused at once. Returns the full header length, or -1.
   */
  private checkFirstBytes(b0: number, b1: number): number {
    const opcode = b0 & 0x0f;
    const rsv = b0 & 0x70;
    const fin = (b0 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const unexpectedRsv = rsv & ~this.allowedRsv;
    if (unexpectedRsv) return this.refuse(CloseCode.ProtocolError, unexpectedRsv & 0x30 ? 'reserved bits set' : 'RSV1 set without a negotiated extension');
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.refuse(CloseCode.ProtocolError, `reserved opcode ${opcode}`);
      if (!fin) return this.refuse(CloseCode.ProtocolError, 'fragmented control frame');
      if (len7 > MAX_CONTROL_PAYLOAD) return this.refuse(CloseCode.ProtocolError, `control frame payload over 125 bytes (${len7})`);
      if (rsv) return this.refuse(CloseCode.ProtocolError, 'reserved bits set on a control frame');
    } else if (opcode === Opcode.Continuation) {
      if (this.messageOpcode === 0) return this.refuse(CloseCode.ProtocolError, 'continuation frame without a message');
      if (rsv) return this.refuse(CloseCode.ProtocolError, 'reserved bits set on a continuation frame');
    } else if (opcode <= Opcode.Binary) {
      if (this.messageOpcode !== 0) return this.refuse(CloseCode.ProtocolError, `new message inside a fragmented message (opcode ${opcode})`);
    } else {
      return this.refuse(CloseCode.ProtocolError, `reserved opcode ${opcode}`);
    }
    if (masked !== this.expectMasked) {
      return this.refuse(CloseCode.ProtocolError, masked ? 'masked frame from server' : 'unmasked frame from client');
    }
    return (len7 < 126 ? 2 : len7 === 126 ? 4 : 10) + (masked ? 4 : 0);
  }

  private refuse(code: number, reason: string): number {
    this.fail(code, reason);
    return -1;
  }

  /** Reads length and mask key from a complete header; false when the frame is refused. */
  private finishHeader(h: Uint8Array, at: number): boolean {
    const b0 = h[at]!;
    const b1 = h[at + 1]!;
    let len = b1 & 0x7f;
    let off = at + 2;
    if (len === 126) {
      len = (h[off]! << 8) | h[off + 1]!;
      off += 2;
    } else if (len === 127) {
      const hi = ((h[off]! << 24) | (h[off + 1]! << 16) | (h[off + 2]! << 8) | h[off + 3]!) >>> 0;
      const lo = ((h[off + 4]! << 24) | (h[off + 5]! << 16) | (h[off + 6]! << 8) | h[off + 7]!) >>> 0;
      if (hi & 0x80000000) return !this.refuse(CloseCode.ProtocolError, 'payload length with the most significant bit set');
      if (hi > 0x1fffff) return !this.refuse(CloseCode.MessageTooBig, 'message too big');
      len = hi * 0x100000000 + lo;
      off += 8;
    }
    const opcode = b0 & 0x0f;
    if (opcode < 0x8) {
      if (this.messageLength + len > this.maxPayload) return !this.refuse(CloseCode.MessageTooBig, 'message too big');
      if (opcode !== Opcode.Continuation) {
        this.messageOpcode = opcode;
        this.messageCompressed = (b0 & 0x40) !== 0;
        this.messageLength = 0;
        this.messageFrames = 0;
      }
      // 1009 rather than 1008 (RFC 6455 §7.4.1): the message is too big for us to process,
      // counted in frames instead of bytes; 1008 is the generic code for when none fits better.
      if (++this.messageFrames > this.maxFragments) return !this.refuse(CloseCode.MessageTooBig, 'too many fragments');
    }
    this.frameFin = (b0 & 0x80) !== 0;
    this.frameOpcode = opcode;
    this.frameLength = len;
    this.frameReceived = 0;
    if (this.expectMasked) this.mask = packMask(h, off);
    this.readState = ReadState.Payload;
    return true;
  }

  private readPayload(data: Buffer, pos: number, end: number): number {
    const n = Math.min(this.frameLength - this.frameReceived, end - pos);
    const stop = pos + n;
    if (this.frameReceived === 0 && n === this.frameLength) {
      // The whole payload is in this chunk: unmasked where it is, no copy.
      if (this.expectMasked) unmaskBuffer(data, pos, stop, this.mask, 0);
      this.frameReceived = n;
      this.frameComplete(data, pos, stop);
      return stop;
    }
    this.frameReceived += n;
    if (this.frameOpcode < 0x8) {
      // Part of a data frame: unmasked on its way into the reassembly buffer (one pass).
      if (!this.appendMessageBytes(data, pos, stop, this.expectMasked)) return end;
      if (this.frameReceived === this.frameLength) this.frameComplete(data, stop, stop);
      return stop;
    }
    if (this.expectMasked) unmaskBuffer(data, pos, stop, this.mask, this.frameReceived - n);
    const ctl = (this.controlBuffer ??= Buffer.allocUnsafe(MAX_CONTROL_PAYLOAD));
    data.copy(ctl, this.frameReceived - n, pos, stop);
    if (this.frameReceived === this.frameLength) {
      this.controlBuffer = null;
      this.frameComplete(ctl, 0, this.frameLength);
    }
    return stop;
  }

  /**
   * Copies data-frame bytes into the reassembly buffer (unmasking them on the way when
   * `masked`: they are the current frame's latest bytes), validating text as it goes.
   */
  private appendMessageBytes(data: Buffer, pos: number, stop: number, masked: boolean): boolean {
    const needed = this.messageLength + (stop - pos);
    let buf = this.messageBuffer;
    if (buf === null || needed > buf.length) {
      // Doubling keeps the copying linear in the message size. A final frame's end is
      // known (the header said it and maxPayload allowed it); more fragments may follow
      // any other frame.
      const end = this.frameFin ? needed + (this.frameLength - this.frameReceived) : this.maxPayload;
      const cap = Math.max(needed, Math.min(end, Math.max(2 * needed, needed + MIN_GROWTH)));
      const grown = Buffer.allocUnsafe(cap);
      if (buf !== null) buf.copy(grown, 0, 0, this.messageLength);
      this.messageBuffer = buf = grown;
    }
    const at = this.messageLength;
    if (masked) unmaskCopy(data, pos, stop, buf, at, this.mask, this.frameReceived - (stop - pos));
    else data.copy(buf, at, pos, stop);
    this.messageLength = needed;
    if (this.messageOpcode === Opcode.Text && !this.messageCompressed && this.validateUtf8) {
      const v = (this.utf8 ??= new Utf8Validator());
      if (!v.push(buf, at, needed)) {
        this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
        return false;
      }
    }
    return true;
  }

  /**
   * A frame's payload is whole. For payloads that arrived in one piece, [pos, stop) of
   * data is the payload; otherwise the bytes are already in the reassembly buffer.
   */
  private frameComplete(data: Buffer, pos: number, stop: number): void {
    this.readState = ReadState.Header;
    const opcode = this.frameOpcode;
    if (opcode >= 0x8) {
      this.controlFrame(opcode, data.subarray(pos, stop));
      return;
    }
    const fin = this.frameFin;
    // An unfragmented message whose payload is all in this chunk is handed out as a view;
    // anything else goes through the reassembly buffer.
    if (!fin || this.messageBuffer !== null) {
      if (stop > pos && !this.appendMessageBytes(data, pos, stop, false)) return;
      if (!fin) return;
    }
    const isBinary = this.messageOpcode === Opcode.Binary;
    const compressed = this.messageCompressed;
    const buf = this.messageBuffer;
    const payload = buf === null ? data.subarray(pos, stop) : buf.subarray(0, this.messageLength);
    const utf8 = this.utf8;
    this.messageOpcode = 0;
    this.messageBuffer = null;
    this.messageLength = 0;
    this.utf8 = null;
    if (compressed) this.onCompressedMessage(payload, isBinary);
    else if (isBinary) this.onMessage(payload, true);
    else if (this.textAsBytes || !this.validateUtf8) this.deliverTextBytes(payload, utf8);
    // Text seen piece by piece was validated as it came; only its end is left to check.
    else if (utf8 !== null) {
      if (utf8.complete) this.onMessage(payload.toString('utf8'), false);
      else this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
    } else {
      const text = decodeUtf8(payload);
      if (text === null) this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
      else this.onMessage(text, false);
    }
  }

  /** A text message for textAsBytes or without validation: checked (unless validateUtf8 is off), then delivered as bytes or decoded. */
  private deliverTextBytes(payload: Buffer, seen: Utf8Validator | null): void {
    if (this.validateUtf8 && !(seen !== null ? seen.complete : isUtf8(payload))) {
      this.fail(CloseCode.InvalidPayload, 'invalid UTF-8 in text message');
    } else {
      this.onMessage(this.textAsBytes ? payload : payload.toString('utf8'), false);
    }
  }

  private controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.onPingFrame(payload);
    } else if (opcode === Opcode.Pong) {
      this.onPongFrame(payload);
    } else {
      let code: number = CloseCode.NoStatus;
      let reason = '';
      if (payload.length === 1) return this.fail(CloseCode.ProtocolError, 'close frame with a 1-byte payload');
      if (payload.length >= 2) {
        code = payload.readUInt16BE(0);
        if (!isValidWireCloseCode(code)) return this.fail(CloseCode.ProtocolError, `invalid close code ${code}`);
        const reasonBytes = payload.subarray(2);
        if (reasonBytes.length > 0 && this.validateUtf8 && !isUtf8(reasonBytes)) return this.fail(CloseCode.InvalidPayload, 'close reason is not UTF-8');
        reason = reasonBytes.toString('utf8');
      }
      this.stopReading();
      this.onCloseFrame(code, reason);
    }
  }
}
