/**
 * Autobahn sections 1 (framing), 2 (ping/pong), 3 (reserved bits) and 4 (opcodes)
 * against the Tether echo server, over raw TCP.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { acceptKey, findHeadEnd, parseHttpHead } from '../../src/protocol/index.js';
import { frame, parseFrames, within } from '../helpers.js';
import {
  BINARY, CLOSE, PING, PONG, PROMPT, TEXT,
  assertReceived, expectClose, expectEcho, finish, useEchoServer, waitReceived, withPeer,
} from './server-support.js';

const echo = useEchoServer();

/** Printable ASCII text of n bytes. */
function asciiText(n: number): Buffer {
  const b = randomBytes(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + (b[i]! % 95);
  return b;
}

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

describe('1 Framing', () => {
  for (const [op, name] of [[TEXT, 'text'], [BINARY, 'binary']] as const) {
    for (const len of LENGTHS) {
      test(`1.${op}: ${name} message of ${len} bytes is echoed unmasked with the same opcode`, () =>
        withPeer(echo.port, async (peer) => {
          const payload = op === TEXT ? asciiText(len) : randomBytes(len);
          await peer.send(frame(op, payload));
          const frames = await peer.waitFrames(1, PROMPT);
          const f = frames[0]!;
          assert.equal(f.opcode, op);
          assert.equal(f.masked, false);
          assert.equal(f.fin, true);
          assert.equal(f.rsv, 0);
          assert.equal(f.payload.length, len);
          await expectEcho(peer, [[op, payload]]);
        }));
    }
    test(`1.${op}.8: ${name} message of 65536 bytes written in chunks of 997 bytes`, () =>
      withPeer(echo.port, async (peer) => {
        const payload = op === TEXT ? asciiText(65536) : randomBytes(65536);
        await within(peer.send(frame(op, payload), 997), PROMPT, 'chunked write');
        await expectEcho(peer, [[op, payload]]);
      }));
  }

  test('1.x: several messages in one write are echoed in order', () =>
    withPeer(echo.port, async (peer) => {
      const a = asciiText(10), b = randomBytes(300), c = asciiText(70000);
      await peer.send(Buffer.concat([frame(TEXT, a), frame(BINARY, b), frame(TEXT, c)]));
      await expectEcho(peer, [[TEXT, a], [BINARY, b], [TEXT, c]]);
    }));

  test('1.x: an unmasked frame from the client is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, 'Hello', { mask: false }));
      assertReceived(await expectClose(peer, 1002), []);
    }));
});

describe('1.x Frames pipelined with the opening handshake', () => {
  test('frames in the same write as the upgrade request are processed after the 101', async () => {
    const socket = connect(echo.port, '127.0.0.1');
    socket.on('error', () => {});
    try {
      const key = randomBytes(16).toString('base64');
      const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      const bin = randomBytes(200);
      socket.write(Buffer.concat([request, frame(TEXT, 'pipelined'), frame(PING, 'p'), frame(BINARY, bin), frame(CLOSE, Buffer.from([0x03, 0xe8]))]));
      const all = await within(new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks)));
      }), PROMPT, 'server closes after the pipelined close');
      const end = findHeadEnd(all);
      assert.ok(end > 0, 'no HTTP response head');
      const head = parseHttpHead(all.toString('latin1', 0, end));
      assert.equal(head.start[1], '101');
      assert.equal(head.headers['sec-websocket-accept'], acceptKey(key));
      const { frames, rest } = parseFrames(all.subarray(end));
      assert.equal(rest.length, 0);
      assertReceived(frames.map((f) => ({ opcode: f.opcode, payload: f.payload })), [[TEXT, 'pipelined'], [PONG, 'p'], [BINARY, bin], [CLOSE, Buffer.from([0x03, 0xe8])]]);
      assert.ok(frames.every((f) => !f.masked && f.fin && f.rsv === 0));
    } finally {
      socket.destroy();
    }
  });
});

describe('2 Ping/pong', () => {
  test('2.1: ping without payload gets an empty pong', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PING));
      await expectEcho(peer, [[PONG, Buffer.alloc(0)]]);
    }));

  test('2.2: ping with a small text payload gets a pong with that payload', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PING, 'Hello, world!'));
      await expectEcho(peer, [[PONG, 'Hello, world!']]);
    }));

  test('2.3: ping with a small binary payload gets a pong with that payload', () =>
    withPeer(echo.port, async (peer) => {
      const p = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
      await peer.send(frame(PING, p));
      await expectEcho(peer, [[PONG, p]]);
    }));

  test('2.4: ping with a 125-byte binary payload gets a pong with that payload', () =>
    withPeer(echo.port, async (peer) => {
      const p = randomBytes(125);
      await peer.send(frame(PING, p));
      await expectEcho(peer, [[PONG, p]]);
    }));

  test('2.5: ping with a 126-byte payload is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PING, randomBytes(126)));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('2.6: ping with a 125-byte payload written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      const p = randomBytes(125);
      await within(peer.send(frame(PING, p), 1), PROMPT, 'byte-wise write');
      await expectEcho(peer, [[PONG, p]]);
    }));

  test('2.7: an unsolicited empty pong is ignored', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PONG));
      await peer.send(frame(TEXT, 'after pong'));
      await expectEcho(peer, [[TEXT, 'after pong']]);
    }));

  test('2.8: an unsolicited pong with payload is ignored', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PONG, 'unsolicited pong payload'));
      await peer.send(frame(TEXT, 'still here'));
      await expectEcho(peer, [[TEXT, 'still here']]);
    }));

  test('2.9: unsolicited pong, then ping: only the ping is answered', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(PONG, 'unsolicited pong payload'), frame(PING, 'ping payload')]));
      await expectEcho(peer, [[PONG, 'ping payload']]);
    }));

  test('2.10: 10 pings in a row get 10 pongs in order', () =>
    withPeer(echo.port, async (peer) => {
      const pings = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
      await peer.send(Buffer.concat(pings.map((p) => frame(PING, p))));
      await expectEcho(peer, pings.map((p) => [PONG, p] as [number, Buffer]));
    }));

  test('2.11: 10 pings written in 1-byte chunks get 10 pongs in order', () =>
    withPeer(echo.port, async (peer) => {
      const pings = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
      await within(peer.send(Buffer.concat(pings.map((p) => frame(PING, p))), 1), 5000, 'byte-wise write');
      await expectEcho(peer, pings.map((p) => [PONG, p] as [number, Buffer]));
    }));

  test('2.x: a ping between two messages is answered in order', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'one'), frame(PING, 'p'), frame(BINARY, Buffer.from([1, 2]))]));
      await expectEcho(peer, [[TEXT, 'one'], [PONG, 'p'], [BINARY, Buffer.from([1, 2])]]);
    }));
});

describe('3 Reserved bits', () => {
  const cases: Array<[string, number, Buffer | string]> = [
    ['text', TEXT, 'Hello, world!'],
    ['binary', BINARY, Buffer.from([0, 0xff, 0xfe])],
    ['ping', PING, 'Hello, world!'],
    ['pong', PONG, 'Hello, world!'],
    ['close', CLOSE, Buffer.from([0x03, 0xe8])],
  ];
  for (const [name, op, payload] of cases) {
    for (let rsv = 1; rsv <= 7; rsv++) {
      test(`3.x: ${name} frame with RSV=${rsv} is refused with 1002`, () =>
        withPeer(echo.port, async (peer) => {
          await peer.send(frame(op, payload, { rsv }));
          assertReceived(await expectClose(peer, 1002), []);
        }));
    }
  }

  for (const rsv of [1, 2, 4]) {
    test(`3.2: Hello, then a frame with RSV=${rsv}, then ping: Hello echoed, then 1002 and nothing else`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat([frame(TEXT, 'Hello'), frame(TEXT, 'Hello', { rsv }), frame(PING, 'Hello')]));
        assertReceived(await expectClose(peer, 1002), [[TEXT, 'Hello']]);
      }));
  }

  test('3.3: Hello, RSV frame, ping written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      const bytes = Buffer.concat([frame(TEXT, 'Hello'), frame(TEXT, 'Hello', { rsv: 3 }), frame(PING, 'Hello')]);
      // The server closes while we are still writing; the rest of the writes are ignored.
      await within(peer.send(bytes, 1), 5000, 'byte-wise write');
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'Hello']]);
    }));

  test('3.x: RSV bits on a continuation frame are refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'Hel', { fin: false }), frame(0, 'lo', { rsv: 4 })]));
      assertReceived(await expectClose(peer, 1002), []);
    }));
});

describe('4 Opcodes', () => {
  for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    const kind = op < 8 ? 'non-control' : 'control';
    test(`4.x: reserved ${kind} opcode ${op} is refused with 1002`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(op));
        assertReceived(await expectClose(peer, 1002), []);
      }));
    test(`4.x: reserved ${kind} opcode ${op} with payload after a valid message, then ping: message echoed, then 1002`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat([frame(TEXT, 'Hello'), frame(op, 'reserved opcode payload'), frame(PING, 'Hello')]));
        assertReceived(await expectClose(peer, 1002), [[TEXT, 'Hello']]);
      }));
  }

  test('4.x: reserved opcode after a message, each frame written separately after its echo', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, 'first'));
      const got = await waitReceived(peer, 1);
      assertReceived(got, [[TEXT, 'first']]);
      await peer.send(frame(5, 'x'));
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'first']]);
    }));

  test('4.x: a healthy session still closes cleanly (control)', () =>
    withPeer(echo.port, async (peer) => {
      assertReceived(await finish(peer), []);
    }));
});
