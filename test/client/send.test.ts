import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../helpers.js';
import { WebSocket, CloseEvent } from '../../src/index.js';
import { finish, isDomException, nextEvent, openClient, record, startCaptureServer, until } from './util.js';

test('send before open throws InvalidStateError', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(url);
    const sock = ws;
    assert.throws(() => sock.send('x'), isDomException('InvalidStateError'));
    assert.throws(() => sock.send(new Uint8Array(3)), isDomException('InvalidStateError'));
    assert.equal(ws.bufferedAmount, 0);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('send after close(): no exception, bufferedAmount grows, nothing is transmitted', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    ws.send('first');
    await raw.waitFrames(1);
    await until(() => ws!.bufferedAmount === 0, 2000, 'first message flushed');
    const { closed } = record(ws);
    ws.close(1000);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    ws.send('abc');
    assert.equal(ws.bufferedAmount, 3);
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount, 13);
    ws.send(new Blob(['12345']));
    assert.equal(ws.bufferedAmount, 18);
    await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    ws.send('€');
    assert.equal(ws.bufferedAmount, 21, 'after CLOSED too, sends are counted (UTF-8 bytes)');
    // Give any stray write a chance to arrive before checking what the server saw.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      raw.frames.map((f) => [f.opcode, f.payload.toString()]),
      [[1, 'first'], [8, Buffer.from([0x03, 0xe8]).toString()]],
    );
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('every data type goes out as the right frame with exactly its bytes', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const big = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const f32 = new Float32Array([1.5, -2.25, Math.PI]);
    const dvBacking = new Uint8Array([9, 9, 0xde, 0xad, 0xbe, 0xef, 9]);
    const ab = new Uint8Array([0xff, 0x00, 0x7f]).buffer;
    ws.send('héllo €');
    ws.send(ab);
    ws.send(big.subarray(3, 7));
    ws.send(f32);
    ws.send(new DataView(dvBacking.buffer, 2, 4));
    ws.send(new Blob(['blob ', new Uint8Array([0x41, 0x42])]));
    ws.send('');
    ws.send(new ArrayBuffer(0));
    const frames = await raw.waitFrames(8);
    assert.ok(frames.every((f) => f.masked && f.fin && f.rsv === 0), 'client frames are masked, final, without RSV bits');
    assert.deepEqual(
      frames.map((f) => f.opcode),
      [1, 2, 2, 2, 2, 2, 1, 2],
    );
    assert.equal(frames[0]!.payload.toString('utf8'), 'héllo €');
    assert.deepEqual([...frames[1]!.payload], [0xff, 0x00, 0x7f]);
    assert.deepEqual([...frames[2]!.payload], [3, 4, 5, 6], 'only the view bytes of a subarray');
    assert.deepEqual(frames[3]!.payload, Buffer.from(f32.buffer));
    assert.equal(frames[3]!.payload.length, 12);
    assert.deepEqual([...frames[4]!.payload], [0xde, 0xad, 0xbe, 0xef], 'only the DataView bytes');
    assert.equal(frames[5]!.opcode, 2, 'a Blob is sent as binary');
    assert.equal(frames[5]!.payload.toString('latin1'), 'blob AB');
    assert.equal(frames[6]!.payload.length, 0);
    assert.equal(frames[7]!.payload.length, 0);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('Blobs and strings mixed keep their order', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const expected: Array<[number, string]> = [];
    for (let i = 0; i < 20; i++) {
      if (i % 3 === 0) {
        ws.send(new Blob([`blob${i}`]));
        expected.push([2, `blob${i}`]);
      } else if (i % 3 === 1) {
        ws.send(`text${i}`);
        expected.push([1, `text${i}`]);
      } else {
        ws.send(new TextEncoder().encode(`bytes${i}`));
        expected.push([2, `bytes${i}`]);
      }
    }
    const frames = await raw.waitFrames(20);
    assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString()]), expected);
    // After the queue drained, a later Blob and string still keep order.
    ws.send(new Blob(['late blob']));
    ws.send('late text');
    await raw.waitFrames(22);
    assert.deepEqual(raw.frames.slice(20).map((f) => [f.opcode, f.payload.toString()]), [[2, 'late blob'], [1, 'late text']]);
    await until(() => ws!.bufferedAmount === 0, 2000, 'bufferedAmount back to 0');
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('close() right after sending a Blob: queued data goes out first, then the close frame', async () => {
  const raw = await startCaptureServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(raw.url);
    const { log, closed } = record(ws);
    ws.send('before blob');
    ws.send(new Blob(['queued']));
    ws.send('after blob');
    ws.close(1000);
    assert.equal(ws.readyState, WebSocket.CLOSING, 'CLOSING at once, even while the Blob is read');
    ws.send('after close');
    assert.throws(() => ws!.close(1001), isDomException('InvalidAccessError'));
    ws.close(4000); // no-op
    await closed;
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(
      raw.frames.map((f) => [f.opcode, f.opcode === 8 ? f.payload.readUInt16BE(0) : f.payload.toString()]),
      [[1, 'before blob'], [2, 'queued'], [1, 'after blob'], [8, 1000]],
    );
    assert.deepEqual(log.map((e) => e.type), ['close']);
    assert.equal((log[0]!.event as CloseEvent).wasClean, true);
  } finally {
    await finish(ws);
    await raw.close();
  }
});

test('bufferedAmount is > 0 right after a large send and returns to 0 once flushed', async () => {
  const { server, url } = await startEchoServer({ message() {} });
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    const big = 'x'.repeat(8 * 1024 * 1024);
    ws.send(big);
    assert.equal(ws.bufferedAmount, big.length);
    const bin = new Uint8Array(4 * 1024 * 1024);
    ws.send(bin);
    assert.equal(ws.bufferedAmount, big.length + bin.length);
    const blob = new Blob([new Uint8Array(1000)]);
    ws.send(blob);
    assert.equal(ws.bufferedAmount, big.length + bin.length + 1000);
    await until(() => ws!.bufferedAmount === 0, 5000, 'bufferedAmount back to 0');
    ws.send('€');
    assert.equal(ws.bufferedAmount, 3, 'counted in UTF-8 bytes');
    await until(() => ws!.bufferedAmount === 0, 2000, 'bufferedAmount back to 0');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('binaryType: default "blob" delivers a Blob with the bytes', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    assert.equal(ws.binaryType, 'blob');
    const got = nextEvent<MessageEvent>(ws, 'message');
    ws.send(new Uint8Array([1, 2, 3, 250]));
    const data = (await got).data;
    assert.ok(data instanceof Blob);
    assert.equal(data.size, 4);
    assert.deepEqual([...new Uint8Array(await data.arrayBuffer())], [1, 2, 3, 250]);
    const text = nextEvent<MessageEvent>(ws, 'message');
    ws.send('text stays a string');
    assert.equal((await text).data, 'text stays a string');
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('binaryType "arraybuffer" delivers an ArrayBuffer of exactly the message bytes', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    ws.binaryType = 'arraybuffer';
    assert.equal(ws.binaryType, 'arraybuffer');
    for (const size of [0, 1, 5, 125, 126, 70000]) {
      const msg = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
      const got: Promise<MessageEvent> = nextEvent<MessageEvent>(ws, 'message');
      ws.send(msg);
      const data: unknown = (await got).data;
      assert.ok(data instanceof ArrayBuffer, `size ${size}`);
      assert.equal(data.byteLength, size);
      assert.deepEqual(new Uint8Array(data), msg);
    }
    // Several small messages in one TCP chunk must not share one backing buffer.
    const all: ArrayBuffer[] = [];
    const three = new Promise<void>((resolve) => {
      ws!.onmessage = (ev: MessageEvent) => {
        all.push(ev.data as ArrayBuffer);
        if (all.length === 3) resolve();
      };
    });
    ws.send(new Uint8Array([1]));
    ws.send(new Uint8Array([2, 2]));
    ws.send(new Uint8Array([3, 3, 3]));
    await three;
    assert.deepEqual(all.map((b) => [...new Uint8Array(b)]), [[1], [2, 2], [3, 3, 3]]);
  } finally {
    await finish(ws);
    await server.close();
  }
});

test('binaryType "nodebuffer" delivers a Buffer; an unknown value is ignored', async () => {
  const { server, url } = await startEchoServer();
  let ws: WebSocket | undefined;
  try {
    ws = await openClient(url);
    ws.binaryType = 'nodebuffer';
    (ws as { binaryType: string }).binaryType = 'bogus';
    assert.equal(ws.binaryType, 'nodebuffer');
    const got = nextEvent<MessageEvent>(ws, 'message');
    ws.send(new Uint8Array([7, 8, 9]));
    const data = (await got).data;
    assert.ok(Buffer.isBuffer(data));
    assert.deepEqual([...data], [7, 8, 9]);
    ws.binaryType = 'blob';
    (ws as { binaryType: string }).binaryType = 'Blob';
    assert.equal(ws.binaryType, 'blob');
    const got2 = nextEvent<MessageEvent>(ws, 'message');
    ws.send(new Uint8Array([1]));
    assert.ok((await got2).data instanceof Blob);
  } finally {
    await finish(ws);
    await server.close();
  }
});
