/**
 * Speaks tether.v1 by hand over a real WebSocket: sends protocol messages (or raw frames)
 * and records every decoded message and the close, for tests that check the wire contract.
 */
import { WebSocket } from '../../src/client/index.js';
import { jsonCodec, msgpackCodec, type Codec } from '../../src/realtime/index.js';
import { within } from '../helpers.js';

export type CodecName = 'json' | 'msgpack';

export class WireClient {
  readonly ws: WebSocket;
  readonly codec: Codec;
  /** Every message received, decoded, in order. */
  readonly received: unknown[][] = [];
  /** Messages the codec could not decode (as raw data). */
  readonly undecodable: unknown[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private waiters: Array<() => void> = [];

  constructor(url: string, codec: CodecName | Codec, protocols?: string[]) {
    this.codec = typeof codec === 'string' ? (codec === 'json' ? jsonCodec : msgpackCodec) : codec;
    this.ws = new WebSocket(url, protocols ?? [this.codec.subprotocol]);
    this.ws.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve(), { once: true });
      this.ws.addEventListener('close', () => reject(new Error('closed before opening')), { once: true });
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener('close', (ev) => {
        const e = ev as Event & { code: number; reason: string };
        resolve({ code: e.code, reason: e.reason });
        this.wake();
      });
    });
    this.ws.addEventListener('message', (ev) => {
      const data = (ev as MessageEvent).data as string | ArrayBuffer;
      try {
        const m = this.codec.decode(typeof data === 'string' ? data : new Uint8Array(data));
        this.received.push(m as unknown[]);
      } catch {
        this.undecodable.push(data);
      }
      this.wake();
    });
    this.ws.addEventListener('error', () => {});
  }

  /** Opens a connection and waits for it (bounded). */
  static async open(url: string, codec: CodecName | Codec, protocols?: string[]): Promise<WireClient> {
    const c = new WireClient(url, codec, protocols);
    await within(c.opened, 3000, 'websocket open');
    return c;
  }

  /** Opens, sends Connect and waits for Connected; returns the client and its session id. */
  static async connect(url: string, codec: CodecName | Codec, token: unknown = null, meta: unknown = {}): Promise<WireClient & { sessionId: string }> {
    const c = (await WireClient.open(url, codec)) as WireClient & { sessionId: string };
    c.send([0, token, meta]);
    const connected = await c.next(3000);
    if (connected[0] !== 1) throw new Error(`expected Connected, got ${JSON.stringify(connected)}`);
    c.sessionId = connected[1] as string;
    return c;
  }

  send(message: unknown[]): void {
    this.ws.send(this.codec.encode(message) as string);
  }

  sendRaw(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  /** The next message not yet taken by next()/take(), waiting up to ms for it. */
  async next(ms = 3000): Promise<unknown[]> {
    await this.until(() => this.cursor < this.received.length, ms, `a message (after ${JSON.stringify(this.received.slice(-3))})`);
    return this.received[this.cursor++]!;
  }

  /** The next n messages. */
  async take(n: number, ms = 3000): Promise<unknown[][]> {
    await this.until(() => this.received.length - this.cursor >= n, ms, `${n} messages (have ${this.received.length - this.cursor})`);
    const out = this.received.slice(this.cursor, this.cursor + n);
    this.cursor += n;
    return out;
  }

  /** Messages received and not taken yet. */
  get pending(): unknown[][] {
    return this.received.slice(this.cursor);
  }

  /** Waits until check holds (checked at every message and at close), up to ms. */
  async until(check: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the close (bounded) and returns its code and reason. */
  waitClose(ms = 3000): Promise<{ code: number; reason: string }> {
    return within(this.closed, ms, 'close');
  }

  close(): void {
    if (this.ws.readyState < 2) this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
