import { Duplex, type DuplexOptions } from 'node:stream';
import type { WebSocket } from './websocket.js';

/**
 * A Duplex over a WebSocket with ws's semantics: each message is a chunk read (the socket
 * pauses while the readable side is full), each chunk written is a message; ending the
 * writable side closes the WebSocket; destroying the stream terminates it.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  let terminateOnDestroy = true;
  const duplex = new Duplex({ ...options, autoDestroy: false, emitClose: false, objectMode: false, writableObjectMode: false });

  ws.on('message', (msg: Buffer, isBinary: boolean) => {
    const data = !isBinary && duplex.readableObjectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (err: Error) => {
    if (duplex.destroyed) return;
    // The WebSocket already closes itself after an error (a close frame goes out): do not terminate it.
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });

  duplex._destroy = (err, callback) => {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      process.nextTick(() => duplex.emit('close'));
      return;
    }
    let called = false;
    ws.once('error', (e: Error) => {
      called = true;
      callback(e);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(() => duplex.emit('close'));
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback) => {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    const socket = ws._socket;
    // No socket: a client whose handshake failed; its 'error' event destroys the stream.
    if (socket === null) return;
    if (socket.writableFinished) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
    } else {
      // 'end' follows on the duplex when the WebSocket emits 'close'.
      socket.once('finish', () => callback());
      ws.close();
    }
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk: Buffer, _encoding, callback) => {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, _encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', function (this: Duplex) {
    if (!this.destroyed && this.writableFinished) this.destroy();
  });
  duplex.on('error', function onError(this: Duplex, err: Error) {
    this.removeListener('error', onError);
    this.destroy();
    // Keep the default of throwing when nobody listens.
    if (this.listenerCount('error') === 0) this.emit('error', err);
  });
  return duplex;
}
