/**
 * permessage-deflate on the server, over the wire: negotiation in the opening handshake,
 * the bound on zlib contexts (maxContexts), broadcast compressing once for connections
 * that share a compressor, per-send compress:false, and option validation. The clients
 * are RawPeers (raw TCP), so the test sees exact response headers and frame bits; it
 * compresses and inflates with node:zlib, independently of Tether's codec.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { WebSocketServer, type ServerOptions, type ServerSocket } from '../../src/server/index.js';
import { frame, RawPeer, startEchoServer, within, type ParsedFrame } from '../helpers.js';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const PMD = 'permessage-deflate';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An echo server (message handler echoes) that records open sockets by their ?id=. */
async function server(options: ServerOptions = {}) {
  const byId = new Map<string, ServerSocket>();
  const s = await startEchoServer({
    open: (ws, req) => byId.set(req.query.get('id') ?? '', ws),
    ...options,
  });
  cleanups.push(() => within(s.server.close({ timeout: 200 }), 5000, 'server close'));
  return { ...s, byId };
}

async function peer(port: number, extensions?: string, id = ''): Promise<RawPeer> {
  const p = await RawPeer.connect(port, { path: `/?id=${id}`, headers: extensions === undefined ? {} : { 'Sec-WebSocket-Extensions': extensions } });
  cleanups.push(() => p.destroy());
  return p;
}

/** A compressed message payload as a peer sends it (no context takeover): deflate, minus the 00 00 ff ff tail. */
function deflateMessage(data: Buffer | string): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: constants.Z_SYNC_FLUSH });
  assert.ok(out.subarray(-4).equals(TAIL));
  return out.subarray(0, -4);
}

function inflateMessage(payload: Buffer): Buffer {
  return inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
}

function json(size: number, tag = 'x'): string {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `{"i":${i},"tag":"${tag}","v":[${i % 7},${i % 11}]},`;
  return s.slice(0, size);
}

/** The server's close frame code, after it closed the TCP connection. */
async function closeCode(p: RawPeer): Promise<number | undefined> {
  await p.waitClosed(3000);
  return p.closeFrame()?.code;
}

describe('permessage-deflate negotiation over the wire', () => {
  test('an offer "permessage-deflate; client_max_window_bits" gets a 101 with a valid Sec-WebSocket-Extensions', async () => {
    const { port } = await server({ perMessageDeflate: true });
    const p = await peer(port, `${PMD}; client_max_window_bits`);
    assert.equal(p.response.start[1], '101');
    const header = p.response.headers['sec-websocket-extensions'];
    // The server's default: one shared compressor, so no server context takeover; the
    // client's window stays 15, which needs no answer.
    assert.equal(header, `${PMD}; server_no_context_takeover`);
    // And it works: a compressed message is inflated and echoed compressed.
    const text = json(2000);
    await p.send(frame(0x1, deflateMessage(text), { rsv: 4 }));
    const [echo] = await p.waitFrames(1);
    assert.equal(echo!.opcode, 0x1);
    assert.equal(echo!.rsv, 4);
    assert.equal(inflateMessage(echo!.payload).toString(), text);
  });

  test('with context takeover allowed, the server answers the bare offer without parameters', async () => {
    const { port } = await server({ perMessageDeflate: { serverNoContextTakeover: false } });
    const p = await peer(port, `${PMD}; client_max_window_bits`);
    assert.equal(p.response.headers['sec-websocket-extensions'], PMD);
  });

  test('several offers where the first is invalid: the second is picked', async () => {
    const { port } = await server({ perMessageDeflate: true });
    const cases: Array<[string, string]> = [
      [`${PMD}; server_max_window_bits=7, ${PMD}; client_no_context_takeover`, `${PMD}; server_no_context_takeover; client_no_context_takeover`],
      [`${PMD}; foo=bar, ${PMD}; server_max_window_bits=10`, `${PMD}; server_no_context_takeover; server_max_window_bits=10`],
      [`x-webkit-deflate-frame, ${PMD}; client_max_window_bits=08, ${PMD}; client_max_window_bits=9`, `${PMD}; server_no_context_takeover`],
    ];
    for (const [offer, answer] of cases) {
      const p = await peer(port, offer);
      assert.equal(p.response.headers['sec-websocket-extensions'], answer, offer);
    }
  });

  test('offers with bad parameters only: no extension, the connection still opens, and RSV1 is then refused', async () => {
    const { port } = await server({ perMessageDeflate: true });
    const bad = [
      `${PMD}; server_max_window_bits=16`,
      `${PMD}; server_max_window_bits`,
      `${PMD}; client_max_window_bits=08`,
      `${PMD}; client_max_window_bits=7`,
      `${PMD}; server_no_context_takeover=1`,
      `${PMD}; unknown_param`,
      `${PMD}; client_no_context_takeover; client_no_context_takeover`,
      `${PMD}; server_max_window_bits=abc`,
    ];
    for (const offer of bad) {
      const p = await peer(port, offer);
      assert.equal(p.response.start[1], '101', offer);
      assert.equal(p.response.headers['sec-websocket-extensions'], undefined, offer);
      // Plain messages work.
      await p.send(frame(0x1, 'plain'));
      const [echo] = await p.waitFrames(1);
      assert.deepEqual([echo!.rsv, echo!.payload.toString()], [0, 'plain'], offer);
    }
    const p = await peer(port, `${PMD}; server_max_window_bits=16`);
    await p.send(frame(0x1, deflateMessage('not negotiated'), { rsv: 4 }));
    assert.equal(await closeCode(p), 1002);
  });

  test('a server without perMessageDeflate never answers it, and refuses RSV1', async () => {
    const { port } = await server();
    for (const offer of [PMD, `${PMD}; client_max_window_bits`, `${PMD}; server_no_context_takeover; client_no_context_takeover`]) {
      const p = await peer(port, offer);
      assert.equal(p.response.headers['sec-websocket-extensions'], undefined, offer);
    }
    const p = await peer(port, PMD);
    await p.send(frame(0x2, deflateMessage('zzzzzzzzzzzzzzzzzzzzzzzz'), { rsv: 4 }));
    assert.equal(await closeCode(p), 1002);
  });

  test('maxContexts 1: the second concurrent connection is asked to use no context takeover both ways, freed contexts are reused', async () => {
    const s = await server({ perMessageDeflate: { maxContexts: 1 } });
    const a = await peer(s.port, PMD, 'a');
    // The first connection keeps an inflation context of its own (client context takeover).
    assert.equal(a.response.headers['sec-websocket-extensions'], `${PMD}; server_no_context_takeover`);
    const b = await peer(s.port, PMD, 'b');
    assert.equal(b.response.headers['sec-websocket-extensions'], `${PMD}; server_no_context_takeover; client_no_context_takeover`);
    const c = await peer(s.port, `${PMD}; client_max_window_bits`, 'c');
    assert.equal(c.response.headers['sec-websocket-extensions'], `${PMD}; server_no_context_takeover; client_no_context_takeover`);
    // Both kinds of connection work: a takes over its context across two messages.
    const text = json(3000, 'ctx');
    await b.send(frame(0x1, deflateMessage(text), { rsv: 4 }));
    assert.equal(inflateMessage((await b.waitFrames(1))[0]!.payload).toString(), text);
    // Two messages compressed with one context: the second refers back into the first.
    const { createDeflateRaw } = await import('node:zlib');
    const z = createDeflateRaw();
    const chunks: Buffer[] = [];
    z.on('data', (d: Buffer) => chunks.push(d));
    const flush = async (data: string): Promise<Buffer> => {
      z.write(data);
      await new Promise<void>((r) => z.flush(constants.Z_SYNC_FLUSH, () => r()));
      const out = Buffer.concat(chunks.splice(0));
      assert.ok(out.subarray(-4).equals(TAIL));
      return out.subarray(0, -4);
    };
    const m1 = await flush(text);
    const m2 = await flush(text);
    z.close();
    assert.ok(m2.length < m1.length / 4, 'the second message was compressed against the first');
    await a.send(Buffer.concat([frame(0x1, m1, { rsv: 4 }), frame(0x1, m2, { rsv: 4 })]));
    const echoes = await a.waitFrames(2);
    assert.deepEqual(echoes.map((f) => inflateMessage(f.payload).toString()), [text, text]);
    // Once a is gone its context is free again.
    a.destroy();
    await within((async () => {
      while (s.server.clients.size !== 2) await new Promise((r) => setTimeout(r, 5));
    })(), 3000, 'server forgets a');
    const d = await peer(s.port, PMD, 'd');
    assert.equal(d.response.headers['sec-websocket-extensions'], `${PMD}; server_no_context_takeover`);
  });
});

describe('compressed sending', () => {
  test('broadcast to 50 clients (serverNoContextTakeover): identical compressed frames, correct data; plain clients get plain frames', async () => {
    const s = await server({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 64 } });
    const peers = await Promise.all(Array.from({ length: 50 }, (_, i) => peer(s.port, `${PMD}; client_max_window_bits`, `p${i}`)));
    const plain = await Promise.all([peer(s.port, undefined, 'plain0'), peer(s.port, undefined, 'plain1')]);
    assert.equal(s.server.clients.size, 52);
    const text = json(20_000, 'broadcast');
    const bin = Buffer.from(json(5000, 'bin'));
    assert.equal(s.server.broadcast(text), 52);
    assert.equal(s.server.broadcast(bin), 52);
    assert.equal(s.server.broadcast('tiny'), 52); // under the threshold: not compressed
    const received: ParsedFrame[][] = [];
    for (const p of peers) received.push((await p.waitFrames(3)).slice(0, 3));
    const first = received[0]!;
    assert.deepEqual(first.map((f) => [f.opcode, f.rsv, f.fin, f.masked]), [[1, 4, true, false], [2, 4, true, false], [1, 0, true, false]]);
    assert.ok(first[0]!.payload.length < text.length / 4, 'compressed');
    assert.equal(inflateMessage(first[0]!.payload).toString(), text);
    assert.ok(inflateMessage(first[1]!.payload).equals(bin));
    assert.equal(first[2]!.payload.toString(), 'tiny');
    for (let i = 1; i < received.length; i++) assert.deepEqual(received[i], first, `peer ${i} got the same frames`);
    for (const p of plain) {
      const f = (await p.waitFrames(3)).slice(0, 3);
      assert.deepEqual(f.map((x) => x.rsv), [0, 0, 0]);
      assert.equal(f[0]!.payload.toString(), text);
      assert.ok(f[1]!.payload.equals(bin));
    }
    for (const p of [...peers, ...plain]) assert.equal(p.frames.length, 3);
  });

  test('broadcast with except skips that connection; with to only reaches those', async () => {
    const s = await server({ perMessageDeflate: { threshold: 0 } });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => peer(s.port, PMD, id)));
    const text1 = json(500, 'one');
    const text2 = json(500, 'two');
    const text3 = json(500, 'three');
    assert.equal(s.server.broadcast(text1, { except: s.byId.get('b')! }), 2);
    assert.equal(s.server.broadcast(text2, { to: [s.byId.get('c')!] }), 1);
    assert.equal(s.server.broadcast(text3), 3);
    const texts = async (p: RawPeer, n: number) => (await p.waitFrames(n)).map((f) => (f.rsv === 4 ? inflateMessage(f.payload) : f.payload).toString());
    assert.deepEqual(await texts(a!, 2), [text1, text3]);
    assert.deepEqual(await texts(b!, 1), [text3]);
    assert.deepEqual(await texts(c!, 3), [text1, text2, text3]);
    assert.equal(a!.frames.length, 2);
    assert.equal(b!.frames.length, 1);
  });

  test('per-send compress:false sends without RSV1; fragmented compressed messages set RSV1 on the first frame only', async () => {
    const s = await server({ perMessageDeflate: true });
    const p = await peer(s.port, PMD, 'x');
    const ws = s.byId.get('x')!;
    const text = json(4000, 'send');
    ws.send(text, { compress: false });
    ws.send(text);
    ws.send(Buffer.from(text), { compress: false });
    ws.send(Buffer.from(text), { fragmentSize: 100 });
    ws.send(text, { fragmentSize: 1000, compress: false });
    s.server.broadcast(text, { compress: false });
    const frames = await p.waitFrames(6);
    assert.deepEqual(frames.slice(0, 3).map((f) => [f.opcode, f.rsv]), [[1, 0], [1, 4], [2, 0]]);
    assert.equal(frames[0]!.payload.toString(), text);
    assert.equal(inflateMessage(frames[1]!.payload).toString(), text);
    assert.equal(frames[2]!.payload.toString(), text);
    // Then the fragmented compressed message.
    const frag: ParsedFrame[] = [];
    for (let i = 3; ; i++) {
      const f = (await p.waitFrames(i + 1))[i]!;
      frag.push(f);
      if (f.fin) break;
    }
    assert.ok(frag.length > 1, 'fragmented');
    assert.deepEqual(frag.map((f) => f.rsv), [4, ...frag.slice(1).map(() => 0)]);
    assert.deepEqual(frag.map((f) => f.opcode), [2, ...frag.slice(1).map(() => 0)]);
    assert.ok(frag.slice(0, -1).every((f) => f.payload.length === 100));
    assert.equal(inflateMessage(Buffer.concat(frag.map((f) => f.payload))).toString(), text);
    // The uncompressed fragmented text, then the uncompressed broadcast.
    const after = 3 + frag.length;
    const plain: ParsedFrame[] = [];
    for (let i = after; ; i++) {
      const f = (await p.waitFrames(i + 1))[i]!;
      plain.push(f);
      if (f.fin) break;
    }
    assert.deepEqual(plain.map((f) => f.rsv), plain.map(() => 0));
    assert.equal(plain.length, 4);
    assert.equal(Buffer.concat(plain.map((f) => f.payload)).toString(), text);
    const last = (await p.waitFrames(after + plain.length + 1))[after + plain.length]!;
    assert.deepEqual([last.opcode, last.rsv, last.payload.toString()], [1, 0, text]);
  });
});

describe('perMessageDeflate option validation', () => {
  test('a wrong type or value throws a TypeError naming the option', () => {
    assert.throws(() => new WebSocketServer({ perMessageDeflate: 'yes' as unknown as boolean }), (err: Error) => err instanceof TypeError && /perMessageDeflate/.test(err.message));
    assert.throws(() => new WebSocketServer({ perMessageDeflate: null as unknown as boolean }), TypeError);
    assert.throws(
      () => new WebSocketServer({ perMessageDeflate: { serverMaxWindowBits: 7 } }),
      (err: Error) => err instanceof TypeError && err.message.includes('perMessageDeflate.serverMaxWindowBits'),
    );
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { clientMaxWindowBits: 16 } }), /perMessageDeflate\.clientMaxWindowBits/);
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { serverNoContextTakeover: 1 as unknown as boolean } }), /perMessageDeflate\.serverNoContextTakeover/);
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { threshold: -1 } }), /perMessageDeflate\.threshold/);
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { level: 10 } }), /perMessageDeflate\.level/);
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { maxContexts: 1.5 } }), /perMessageDeflate\.maxContexts/);
    assert.throws(() => new WebSocketServer({ perMessageDeflate: { bogus: true } as never }), /perMessageDeflate\.bogus/);
    // Valid forms construct (no listener is started).
    for (const v of [true, false, {}, { serverMaxWindowBits: 8, clientMaxWindowBits: 15, threshold: 0, level: 9, memLevel: 1, maxContexts: 0 }]) {
      assert.doesNotThrow(() => new WebSocketServer({ perMessageDeflate: v }));
    }
  });
});
