/**
 * A minimal Redis client speaking RESP2 over TCP: pipelined commands, pub/sub on a dedicated
 * connection, and an incremental parser. No dependencies; used by the Redis adapter.
 */
import { connect as netConnect, type Socket } from 'node:net';

export type RespValue = string | number | Buffer | null | RespValue[];

/** An error reply from the server; message is the server's text (e.g. "ERR value is not an integer ..."). */
export class RespError extends Error {
  override name = 'RespError';
}

const CRLF = Buffer.from('\r\n');
const MAX_BULK = 512 * 1024 * 1024; // Redis' own proto-max-bulk-len ceiling

/**
 * Incremental RESP2 parser: push() any chunking of the byte stream, get back the replies it
 * completed. An error reply comes back as a RespError; an array that contains an error at any
 * depth (EVAL tables, EXEC results) comes back as that first error, since RespValue has no error
 * member. Throws on malformed input (the connection must then be dropped).
 */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  // A bulk string longer than what has arrived is filled in place, so large values are copied once.
  private bulk: Buffer | null = null;
  private bulkFilled = 0;
  private stack: Array<{ items: RespValue[]; left: number }> = [];
  private nestedError: RespError | null = null;

  push(chunk: Buffer): Array<RespValue | RespError> {
    const out: Array<RespValue | RespError> = [];
    if (this.bulk) {
      const n = Math.min(chunk.length, this.bulk.length - this.bulkFilled);
      chunk.copy(this.bulk, this.bulkFilled, 0, n);
      this.bulkFilled += n;
      if (this.bulkFilled < this.bulk.length) return out;
      const bulk = this.bulk;
      this.bulk = null;
      this.value(this.checkBulk(bulk, 0, bulk.length), out);
      chunk = chunk.subarray(n);
    }
    // Only an incomplete header line is ever left over, so this concat stays small.
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    while (this.pos < this.buf.length && this.parseOne(out));
    return out;
  }

  /** Parses one element at pos; false when more bytes are needed. */
  private parseOne(out: Array<RespValue | RespError>): boolean {
    const buf = this.buf;
    const eol = buf.indexOf(CRLF, this.pos);
    if (eol < 0) return false;
    const type = buf[this.pos]!;
    const start = this.pos + 1;
    this.pos = eol + 2;
    switch (type) {
      case 0x2b: // '+'
        this.value(buf.toString('utf8', start, eol), out);
        return true;
      case 0x2d: // '-'
        this.error(new RespError(buf.toString('utf8', start, eol)), out);
        return true;
      case 0x3a: // ':'
        this.value(this.int(start, eol), out);
        return true;
      case 0x24: { // '$'
        const len = this.int(start, eol);
        if (len === -1) this.value(null, out);
        else if (len < 0 || len > MAX_BULK) throw new Error(`redis protocol error: bad bulk length ${len}`);
        else if (buf.length - this.pos >= len + 2) {
          this.value(this.checkBulk(buf, this.pos, this.pos + len + 2), out);
          this.pos += len + 2;
        } else {
          this.bulk = Buffer.allocUnsafe(len + 2);
          this.bulkFilled = buf.copy(this.bulk, 0, this.pos);
          this.pos = buf.length;
          return false;
        }
        return true;
      }
      case 0x2a: { // '*'
        const n = this.int(start, eol);
        if (n === -1) this.value(null, out);
        else if (n < 0) throw new Error(`redis protocol error: bad array length ${n}`);
        else if (n === 0) this.value([], out);
        else this.stack.push({ items: [], left: n });
        return true;
      }
      default:
        throw new Error(`redis protocol error: unexpected type byte 0x${type.toString(16)}`);
    }
  }

  private int(start: number, end: number): number {
    const s = this.buf.toString('latin1', start, end);
    const n = Number(s);
    if (!/^-?\d+$/.test(s)) throw new Error(`redis protocol error: bad integer ${JSON.stringify(s)}`);
    return n;
  }

  /** Copies a bulk payload out (so it does not pin the socket's chunk) after checking its CRLF. */
  private checkBulk(src: Buffer, start: number, end: number): Buffer {
    if (src[end - 2] !== 0x0d || src[end - 1] !== 0x0a) throw new Error('redis protocol error: bulk string not terminated by CRLF');
    return src === this.buf ? Buffer.from(src.subarray(start, end - 2)) : src.subarray(start, end - 2);
  }

  private error(err: RespError, out: Array<RespValue | RespError>): void {
    if (this.stack.length === 0) out.push(err);
    else {
      this.nestedError ??= err;
      this.value(null, out);
    }
  }

  /** Adds a complete element to the array being built, closing finished arrays upward. */
  private value(v: RespValue, out: Array<RespValue | RespError>): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) break;
      top.items.push(v);
      if (--top.left > 0) return;
      this.stack.pop();
      v = top.items;
    }
    out.push(this.nestedError ?? v);
    this.nestedError = null;
  }
}

type Kind = 'cmd' | 'subscribe' | 'unsubscribe';
interface Pending { kind: Kind; resolve(v: RespValue): void; reject(e: Error): void }

const closedError = () => new Error('redis connection closed');

export class RespClient {
  onMessage: ((channel: string, payload: Buffer) => void) | null = null;
  onClose: ((err?: Error) => void) | null = null;
  private parser = new RespParser();
  private pending: Pending[] = [];
  private outbox: Buffer[] = [];
  private channels = new Set<string>(); // as requested; non-empty means commands are refused
  private serverSubscribed = false; // as confirmed by the server; decides how arrays are read
  private closing = false;
  private isClosed = false;
  private closedPromise: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      let replies: Array<RespValue | RespError>;
      try {
        replies = this.parser.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const r of replies) this.dispatch(r);
    });
    socket.on('error', (err) => void (lastError = err));
    this.closedPromise = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      for (const p of this.pending.splice(0)) p.reject(closedError());
      const err = this.closing ? undefined : lastError ?? new Error('redis connection closed by the server');
      resolve();
      this.onClose?.(err);
    }));
  }

  static connect(options: { port: number; host?: string; connectTimeout?: number }): Promise<RespClient> {
    const host = options.host ?? '127.0.0.1';
    const where = `${host}:${options.port}`;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port: options.port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`redis connect to ${where} timed out after ${options.connectTimeout ?? 5000} ms`));
      }, options.connectTimeout ?? 5000);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`redis connect to ${where} failed: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(new RespClient(socket));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  command(args: Array<string | Buffer | number>): Promise<RespValue> {
    const name = String(args[0] ?? '').toUpperCase();
    // Raw (un)subscribe would add confirmations the reply queue does not expect.
    if (/^[PS]?(UN)?SUBSCRIBE$/.test(name)) throw new Error(`redis: use subscribe()/unsubscribe() instead of command(['${name}', ...])`);
    if (this.channels.size > 0 && name !== 'PING' && name !== 'QUIT') {
      throw new Error(`redis: ${name} is not allowed on a subscribed connection (only PING); use a separate client for commands`);
    }
    return this.send('cmd', args);
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
    await this.send('subscribe', ['SUBSCRIBE', channel]).catch((err: Error) => {
      if (err instanceof RespError) this.channels.delete(channel); // refused (e.g. by an ACL): not subscribed
      throw err;
    });
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    await this.send('unsubscribe', ['UNSUBSCRIBE', channel]);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    if (!this.closing) {
      this.closing = true;
      this.send('cmd', ['QUIT']).catch(() => {});
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      void this.closedPromise.then(() => clearTimeout(timer));
    }
    await this.closedPromise;
  }

  private send(kind: Kind, args: Array<string | Buffer | number>): Promise<RespValue> {
    if (this.isClosed || (this.closing && args[0] !== 'QUIT')) return Promise.reject(closedError());
    const parts = args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(typeof a === 'number' ? String(a) : a, 'utf8')));
    let size = 3 + String(parts.length).length;
    for (const p of parts) size += 5 + String(p.length).length + p.length;
    const buf = Buffer.allocUnsafe(size);
    let at = buf.write(`*${parts.length}\r\n`, 'latin1');
    for (const p of parts) {
      at += buf.write(`$${p.length}\r\n`, at, 'latin1');
      at += p.copy(buf, at);
      at += buf.write('\r\n', at, 'latin1');
    }
    // Batch everything sent in one tick into a single corked write.
    if (this.outbox.push(buf) === 1) process.nextTick(() => this.flush());
    return new Promise((resolve, reject) => void this.pending.push({ kind, resolve, reject }));
  }

  private flush(): void {
    const bufs = this.outbox.splice(0);
    if (this.socket.destroyed) return;
    this.socket.cork();
    for (const b of bufs) this.socket.write(b);
    this.socket.uncork();
  }

  private dispatch(reply: RespValue | RespError): void {
    if (this.serverSubscribed && Array.isArray(reply) && reply.length === 3 && String(reply[0]) === 'message') {
      const channel = String(reply[1]);
      // Filtered by the requested set so that messages stop as soon as unsubscribe() is called.
      if (!this.channels.has(channel)) return;
      try {
        this.onMessage?.(channel, reply[2] as Buffer);
      } catch (err) {
        process.nextTick(() => { throw err; }); // surface the bug without desyncing the reply queue
      }
      return;
    }
    const p = this.pending.shift();
    if (!p) {
      this.socket.destroy(new Error('redis protocol error: reply without a pending command'));
      return;
    }
    if (reply instanceof RespError) p.reject(reply);
    else if (p.kind === 'cmd') p.resolve(reply);
    else if (Array.isArray(reply) && String(reply[0]) === p.kind && typeof reply[2] === 'number') {
      this.serverSubscribed = reply[2] > 0; // the server leaves subscribe mode at zero channels
      p.resolve(null);
    } else {
      const err = new Error(`redis protocol error: unexpected reply to ${p.kind.toUpperCase()}`);
      p.reject(err);
      this.socket.destroy(err);
    }
  }
}
