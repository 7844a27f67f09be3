/**
 * Autobahn section 9 (large messages) and the maxPayload limit over the wire, against
 * the Tether echo server.
 */
import { describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { frame, within } from '../helpers.js';
import {
  BINARY, CONT, PING, PONG, TEXT,
  assertReceived, expectClose, expectEcho, fragments, useEchoServer, waitReceived, withPeer,
} from './server-support.js';

const KiB = 1024;
const MiB = 1024 * 1024;

/** Valid text of n bytes, ASCII and multi-byte characters mixed (cut on a character boundary). */
function bigText(n: number): Buffer {
  const unit = Buffer.from('Hello-µ@ßöäüàá-UTF-8!! κόσμε 世界 \u{1f30d} ');
  const b = Buffer.alloc(n);
  for (let pos = 0; pos < n; pos += unit.length) unit.copy(b, pos, 0, Math.min(unit.length, n - pos));
  // Replace a trailing partial character by ASCII.
  let end = n;
  while (end > 0 && (b[end - 1]! & 0xc0) === 0x80) end--;
  if (end > 0 && b[end - 1]! >= 0xc0) end--;
  const lead = end < n ? b[end]! : 0;
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (end < n && end + len > n) b.fill(0x2e, end);
  return b;
}

describe('9 Large messages', () => {
  // 9.3.1/9.4.1 send 4 MiB in 64-byte fragments: 65,536 frames, over the default maxFragments
  // (16,384; test/server/fragment-flood.test.ts checks that default).
  const echo = useEchoServer({ maxFragments: 64 * KiB });
  for (const size of [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB]) {
    for (const [op, name] of [[TEXT, 'text'], [BINARY, 'binary']] as const) {
      test(`9.${op}: ${name} message of ${size / KiB} KiB echoed intact`, { timeout: 20000 }, () =>
        withPeer(echo.port, async (peer) => {
          const payload = op === TEXT ? bigText(size) : randomBytes(size);
          await peer.send(frame(op, payload));
          await expectEcho(peer, [[op, payload]], 10000);
        }));
    }
  }

  for (const fragSize of [64, 4 * KiB, 64 * KiB, MiB]) {
    for (const [op, name] of [[TEXT, 'text'], [BINARY, 'binary']] as const) {
      test(`9.${op + 2}: 4 MiB ${name} message in fragments of ${fragSize} bytes`, { timeout: 20000 }, () =>
        withPeer(echo.port, async (peer) => {
          const payload = op === TEXT ? bigText(4 * MiB) : randomBytes(4 * MiB);
          await peer.send(Buffer.concat(fragments(op, payload, fragSize)));
          await expectEcho(peer, [[op, payload]], 10000);
        }));
    }
  }

  test('9.5: 1 MiB text written in chops of 1 KiB', { timeout: 20000 }, () =>
    withPeer(echo.port, async (peer) => {
      const payload = bigText(MiB);
      await within(peer.send(frame(TEXT, payload), KiB), 10000, 'chopped write');
      await expectEcho(peer, [[TEXT, payload]], 10000);
    }));

  test('9.6: 1 MiB binary written in chops of 4093 bytes', { timeout: 20000 }, () =>
    withPeer(echo.port, async (peer) => {
      const payload = randomBytes(MiB);
      await within(peer.send(frame(BINARY, payload), 4093), 10000, 'chopped write');
      await expectEcho(peer, [[BINARY, payload]], 10000);
    }));

  test('9.7: 1000 small text messages in a row are echoed in order', { timeout: 20000 }, () =>
    withPeer(echo.port, async (peer) => {
      const msgs = Array.from({ length: 1000 }, (_, i) => `message ${i}`);
      await peer.send(Buffer.concat(msgs.map((m) => frame(TEXT, m))));
      await expectEcho(peer, msgs.map((m) => [TEXT, m] as [number, string]), 10000);
    }));
});

describe('Limits: maxPayload 1024 over the wire', () => {
  const echo = useEchoServer({ maxPayload: 1024 });

  for (const [op, name] of [[TEXT, 'text'], [BINARY, 'binary']] as const) {
    test(`${name} frame header announcing 2^40 bytes is refused with 1009 from the header alone`, () =>
      withPeer(echo.port, async (peer) => {
        const header = frame(op, Buffer.alloc(0), { length: 2 ** 40 });
        await peer.send(header);
        assertReceived(await expectClose(peer, 1009), []);
      }));

    test(`${name} frame header announcing 1025 bytes is refused with 1009 from the header alone`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(op, Buffer.alloc(0), { length: 1025 }));
        assertReceived(await expectClose(peer, 1009), []);
      }));

    test(`${name} message of exactly 1024 bytes is echoed`, () =>
      withPeer(echo.port, async (peer) => {
        const payload = op === TEXT ? Buffer.from('a'.repeat(1024)) : randomBytes(1024);
        await peer.send(frame(op, payload));
        await expectEcho(peer, [[op, payload]]);
      }));

    test(`${name} message of 1024 bytes in fragments of 100 is echoed`, () =>
      withPeer(echo.port, async (peer) => {
        const payload = op === TEXT ? Buffer.from('b'.repeat(1024)) : randomBytes(1024);
        await peer.send(Buffer.concat(fragments(op, payload, 100)));
        await expectEcho(peer, [[op, payload]]);
      }));

    test(`${name} fragmented message exceeding 1024 in total is refused with 1009`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat([frame(op, 'c'.repeat(600), { fin: false }), frame(CONT, 'c'.repeat(600))]));
        assertReceived(await expectClose(peer, 1009), []);
      }));

    test(`${name} fragmented message: the fragment header that crosses 1024 is refused at once`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(op, 'd'.repeat(1000), { fin: false }));
        await peer.send(frame(PING, 'sync'));
        assertReceived(await waitReceived(peer, 1), [[PONG, 'sync']]);
        // Only the header of a 25-byte continuation: 1000 + 25 > 1024.
        await peer.send(frame(CONT, Buffer.alloc(0), { length: 25, fin: false }));
        assertReceived(await expectClose(peer, 1009), [[PONG, 'sync']]);
      }));

    test(`${name} message after a refused-size message is never echoed (many small fragments)`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat([...fragments(op, Buffer.from('e'.repeat(2000)), 10), frame(TEXT, 'after')]));
        assertReceived(await expectClose(peer, 1009), []);
      }));
  }

  test('a control frame is not counted against an open message', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(Buffer.concat([frame(BINARY, 'f'.repeat(1000), { fin: false }), frame(PING, 'x'.repeat(125)), frame(CONT, 'f'.repeat(24))]));
      await expectEcho(peer, [[PONG, 'x'.repeat(125)], [BINARY, 'f'.repeat(1024)]]);
    }));
});

describe('Limits: default server', () => {
  const echo = useEchoServer();

  test('a frame header announcing 2^40 bytes is refused with 1009 from the header alone', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(BINARY, Buffer.alloc(0), { length: 2 ** 40 }));
      assertReceived(await expectClose(peer, 1009), []);
    }));

  test('a 64-bit length with the most significant bit set is refused with 1002', () =>
    withPeer(echo.port, async (peer) => {
      const header = frame(BINARY, Buffer.alloc(0), { length: 1 });
      // Rewrite as a 64-bit length 2^63 + 1: b1 = mask | 127, then 8 bytes, then the key.
      const key = header.subarray(2, 6);
      const bytes = Buffer.concat([Buffer.from([0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1]), key]);
      await peer.send(bytes);
      assertReceived(await expectClose(peer, 1002), []);
    }));
});
