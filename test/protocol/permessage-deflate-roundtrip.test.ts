// permessage-deflate round trips between two protocol engines (client ↔ server), under
// every combination of context takeover and window size that negotiation can produce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Opcode,
  PerMessageDeflate,
  acceptDeflateOffers,
  acceptDeflateResponse,
  buildDeflateOffer,
  parseExtensions,
  type DeflateAgreement,
  type DeflateClientOptions,
  type DeflateServerOptions,
} from '../../src/protocol/index.js';
import { KEY, Recorder, frame, parseFrames, type ParsedFrame } from './_harness.js';

const TUNING = { threshold: 0, level: 1, memLevel: 8 };

/** Negotiates like a real handshake: the client's offer, the server's choice, the client's check of the response. */
function negotiate(serverOpts: DeflateServerOptions, clientOpts: DeflateClientOptions): DeflateAgreement {
  const accepted = acceptDeflateOffers(parseExtensions(buildDeflateOffer(clientOpts)), serverOpts);
  assert.ok(accepted, 'the offer is accepted');
  const response = parseExtensions(accepted.response);
  assert.equal(response.length, 1);
  const clientAgreement = acceptDeflateResponse(response[0]!, clientOpts);
  assert.deepEqual(clientAgreement, accepted.agreement, 'both sides agree on the same parameters');
  return accepted.agreement;
}

interface Pair {
  client: Recorder;
  server: Recorder;
  /** Delivers everything transmitted since the last call, both ways. */
  flush(): void;
}

function pair(agreement: DeflateAgreement): Pair {
  const client = new Recorder('client');
  const server = new Recorder('server');
  client.enableDeflate(new PerMessageDeflate(agreement, 'client', TUNING));
  server.enableDeflate(new PerMessageDeflate(agreement, 'server', TUNING));
  let c = 0;
  let s = 0;
  return {
    client,
    server,
    flush() {
      while (c < client.sent.length || s < server.sent.length) {
        while (c < client.sent.length) server.feed(client.sent[c++]!);
        while (s < server.sent.length) client.feed(server.sent[s++]!);
      }
    },
  };
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Binary data with repeats at distances on both sides of every window limit (250 bytes
 * for a 9-bit zlib window, 256, 512, 4096, 32768), so a compressor that used too large a
 * window, or an inflater with too small a one, would show.
 */
const DISTANCES = [3, 77, 249, 300, 700, 3000, 5000, 20000, 40000];
function binaryData(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const b = Buffer.alloc(n);
  let pos = 0;
  while (pos < n) {
    const run = Math.min(n - pos, 4 + Math.floor(rnd() * 60));
    const d = DISTANCES[Math.floor(rnd() * DISTANCES.length)]!;
    if (pos >= d && rnd() < 0.6) for (let i = 0; i < run; i++) b[pos + i] = b[pos + i - d]!;
    else for (let i = 0; i < run; i++) b[pos + i] = Math.floor(rnd() * 256);
    pos += run;
  }
  return b;
}

const WORDS = ['tether', 'socket', 'frame', 'deflate', 'window', 'ünïcödé', '€uro', '𝄞clef', 'context', 'takeover', ' ', '\n'];
/** Text whose UTF-8 encoding is exactly n bytes, mixing 1- to 4-byte characters. */
function textData(n: number, seed: number): string {
  const rnd = prng(seed);
  let s = '';
  let bytes = 0;
  for (;;) {
    const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
    const wb = Buffer.byteLength(w);
    if (bytes + wb > n) break;
    s += w;
    bytes += wb;
  }
  s += 'x'.repeat(n - bytes);
  assert.equal(Buffer.byteLength(s), n);
  return s;
}

const SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 200000];
const BITS = [8, 9, 12, 15];

/** Data frames must have RSV1 exactly on the first frame of a compressed message; control frames never. */
function checkRsv(frames: ParsedFrame[]): void {
  let inMessage = false;
  for (const f of frames) {
    if (f.opcode >= 0x8) {
      assert.equal(f.rsv, 0, `control frame 0x${f.opcode.toString(16)} has no RSV bits`);
      continue;
    }
    if (f.opcode === Opcode.Continuation) assert.equal(f.rsv, 0, 'no RSV1 on a continuation frame');
    else assert.ok(f.rsv === 0 || f.rsv === 4, 'only RSV1 may be set');
    assert.equal(f.opcode === Opcode.Continuation, inMessage, 'continuation frames only inside a message');
    inMessage = !f.fin;
  }
}

/** Splits transmitted bytes into whole raw frames (still masked), to be interleaved with other frames. */
function rawFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let len = buf[pos + 1]! & 0x7f;
    let off = pos + 2;
    if (len === 126) {
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (buf[pos + 1]! & 0x80) off += 4;
    out.push(buf.subarray(pos, off + len));
    pos = off + len;
  }
  return out;
}

function messages(r: Recorder): Array<{ data: string | Buffer; binary: boolean }> {
  return r.events.filter((e) => e.type === 'message').map((e) => ({ data: (e as { data: string | Buffer }).data, binary: (e as { binary: boolean }).binary }));
}

function assertMessages(r: Recorder, expected: Array<string | Buffer>): void {
  assert.deepEqual(r.failures(), []);
  const got = messages(r);
  assert.equal(got.length, expected.length, 'message count');
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const g = got[i]!;
    if (typeof e === 'string') {
      assert.equal(g.binary, false, `message ${i} is text`);
      assert.ok(g.data === e, `text message ${i} (${Buffer.byteLength(e)} bytes) arrives intact`);
    } else {
      assert.equal(g.binary, true, `message ${i} is binary`);
      assert.ok(Buffer.isBuffer(g.data) && g.data.equals(e), `binary message ${i} (${e.length} bytes) arrives intact`);
    }
  }
}

const texts = SIZES.map((n, i) => textData(n, 100 + i));
const binaries = SIZES.map((n, i) => binaryData(n, 200 + i));

for (const serverNct of [false, true]) {
  for (const clientNct of [false, true]) {
    test(`round trips: server_no_context_takeover=${serverNct} client_no_context_takeover=${clientNct}, every window pair`, () => {
      for (const sBits of BITS) {
        for (const cBits of BITS) {
          const label = `server ${sBits} bits, client ${cBits} bits`;
          const agreement = negotiate(
            { clientNoContextTakeover: clientNct },
            { serverNoContextTakeover: serverNct, serverMaxWindowBits: sBits, clientMaxWindowBits: cBits },
          );
          assert.deepEqual(agreement, {
            serverNoContextTakeover: serverNct,
            clientNoContextTakeover: clientNct,
            serverMaxWindowBits: sBits,
            clientMaxWindowBits: cBits,
          });
          const { client, server, flush } = pair(agreement);
          // Every size, text and binary, both ways; the whole series twice so that the
          // second pass compresses against the context the first left (with takeover).
          const expected: Array<string | Buffer> = [];
          for (let pass = 0; pass < 2; pass++) {
            for (let i = 0; i < SIZES.length; i++) {
              client.sendText(texts[i]!);
              server.sendText(texts[i]!);
              client.sendBinary(binaries[i]!);
              server.sendBinary(binaries[i]!);
              expected.push(texts[i]!, binaries[i]!);
            }
          }
          flush();
          try {
            assertMessages(server, expected);
            assertMessages(client, expected);
          } catch (err) {
            (err as Error).message = `${label}: ${(err as Error).message}`;
            throw err;
          }
          // Every one of these was compressed (threshold 0): RSV1 on each data frame.
          for (const r of [client, server]) {
            const frames = r.sentFrames();
            assert.equal(frames.length, expected.length);
            assert.ok(frames.every((f) => f.rsv === 4 && f.fin), `${label}: every message is one compressed frame`);
          }
          client.sendClose(1000);
          flush();
          assert.equal(client.cleanlyClosed && server.cleanlyClosed, true, `${label}: clean close`);
          checkRsv(client.sentFrames());
          checkRsv(server.sentFrames());
        }
      }
    });

    test(`fragmented compressed messages with pings between frames: server_no_context_takeover=${serverNct} client_no_context_takeover=${clientNct}`, () => {
      for (const bits of BITS) {
        const agreement = negotiate(
          { clientNoContextTakeover: clientNct },
          { serverNoContextTakeover: serverNct, serverMaxWindowBits: bits, clientMaxWindowBits: bits },
        );
        const { client, server } = pair(agreement);
        const cases: Array<{ data: string | Buffer; size: number }> = [
          { data: binaries[4]!, size: 7 },
          { data: texts[4]!, size: 100 },
          { data: binaries[7]!, size: 16384 },
          { data: texts[6]!, size: 5000 },
          { data: texts[4]!, size: 1 },
          { data: binaries[4]!, size: 64 },
        ];
        for (const [sender, receiver] of [
          [client, server],
          [server, client],
        ] as const) {
          const expected: Array<string | Buffer> = [];
          let pings = 0;
          for (const c of cases) {
            const before = sender.sent.length;
            const bytes = typeof c.data === 'string' ? Buffer.from(c.data) : c.data;
            assert.equal(sender.sendFragmented(bytes, typeof c.data !== 'string', c.size), true);
            const frames = rawFrames(Buffer.concat(sender.sent.slice(before)));
            const parsed = parseFrames(Buffer.concat(frames)).frames;
            assert.ok(parsed.length > 1, 'the message is fragmented');
            assert.equal(parsed[0]!.rsv, 4, 'RSV1 on the first frame');
            assert.equal(parsed[0]!.opcode, typeof c.data === 'string' ? Opcode.Text : Opcode.Binary);
            for (const f of parsed.slice(1)) {
              assert.equal(f.rsv, 0, 'no RSV1 on continuation frames');
              assert.equal(f.opcode, Opcode.Continuation);
            }
            // The peer's pings, between every pair of frames of the message.
            const mask = sender.role === 'client' ? KEY : null;
            for (let i = 0; i < frames.length; i++) {
              receiver.feed(frames[i]!);
              if (i < frames.length - 1 && i < 50) {
                receiver.feed(frame(Opcode.Ping, `p${pings++}`, { mask }));
              }
            }
            expected.push(c.data);
          }
          assertMessages(receiver, expected);
          const pingEvents = receiver.events.filter((e) => e.type === 'ping');
          assert.equal(pingEvents.length, pings);
          const pongs = receiver.sentFrames().filter((f) => f.opcode === Opcode.Pong);
          assert.equal(pongs.length, pings);
          assert.ok(pongs.every((f) => f.rsv === 0), 'pongs are never compressed');
          receiver.events = [];
        }
        client.sendPing(Buffer.from('hello'));
        server.sendPing(Buffer.from('x'.repeat(125)));
        for (const r of [client, server]) {
          const frames = r.sentFrames();
          checkRsv(frames);
          assert.ok(frames.some((f) => f.opcode === Opcode.Ping && f.rsv === 0));
        }
      }
    });
  }
}

test('context takeover: a repeated message compresses against the previous one; without it, it compresses the same', () => {
  const rnd = prng(7);
  const message = Buffer.from(Array.from({ length: 1000 }, () => Math.floor(rnd() * 256))); // incompressible on its own
  for (const bits of [12, 15]) {
    for (const serverNct of [false, true]) {
      const agreement = negotiate({}, { serverNoContextTakeover: serverNct, serverMaxWindowBits: bits });
      const { server, client, flush } = pair(agreement);
      server.sendBinary(message);
      server.sendBinary(message);
      const [first, second] = server.sentFrames();
      if (serverNct) {
        assert.deepEqual(second!.payload, first!.payload, 'a fresh context each time gives the same bytes');
      } else {
        assert.ok(second!.payload.length < 40, `the repeat is a few back-references (${second!.payload.length} bytes)`);
        assert.ok(first!.payload.length > 500);
      }
      flush();
      assertMessages(client, [message, message]);
    }
  }
  // A 9-bit window cannot reach 1000 bytes back: the repeat gains nothing from the context.
  const agreement = negotiate({}, { serverMaxWindowBits: 9 });
  const { server, client, flush } = pair(agreement);
  server.sendBinary(message);
  server.sendBinary(message);
  const [first, second] = server.sentFrames();
  assert.ok(second!.payload.length > first!.payload.length / 2);
  flush();
  assertMessages(client, [message, message]);
});

test('window 8: repeats 251..511 bytes apart (reachable with a 9-bit window, not with an 8-bit one) round-trip', () => {
  // The 8-bit window is compressed with zlib's 9-bit one; an 8-bit inflater must still cope.
  const rnd = prng(99);
  const unit = Buffer.from(Array.from({ length: 300 }, () => Math.floor(rnd() * 256)));
  const data = Buffer.concat(Array.from({ length: 40 }, () => unit));
  for (const level of [1, 6, 9]) {
    const agreement = negotiate({}, { serverMaxWindowBits: 8, clientMaxWindowBits: 8 });
    const client = new Recorder('client');
    const server = new Recorder('server');
    client.enableDeflate(new PerMessageDeflate(agreement, 'client', { ...TUNING, level }));
    server.enableDeflate(new PerMessageDeflate(agreement, 'server', { ...TUNING, level }));
    server.sendBinary(data);
    server.sendBinary(data);
    client.sendBinary(data);
    client.sendBinary(data);
    for (const chunk of server.sent) client.feed(chunk);
    for (const chunk of client.sent) server.feed(chunk);
    assertMessages(client, [data, data]);
    assertMessages(server, [data, data]);
  }
});

test('empty messages in a row with context takeover are sent as the single 0x00 block and arrive empty', () => {
  const agreement = negotiate({}, {});
  const { client, server, flush } = pair(agreement);
  for (let i = 0; i < 3; i++) {
    server.sendText('');
    server.sendBinary(Buffer.alloc(0));
    server.sendText('Hello');
  }
  const frames = server.sentFrames();
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(frames[3 * i]!.payload, Buffer.from([0x00]));
    assert.deepEqual(frames[3 * i + 1]!.payload, Buffer.from([0x00]));
  }
  flush();
  assertMessages(client, ['', Buffer.alloc(0), 'Hello', '', Buffer.alloc(0), 'Hello', '', Buffer.alloc(0), 'Hello']);
});
