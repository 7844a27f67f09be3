/**
 * The client's Node-only extensions: ping() with its round trip, terminate(), and
 * `for await (const data of ws)` with backpressure (reading pauses while the loop is busy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEchoServer, within } from '../helpers.js';
import { CloseEvent, WebSocket, WebSocketServer, type ServerSocket, type WebSocketData } from '../../src/index.js';
import { finish, nextEvent, openClient, record, until } from './util.js';

async function serverWith(options: ConstructorParameters<typeof WebSocketServer>[0]) {
  const server = new WebSocketServer({ heartbeatInterval: 0, ...options });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, url: `ws://127.0.0.1:${port}/` };
}

test('ping() resolves with the round trip when the pong comes back; the server sees the payload', async () => {
  const pings: string[] = [];
  const { server, url } = await startEchoServer({ ping: (_ws, payload) => void pings.push(payload.toString()) });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const rtt = await within(ws.ping('hello'), 3000, 'pong');
    assert.equal(typeof rtt, 'number');
    assert.ok(rtt >= 0 && rtt < 3000, String(rtt));
    const [a, b] = await within(Promise.all([ws.ping(), ws.ping(new Uint8Array([1, 2]))]), 3000, 'two pongs');
    assert.ok(a >= 0 && b >= 0);
    assert.equal(pings[0], 'hello');
    assert.equal(pings.length, 3);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('a pong for the latest ping settles the earlier ones too (RFC 6455 5.5.3); unsolicited pongs are ignored', async () => {
  let held: ServerSocket | undefined;
  const { server, url } = await serverWith({
    autoPong: false,
    // Answers only pings whose payload starts with "answer", and sends one pong nobody asked for.
    ping(ws, payload) {
      held = ws;
      if (payload.toString().startsWith('answer')) ws.sendPong(payload);
    },
  });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    let settled = 0;
    const first = ws.ping('skipped').then((ms) => (settled++, ms));
    await sleep(20);
    assert.equal(settled, 0, 'not answered yet');
    const second = ws.ping('answer me');
    await within(Promise.all([first, second]), 3000, 'both pings settled');
    const third = ws.ping('unanswered').then(() => (settled = 100));
    await until(() => held !== undefined, 3000, 'server saw the pings');
    held!.sendPong(Buffer.from('nobody asked'));
    await sleep(50);
    assert.equal(settled, 1, 'an unsolicited pong settles nothing');
    ws.close();
    await assert.rejects(within(third, 3000, 'rejection'), /closed before the pong/);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('ping(): InvalidStateError before open, RangeError over 125 bytes, rejected once closed', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(url);
    assert.throws(() => ws!.ping(), (e: unknown) => e instanceof DOMException && e.name === 'InvalidStateError');
    await nextEvent(ws, 'open');
    assert.throws(() => ws!.ping('x'.repeat(126)), RangeError);
    assert.throws(() => ws!.ping({} as never), TypeError);
    const closed = nextEvent(ws, 'close');
    ws.close();
    await assert.rejects(ws.ping(), /closing or closed/);
    await closed;
    await assert.rejects(ws.ping(), /closing or closed/);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('terminate() drops the connection at once: close 1006, not clean, no error event; the server sees 1006', async () => {
  const serverClosed: number[] = [];
  const { server, url } = await startEchoServer({ close: (_ws, code) => void serverClosed.push(code) });
  try {
    const ws = await openClient(url);
    const { log, closed } = record(ws);
    ws.terminate();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(log.map((e) => e.type), ['close']);
    const close = log[0]!.event as CloseEvent;
    assert.equal(close.code, 1006);
    assert.equal(close.wasClean, false);
    await until(() => serverClosed.length === 1, 3000, 'server close handler');
    assert.equal(serverClosed[0], 1006);
    ws.terminate(); // A second call does nothing.
  } finally {
    await server.close();
  }
});

test('for await: every message in order, as binaryType says; ends when the connection closes cleanly', async () => {
  const { server, url } = await serverWith({
    open(ws) {
      for (let i = 0; i < 50; i++) ws.send(i % 2 ? `text ${i}` : Buffer.from([i]));
      ws.close(1000, 'done');
    },
  });
  try {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    const got: WebSocketData[] = [];
    for await (const data of ws) got.push(data);
    assert.equal(got.length, 50);
    for (let i = 0; i < 50; i++) {
      if (i % 2) assert.equal(got[i], `text ${i}`);
      else assert.deepEqual(got[i], Buffer.from([i]));
    }
    assert.equal(ws.readyState, WebSocket.CLOSED);
  } finally {
    await server.close();
  }
});

test('for await: throws when the connection fails, after the messages that arrived; breaking out keeps the connection', async () => {
  const { server, url } = await serverWith({
    open(ws) {
      ws.send('one');
      ws.send('two');
      setTimeout(() => ws.terminate(), 50);
    },
  });
  try {
    const ws = new WebSocket(url);
    const got: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const data of ws) got.push(data);
      })(),
      /closed abnormally \(1006/,
    );
    assert.deepEqual(got, ['one', 'two']);

    const { server: echo, url: echoUrl } = await startEchoServer();
    try {
      const ws2 = await openClient(echoUrl);
      ws2.send('a');
      for await (const data of ws2) {
        assert.equal(data, 'a');
        break;
      }
      assert.equal(ws2.readyState, WebSocket.OPEN, 'leaving the loop does not close');
      const again = nextEvent<MessageEvent>(ws2, 'message');
      ws2.send('b');
      assert.equal((await again).data, 'b', 'events still flow after the loop');
      await finish(ws2);
    } finally {
      await echo.close();
    }
  } finally {
    await server.close();
  }
});

test('for await: reading pauses while the loop body is busy, so the server sees backpressure; then everything arrives', async () => {
  const COUNT = 512;
  const SIZE = 64 * 1024; // 32 MiB in all: far more than socket buffers hold
  let serverSocket: ServerSocket | undefined;
  const { server, url } = await serverWith({
    maxBackpressure: 64 * 1024 * 1024,
    open(ws) {
      serverSocket = ws;
      for (let i = 0; i < COUNT; i++) ws.send(Buffer.alloc(SIZE, i & 0xff));
    },
  });
  try {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let received = 0;
    const consumed = (async () => {
      for await (const data of ws) {
        assert.equal((data as Buffer).length, SIZE);
        assert.equal((data as Buffer)[0], received & 0xff, 'in order');
        received++;
        if (received === 1) await gate; // the consumer is busy
        if (received === COUNT) ws.close();
      }
    })();
    // Wait until the server's backlog stops moving: the client no longer reads.
    await until(() => serverSocket !== undefined, 5000, 'server open');
    let last = -1;
    let stableSince = Date.now();
    const deadline = Date.now() + 15_000;
    while (Date.now() - stableSince < 500) {
      if (Date.now() > deadline) throw new Error('the server backlog kept moving');
      const now = serverSocket!.bufferedAmount;
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      }
      await sleep(50);
    }
    assert.ok(last > COUNT * SIZE / 2, `the server still holds most of the data while the client waits (${last} bytes)`);
    assert.equal(received, 1);
    release();
    await within(consumed, 30_000, 'every message consumed');
    assert.equal(received, COUNT);
  } finally {
    await server.close();
  }
});

test('typed events: listeners get MessageEvent and CloseEvent as the DOM types them', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const texts: string[] = [];
    // These lines are the point: they type-check without casts (e.data, e.code).
    ws.addEventListener('message', (e) => texts.push(String(e.data)));
    const closed = new Promise<number>((resolve) => ws!.addEventListener('close', (e) => resolve(e.code), { once: true }));
    ws.onmessage = (e) => void texts.push(`handler ${String(e.data)}`);
    const got = nextEvent(ws, 'message');
    ws.send('typed');
    await got;
    assert.deepEqual(texts, ['typed', 'handler typed']);
    ws.close(1000);
    assert.equal(await within(closed, 3000, 'close'), 1000);
  } finally {
    await finish(ws);
    await server.close();
  }
});
