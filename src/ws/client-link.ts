import type { Duplex } from 'node:stream';
import { ProtocolConnection, ReadyState } from '../protocol/index.js';
import type { Link, LinkOwner } from './link.js';

export interface ClientLinkOptions {
  maxPayload: number;
  maxFragments: number;
  autoPong: boolean;
  validateUtf8: boolean;
  closeTimeout: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The connecting side's connection once the opening handshake is done: Tether's protocol
 * engine (client role: masked frames) over the upgraded socket, closing as ws does: after
 * both close frames crossed, end our side and wait for the server to close the TCP
 * connection, dropping it after closeTimeout.
 */
export class ClientLink extends ProtocolConnection implements Link {
  private closeTimer: NodeJS.Timeout | null = null;
  private gone = false;

  constructor(
    readonly socket: Duplex,
    private readonly owner: LinkOwner,
    private readonly options: ClientLinkOptions,
  ) {
    super({ role: 'client', maxPayload: options.maxPayload, maxFragments: options.maxFragments, autoPong: options.autoPong, textAsBytes: true, validateUtf8: options.validateUtf8, echoCloseReason: true });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onTransportClose());
    // Errors after the handshake end the connection; 'close' reports it (code 1006).
    socket.on('error', () => socket.destroy());
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  close(code: number | null, reason = ''): void {
    if (this.readyState === ReadyState.CLOSED || this.closeSent) return;
    this.sendClose(code ?? undefined, code === null ? '' : reason);
    if (this.closeReceived) this.socket.end();
    this.armCloseTimer();
  }

  terminate(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  whenWritten(callback: (err?: Error | null) => void): void {
    if (!this.socket.writable) process.nextTick(callback, new Error('the connection is closed'));
    else this.socket.write(EMPTY, callback);
  }

  protected override transmit(frame: Buffer | Uint8Array): void {
    if (this.socket.writable) this.socket.write(frame);
  }

  protected override onMessage(data: string | Buffer, isBinary: boolean): void {
    this.owner.linkMessage(data as Buffer, isBinary);
  }

  protected override onPing(payload: Buffer): void {
    this.owner.linkPing(payload);
  }

  protected override onPong(payload: Buffer): void {
    this.owner.linkPong(payload);
  }

  protected override onCloseHandshake(): void {
    // Both close frames crossed: end our side; the server closes the TCP connection.
    this.socket.end();
    this.armCloseTimer();
  }

  protected override onFailure(code: number, reason: string): void {
    this.socket.end();
    this.armCloseTimer();
    this.owner.linkError(code, reason);
  }

  private onEnd(): void {
    // The server ended the connection: end ours too (ws does the same).
    this.socket.end();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.options.closeTimeout);
  }

  private onTransportClose(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.transportClosed();
    this.owner.linkClosed();
  }
}
