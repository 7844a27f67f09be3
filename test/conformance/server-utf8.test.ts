/**
 * Autobahn section 6 (UTF-8 handling) against the Tether echo server: valid text echoed
 * however it is fragmented or written, invalid text refused with 1007, and refused as
 * soon as the bytes seen so far cannot be valid ("fail fast").
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, within } from '../helpers.js';
import {
  CONT, PING, PONG, PROMPT, TEXT,
  assertReceived, expectClose, expectEcho, fragments, hex, useEchoServer, waitReceived, withPeer,
} from './server-support.js';

const echo = useEchoServer();

const KOSME = hex('ce ba e1 bd b9 cf 83 ce bc ce b5');

const VALID: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')],
  ['κόσμε', KOSME],
  ['first 1-byte sequence U+0000', hex('00')],
  ['first 2-byte sequence U+0080', hex('c2 80')],
  ['first 3-byte sequence U+0800', hex('e0 a0 80')],
  ['first 4-byte sequence U+10000', hex('f0 90 80 80')],
  ['last 1-byte sequence U+007F', hex('7f')],
  ['last 2-byte sequence U+07FF', hex('df bf')],
  ['last 3-byte sequence U+FFFF', hex('ef bf bf')],
  ['last 4-byte sequence U+10FFFF', hex('f4 8f bf bf')],
  ['U+D7FF (before the surrogates)', hex('ed 9f bf')],
  ['U+E000 (after the surrogates)', hex('ee 80 80')],
  ['U+FFFD', hex('ef bf bd')],
  ['noncharacter U+FFFE', hex('ef bf be')],
  ['all lengths mixed', Buffer.from('a\u00e9\u4e16\u{1f30d}z \u{10ffff}\uffff\u0000')],
];

const INVALID: Array<[string, Buffer]> = [
  ['κόσμε then a surrogate then "edited" (6.3.1)', Buffer.concat([KOSME, hex('ed a0 80'), Buffer.from('edited')])],
  ['surrogate ED A0 80 (U+D800)', hex('ed a0 80')],
  ['surrogate ED AD BF (U+DB7F)', hex('ed ad bf')],
  ['surrogate ED AE 80 (U+DB80)', hex('ed ae 80')],
  ['surrogate ED AF BF (U+DBFF)', hex('ed af bf')],
  ['surrogate ED B0 80 (U+DC00)', hex('ed b0 80')],
  ['surrogate ED BE 80 (U+DF80)', hex('ed be 80')],
  ['surrogate ED BF BF (U+DFFF)', hex('ed bf bf')],
  ['surrogate pair U+D800 U+DC00', hex('ed a0 80 ed b0 80')],
  ['U+110000 F4 90 80 80', hex('f4 90 80 80')],
  ['F7 BF BF BF', hex('f7 bf bf bf')],
  ['5-byte sequence F8 88 80 80 80', hex('f8 88 80 80 80')],
  ['6-byte sequence FC 84 80 80 80 80', hex('fc 84 80 80 80 80')],
  ['overlong "/" C0 AF', hex('c0 af')],
  ['overlong "/" E0 80 AF', hex('e0 80 af')],
  ['overlong "/" F0 80 80 AF', hex('f0 80 80 af')],
  ['overlong C1 BF', hex('c1 bf')],
  ['overlong E0 9F BF', hex('e0 9f bf')],
  ['overlong F0 8F BF BF', hex('f0 8f bf bf')],
  ['overlong NUL C0 80', hex('c0 80')],
  ['overlong NUL E0 80 80', hex('e0 80 80')],
  ['lone continuation 80', hex('80')],
  ['lone continuation BF', hex('bf')],
  ['continuations 80 BF 80 BF', hex('80 bf 80 bf')],
  ['text then lone continuation', Buffer.concat([Buffer.from('Hello'), hex('80'), Buffer.from('world')])],
  ['lone start C0 then space', hex('c0 20')],
  ['lone start E0 then space', hex('e0 20')],
  ['lone start F0 then space', hex('f0 20')],
  ['truncated C2', hex('c2')],
  ['truncated E0 A0', hex('e0 a0')],
  ['truncated F0 90 80', hex('f0 90 80')],
  ['truncated DF', hex('df')],
  ['truncated EF BF', hex('ef bf')],
  ['truncated F4 8F BF', hex('f4 8f bf')],
  ['text ending in a truncated sequence', Buffer.concat([Buffer.from('Hello'), hex('ce')])],
  ['FE', hex('fe')],
  ['FF', hex('ff')],
  ['FE FE FF FF', hex('fe fe ff ff')],
  ['valid text, U+110000, valid text', Buffer.concat([Buffer.from('Hello'), hex('f4 90 80 80'), Buffer.from('world')])],
];

describe('6 UTF-8: valid text is echoed', () => {
  for (const [name, text] of VALID) {
    test(`6.x: ${name}: one frame`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(TEXT, text));
        await expectEcho(peer, [[TEXT, text]]);
      }));

    if (text.length === 0) continue;

    test(`6.x: ${name}: fragments of 1 byte`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat(fragments(TEXT, text, 1)));
        await expectEcho(peer, [[TEXT, text]]);
      }));

    test(`6.x: ${name}: one frame written 1 byte at a time`, () =>
      withPeer(echo.port, async (peer) => {
        await within(peer.send(frame(TEXT, text), 1), 5000, 'write');
        await expectEcho(peer, [[TEXT, text]]);
      }));

    test(`6.x: ${name}: 2 fragments split at every byte boundary`, () =>
      withPeer(echo.port, async (peer) => {
        const out: Buffer[] = [];
        const expected: Array<[number, Buffer]> = [];
        for (let k = 0; k <= text.length; k++) {
          out.push(frame(TEXT, text.subarray(0, k), { fin: false }), frame(CONT, text.subarray(k)));
          expected.push([TEXT, text]);
        }
        await peer.send(Buffer.concat(out));
        await expectEcho(peer, expected);
      }));
  }

  test('6.x: every valid text in one connection, fragmented 1 byte each, written 1 byte at a time', () =>
    withPeer(echo.port, async (peer) => {
      const nonEmpty = VALID.filter(([, t]) => t.length > 0);
      const bytes = Buffer.concat(nonEmpty.flatMap(([, t]) => fragments(TEXT, t, 1)));
      await within(peer.send(bytes, 1), 10000, 'write');
      await expectEcho(peer, nonEmpty.map(([, t]) => [TEXT, t] as [number, Buffer]), 5000);
    }));
});

describe('6 UTF-8: invalid text is refused with 1007', () => {
  for (const [name, text] of INVALID) {
    test(`6.x: ${name}: one frame`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(TEXT, text));
        assertReceived(await expectClose(peer, 1007), []);
      }));

    test(`6.x: ${name}: fragments of 1 byte`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(Buffer.concat(fragments(TEXT, text, 1)));
        assertReceived(await expectClose(peer, 1007), []);
      }));

    test(`6.x: ${name}: one frame written 1 byte at a time, after a valid message`, () =>
      withPeer(echo.port, async (peer) => {
        await within(peer.send(Buffer.concat([frame(TEXT, 'ok'), frame(TEXT, text)]), 1), 5000, 'write');
        assertReceived(await expectClose(peer, 1007), [[TEXT, 'ok']]);
      }));
  }

  test('6.x: invalid UTF-8 in a binary message is fine (echoed)', () =>
    withPeer(echo.port, async (peer) => {
      const data = hex('ed a0 80 f4 90 80 80 c0 af ff');
      await peer.send(frame(2, data));
      await expectEcho(peer, [[2, data]]);
    }));
});

describe('6.4 UTF-8: fail fast', () => {
  const FIRST_FRAGMENTS: Array<[string, Buffer]> = [
    ['text then a surrogate', Buffer.concat([Buffer.from('Hello'), hex('ed a0 80')])],
    ['U+110000', hex('f4 90 80 80')],
    ['only F4 90 (invalid on the second byte)', Buffer.concat([Buffer.from('Hello'), hex('f4 90')])],
    ['overlong C0 AF', hex('c0 af')],
    ['lone continuation', Buffer.concat([KOSME, hex('80')])],
    ['only E0 80 (overlong prefix)', hex('e0 80')],
  ];
  for (const [name, bytes] of FIRST_FRAGMENTS) {
    test(`6.4.x: first fragment invalid (${name}): 1007 before the rest is sent`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(frame(TEXT, bytes, { fin: false }));
        // Nothing else is sent: the server must refuse the message from this fragment alone.
        assertReceived(await expectClose(peer, 1007), []);
      }));
  }

  test('6.4.1: valid first fragment, invalid second fragment: 1007 before the third', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, KOSME, { fin: false }));
      await peer.send(frame(PING, 'sync'));
      assertReceived(await waitReceived(peer, 1), [[PONG, 'sync']]);
      await peer.send(frame(CONT, hex('f4 90 80 80'), { fin: false }));
      assertReceived(await expectClose(peer, 1007), [[PONG, 'sync']]);
    }));

  test('6.4.2: valid first fragment, second fragment F4 90 only: 1007 before the third', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, KOSME, { fin: false }));
      await peer.send(frame(PING, 'sync'));
      assertReceived(await waitReceived(peer, 1), [[PONG, 'sync']]);
      await peer.send(frame(CONT, hex('f4 90'), { fin: false }));
      assertReceived(await expectClose(peer, 1007), [[PONG, 'sync']]);
    }));

  test('6.4.x: first fragment ends in an incomplete but valid prefix: no close, message completes', () =>
    withPeer(echo.port, async (peer) => {
      await peer.send(frame(TEXT, Buffer.concat([Buffer.from('Hello'), hex('f4 8f')]), { fin: false }));
      await peer.send(frame(PING, 'sync'));
      assertReceived(await waitReceived(peer, 1), [[PONG, 'sync']]);
      assert.equal(peer.isClosed, false);
      await peer.send(frame(CONT, hex('bf bf')));
      await expectEcho(peer, [[PONG, 'sync'], [TEXT, Buffer.concat([Buffer.from('Hello'), hex('f4 8f bf bf')])]]);
    }));

  /** Header plus the first `cut` payload bytes of a masked text frame. */
  function partialFrame(payload: Buffer, cut: number): Buffer {
    const whole = frame(TEXT, payload);
    const headerLength = whole.length - payload.length;
    return whole.subarray(0, headerLength + cut);
  }

  const SINGLE_FRAME: Array<[string, Buffer, number]> = [
    // [name, full payload, bytes of it sent]
    ['valid text, then U+110000, rest withheld', Buffer.concat([Buffer.from('Hello-'), hex('f4 90 80 80'), Buffer.from('x'.repeat(200))]), 10],
    ['valid text, then F4 90, rest withheld', Buffer.concat([Buffer.from('Hello-'), hex('f4 90 80 80'), Buffer.from('x'.repeat(200))]), 8],
    ['κόσμε, surrogate, more valid text, rest withheld', Buffer.concat([KOSME, hex('ed a0 80'), Buffer.from('edited'.repeat(30))]), KOSME.length + 3 + 20],
    ['overlong at the start of a 64 KiB frame', Buffer.concat([hex('c0 af'), Buffer.from('y'.repeat(65534))]), 2],
    ['lone continuation inside a 1 MiB frame', Buffer.concat([Buffer.from('z'.repeat(1000)), hex('80'), Buffer.from('z'.repeat(1024 * 1024))]), 1001],
  ];
  for (const [name, payload, cut] of SINGLE_FRAME) {
    test(`6.4.3: single frame, ${name}: 1007 before the rest of the payload arrives`, () =>
      withPeer(echo.port, async (peer) => {
        await peer.send(partialFrame(payload, cut));
        assertReceived(await expectClose(peer, 1007), []);
      }));
  }

  test('6.4.4: single frame in 3 writes (valid, F4 90, rest withheld): 1007 after the second write', () =>
    withPeer(echo.port, async (peer) => {
      const payload = Buffer.concat([KOSME, hex('f4 90 80 80'), Buffer.from('edited')]);
      const whole = frame(TEXT, payload);
      const h = whole.length - payload.length;
      await peer.send(whole.subarray(0, h + KOSME.length));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(peer.frames.length, 0, 'nothing expected after a valid prefix');
      await peer.send(whole.subarray(h + KOSME.length, h + KOSME.length + 2));
      assertReceived(await expectClose(peer, 1007), []);
    }));

  test('6.4.x: valid fragmented prefix of 1-byte writes, then the invalid byte: 1007 without the rest', () =>
    withPeer(echo.port, async (peer) => {
      const payload = Buffer.concat([Buffer.from('abc'), hex('e2 82 ac'), hex('ed'), hex('a0'), Buffer.from('tail')]);
      const whole = frame(TEXT, payload);
      const h = whole.length - payload.length;
      // Everything up to and including the A0 that makes ED A0 a surrogate, byte by byte.
      await within(peer.send(whole.subarray(0, h + 8), 1), PROMPT, 'write');
      assertReceived(await expectClose(peer, 1007), []);
    }));
});
