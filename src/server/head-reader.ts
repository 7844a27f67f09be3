import type { Duplex } from 'node:stream';
import { BARE_LF, findHeadEnd, HEAD_INCOMPLETE, HttpHeadError, parseHttpHead, type HttpHead } from '../protocol/index.js';

export type HeadResult = { head: HttpHead; rest: Buffer } | { status: number; message: string };

/**
 * Reads the HTTP head of an upgrade request straight off a raw socket (the standalone
 * server does not go through node:http), within a size limit.
 *
 * A head that arrives in one chunk is parsed from that chunk. One that trickles in
 * (slowloris) is collected in a buffer that grows geometrically, and only the new bytes of
 * each chunk are scanned: the work is linear in the bytes received, however they are split,
 * and the memory is at most about twice maxHeaderSize plus one chunk.
 */
export function readRequestHead(socket: Duplex, maxHeaderSize: number, done: (result: HeadResult) => void): void {
  let collected: Buffer | null = null;
  let filled = 0;
  const onData = (chunk: Buffer): void => {
    let buf = chunk;
    const from = filled;
    if (filled > 0) {
      if (filled + chunk.length > collected!.length) {
        const grown = Buffer.allocUnsafe(Math.max(filled + chunk.length, collected!.length * 2));
        collected!.copy(grown, 0, 0, filled);
        collected = grown;
      }
      chunk.copy(collected!, filled);
      filled += chunk.length;
      buf = collected!.subarray(0, filled);
    }
    const end = findHeadEnd(buf, from);
    if (end === BARE_LF) return finish({ status: 400, message: 'line endings must be CRLF' });
    if (end === HEAD_INCOMPLETE) {
      if (buf.length > maxHeaderSize) return finish({ status: 431, message: 'request head too large' });
      if (filled === 0) {
        collected = Buffer.allocUnsafe(Math.max(1024, chunk.length * 2));
        chunk.copy(collected);
        filled = chunk.length;
      }
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
    collected = null;
    done(result);
  };
  socket.on('data', onData);
}
