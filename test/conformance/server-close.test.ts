/**
 * Autobahn section 7 (close handling) against the Tether echo server: the close
 * handshake, what may follow a close frame (nothing), close payload validation, and the
 * server closing the TCP connection after the handshake.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { frame, within, type RawPeer } from '../helpers.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from '../../src/server/index.js';
import {
  BINARY, CLOSE, CONT, PING, PONG, TEXT,
  assertReceived, closeFrame, expectClose, hex, useEchoServer, withPeer,
} from './server-support.js';

const echo = useEchoServer();

const normalOrNone = (c: number | undefined) => c === undefined || c === 1000;

describe('7.1 Close handshake basics', () => {
  test('7.1.1: echo a message, then close normally', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'Hello World!'), closeFrame(1000)]));
      assertReceived(await expectClose(peer, 1000), [[TEXT, 'Hello World!']]);
    }));

  test('7.1.x: empty close: the server answers with a close frame (no code or 1000) and closes TCP', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame());
      assertReceived(await expectClose(peer, normalOrNone), []);
    }));

  test('7.1.2: close twice: one close frame back, the second one is ignored', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([closeFrame(1000), closeFrame(1000)]));
      assertReceived(await expectClose(peer, 1000), []);
      assert.equal(peer.frames.filter((f) => f.opcode === CLOSE).length, 1);
    }));

  test('7.1.3: ping after close gets no pong', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([closeFrame(1000), frame(PING, 'Hello World!')]));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.1.4: text after close is not echoed', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([closeFrame(1000), frame(TEXT, 'Hello World!')]));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.1.4b: a second message after close is not echoed (first one is)', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'first'), closeFrame(1000), frame(TEXT, 'second'), frame(BINARY, 'third')]));
      assertReceived(await expectClose(peer, 1000), [[TEXT, 'first']]);
    }));

  test('7.1.5: first fragment, close, last fragment: the message is not echoed', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), closeFrame(1000), frame(CONT, 'fragment2')]));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.1.6: 256 KiB message, close, ping: message echoed, close, no pong', () =>
    withPeer(echo.port, async (peer) => {
      const big = Buffer.from('BAsd7&jh23'.repeat(26215)).subarray(0, 262144);
      await peer.send(Buffer.concat([frame(TEXT, big), closeFrame(1000), frame(PING, 'Hello World!')]));
      assertReceived(await expectClose(peer, 1000, 5000), [[TEXT, big]]);
    }));

  test('7.1.x: close written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      await within(peer.send(closeFrame(1001, 'bye'), 1), 2000, 'write');
      assertReceived(await expectClose(peer, 1001), []);
    }));

  test('7.1.x: garbage after the close frame is ignored (no 1002, just the close echo)', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([closeFrame(1000), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
      assertReceived(await expectClose(peer, 1000), []);
    }));
});

describe('7.3 Close payload', () => {
  test('7.3.1: close with an empty payload', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame());
      assertReceived(await expectClose(peer, normalOrNone), []);
    }));

  test('7.3.2: close with a 1-byte payload is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(CLOSE, Buffer.from([0x03])));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('7.3.3: close with code 1000 and no reason', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame(1000));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.3.4: close with code 1000 and a reason: same code back', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame(1000, 'Hello World!'));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.3.5: close with code 1000 and a 123-byte reason', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame(1000, '*'.repeat(123)));
      assertReceived(await expectClose(peer, 1000), []);
    }));

  test('7.3.5b: a 123-byte multi-byte reason reaches the close handler intact', async () => {
    let seen: { code: number; reason: string } | undefined;
    const server = new WebSocketServer({
      heartbeatInterval: 0,
      close(_ws, code, reason) {
        seen = { code, reason };
      },
    });
    const addr = await server.listen(0, '127.0.0.1');
    try {
      await withPeer(addr.port, async (peer) => {
        const reason = 'é'.repeat(61) + 'x'; // 123 bytes
        assert.equal(Buffer.byteLength(reason), 123);
        await peer.send(closeFrame(4001, reason));
        assertReceived(await expectClose(peer, 4001), []);
        await within((async () => { while (!seen) await new Promise((r) => setTimeout(r, 5)); })(), 2000, 'close handler');
        assert.deepEqual(seen, { code: 4001, reason });
      });
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  test('7.3.6: close with a 126-byte payload (124-byte reason) is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame(1000, '*'.repeat(124)));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('7.5.1: close reason that is not UTF-8 is refused with 1007', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(closeFrame(1000, Buffer.concat([hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80'), Buffer.from('edited')])));
      assertReceived(await expectClose(peer, 1007), []);
    }));

  for (const bad of [hex('ff'), hex('c0 af'), hex('f4 90 80 80'), hex('e2 82')]) {
    test(`7.5.x: close reason ${bad.toString('hex')} (invalid UTF-8) is refused with 1007`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(closeFrame(1000, bad));
        assertReceived(await expectClose(peer, 1007), []);
      }));
  }
});

describe('7.7 Valid close codes are echoed', () => {
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
    test(`7.7.x: close code ${code} is echoed`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(closeFrame(code));
        assertReceived(await expectClose(peer, code), []);
      }));
    test(`7.7.x: close code ${code} with a reason is echoed`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(closeFrame(code, 'reason'));
        assertReceived(await expectClose(peer, code), []);
      }));
  }
});

describe('7.9 Invalid close codes are refused with 1002', () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    test(`7.9.x: close code ${code} is refused with 1002`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(closeFrame(code));
        assertReceived(await expectClose(peer, 1002), []);
      }));
  }

  test('7.9.x: invalid close code after a message: message echoed, then 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'before'), closeFrame(1005)]));
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'before']]);
    }));
});

describe('7.x The server closes TCP after its close frame', () => {
  /** The peer never sends anything after the server's close: the server must still hang up. */
  async function failAndStaySilent(peer: RawPeer<Duplex>, bytes: Buffer, code: number): Promise<void> {
    await peer.send(bytes);
    assertReceived(await expectClose(peer, code, 1000), []);
  }

  test('7.x: after a protocol error, the TCP connection is closed within 1 s', () =>
    withPeer(echo.port, (peer) => failAndStaySilent(peer, frame(6), 1002)));

  test('7.x: after invalid UTF-8, the TCP connection is closed within 1 s', () =>
    withPeer(echo.port, (peer) => failAndStaySilent(peer, frame(TEXT, hex('ff')), 1007)));

  test('7.x: after the close handshake, the TCP connection is closed within 1 s', () =>
    withPeer(echo.port, (peer) => failAndStaySilent(peer, closeFrame(1000), 1000)));

  test('7.x: server-initiated close (server.close) sends 1001 and closes TCP after our reply', async () => {
    const server = new WebSocketServer({ heartbeatInterval: 0, message(ws, data, isBinary) { ws.send(data, { binary: isBinary }); } });
    const addr = await server.listen(0, '127.0.0.1');
    let closing: Promise<void> | undefined;
    try {
      await withPeer(addr.port, async (peer) => {
        await peer.send(frame(TEXT, 'x'));
        await peer.waitFrames(1, 2000);
        closing = server.close({ timeout: 2000 });
        const frames = await peer.waitFrames(2, 2000);
        const c = frames[1]!;
        assert.equal(c.opcode, CLOSE);
        assert.equal(c.payload.readUInt16BE(0), 1001);
        await peer.send(closeFrame(1001));
        await peer.waitClosed(1000);
        assertReceived(await expectClose(peer, 1001), [[TEXT, 'x']]);
        await within(closing, 2000, 'server.close');
      });
    } finally {
      await (closing ?? server.close({ timeout: 100 }));
    }
  });

  test('7.x: ping and pong payloads are echoed byte for byte before the close', () =>
    withPeer(echo.port, async (peer) => {
      const p = randomBytes(125);
      await peer.send(Buffer.concat([frame(PING, p), closeFrame(1000)]));
      assertReceived(await expectClose(peer, 1000), [[PONG, p]]);
    }));
});
