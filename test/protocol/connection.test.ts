import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, ReadyState } from '../../src/protocol/index.js';
import { Recorder, cframe, closeCodeOf, frame } from './_harness.js';

/** A frame as the peer of `r` sends it: masked towards a server, unmasked towards a client. */
function peer(r: Recorder, opcode: number, payload: Uint8Array | string = Buffer.alloc(0), fin = true): Buffer {
  return r.role === 'server' ? cframe(opcode, payload, { fin }) : frame(opcode, payload, { fin });
}

const closePayload = (code: number, reason = '') => {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code);
  b.write(reason, 2);
  return b;
};

for (const role of ['server', 'client'] as const) {
  test(`${role}: a ping inside a fragmented message is answered with the same payload and the message still arrives`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Text, 'Hel', false), peer(r, Opcode.Ping, 'ping-1'), peer(r, Opcode.Continuation, 'l', false));
    // The pong leaves before the message completes.
    let frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Pong);
    assert.deepEqual(frames[0]!.payload, Buffer.from('ping-1'));
    r.feed(peer(r, Opcode.Ping, ''), peer(r, Opcode.Continuation, 'o'));
    assert.deepEqual(r.events, [
      { type: 'ping', payload: Buffer.from('ping-1') },
      { type: 'ping', payload: Buffer.alloc(0) },
      { type: 'message', data: 'Hello', binary: false },
    ]);
    frames = r.sentFrames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      [
        [Opcode.Pong, 'ping-1'],
        [Opcode.Pong, ''],
      ],
    );
  });

  test(`${role}: a 125-byte ping payload is echoed whole, even when split across chunks`, () => {
    const payload = Buffer.from(Array.from({ length: 125 }, (_, i) => i));
    const r = new Recorder(role);
    const f = peer(r, Opcode.Ping, payload);
    r.feed(f.subarray(0, 3), f.subarray(3, 50), f.subarray(50));
    const frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0]!.payload, payload);
  });

  test(`${role}: an unsolicited pong is accepted and not answered`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Pong, 'unsolicited'), peer(r, Opcode.Text, 'after'));
    assert.deepEqual(r.events, [
      { type: 'pong', payload: Buffer.from('unsolicited') },
      { type: 'message', data: 'after', binary: false },
    ]);
    assert.equal(r.sent.length, 0);
    assert.equal(r.readyState, ReadyState.OPEN);
  });

  test(`${role}: we close first — OPEN → CLOSING, nothing but the close frame leaves, the peer's close completes the handshake`, () => {
    const r = new Recorder(role);
    assert.equal(r.readyState, ReadyState.OPEN);
    assert.equal(r.canSend, true);
    assert.equal(r.closeCode, 1006, 'no close frame yet');
    assert.equal(r.sendClose(1000, 'bye'), true);
    assert.equal(r.readyState, ReadyState.CLOSING);
    assert.equal(r.closeSent, true);
    assert.equal(r.canSend, false);
    let frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Close);
    assert.deepEqual(frames[0]!.payload, closePayload(1000, 'bye'));
    // Nothing may follow the close frame.
    assert.equal(r.sendText('x'), false);
    assert.equal(r.sendBinary(Buffer.from('x')), false);
    assert.equal(r.sendFragmented(Buffer.from('xyz'), true, 1), false);
    assert.equal(r.sendPrepared(Buffer.from([0x81, 0x00])), false);
    assert.equal(r.sendPing(), false);
    assert.equal(r.sendPong(), false);
    assert.equal(r.sendClose(1001), false, 'one close frame only');
    // The peer may still send data and pings before its close: they are read, but no pong goes out.
    r.feed(peer(r, Opcode.Text, 'late'), peer(r, Opcode.Ping, 'p'));
    assert.deepEqual(r.events, [
      { type: 'message', data: 'late', binary: false },
      { type: 'ping', payload: Buffer.from('p') },
    ]);
    assert.equal(r.sentFrames().length, 1, 'no pong after our close frame');
    r.feed(peer(r, Opcode.Close, closePayload(1000, 'ok')));
    assert.deepEqual(r.events[2], { type: 'close', code: 1000, reason: 'ok' });
    assert.equal(r.closeReceived, true);
    assert.equal(r.cleanlyClosed, true);
    assert.equal(r.closeCode, 1000);
    assert.equal(r.closeReason, 'ok');
    frames = r.sentFrames();
    assert.equal(frames.length, 1, 'the peer close is not answered twice');
    // Bytes after the peer's close frame are ignored.
    r.feed(peer(r, Opcode.Text, 'ignored'));
    assert.equal(r.events.length, 3);
    r.transportClosed();
    assert.equal(r.readyState, ReadyState.CLOSED);
  });

  test(`${role}: the peer closes first — its code is echoed, the handshake completes`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Close, closePayload(1001, 'going away')));
    assert.deepEqual(r.events, [{ type: 'close', code: 1001, reason: 'going away' }]);
    assert.equal(r.readyState, ReadyState.CLOSING);
    assert.equal(r.closeSent, true);
    assert.equal(r.closeReceived, true);
    assert.equal(r.cleanlyClosed, true);
    const frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Close);
    assert.equal(closeCodeOf(frames[0]!), 1001);
    assert.equal(r.sendText('x'), false);
    assert.equal(r.sendClose(1000), false);
    // A ping after the close frame is ignored (the reader stopped).
    r.feed(peer(r, Opcode.Ping, 'p'));
    assert.equal(r.events.length, 1);
    assert.equal(r.sentFrames().length, 1);
  });

  test(`${role}: an empty close frame gives closeCode 1005 and is answered with an empty close frame`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Close));
    assert.deepEqual(r.events, [{ type: 'close', code: 1005, reason: '' }]);
    assert.equal(r.closeCode, 1005);
    assert.equal(r.closeReason, '');
    const frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, Opcode.Close);
    assert.equal(frames[0]!.payload.length, 0);
  });

  test(`${role}: a close frame with only a code has an empty reason`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Close, closePayload(4000)));
    assert.deepEqual(r.events, [{ type: 'close', code: 4000, reason: '' }]);
  });

  test(`${role}: a protocol error after our close frame does not send a second close frame`, () => {
    const r = new Recorder(role);
    r.sendClose(1000);
    r.feed(peer(r, 0x3, 'x'));
    assert.equal(r.failures().length, 1);
    const frames = r.sentFrames();
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]!), 1000);
  });

  test(`${role}: after transportClosed nothing is read or sent`, () => {
    const r = new Recorder(role);
    r.transportClosed();
    assert.equal(r.readyState, ReadyState.CLOSED);
    r.feed(peer(r, Opcode.Text, 'x'), peer(r, Opcode.Ping, 'p'));
    assert.deepEqual(r.events, []);
    assert.equal(r.sendText('x'), false);
    assert.equal(r.sendClose(1000), false);
    assert.equal(r.sent.length, 0);
  });

  test(`${role}: outgoing frames are masked iff we are a client`, () => {
    const r = new Recorder(role);
    r.sendText('t');
    r.sendBinary(Buffer.alloc(70000, 1));
    r.sendFragmented(Buffer.from('frag'), false, 3);
    r.sendPing(Buffer.from('pi'));
    r.sendPong(Buffer.from('po'));
    r.sendClose(3000, 'done');
    const frames = r.sentFrames(); // checks the mask bit of every frame
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin]),
      [
        [Opcode.Text, true],
        [Opcode.Binary, true],
        [Opcode.Text, false],
        [Opcode.Continuation, true],
        [Opcode.Ping, true],
        [Opcode.Pong, true],
        [Opcode.Close, true],
      ],
    );
    assert.ok(frames[1]!.payload.equals(Buffer.alloc(70000, 1)));
    assert.deepEqual(frames[6]!.payload, closePayload(3000, 'done'));
  });
}

test('ping and pong payloads over 125 bytes are refused by the sender', () => {
  const r = new Recorder('client');
  assert.throws(() => r.sendPing(Buffer.alloc(126)), RangeError);
  assert.throws(() => r.sendPong(Buffer.alloc(126)), RangeError);
  assert.equal(r.sent.length, 0);
  assert.equal(r.sendPing(Buffer.alloc(125)), true);
});
