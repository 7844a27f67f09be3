import type { Duplex } from 'node:stream';
import { findHeadEnd, HttpHeadError, parseHttpHead, type HttpHead } from '../protocol/index.js';

export type HeadResult = { head: HttpHead; rest: Buffer } | { status: number; message: string };

/**
 * Reads the HTTP head of an upgrade request straight off a raw socket (the standalone
 * server does not go through node:http), within a size limit.
 */
export function readRequestHead(socket: Duplex, maxHeaderSize: number, done: (result: HeadResult) => void): void {
  let buffered: Buffer | null = null;
  const onData = (chunk: Buffer): void => {
    const buf: Buffer = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    const end = findHeadEnd(buf);
    if (end < 0) {
      if (buf.length > maxHeaderSize) finish({ status: 431, message: 'request head too large' });
      else buffered = buf;
      return;
    }
    if (end > maxHeaderSize) return finish({ status: 431, message: 'request head too large' });
    let head: HttpHead;
    try {
      head = parseHttpHead(buf.toString('latin1', 0, end));
    } catch (err) {
      return finish({ status: 400, message: (err as HttpHeadError).message });
    }
    finish({ head, rest: buf.subarray(end) });
  };
  const finish = (result: HeadResult): void => {
    socket.removeListener('data', onData);
    socket.pause();
    done(result);
  };
  socket.on('data', onData);
}
