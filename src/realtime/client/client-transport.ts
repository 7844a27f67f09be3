import type { Codec } from '../wire/codec.js';
import { Msg } from '../wire/wire-protocol.js';
import type { ResolvedClientOptions, WebSocketLike } from './client-options.js';
import { encodeNow, type OutgoingFrame } from './outgoing-frame.js';

/** What the transport reports to the client that owns it. */
export interface TransportOwner {
  /** One decoded protocol message. */
  received(message: unknown[]): void;
  /** A message the codec could not read (the connection stays). */
  unreadable(err: Error): void;
  /** The connection is gone: closed by the server, or given up on (connect or heartbeat timeout). */
  lost(code: number, reason: string): void;
}

/**
 * One WebSocket connection of the realtime client: opening it and sending Connect, decoding
 * what arrives, and one timer that is first the connect deadline and then the application
 * heartbeat (browsers cannot send WebSocket pings, so liveness is checked in the protocol:
 * Ping every `interval`, and any message counts as a sign of life).
 */
export class ClientTransport {
  private ws: WebSocketLike | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private pings = 0;

  constructor(
    private readonly codec: Codec,
    private readonly o: ResolvedClientOptions,
    private readonly owner: TransportOwner,
  ) {}

  /** Opens a WebSocket to `url`; once open, sends Connect with the token `token()` gives and `meta`. Throws if the WebSocket cannot be created. */
  open(url: string, token: () => unknown, meta: Record<string, unknown>): void {
    const extra = this.o.webSocketOptions === undefined ? [] : [this.o.webSocketOptions];
    const ws = new this.o.WebSocket(url, [this.codec.subprotocol], ...extra);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws === ws) void this.sendConnect(ws, token, meta);
    };
    ws.onmessage = (ev: { data: unknown }) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      this.decode(ev.data);
    };
    ws.onclose = (ev: { code: number; reason: string }) => {
      if (this.ws === ws) this.owner.lost(ev.code, ev.reason);
    };
    ws.onerror = () => {};
    this.lastHeard = Date.now();
    this.arm(0);
  }

  /** The session is open: from now on the timer sends heartbeats every `interval` ms. */
  connected(interval: number): void {
    this.arm(interval);
  }

  /** Sends a message of the client's own making (its values are known to encode). */
  send(message: unknown[]): void {
    this.sendFrame(this.codec.encode(message));
  }

  /** Sends a message encoded beforehand (when the application gave it). */
  sendFrame(frame: OutgoingFrame): void {
    const ws = this.ws;
    if (ws !== null && ws.readyState === 1) ws.send(frame);
  }

  /** Forgets the WebSocket, closing it with code and reason if it is still open. Nothing is reported after this. */
  drop(code: number, reason: string): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws === null) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep an error listener: some implementations (ws) throw on an error nobody listens to.
    ws.onerror = () => {};
    if (ws.readyState === 0 || ws.readyState === 1) {
      try {
        ws.close(code, reason);
      } catch {
        // Already closing.
      }
    }
  }

  private async sendConnect(ws: WebSocketLike, token: () => unknown, meta: Record<string, unknown>): Promise<void> {
    let value: unknown;
    try {
      value = await token();
    } catch (err) {
      this.owner.unreadable(err as Error);
      if (this.ws === ws) ws.close(1000, 'no token');
      return;
    }
    if (this.ws !== ws) return;
    let frame: OutgoingFrame;
    try {
      frame = encodeNow(this.codec, [Msg.Connect, value ?? null, meta], 'token');
    } catch (err) {
      // Reported, not thrown: this runs from the open event, where a throw would go unhandled.
      this.owner.unreadable(err as Error);
      ws.close(1000, 'token cannot be encoded');
      return;
    }
    ws.send(frame);
  }

  private decode(raw: unknown): void {
    let m: unknown;
    try {
      m = this.codec.decode(typeof raw === 'string' ? raw : new Uint8Array(raw as ArrayBuffer));
    } catch (err) {
      return this.owner.unreadable(err as Error);
    }
    if (Array.isArray(m)) this.owner.received(m);
  }

  /** interval 0: the connect deadline; otherwise heartbeats at that interval. */
  private arm(interval: number): void {
    if (this.timer !== null) clearInterval(this.timer);
    const connecting = interval === 0;
    const timeout = connecting ? this.o.connectTimeout : interval + this.o.heartbeatTimeout;
    let lastPing = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastHeard >= timeout) {
        this.drop(1000, 'connection dropped');
        this.owner.lost(1006, connecting ? 'connect timed out' : 'heartbeat timed out');
        return;
      }
      if (!connecting && now - lastPing >= interval) {
        lastPing = now;
        this.send([Msg.Ping, ++this.pings]);
      }
    }, Math.max(10, Math.min(1000, connecting ? timeout : Math.min(interval, this.o.heartbeatTimeout)) / 2));
  }
}
