/**
 * Autobahn section 5 (fragmentation) and 10 (misc: autofragmented messages) against the
 * Tether echo server, over raw TCP.
 */
import { describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { frame, within } from '../helpers.js';
import {
  BINARY, CONT, PING, PONG, TEXT,
  assertReceived, expectClose, expectEcho, fragments, transport, useEchoServer, waitReceived, withPeer,
} from './server-support.js';

const echo = useEchoServer();

describe('5 Fragmentation', () => {
  test('5.1: ping in 2 fragments is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(PING, 'frag', { fin: false }), frame(CONT, 'ment')]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.2: pong in 2 fragments is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(PONG, 'frag', { fin: false }), frame(CONT, 'ment')]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.1b: the first (non-final) ping fragment alone is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(PING, 'frag', { fin: false }));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.3: text in 2 fragments is echoed as one message', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), frame(CONT, 'fragment2')]));
      await expectEcho(peer, [[TEXT, 'fragment1fragment2']]);
    }));

  test('5.4: text in 2 fragments, written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      await within(peer.send(Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), frame(CONT, 'fragment2')]), 1), 5000, 'write');
      await expectEcho(peer, [[TEXT, 'fragment1fragment2']]);
    }));

  test('5.5: text in 2 fragments, second fragment sent after the first was processed', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, 'fragment1', { fin: false }));
      // A ping round trip proves the first fragment was processed and did not produce a message.
      await peer.send(frame(PING, 'sync'));
      assertReceived(await waitReceived(peer, 1), [[PONG, 'sync']]);
      await peer.send(frame(CONT, 'fragment2'));
      await expectEcho(peer, [[PONG, 'sync'], [TEXT, 'fragment1fragment2']]);
    }));

  test('5.6: text in 2 fragments with a ping in between: pong first, then the message', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), frame(PING, 'ping payload'), frame(CONT, 'fragment2')]));
      await expectEcho(peer, [[PONG, 'ping payload'], [TEXT, 'fragment1fragment2']]);
    }));

  test('5.7: text in 2 fragments with a ping in between, written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      const bytes = Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), frame(PING, 'ping payload'), frame(CONT, 'fragment2')]);
      await within(peer.send(bytes, 1), 5000, 'write');
      await expectEcho(peer, [[PONG, 'ping payload'], [TEXT, 'fragment1fragment2']]);
    }));

  test('5.8: binary in 5 fragments with pings and an unsolicited pong between them', () =>
    withPeer(echo.port, async (peer) => {
      const parts = [randomBytes(10), randomBytes(0), randomBytes(200), randomBytes(70000), randomBytes(3)];
      const bytes = Buffer.concat([
        frame(BINARY, parts[0]!, { fin: false }), frame(PING, 'p1'),
        frame(CONT, parts[1]!, { fin: false }), frame(PONG, 'unsolicited'),
        frame(CONT, parts[2]!, { fin: false }), frame(PING, 'p2'),
        frame(CONT, parts[3]!, { fin: false }), frame(PING, 'p3'),
        frame(CONT, parts[4]!),
      ]);
      await peer.send(bytes);
      await expectEcho(peer, [[PONG, 'p1'], [PONG, 'p2'], [PONG, 'p3'], [BINARY, Buffer.concat(parts)]]);
    }));

  test('5.9: continuation (FIN) without a message is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(CONT, 'non-continuation payload'), frame(TEXT, 'Hello, world!')]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.10: continuation without a message, written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      await within(peer.send(Buffer.concat([frame(CONT, 'non-continuation payload'), frame(TEXT, 'Hello, world!')]), 1), 5000, 'write');
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.12: continuation (not FIN) without a message is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(CONT, 'non-continuation payload', { fin: false }));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.13: message whose first fragment is a continuation (then CONT, then CONT FIN) is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([
        frame(CONT, 'fragment1', { fin: false }), frame(CONT, 'fragment2', { fin: false }), frame(CONT, 'fragment3'),
      ]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.x: continuation after a complete message is refused with 1002 (the message is echoed first)', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'complete'), frame(CONT, 'stray')]));
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'complete']]);
    }));

  test('5.15: text frame while a fragmented message is open is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([
        frame(TEXT, 'fragment1', { fin: false }), frame(CONT, 'fragment2', { fin: false }),
        frame(TEXT, 'fragment3', { fin: false }), frame(CONT, 'fragment4'),
      ]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.15b: unfragmented binary frame while a text message is open is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'fragment1', { fin: false }), frame(BINARY, 'whole')]));
      assertReceived(await expectClose(peer, 1002), []);
    }));

  test('5.16: valid message, then a message starting with a continuation: echo, then 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([
        frame(TEXT, 'fragment1', { fin: false }), frame(CONT, 'fragment2'),
        frame(CONT, 'fragment3', { fin: false }), frame(TEXT, 'fragment4'),
      ]));
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'fragment1fragment2']]);
    }));

  test('5.17: text message, then a stray continuation that is final: echo, then 1002', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(TEXT, 'fragment1'), frame(CONT, 'fragment2')]));
      assertReceived(await expectClose(peer, 1002), [[TEXT, 'fragment1']]);
    }));

  test('5.19: text in 5 fragments with pings between, sent fragment by fragment', () =>
    withPeer(echo.port, async (peer) => {
      const parts = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'];
      const expected: Array<[number, string]> = [];
      for (let i = 0; i < parts.length; i++) {
        const fin = i === parts.length - 1;
        await peer.send(frame(i === 0 ? TEXT : CONT, parts[i]!, { fin }));
        if (!fin) {
          await peer.send(frame(PING, `pongme ${i}`));
          expected.push([PONG, `pongme ${i}`]);
          assertReceived(await waitReceived(peer, expected.length), expected);
        }
      }
      expected.push([TEXT, parts.join('')]);
      await expectEcho(peer, expected);
    }));

  test('5.x: empty fragments are allowed (empty first, middle and last fragment)', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([
        frame(TEXT, '', { fin: false }), frame(CONT, 'abc', { fin: false }), frame(CONT, '', { fin: false }), frame(CONT, 'def', { fin: false }), frame(CONT, ''),
        frame(BINARY, '', { fin: false }), frame(CONT, ''),
      ]));
      await expectEcho(peer, [[TEXT, 'abcdef'], [BINARY, Buffer.alloc(0)]]);
    }));

  test('5.x: text split into 1-byte fragments, all frames written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      const text = Buffer.from('Hello, fragmented world!');
      await within(peer.send(Buffer.concat(fragments(TEXT, text, 1)), 1), 10000, 'write');
      await expectEcho(peer, [[TEXT, text]]);
    }));

  test('5.x: binary message in fragments of 1..7 bytes, interleaved with pings', () =>
    withPeer(echo.port, async (peer) => {
      const data = randomBytes(300);
      const out: Buffer[] = [];
      const expected: Array<[number, Buffer | string]> = [];
      let pos = 0, k = 0;
      while (pos < data.length) {
        const n = Math.min(1 + (k % 7), data.length - pos);
        out.push(frame(pos === 0 ? BINARY : CONT, data.subarray(pos, pos + n), { fin: pos + n === data.length }));
        pos += n;
        if (pos < data.length && k % 10 === 0) {
          out.push(frame(PING, `k${k}`));
          expected.push([PONG, `k${k}`]);
        }
        k++;
      }
      expected.push([BINARY, data]);
      await peer.send(Buffer.concat(out));
      await expectEcho(peer, expected);
    }));
});

describe('5.x Arbitrary chunk boundaries', () => {
  /** A mixed stream: every header size (2, 4 and 10 bytes + key), control frames inside a fragmented message. */
  function mixedStream(): { bytes: Buffer; expected: Array<[number, Buffer | string]> } {
    const t1 = Buffer.from('Hello-µ@ßöäüàá-UTF-8!! κόσμε \u{1f30d}');
    const b1 = Buffer.alloc(300, 7);
    const b2 = Buffer.alloc(70000, 9);
    const bytes = Buffer.concat([
      frame(TEXT, t1.subarray(0, 17), { fin: false }), frame(PING, 'p1'), frame(CONT, t1.subarray(17, 31), { fin: false }),
      frame(PONG, 'ignored'), frame(CONT, t1.subarray(31)),
      frame(BINARY, b1), frame(PING, ''), frame(BINARY, b2, { fin: false }), frame(PING, 'x'.repeat(125)), frame(CONT, b1),
      frame(TEXT, ''),
    ]);
    return { bytes, expected: [[PONG, 'p1'], [TEXT, t1], [BINARY, b1], [PONG, ''], [PONG, 'x'.repeat(125)], [BINARY, Buffer.concat([b2, b1])], [TEXT, '']] };
  }
  // Over HTTP/2 (test/http2/) every write is a DATA frame costing ~10x a TCP write: fewer sizes keep that run in its time budget.
  for (const chunk of transport.http2 ? [101, 997] : [2, 3, 5, 7, 11, 13, 15, 997]) {
    test(`5.x: mixed frame stream written in chunks of ${chunk} bytes`, () =>
      withPeer(echo.port, async (peer) => {
        const { bytes, expected } = mixedStream();
        // 35,000 writes of 2 bytes, a turn of the event loop each: a bound on hanging, generous
        // for a loaded machine (10 s failed there), not a claim about speed.
        await within(peer.send(bytes, chunk), 60_000, 'write');
        await expectEcho(peer, expected, 5000);
      }));
  }
});

describe('10 Misc', () => {
  for (const [op, name] of [[TEXT, 'text'], [BINARY, 'binary']] as const) {
    test(`10.1.1: ${name} message of 65536 bytes in fragments of 1300 bytes`, () =>
      withPeer(echo.port, async (peer) => {
        const payload = op === TEXT ? Buffer.from('*'.repeat(65536)) : randomBytes(65536);
        const frames = fragments(op, payload, 1300);
        await peer.send(Buffer.concat(frames));
        await expectEcho(peer, [[op, payload]], 5000);
      }));
  }

  test('10.1.1b: 64 KiB text in 1300-byte fragments, written in chunks of 997 bytes', () =>
    withPeer(echo.port, async (peer) => {
      const payload = Buffer.from('Hello-µ@ßöäüàá-UTF-8!! '.repeat(3000)).subarray(0, 65536);
      // Keep the payload valid UTF-8 (cut at a character boundary).
      const text = Buffer.from(payload.toString('utf8').replace(/\uFFFD+$/, ''));
      await within(peer.send(Buffer.concat(fragments(TEXT, text, 1300)), 997), 5000, 'write');
      await expectEcho(peer, [[TEXT, text]], 5000);
    }));
});
