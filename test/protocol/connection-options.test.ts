// The connection options the ws-compatible layer needs: text as bytes, no UTF-8 check,
// no automatic pong, echoing the close reason, and messages sent fragment by fragment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolConnection, type ProtocolConnectionOptions } from '../../src/protocol/index.js';
import { BIG_MAX, frame, parseFrames, KEY } from './_harness.js';

type Event = [string, ...unknown[]];

class Conn extends ProtocolConnection {
  events: Event[] = [];
  sent: Buffer[] = [];
  constructor(options: Partial<ProtocolConnectionOptions> = {}) {
    super({ role: 'server', maxPayload: BIG_MAX, ...options });
  }
  protected override transmit(f: Buffer | Uint8Array): void {
    this.sent.push(Buffer.from(f));
  }
  protected override onMessage(data: string | Buffer, isBinary: boolean): void {
    this.events.push(['message', data, isBinary]);
  }
  protected override onPing(payload: Buffer): void {
    this.events.push(['ping', Buffer.from(payload)]);
  }
  protected override onCloseHandshake(code: number, reason: string): void {
    this.events.push(['close', code, reason]);
  }
  protected override onFailure(code: number, reason: string): void {
    this.events.push(['failure', code, reason]);
  }
  feed(...chunks: Buffer[]): this {
    for (const c of chunks) this.receive(Buffer.from(c));
    return this;
  }
  frames() {
    return parseFrames(Buffer.concat(this.sent)).frames;
  }
}

const masked = { mask: KEY };
const BAD_UTF8 = Buffer.from([0x68, 0xc3, 0x28]);

test('textAsBytes: text arrives as its UTF-8 bytes, whole or fragmented', () => {
  const c = new Conn({ textAsBytes: true });
  c.feed(frame(1, 'héllo', masked));
  c.feed(frame(1, 'hé', { ...masked, fin: false }), frame(0, 'llo', masked));
  assert.deepEqual(c.events, [['message', Buffer.from('héllo'), false], ['message', Buffer.from('héllo'), false]]);
});

test('textAsBytes still refuses invalid UTF-8 with 1007, whole or fragmented', () => {
  for (const chunks of [[frame(1, BAD_UTF8, masked)], [frame(1, BAD_UTF8.subarray(0, 2), { ...masked, fin: false }), frame(0, BAD_UTF8.subarray(2), masked)]]) {
    const c = new Conn({ textAsBytes: true }).feed(...chunks);
    assert.deepEqual(c.events, [['failure', 1007, 'invalid UTF-8 in text message']]);
  }
});

test('validateUtf8: false delivers invalid text and close reasons without failing', () => {
  const c = new Conn({ textAsBytes: true, validateUtf8: false });
  c.feed(frame(1, BAD_UTF8, masked), frame(1, BAD_UTF8.subarray(0, 2), { ...masked, fin: false }), frame(0, BAD_UTF8.subarray(2), masked));
  assert.deepEqual(c.events, [['message', BAD_UTF8, false], ['message', BAD_UTF8, false]]);
  c.feed(frame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), BAD_UTF8]), masked));
  assert.equal(c.events[2]![0], 'close');
  assert.equal(c.events[2]![1], 1000);
});

test('autoPong: false leaves pings unanswered but still reports them', () => {
  const quiet = new Conn({ autoPong: false }).feed(frame(9, 'hi', masked));
  assert.deepEqual(quiet.events, [['ping', Buffer.from('hi')]]);
  assert.equal(quiet.sent.length, 0);
  const auto = new Conn().feed(frame(9, 'hi', masked));
  assert.deepEqual(auto.frames().map((f) => [f.opcode, f.payload.toString()]), [[10, 'hi']]);
});

test('echoCloseReason: the reply to a close frame repeats code and reason', () => {
  const payload = Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')]);
  const echo = new Conn({ echoCloseReason: true }).feed(frame(8, payload, masked));
  assert.deepEqual(echo.frames()[0]!.payload, payload);
  const plain = new Conn().feed(frame(8, payload, masked));
  assert.deepEqual(plain.frames()[0]!.payload, payload.subarray(0, 2));
});

test('sendFragment: one message in several frames, then ordinary messages again', () => {
  const c = new Conn();
  assert.equal(c.sendingFragments, false);
  c.sendFragment(Buffer.from('ab'), false, false);
  assert.equal(c.sendingFragments, true);
  c.sendFragment(Buffer.from('cd'), true, false); // the type of later fragments does not matter
  c.sendFragment(Buffer.from('ef'), false, true);
  assert.equal(c.sendingFragments, false);
  c.sendFragment(Buffer.from([1]), true, true);
  const frames = c.frames().map((f) => [f.fin, f.opcode, f.payload.toString('latin1')]);
  assert.deepEqual(frames, [[false, 1, 'ab'], [false, 0, 'cd'], [true, 0, 'ef'], [true, 2, '\x01']]);
});

test('sendFragment refuses once a close frame was sent', () => {
  const c = new Conn();
  c.sendClose(1000, '');
  assert.equal(c.sendFragment(Buffer.from('x'), true, true), false);
  assert.equal(c.frames().length, 1);
});
