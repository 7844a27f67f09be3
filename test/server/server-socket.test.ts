import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SendStatus, type ServerSocket, type WebSocketServer } from '../../src/index.js';
import { RawPeer, within } from '../helpers.js';
import { deferred, openWs, startServer, until, wsClosed } from './util.js';

interface Slot {
  n: number;
  name?: string;
}

describe('ServerSocket', () => {
  let server: WebSocketServer<Slot>;
  let url: string;
  let port: number;
  let nextOpen = deferred<ServerSocket<Slot>>();
  const closes: Array<{ code: number; reason: string; data: Slot }> = [];
  before(async () => {
    ({ server, url, port } = await startServer<Slot>({
      verify: (req) => {
        req.data = { n: 1 } satisfies Slot;
      },
      open: (ws) => nextOpen.resolve(ws),
      message: (ws, data) => {
        ws.data.n++;
        if (data === 'name?') ws.send(String(ws.data.name));
      },
      close: (ws, code, reason) => void closes.push({ code, reason, data: ws.data }),
    }));
  });
  after(async () => {
    await server.close({ timeout: 100 });
  });

  async function pair(): Promise<{ client: WebSocket; ws: ServerSocket<Slot> }> {
    nextOpen = deferred<ServerSocket<Slot>>();
    const client = await openWs(url);
    const ws = await within(nextOpen.promise, 3000, 'open handler');
    return { client, ws };
  }

  /** Collects the next n messages a `ws` client receives. */
  function collect(client: WebSocket, n: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
    const out: Array<{ data: Buffer; isBinary: boolean }> = [];
    return within(new Promise((resolve) => {
      const on = (data: Buffer, isBinary: boolean) => {
        out.push({ data: Buffer.from(data), isBinary });
        if (out.length === n) {
          client.off('message', on);
          resolve(out);
        }
      };
      client.on('message', on);
    }), 3000, `${n} messages`);
  }

  test('sends strings, Buffers, ArrayBuffers, Uint16Arrays and DataViews with the right bytes', async () => {
    const { client, ws } = await pair();
    try {
      const backing = new ArrayBuffer(16);
      new Uint8Array(backing).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      const u16 = new Uint16Array([0x0102, 0xfffe, 0x1234]);
      const expectedU16 = Buffer.from(u16.buffer, u16.byteOffset, u16.byteLength);
      const got = collect(client, 9);
      const statuses = [
        ws.send('héllo €'),
        ws.send(''),
        ws.send(Buffer.from([1, 2, 3])),
        ws.send(backing),
        ws.send(u16),
        ws.send(new Uint16Array(backing, 4, 2)), // a view into the middle of a buffer
        ws.send(new DataView(backing, 10, 3)),
        ws.send('text as binary', { binary: true }),
        ws.send(Buffer.from('bytes as text'), { binary: false }),
      ];
      assert.ok(statuses.every((s) => s === SendStatus.Sent), `statuses ${statuses}`);
      const m = await got;
      assert.deepEqual(m[0], { data: Buffer.from('héllo €'), isBinary: false });
      assert.deepEqual(m[1], { data: Buffer.alloc(0), isBinary: false });
      assert.deepEqual(m[2], { data: Buffer.from([1, 2, 3]), isBinary: true });
      assert.deepEqual(m[3], { data: Buffer.from(Array.from({ length: 16 }, (_, i) => i)), isBinary: true });
      assert.deepEqual(m[4], { data: expectedU16, isBinary: true });
      assert.deepEqual(m[5], { data: Buffer.from([4, 5, 6, 7]), isBinary: true });
      assert.deepEqual(m[6], { data: Buffer.from([10, 11, 12]), isBinary: true });
      assert.deepEqual(m[7], { data: Buffer.from('text as binary'), isBinary: true });
      assert.deepEqual(m[8], { data: Buffer.from('bytes as text'), isBinary: false });
    } finally {
      client.terminate();
    }
  });

  test('fragmentSize splits a message into frames the client reassembles', async () => {
    nextOpen = deferred<ServerSocket<Slot>>();
    const peer = await RawPeer.connect(port);
    const ws = await within(nextOpen.promise, 3000, 'open');
    try {
      ws.send('abcdefghij', { fragmentSize: 4 });
      const frames = await peer.waitFrames(3, 3000);
      assert.deepEqual(frames.map((f) => [f.opcode, f.fin, f.payload.toString()]), [[1, false, 'abcd'], [0, false, 'efgh'], [0, true, 'ij']]);
      assert.ok(frames.every((f) => !f.masked), 'server frames are not masked');
      assert.throws(() => ws.send('x', { fragmentSize: 0 }), TypeError);
    } finally {
      peer.destroy();
    }
  });

  test('close(code, reason) reaches the client, and the close handler gets its answer', async () => {
    const { client, ws } = await pair();
    const seen = wsClosed(client);
    ws.close(4001, 'bye now');
    assert.equal(ws.send('after close'), SendStatus.Dropped);
    assert.deepEqual(await within(seen, 3000, 'client close'), { code: 4001, reason: 'bye now' });
    await until(() => closes.some((c) => c.code === 4001), 3000, 'server close handler');
  });

  test('close with an invalid code or a too long reason throws RangeError', async () => {
    const { client, ws } = await pair();
    try {
      for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) {
        assert.throws(() => ws.close(code), RangeError, `code ${code}`);
      }
      assert.throws(() => ws.close(1000, 'x'.repeat(124)), RangeError);
      assert.throws(() => ws.close(1000, '€'.repeat(42)), RangeError, '126 bytes in 42 characters');
      assert.equal(ws.readyState, 1, 'still open after the refused calls');
      const seen = wsClosed(client);
      ws.close(1000, 'x'.repeat(123));
      assert.equal((await within(seen, 3000, 'close')).code, 1000);
    } finally {
      client.terminate();
    }
  });

  test('remoteAddress, remotePort and the data slot', async () => {
    const { client, ws } = await pair();
    try {
      assert.equal(ws.remoteAddress, '127.0.0.1');
      assert.equal(typeof ws.remotePort, 'number');
      assert.equal(ws.protocol, '');
      assert.deepEqual(ws.data, { n: 1 }, 'starts as what verify put in request.data');
      ws.data.name = 'carol';
      const reply = new Promise<string>((resolve) => client.once('message', (d) => resolve(String(d))));
      client.send('name?');
      assert.equal(await within(reply, 3000, 'reply'), 'carol');
      assert.equal(ws.data.n, 2);
      const seen = wsClosed(client);
      client.close(1000, 'client done');
      await within(seen, 3000, 'close');
      await until(() => closes.some((c) => c.reason === 'client done'), 3000, 'close handler');
      const entry = closes.find((c) => c.reason === 'client done')!;
      assert.equal(entry.code, 1000);
      assert.equal(entry.data.name, 'carol', 'the close handler sees the data slot');
    } finally {
      client.terminate();
    }
  });

  test('terminate() drops the connection: the client sees 1006, the close handler runs once', async () => {
    const { client, ws } = await pair();
    const before = closes.length;
    const seen = wsClosed(client);
    ws.terminate();
    ws.terminate();
    assert.equal((await within(seen, 3000, 'close')).code, 1006);
    await until(() => closes.length === before + 1, 3000, 'close handler');
    assert.equal(closes[closes.length - 1]!.code, 1006);
    assert.equal(ws.send('x'), SendStatus.Dropped);
  });

  test('ping(payload) reaches the client, and oversize ping payloads throw', async () => {
    const { client, ws } = await pair();
    try {
      const got = new Promise<Buffer>((resolve) => client.once('ping', resolve));
      assert.equal(ws.ping('are you there'), true);
      assert.equal(String(await within(got, 3000, 'ping')), 'are you there');
      assert.throws(() => ws.ping(Buffer.alloc(126)), RangeError);
    } finally {
      client.terminate();
    }
  });
});

test('message, ping and pong handlers get what the client sent', async () => {
  const events: Array<[string, string, boolean?]> = [];
  const { server, url } = await startServer({
    message: (_ws, data, isBinary) => void events.push(['message', typeof data === 'string' ? `s:${data}` : `b:${[...data].join(',')}`, isBinary]),
    ping: (_ws, payload) => void events.push(['ping', String(payload)]),
    pong: (_ws, payload) => void events.push(['pong', String(payload)]),
  });
  const client = await openWs(url);
  try {
    const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
    client.send('text');
    client.send(Buffer.from([7, 8]));
    client.ping('p1');
    client.pong('p2');
    assert.equal(String(await within(pong, 3000, 'auto pong')), 'p1', 'the server answers pings with the same payload');
    await until(() => events.length === 4, 3000, 'four events');
    assert.deepEqual(events, [['message', 's:text', false], ['message', 'b:7,8', true], ['ping', 'p1'], ['pong', 'p2']]);
  } finally {
    client.terminate();
    await server.close({ timeout: 100 });
  }
});
