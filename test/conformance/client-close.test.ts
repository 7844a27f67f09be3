/**
 * Client conformance, Autobahn section 7 (close handling) from the server's side, and the
 * page-visible close: the client's own close(), readyState, wasClean, closeTimeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, T, assertEchoes, closeFrame, expectCleanClose, expectFailure, session, sf, sleep } from './client-harness.js';
import { WebSocket } from '../../src/client/index.js';

test('7.1.1 echo, then a server close 1000: the client answers with 1000, clean close event after TCP closes', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'Hello World!'));
    await s.waitFrames(1);
    s.write(closeFrame(1000, 'normal closure'));
    const close = await s.waitClose();
    assert.equal(close.code, 1000);
    // The client waits for the server to close TCP; until then it is CLOSING and no close event.
    await sleep(30);
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    assert.equal(c.closeInfo, undefined);
    assert.equal(s.ended, false, 'the client must leave closing the TCP connection to the server');
    await expectCleanClose(s, c, 1000, 'normal closure');
    assertEchoes(s, [[OP.TEXT, 'Hello World!']]);
  });
});

test('7.1.2 two close frames from the server: the client answers once', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000), closeFrame(1000));
    await s.waitClose();
    await sleep(30);
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 1);
  });
});

test('7.1.3 a ping after the close: no pong', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000), sf(OP.PING, 'Hello World!'));
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 1, s.summary());
  });
});

test('7.1.4 a text message after the close: not delivered, not echoed', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000), sf(OP.TEXT, 'Hello World!'));
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 1, s.summary());
    assert.equal(c.messages.length, 0);
  });
});

test('7.1.5 a fragment, then close, then the last fragment: only the close is answered', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'fragment1', { fin: false }), closeFrame(1000), sf(OP.CONT, 'fragment2'));
    await expectCleanClose(s, c, 1000);
    assert.equal(s.frames.length, 1, s.summary());
    assert.equal(c.messages.length, 0);
  });
});

test('7.1.6 a 256 KiB message, a ping and a close: echo and pong before the close', T, async () => {
  await session({}, async (s, c) => {
    const big = 'BAsd7&jh23'.repeat(26215);
    s.write(sf(OP.TEXT, big), sf(OP.PING, 'Hello World!'), closeFrame(1000));
    await expectCleanClose(s, c, 1000);
    assert.deepEqual(s.frames.map((f) => f.opcode), [OP.TEXT, OP.PONG, OP.CLOSE]);
    assertEchoes(s, [[OP.TEXT, big]]);
  });
});

test('7.3.1 a close without payload: the client answers, the close event has code 1005', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame());
    const close = await s.waitClose();
    assert.ok(close.payload.length === 0 || close.code === 1000, `answer must be empty or 1000, got ${close.payload.toString('hex')}`);
    s.socket.end();
    const info = await c.waitClosed();
    s.assertStrict();
    assert.deepEqual(info, { code: 1005, reason: '', wasClean: true, readyState: WebSocket.CLOSED });
    assert.ok(!c.log.includes('error'));
  });
});

test('7.3.2 a close with a 1-byte payload: close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.CLOSE, Buffer.from([0x03])));
    await expectFailure(s, c, 1002);
  });
});

for (const [name, reason] of [
  ['7.3.3 code only', ''],
  ['7.3.4 code and reason', 'Hello World!'],
  ['7.3.5 code and a 123-byte reason', '*'.repeat(123)],
  ['multi-byte reason', 'au revoir, κόσμε 👋'],
] as const) {
  test(`${name}: the client echoes 1000; the close event carries the server's reason`, T, async () => {
    await session({}, async (s, c) => {
      s.write(closeFrame(1000, reason));
      await expectCleanClose(s, c, 1000, reason);
    });
  });
}

test('7.3.6 a close with a 124-byte reason (control payload 126): close 1002', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000, '*'.repeat(124)));
    await expectFailure(s, c, 1002);
  });
});

test('7.5.1 a close reason that is not UTF-8: close 1007', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')));
    await expectFailure(s, c, 1007);
  });
});

for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
  test(`7.7.x valid close code ${code} is echoed and reported`, T, async () => {
    await session({}, async (s, c) => {
      s.write(closeFrame(code));
      await expectCleanClose(s, c, code);
    });
  });
}

for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  test(`7.9.x/7.13.x invalid close code ${code}: close 1002, close event 1006`, T, async () => {
    await session({}, async (s, c) => {
      s.write(closeFrame(code, 'reason'));
      await expectFailure(s, c, 1002);
    });
  });
}

test('after the client received a close it sends nothing but its close frame, even when the page sends', T, async () => {
  await session({}, async (s, c) => {
    c.ws.onmessage = null;
    s.write(closeFrame(1000, 'bye'));
    await s.waitClose();
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    c.ws.send('late text');
    c.ws.send(new Uint8Array([1, 2, 3]));
    c.ws.send(new Blob(['late blob']));
    c.ws.close(1000);
    s.write(sf(OP.PING, 'p'), sf(OP.TEXT, 't'));
    await sleep(20);
    await expectCleanClose(s, c, 1000, 'bye');
    assert.equal(s.frames.length, 1, s.summary());
  });
});

test('client close(3001, reason): a masked close frame with that code and reason; CLOSING, then a clean CLOSED', T, async () => {
  await session({}, async (s, c) => {
    c.ws.close(3001, 'going, κόσμε');
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    const close = await s.waitClose();
    assert.deepEqual([close.code, close.reason], [3001, 'going, κόσμε']);
    s.assertStrict();
    // The client waits for the server's answer: no TCP close from it yet.
    await sleep(30);
    assert.equal(s.ended, false);
    assert.equal(c.closeInfo, undefined);
    s.write(closeFrame(3001, 'ack'));
    await sleep(30);
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 3001, reason: 'ack', wasClean: true, readyState: WebSocket.CLOSED });
    assert.deepEqual(c.log, ['open', 'close']);
    s.assertStrict();
    assert.equal(s.frames.length, 1);
  });
});

test('client close() with no arguments sends an empty close frame; close(1000) sends 1000', T, async () => {
  for (const args of [[], [1000]] as Array<[] | [number]>) {
    await session({}, async (s, c) => {
      c.ws.close(...args);
      const close = await s.waitClose();
      assert.equal(close.code, args[0]);
      assert.equal(close.payload.length, args.length ? 2 : 0);
      s.write(closeFrame(args[0]));
      s.socket.end();
      const info = await c.waitClosed();
      assert.deepEqual(info, { code: args[0] ?? 1005, reason: '', wasClean: true, readyState: WebSocket.CLOSED });
    });
  }
});

test('messages arriving after ws.close() are not delivered to onmessage and not echoed', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'before'));
    await s.waitFrames(1);
    c.ws.close(1000, 'done');
    await s.waitClose();
    s.write(sf(OP.TEXT, 'after close 1'), sf(OP.BINARY, Buffer.from([1])), sf(OP.PING, 'p'), closeFrame(1000));
    await sleep(30);
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 1000, reason: '', wasClean: true, readyState: WebSocket.CLOSED });
    assert.deepEqual(c.messages, ['before']);
    assert.deepEqual(s.frames.map((f) => f.opcode), [OP.TEXT, OP.CLOSE]);
    s.assertStrict();
  });
});

test('the server never answers the client close: the client drops the connection after closeTimeout, 1006, not clean', T, async () => {
  await session({ options: { closeTimeout: 200 } }, async (s, c) => {
    const start = Date.now();
    c.ws.close(1000);
    await s.waitClose();
    const info = await c.waitClosed(3000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 150 && elapsed < 2000, `dropped after ${elapsed} ms`);
    assert.equal(s.ended, true);
    assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
    s.assertStrict();
  });
});

test('the server answers the close but never closes TCP: the client drops it after closeTimeout; clean, with the code', T, async () => {
  await session({ options: { closeTimeout: 200 } }, async (s, c) => {
    const start = Date.now();
    s.write(closeFrame(1000, 'bye'));
    await s.waitClose();
    const info = await c.waitClosed(3000);
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 180 && elapsed < 2000, `dropped after ${elapsed} ms`);
    // Both close frames crossed: RFC 6455 §7.1.4 calls this clean even if the client closed TCP.
    assert.deepEqual(info, { code: 1000, reason: 'bye', wasClean: true, readyState: WebSocket.CLOSED });
    s.assertStrict();
  });
});

test('the server drops TCP without a close frame: error, then close 1006 not clean', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'x'));
    await s.waitFrames(1);
    s.socket.destroy();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
    assert.deepEqual(c.log, ['open', 'message', 'error', 'close']);
  });
});

test('close() validates its arguments like browsers', T, async () => {
  await session({}, async (s, c) => {
    assert.throws(() => c.ws.close(1001), { name: 'InvalidAccessError' });
    assert.throws(() => c.ws.close(2999), { name: 'InvalidAccessError' });
    assert.throws(() => c.ws.close(5000), { name: 'InvalidAccessError' });
    assert.throws(() => c.ws.close(1000, 'x'.repeat(124)), { name: 'SyntaxError' });
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    assert.equal(s.frames.length, 0);
    s.write(closeFrame(1000));
    await expectCleanClose(s, c, 1000);
  });
});

test('a close frame with a reason written one byte at a time is answered', T, async () => {
  await session({}, async (s, c) => {
    await s.writeChopped(closeFrame(1001, 'going away, chopped'), 1);
    await expectCleanClose(s, c, 1001, 'going away, chopped');
  });
});

test('a close frame in the middle of a fragmented message, header split from its payload', T, async () => {
  await session({}, async (s, c) => {
    const close = closeFrame(1000, 'mid');
    s.write(sf(OP.BINARY, Buffer.from([1, 2, 3]), { fin: false }), close.subarray(0, 3));
    await sleep(10);
    s.write(close.subarray(3));
    await expectCleanClose(s, c, 1000, 'mid');
    assert.equal(s.frames.length, 1);
    assert.equal(c.messages.length, 0);
  });
});

test('data sent before close() goes out before the close frame, Blobs included (as browsers do)', T, async () => {
  await session({ binaryType: 'blob', echo: false }, async (s, c) => {
    c.ws.send(new Blob([Buffer.from('blob one')]));
    c.ws.send('text two');
    c.ws.send(new Blob([Buffer.from([3, 3, 3])]));
    c.ws.close(1000, 'done');
    assert.equal(c.ws.readyState, WebSocket.CLOSING);
    const close = await s.waitClose();
    assert.deepEqual([close.code, close.reason], [1000, 'done']);
    assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString('hex')]), [
      [OP.BINARY, Buffer.from('blob one').toString('hex')],
      [OP.TEXT, Buffer.from('text two').toString('hex')],
      [OP.BINARY, '030303'],
      [OP.CLOSE, close.payload.toString('hex')],
    ]);
    s.write(closeFrame(1000));
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 1000, reason: '', wasClean: true, readyState: WebSocket.CLOSED });
    s.assertStrict();
  });
});

test('the echo client echoes a Blob and then closes: the echo precedes the close frame', T, async () => {
  await session({ binaryType: 'blob' }, async (s, c) => {
    c.ws.addEventListener('message', () => c.ws.close(1000));
    s.write(sf(OP.BINARY, Buffer.from('last words')));
    await s.waitClose();
    assert.deepEqual(s.frames.map((f) => [f.opcode, f.payload.toString('hex')]), [[OP.BINARY, Buffer.from('last words').toString('hex')], [OP.CLOSE, '03e8']]);
    s.write(closeFrame(1000));
    s.socket.end();
    await c.waitClosed();
  });
});

test('the server destroys TCP right after the client answered its close: still a clean close', T, async () => {
  await session({}, async (s, c) => {
    s.write(closeFrame(1000, 'x'));
    await s.waitClose();
    s.socket.destroy();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 1000, reason: 'x', wasClean: true, readyState: WebSocket.CLOSED });
    assert.deepEqual(c.log, ['open', 'close']);
  });
});

test('the server closes TCP right after the handshake: open, error, close 1006', T, async () => {
  await session({}, async (s, c) => {
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 1006, reason: '', wasClean: false, readyState: WebSocket.CLOSED });
    assert.deepEqual(c.log, ['open', 'error', 'close']);
    assert.equal(s.frames.length, 0);
  });
});

test('client close(4999, 123-byte reason): a 125-byte masked close payload, sent exactly', T, async () => {
  await session({}, async (s, c) => {
    const reason = 'é'.repeat(61) + 'x'; // 123 bytes of UTF-8
    c.ws.close(4999, reason);
    const close = await s.waitClose();
    assert.equal(close.payload.length, 125);
    assert.deepEqual([close.code, close.reason], [4999, reason]);
    s.write(closeFrame(4999));
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 4999, reason: '', wasClean: true, readyState: WebSocket.CLOSED });
    s.assertStrict();
  });
});

test('client close() while the server is in the middle of a fragmented message: the rest is ignored, clean close', T, async () => {
  await session({}, async (s, c) => {
    s.write(sf(OP.TEXT, 'part one ', { fin: false }));
    await sleep(10);
    c.ws.close(3000, 'enough');
    await s.waitClose();
    s.write(sf(OP.CONT, 'part two', { fin: false }), sf(OP.PING, 'p'), sf(OP.CONT, 'end'), closeFrame(3000, 'ok'));
    await sleep(20);
    s.socket.end();
    const info = await c.waitClosed();
    assert.deepEqual(info, { code: 3000, reason: 'ok', wasClean: true, readyState: WebSocket.CLOSED });
    assert.equal(c.messages.length, 0);
    assert.equal(s.frames.length, 1);
    s.assertStrict();
  });
});
