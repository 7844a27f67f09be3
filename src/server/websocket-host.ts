import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Http2ServerLike } from './http2-upgrade.js';
import type { WebSocketServer } from './websocket-server.js';

/**
 * A server built on a WebSocketServer of its own (the realtime server, the Yjs server): the
 * ways connections reach it are its WebSocketServer's, passed through — standalone on a
 * port, attached to an http/https/http2 server, or handed over by handleUpgrade.
 * `U` is the type of its sockets' `data`.
 */
export abstract class WebSocketHost<U> {
  abstract readonly websocket: WebSocketServer<U>;
  private standalone: Promise<AddressInfo> | null = null;

  /** Standalone (a port was given to the constructor): settles once listening; null otherwise. */
  get listening(): Promise<AddressInfo> | null {
    return this.standalone;
  }

  /** For the subclass's constructor, once `websocket` is set: listen at once if given a port. */
  protected listenIfPort(port: number | undefined, host: string | undefined): void {
    if (port === undefined) return;
    this.standalone = this.listen(port, host);
    // A failure is the caller's to see through `listening`; not an unhandled rejection.
    this.standalone.catch(() => {});
  }

  listen(port = 0, host?: string): Promise<AddressInfo> {
    return this.websocket.listen(port, host);
  }

  address(): AddressInfo | null {
    return this.websocket.address();
  }

  /** Takes upgrades from an http/https server, and WebSocket streams from an http2 server (RFC 8441), for the paths the server serves. */
  attach(server: HttpServer | Http2ServerLike): this {
    this.websocket.attach(server);
    return this;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.websocket.handleUpgrade(req, socket, head);
  }
}
