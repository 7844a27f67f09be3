import { connect as netConnect } from 'node:net';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import {
  acceptDeflateResponse,
  BARE_LF,
  buildClientRequest,
  buildConnectRequest,
  buildDeflateOffer,
  PERMESSAGE_DEFLATE,
  PerMessageDeflate,
  findHeadEnd,
  generateKey,
  HandshakeError,
  parseHttpHead,
  ProtocolConnection,
  ReadyState,
  validateConnectResponse,
  validateUpgradeResponse,
  type ValidatedConnectResponse,
} from '../protocol/index.js';
import { dialHttp2, type DialResult } from './http2-connect.js';
import type { ResolvedClientOptions } from './options.js';

/** What the connection reports to the WebSocket object that owns it. */
export interface ClientConnectionOwner {
  handshakeDone(protocol: string, extensions: string): void;
  messageReceived(data: string | Buffer, isBinary: boolean): void;
  pongReceived(payload: Buffer): void;
  /** The transport closed; `error` is set when the connection failed. */
  connectionClosed(error: Error | undefined): void;
}

const MAX_RESPONSE_HEAD = 16 * 1024;

/**
 * The client's I/O: a TCP or TLS socket (or an HTTP/2 stream, RFC 8441), the opening
 * handshake, then the shared protocol state machine. Client frames are masked; the server
 * closes the TCP connection (ends the stream) first.
 */
export class ClientConnection extends ProtocolConnection {
  /** Null while an HTTP/2 stream is being opened. */
  private socket: Duplex | null = null;
  /** The transport is an HTTP/2 stream. */
  http2 = false;
  private readonly key = generateKey();
  private head: Buffer | null = Buffer.alloc(0);
  private timer: NodeJS.Timeout | null = null;
  private error: Error | undefined;
  private reported = false;
  /** Bytes of the next transmitted frame that count towards bufferedAmount. */
  accountBytes = 0;
  bufferedAmount = 0;
  /** terminate() dropped the connection (no error to report). */
  terminated = false;
  /** Reasons to hold reading back (the message iterator's consumer is busy). */
  private readHolds = 0;

  constructor(
    private readonly owner: ClientConnectionOwner,
    url: URL,
    private readonly protocols: string[],
    private readonly options: ResolvedClientOptions,
  ) {
    super({ role: 'client', maxPayload: options.maxPayload, maxFragments: options.maxFragments });
    this.readyState = ReadyState.CONNECTING;
    if (options.http2 !== null) this.openHttp2(url, options.http2 === true ? null : options.http2);
    else this.openTcp(url);
    if (options.handshakeTimeout > 0) this.startTimer(options.handshakeTimeout, 'opening handshake timed out');
  }

  private openTcp(url: URL): void {
    const options = this.options;
    const secure = url.protocol === 'wss:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port) || (secure ? 443 : 80);
    const socket = secure
      ? tlsConnect({ servername: isIp(host) ? undefined : host, ...options.tls, host, port, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    const request = buildClientRequest({
      host: url.host,
      path: (url.pathname || '/') + url.search,
      key: this.key,
      protocols: this.protocols,
      extensions: options.deflate ? buildDeflateOffer(options.deflate.negotiation) : undefined,
      origin: options.origin,
      headers: options.headers,
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    this.useTransport(socket);
  }

  /** RFC 8441: an extended CONNECT stream on a shared HTTP/2 connection; HTTP/1.1 if the server does not offer it. */
  private openHttp2(url: URL, session: Parameters<typeof dialHttp2>[1]): void {
    const o = this.options;
    const headers = buildConnectRequest({
      scheme: url.protocol === 'wss:' ? 'https' : 'http',
      authority: url.host,
      path: (url.pathname || '/') + url.search,
      protocols: this.protocols,
      extensions: o.deflate ? buildDeflateOffer(o.deflate.negotiation) : undefined,
      origin: o.origin,
      headers: o.headers,
    });
    dialHttp2(url, session, o.tls, headers, (result: DialResult) => {
      if (this.reported) {
        if ('stream' in result) result.stream.close();
        return;
      }
      if ('fallback' in result) return this.openTcp(url);
      if ('error' in result) return this.abort(result.error);
      const stream = result.stream;
      this.http2 = true;
      this.head = null;
      stream.once('response', (h: IncomingHttpHeaders) => this.onHttp2Response(h));
      // The server ending the stream is the end of the connection: end ours as TCP would.
      stream.on('end', () => stream.end());
      this.useTransport(stream);
    });
  }

  private onHttp2Response(h: IncomingHttpHeaders): void {
    let res: ValidatedConnectResponse;
    try {
      const deflate = this.options.deflate;
      res = validateConnectResponse(h as Record<string, string>, this.protocols, deflate ? [PERMESSAGE_DEFLATE] : []);
      this.agree(res.extensions);
    } catch (err) {
      this.abort(err instanceof HandshakeError ? err : new HandshakeError((err as Error).message));
      return;
    }
    this.clearTimer();
    this.readyState = ReadyState.OPEN;
    this.owner.handshakeDone(res.protocol, res.extensionsHeader);
  }

  /** Turns on permessage-deflate if the server accepted it. */
  private agree(extensions: Array<{ name: string }>): void {
    const deflate = this.options.deflate;
    const agreed = extensions.find((e) => e.name === PERMESSAGE_DEFLATE);
    if (!deflate || !agreed) return;
    try {
      this.enableDeflate(new PerMessageDeflate(acceptDeflateResponse(agreed as Parameters<typeof acceptDeflateResponse>[0], deflate.negotiation), 'client', deflate.tuning));
    } catch (err) {
      throw new HandshakeError((err as Error).message);
    }
  }

  private useTransport(socket: Duplex): void {
    this.socket = socket;
    // A hold taken while the HTTP/2 stream was opening applies from the start.
    if (this.readHolds > 0) socket.pause();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.abort(err));
    socket.on('close', () => this.onSocketClose());
  }

  /** Stops reading from the server (transport flow control then holds it back) until resumeReading(). */
  pauseReading(): void {
    this.socket?.pause();
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  /** Whether our output waits for the peer (the transport's buffer is over its high-water mark). */
  get writeBlocked(): boolean {
    return this.socket?.writableNeedDrain === true;
  }

  /** Calls fn once the transport's write buffer drains (or the connection ends). */
  onceDrained(fn: () => void): void {
    const s = this.socket;
    if (s === null || !s.writableNeedDrain) return void process.nextTick(fn);
    const done = (): void => {
      s.removeListener('drain', done);
      s.removeListener('close', done);
      fn();
    };
    s.on('drain', done);
    s.on('close', done);
  }

  private onData(chunk: Buffer): void {
    if (this.head === null) {
      this.receive(chunk);
      return;
    }
    const buf = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const end = findHeadEnd(buf);
    if (end === BARE_LF) {
      this.abort(new HandshakeError('response head has a line ending in LF without CR'));
      return;
    }
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD) this.abort(new HandshakeError('response head too large'));
      else this.head = buf;
      return;
    }
    // The limit holds however the head was split into chunks (as the server's head reader does).
    if (end > MAX_RESPONSE_HEAD) {
      this.abort(new HandshakeError('response head too large'));
      return;
    }
    this.head = null;
    try {
      const deflate = this.options.deflate;
      const res = validateUpgradeResponse(parseHttpHead(buf.toString('latin1', 0, end)), this.key, this.protocols, deflate ? [PERMESSAGE_DEFLATE] : []);
      this.agree(res.extensions);
      this.clearTimer();
      this.readyState = ReadyState.OPEN;
      this.owner.handshakeDone(res.protocol, res.extensionsHeader);
    } catch (err) {
      this.abort(err instanceof HandshakeError ? err : new HandshakeError((err as Error).message));
      return;
    }
    if (end < buf.length && this.reading) this.receive(buf.subarray(end));
  }

  /** Fails the connection: drop the transport and report `err` once it is gone. */
  abort(err: Error): void {
    this.error ??= err;
    this.clearTimer();
    // Still opening an HTTP/2 stream: nothing to drop yet, the failure is reported now.
    if (this.socket === null) process.nextTick(() => this.onSocketClose());
    else this.socket.destroy();
  }

  /** Drops the transport at once, without a closing handshake. */
  terminate(): void {
    this.terminated = true;
    if (this.readyState !== ReadyState.CLOSED) this.readyState = ReadyState.CLOSING;
    this.clearTimer();
    // Still opening an HTTP/2 stream: nothing to drop yet.
    if (this.socket === null) process.nextTick(() => this.onSocketClose());
    else this.socket.destroy();
  }

  /** Stops (+1) or lets (-1) the socket read from the network; it reads while nothing holds it. */
  holdReading(delta: 1 | -1): void {
    const before = this.readHolds;
    this.readHolds = Math.max(0, before + delta);
    if (before === 0 && this.readHolds > 0) this.socket?.pause();
    else if (before > 0 && this.readHolds === 0 && this.socket !== null && !this.socket.destroyed) this.socket.resume();
  }

  /** Closes or aborts, as WebSocket.close() does. */
  startClose(code: number | undefined, reason: string): void {
    if (this.readyState === ReadyState.CONNECTING) {
      this.readyState = ReadyState.CLOSING;
      this.abort(new Error('the connection was closed before it opened'));
      return;
    }
    if (this.sendClose(code, reason)) this.startTimer(this.options.closeTimeout, '');
  }

  protected override get outputStalled(): boolean {
    return this.socket?.writableNeedDrain === true;
  }

  protected override transmit(frame: Buffer | Uint8Array): void {
    const s = this.socket;
    if (s === null || !s.writable) return;
    const n = this.accountBytes;
    if (n > 0) {
      this.accountBytes = 0;
      s.write(frame, () => (this.bufferedAmount -= n));
    } else {
      s.write(frame);
    }
  }

  protected override onMessage(data: string | Buffer, isBinary: boolean): void {
    this.owner.messageReceived(data, isBinary);
  }

  protected override onPong(payload: Buffer): void {
    this.owner.pongReceived(payload);
  }

  protected override onCloseHandshake(): void {
    // The server closes the TCP connection first; drop it ourselves if it does not. A close
    // we started already runs this timer: keep its deadline.
    if (this.timer === null) this.startTimer(this.options.closeTimeout, '');
  }

  protected override onFailure(code: number, reason: string): void {
    this.error ??= new Error(`WebSocket protocol error ${code}: ${reason}`);
    this.socket?.end();
    this.startTimer(this.options.closeTimeout, '');
  }

  private startTimer(ms: number, message: string): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (message) this.abort(new HandshakeError(message));
      else this.socket?.destroy();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private onSocketClose(): void {
    this.clearTimer();
    if (this.reported) return;
    this.reported = true;
    this.transportClosed();
    this.owner.connectionClosed(this.error);
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
