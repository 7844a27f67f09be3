// permessage-deflate (RFC 7692) in the protocol engine: the §7.2.3 byte vectors, the
// threshold and compress flag, decompression limits and errors, window mismatches, the
// RSV1 rules, and the zlib state shared between connections without context takeover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createDeflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  CloseCode,
  Opcode,
  PerMessageDeflate,
  acceptDeflateOffers,
  acceptDeflateResponse,
  buildDeflateOffer,
  parseExtensions,
  type DeflateAgreement,
  type DeflateClientOptions,
  type DeflateServerOptions,
  type DeflateTuning,
} from '../../src/protocol/index.js';
import { Recorder, assertFailed, cframe, frame } from './_harness.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TAIL = hex('00 00 ff ff');
const DEFAULT: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const agreement = (over: Partial<DeflateAgreement> = {}): DeflateAgreement => ({ ...DEFAULT, ...over });
const EAGER: DeflateTuning = { threshold: 0, level: 1, memLevel: 8 };

function negotiate(serverOpts: DeflateServerOptions, clientOpts: DeflateClientOptions): DeflateAgreement {
  const accepted = acceptDeflateOffers(parseExtensions(buildDeflateOffer(clientOpts)), serverOpts);
  assert.ok(accepted);
  assert.deepEqual(acceptDeflateResponse(parseExtensions(accepted.response)[0]!, clientOpts), accepted.agreement);
  return accepted.agreement;
}

function withDeflate(role: 'server' | 'client', a: DeflateAgreement = DEFAULT, tuning: DeflateTuning = EAGER, maxPayload?: number): Recorder {
  const r = new Recorder(role, maxPayload);
  r.enableDeflate(new PerMessageDeflate(a, role, tuning));
  return r;
}

/** A frame as the peer of `r` sends it (masked towards a server). */
function peer(r: Recorder, opcode: number, payload: Uint8Array | string, opts: { fin?: boolean; rsv?: number } = {}): Buffer {
  return r.role === 'server' ? cframe(opcode, payload, opts) : frame(opcode, payload, opts);
}

/** Raw deflate with a sync flush, as a peer would send it: the 00 00 ff ff tail removed. */
function rawDeflate(data: Uint8Array, level = 9): Buffer {
  const out = deflateRawSync(data, { level, finishFlush: constants.Z_SYNC_FLUSH });
  assert.deepEqual(out.subarray(-4), TAIL);
  return out.subarray(0, -4);
}

const messagesOf = (r: Recorder) => r.events.filter((e) => e.type === 'message');
const hello = { type: 'message', data: 'Hello', binary: false };

// --- RFC 7692 §7.2.3 ------------------------------------------------------------------

test('§7.2.3.1/§7.2.3.2: compressing "Hello" gives f2 48 cd c9 c9 07 00, then f2 00 11 00 00 with context takeover', () => {
  for (const role of ['server', 'client'] as const) {
    const d = new PerMessageDeflate(DEFAULT, role, EAGER);
    assert.deepEqual(d.compress(Buffer.from('Hello')), hex('f2 48 cd c9 c9 07 00'));
    assert.deepEqual(d.compress(Buffer.from('Hello')), hex('f2 00 11 00 00'));
    d.close();
  }
  // Without context takeover every message starts from a fresh context.
  const fresh = new PerMessageDeflate(agreement({ serverNoContextTakeover: true }), 'server', EAGER);
  for (let i = 0; i < 3; i++) assert.deepEqual(fresh.compress(Buffer.from('Hello')), hex('f2 48 cd c9 c9 07 00'));
  const freshClient = new PerMessageDeflate(agreement({ clientNoContextTakeover: true }), 'client', EAGER);
  for (let i = 0; i < 3; i++) assert.deepEqual(freshClient.compress(Buffer.from('Hello')), hex('f2 48 cd c9 c9 07 00'));
});

test('§7.2.3: sendText puts the RFC bytes on the wire (unmasked from a server, masked from a client)', () => {
  const server = withDeflate('server');
  server.sendText('Hello');
  server.sendText('Hello');
  assert.deepEqual(Buffer.concat(server.sent), hex('c1 07 f2 48 cd c9 c9 07 00  c1 05 f2 00 11 00 00'));
  const client = withDeflate('client');
  client.sendText('Hello');
  client.sendText('Hello');
  const frames = client.sentFrames();
  assert.deepEqual(
    frames.map((f) => [f.fin, f.rsv, f.opcode, f.payload.toString('hex')]),
    [
      [true, 4, Opcode.Text, 'f248cdc9c90700'],
      [true, 4, Opcode.Text, 'f200110000'],
    ],
  );
});

/** Feeds the bytes whole and one byte at a time; both must give `check`. */
function bothWays(make: () => Recorder, bytes: Buffer[], check: (r: Recorder) => void): void {
  check(make().feed(Buffer.concat(bytes)));
  const r = make();
  for (const b of Buffer.concat(bytes)) r.feed(Buffer.from([b]));
  check(r);
}

const VECTORS: Array<{ name: string; frames: Array<{ opcode: number; payload: string; fin?: boolean; rsv?: number }>; messages: string[] }> = [
  { name: '§7.2.3.1 a single compressed frame', frames: [{ opcode: 1, payload: 'f2 48 cd c9 c9 07 00', rsv: 4 }], messages: ['Hello'] },
  {
    name: '§7.2.3.2 the same message twice with context takeover',
    frames: [
      { opcode: 1, payload: 'f2 48 cd c9 c9 07 00', rsv: 4 },
      { opcode: 1, payload: 'f2 00 11 00 00', rsv: 4 },
    ],
    messages: ['Hello', 'Hello'],
  },
  {
    name: '§7.2.3.1 a fragmented compressed message',
    frames: [
      { opcode: 1, payload: 'f2 48 cd', rsv: 4, fin: false },
      { opcode: 0, payload: 'c9 c9 07 00' },
    ],
    messages: ['Hello'],
  },
  { name: '§7.2.3.3 a DEFLATE block with no compression', frames: [{ opcode: 1, payload: '00 05 00 fa ff 48 65 6c 6c 6f 00', rsv: 4 }], messages: ['Hello'] },
  { name: '§7.2.3.6 an empty message as 0x00', frames: [{ opcode: 1, payload: '00', rsv: 4 }], messages: [''] },
  {
    name: 'all of them in a row on one context',
    frames: [
      { opcode: 1, payload: 'f2 48 cd c9 c9 07 00', rsv: 4 },
      { opcode: 1, payload: 'f2 00 11 00 00', rsv: 4 },
      { opcode: 1, payload: '00', rsv: 4 },
      { opcode: 1, payload: '00 05 00 fa ff 48 65 6c 6c 6f 00', rsv: 4 },
      { opcode: 1, payload: 'f2 00 11 00 00', rsv: 4 },
    ],
    messages: ['Hello', 'Hello', '', 'Hello', 'Hello'],
  },
];

for (const role of ['client', 'server'] as const) {
  for (const v of VECTORS) {
    test(`§7.2.3 receive (${role} side, ${role === 'server' ? 'masked' : 'unmasked'}): ${v.name}`, () => {
      const make = () => withDeflate(role);
      const probe = make();
      const bytes = v.frames.map((f) => peer(probe, f.opcode, hex(f.payload), { fin: f.fin ?? true, rsv: f.rsv ?? 0 }));
      if (role === 'client') {
        // The RFC's own bytes, header included.
        assert.deepEqual(bytes[0]!.subarray(0, 2), Buffer.from([(v.frames[0]!.fin === false ? 0x00 : 0x80) | 0x40 | 0x01, hex(v.frames[0]!.payload).length]));
      }
      bothWays(make, bytes, (r) => {
        assert.deepEqual(
          r.events,
          v.messages.map((m) => ({ type: 'message', data: m, binary: false })),
        );
        assert.equal(r.sent.length, 0);
      });
    });
  }
}

test('§7.2.3.1 literal wire bytes at a client-role receiver', () => {
  const r = withDeflate('client');
  r.feed(hex('c1 07 f2 48 cd c9 c9 07 00'), hex('c1 05 f2 00 11 00 00'), hex('41 03 f2 48 cd'), hex('80 04 c9 c9 07 00'), hex('c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'), hex('c1 01 00'));
  assert.deepEqual(r.events, [hello, hello, hello, hello, { type: 'message', data: '', binary: false }]);
});

test('§7.2.3.4 a DEFLATE block with BFINAL set decodes, and later messages on the same context still decode', () => {
  const r = withDeflate('client');
  r.feed(hex('c1 08 f3 48 cd c9 c9 07 00 00'));
  assert.deepEqual(r.events, [hello]);
  // The peer's stream ended with that final block: what follows is a new DEFLATE stream.
  r.feed(hex('c1 07 f2 48 cd c9 c9 07 00'));
  assert.deepEqual(r.events, [hello, hello], 'the message after a final block is not lost');
  // Without context takeover the inflater is reset after every message anyway.
  const s = withDeflate('client', agreement({ serverNoContextTakeover: true }));
  s.feed(hex('c1 08 f3 48 cd c9 c9 07 00 00'), hex('c1 07 f2 48 cd c9 c9 07 00'));
  assert.deepEqual(s.events, [hello, hello]);
});

test('binary messages decode to Buffers', () => {
  const r = withDeflate('server');
  const data = Buffer.from([0, 1, 2, 0xff, 0xfe, 0xc3, 0x28]);
  r.feed(cframe(Opcode.Binary, rawDeflate(data), { rsv: 4 }));
  assert.equal(messagesOf(r).length, 1);
  const m = r.events[0] as { data: Buffer; binary: boolean };
  assert.equal(m.binary, true);
  assert.deepEqual(Buffer.from(m.data), data);
});

// --- threshold and the compress flag -----------------------------------------------------

test('threshold: shorter messages go out without RSV1, longer ones compressed; the receiver gets both', () => {
  const tuning: DeflateTuning = { threshold: 10, level: 1, memLevel: 8 };
  const server = withDeflate('server', DEFAULT, tuning);
  const client = withDeflate('client', DEFAULT, tuning);
  const small = 'x'.repeat(9);
  const big = 'y'.repeat(10);
  server.sendText(small);
  server.sendText(big);
  server.sendBinary(Buffer.from(small));
  server.sendBinary(Buffer.from(big));
  server.sendFragmented(Buffer.from(small), false, 3);
  server.sendFragmented(Buffer.from(big), true, 3);
  const frames = server.sentFrames();
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.rsv, f.fin]),
    [
      [Opcode.Text, 0, true],
      [Opcode.Text, 4, true],
      [Opcode.Binary, 0, true],
      [Opcode.Binary, 4, true],
      [Opcode.Text, 0, false],
      [Opcode.Continuation, 0, false],
      [Opcode.Continuation, 0, true],
      [Opcode.Binary, 4, false],
      ...frames.slice(8).map((f) => [Opcode.Continuation, 0, f.fin]),
    ],
  );
  assert.deepEqual(frames[0]!.payload, Buffer.from(small), 'sent as is');
  assert.deepEqual(frames[2]!.payload, Buffer.from(small));
  assert.deepEqual(inflateRawSync(Buffer.concat([frames[1]!.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }), Buffer.from(big));
  client.feed(...server.sent);
  assert.deepEqual(
    client.events.map((e) => (e as { data: string | Buffer }).data),
    [small, big, Buffer.from(small), Buffer.from(big), small, Buffer.from(big)],
  );
  assert.deepEqual(client.failures(), []);
});

test('compress=false sends uncompressed whatever the size, and the context is unaffected', () => {
  const server = withDeflate('server');
  const client = withDeflate('client');
  const big = 'z'.repeat(5000);
  server.sendText(big, false);
  server.sendBinary(Buffer.from(big), false);
  server.sendFragmented(Buffer.from(big), false, 1000, false);
  server.sendText('Hello');
  const frames = server.sentFrames();
  assert.ok(frames.slice(0, -1).every((f) => f.rsv === 0));
  assert.deepEqual(frames[0]!.payload, Buffer.from(big));
  assert.deepEqual(frames[1]!.payload, Buffer.from(big));
  assert.equal(frames.length, 2 + 5 + 1);
  // The first compressed message still starts from a fresh context: the RFC bytes.
  assert.deepEqual(frames[frames.length - 1]!.payload, hex('f2 48 cd c9 c9 07 00'));
  assert.equal(frames[frames.length - 1]!.rsv, 4);
  client.feed(...server.sent);
  assert.deepEqual(
    client.events.map((e) => (e as { data: string | Buffer }).data),
    [big, Buffer.from(big), big, 'Hello'],
  );
});

// --- limits and bad data --------------------------------------------------------------

const MiB = 1024 * 1024;

for (const nct of [false, true]) {
  test(`decompression bomb (${nct ? 'shared inflater' : 'own inflater'}): 10 MiB of zeros in ~10 KB at maxPayload 1 MiB closes with 1009 without inflating it`, () => {
    const bomb = rawDeflate(Buffer.alloc(10 * MiB));
    assert.ok(bomb.length < 20 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const a = agreement({ clientNoContextTakeover: nct });
    const r = withDeflate('server', a, EAGER, MiB);
    const wire = cframe(Opcode.Binary, bomb, { rsv: 4 });
    const before = process.memoryUsage().arrayBuffers;
    r.feed(wire);
    const grown = process.memoryUsage().arrayBuffers - before;
    assertFailed(r, CloseCode.MessageTooBig);
    assert.equal(messagesOf(r).length, 0);
    assert.ok(grown < 4 * MiB, `arrayBuffers grew by ${grown} bytes`);
    // Later bytes are ignored.
    r.feed(cframe(Opcode.Text, 'after'));
    assert.equal(messagesOf(r).length, 0);
    // The next connection (sharing the inflater when without takeover) is unaffected.
    const next = withDeflate('server', a, EAGER, MiB);
    next.feed(cframe(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
    assert.deepEqual(next.events, [hello]);
  });
}

test('inflated size limit: exactly maxPayload is accepted, one byte more is 1009 (text and binary)', () => {
  const limit = 100_000;
  for (const opcode of [Opcode.Text, Opcode.Binary]) {
    const ok = withDeflate('server', DEFAULT, EAGER, limit);
    ok.feed(cframe(opcode, rawDeflate(Buffer.alloc(limit, 0x61)), { rsv: 4 }));
    assert.deepEqual(ok.failures(), []);
    assert.equal(messagesOf(ok).length, 1);
    const over = withDeflate('server', DEFAULT, EAGER, limit);
    over.feed(cframe(opcode, rawDeflate(Buffer.alloc(limit + 1, 0x61)), { rsv: 4 }));
    assertFailed(over, CloseCode.MessageTooBig);
  }
});

const BAD_DEFLATE: Array<[string, string]> = [
  ['reserved block type 11', 'ff ff ff ff'],
  ['stored block with LEN and NLEN not matching', '00 05 00 00 00 48 65 6c 6c 6f'],
  ['distance before the start of the output', '02 00 0c 00'],
  ['invalid code lengths (dynamic block)', 'ec fd ff ff ff ff'],
];

for (const role of ['server', 'client'] as const) {
  for (const [name, bytes] of BAD_DEFLATE) {
    for (const nct of [false, true]) {
      test(`invalid deflate data → 1007 (${role}, ${nct ? 'shared' : 'own'} inflater): ${name}`, () => {
        const a = agreement({ clientNoContextTakeover: nct, serverNoContextTakeover: nct });
        const r = withDeflate(role, a);
        r.feed(peer(r, Opcode.Binary, hex(bytes), { rsv: 4 }));
        assertFailed(r, CloseCode.InvalidPayload);
        // A fresh connection with the same parameters decodes normally.
        const next = withDeflate(role, a);
        next.feed(peer(next, Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
        assert.deepEqual(next.events, [hello]);
      });
    }
  }
}

test('a compressed text message that inflates to invalid UTF-8 → 1007; the same bytes as binary are fine', () => {
  for (const bad of [hex('c3 28'), hex('48 65 ed a0 80'), hex('f4 90 80 80'), Buffer.concat([Buffer.from('ok '.repeat(100)), hex('e2 82')])]) {
    const r = withDeflate('server');
    r.feed(cframe(Opcode.Text, rawDeflate(bad), { rsv: 4 }));
    assertFailed(r, CloseCode.InvalidPayload);
    assert.equal(messagesOf(r).length, 0);
    const b = withDeflate('server');
    b.feed(cframe(Opcode.Binary, rawDeflate(bad), { rsv: 4 }));
    assert.deepEqual(b.failures(), []);
    assert.deepEqual(Buffer.from((b.events[0] as { data: Buffer }).data), bad);
  }
  // Fragmented: the compressed bytes are not UTF-8 themselves and must not be checked as such.
  const text = 'héllo wörld '.repeat(50);
  const payload = rawDeflate(Buffer.from(text));
  const r = withDeflate('server');
  r.feed(cframe(Opcode.Text, payload.subarray(0, 5), { rsv: 4, fin: false }), cframe(Opcode.Continuation, payload.subarray(5)));
  assert.deepEqual(r.events, [{ type: 'message', data: text, binary: false }]);
});

// --- window size mismatch -------------------------------------------------------------

/** Compresses each message with a sync flush on one zlib stream (context takeover), as a peer would. */
async function deflateMessages(messages: Buffer[], windowBits: number): Promise<Buffer[]> {
  const z = createDeflateRaw({ windowBits, level: 9 });
  const out: Buffer[] = [];
  for (const m of messages) {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    z.on('data', onData);
    z.write(m);
    await new Promise<void>((resolve) => z.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    z.off('data', onData);
    const all = Buffer.concat(chunks);
    assert.deepEqual(all.subarray(-4), TAIL);
    out.push(all.subarray(0, -4));
  }
  z.close();
  return out;
}

test('window mismatch: client_max_window_bits=9 agreed, the client compresses with 15 bits → the server closes with 1007', async () => {
  const a = negotiate({}, { clientMaxWindowBits: 9 });
  assert.equal(a.clientMaxWindowBits, 9);
  assert.equal(a.clientNoContextTakeover, false);
  const rnd = (() => {
    let x = 0x12345678;
    return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  })();
  const data = Buffer.from(Array.from({ length: 2000 }, rnd));
  const [m1, m2] = await deflateMessages([data, data], 15);
  assert.ok(m2!.length < 50, 'message 2 is a back-reference ~2000 bytes into message 1');
  // With the window it was made for, the stream is valid.
  const wide = withDeflate('server', agreement());
  wide.feed(cframe(Opcode.Binary, m1!, { rsv: 4 }), cframe(Opcode.Binary, m2!, { rsv: 4 }));
  assert.equal(messagesOf(wide).length, 2);
  // With the agreed 9-bit window the back-reference reaches beyond it.
  const r = withDeflate('server', a);
  r.feed(cframe(Opcode.Binary, m1!, { rsv: 4 }));
  assert.equal(messagesOf(r).length, 1);
  assert.deepEqual(Buffer.from((r.events[0] as { data: Buffer }).data), data);
  assert.doesNotThrow(() => r.feed(cframe(Opcode.Binary, m2!, { rsv: 4 })));
  assertFailed(r, CloseCode.InvalidPayload);
  assert.equal(messagesOf(r).length, 1);
  // Nothing more is read, and the closed inflater is not touched again.
  assert.doesNotThrow(() => r.feed(cframe(Opcode.Binary, m1!, { rsv: 4 })));
  r.transportClosed();
});

// --- RSV1 rules -----------------------------------------------------------------------

for (const role of ['server', 'client'] as const) {
  test(`${role}: RSV1 on a continuation frame → 1002`, () => {
    const r = withDeflate(role);
    r.feed(peer(r, Opcode.Text, hex('f2 48 cd'), { rsv: 4, fin: false }), peer(r, Opcode.Continuation, hex('c9 c9 07 00'), { rsv: 4 }));
    assertFailed(r, CloseCode.ProtocolError);
    assert.equal(messagesOf(r).length, 0);
    // Also when the first frame was not compressed.
    const u = withDeflate(role);
    u.feed(peer(u, Opcode.Text, 'Hel', { fin: false }), peer(u, Opcode.Continuation, 'lo', { rsv: 4 }));
    assertFailed(u, CloseCode.ProtocolError);
  });

  test(`${role}: RSV1 without a negotiated extension → 1002`, () => {
    const r = new Recorder(role);
    r.feed(peer(r, Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
    assertFailed(r, CloseCode.ProtocolError);
    assert.equal(messagesOf(r).length, 0);
  });

  test(`${role}: RSV1 on a control frame → 1002, even with deflate on`, () => {
    for (const opcode of [Opcode.Ping, Opcode.Pong, Opcode.Close]) {
      const r = withDeflate(role);
      r.feed(peer(r, opcode, opcode === Opcode.Close ? hex('03 e8') : 'x', { rsv: 4 }));
      assertFailed(r, CloseCode.ProtocolError);
      assert.equal(r.sentFrames().filter((f) => f.opcode === Opcode.Pong).length, 0);
    }
  });

  test(`${role}: RSV2 and RSV3 stay illegal with deflate on`, () => {
    for (const rsv of [2, 1, 6]) {
      const r = withDeflate(role);
      r.feed(peer(r, Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv }));
      assertFailed(r, CloseCode.ProtocolError);
    }
  });

  test(`${role}: control frames are never compressed, also between fragments of a compressed message`, () => {
    const r = withDeflate(role);
    r.feed(peer(r, Opcode.Text, hex('f2 48'), { rsv: 4, fin: false }), peer(r, Opcode.Ping, 'Hello'), peer(r, Opcode.Continuation, hex('cd c9 c9 07 00')));
    assert.deepEqual(r.events, [{ type: 'ping', payload: Buffer.from('Hello') }, hello]);
    r.sendPing(Buffer.from('Hello'));
    r.sendPong(Buffer.from('Hello'));
    r.sendClose(1000, 'Hello');
    const frames = r.sentFrames();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.rsv, f.payload.toString('latin1')]),
      [
        [Opcode.Pong, 0, 'Hello'],
        [Opcode.Ping, 0, 'Hello'],
        [Opcode.Pong, 0, 'Hello'],
        [Opcode.Close, 0, '\x03\xe8Hello'],
      ],
    );
  });
}

// --- state shared between connections without context takeover ------------------------

test('shared compressor: two connections without context takeover interleaving messages each get correct output', () => {
  const a = agreement({ serverNoContextTakeover: true });
  const one = new PerMessageDeflate(a, 'server', EAGER);
  const two = new PerMessageDeflate(a, 'server', EAGER);
  assert.equal(one.sharedOutgoing, true);
  assert.equal(one.outgoingKey, two.outgoingKey);
  const msgs = [Buffer.from('Hello'), Buffer.from('abcabcabcabc'.repeat(50)), Buffer.from('Hello'), Buffer.alloc(70000, 7), Buffer.from('Hello, Hello')];
  const fresh = (m: Buffer) => new PerMessageDeflate(DEFAULT, 'server', EAGER).compress(m);
  for (let i = 0; i < msgs.length; i++) {
    for (const codec of i % 2 === 0 ? [one, two] : [two, one]) {
      const out = codec.compress(msgs[i]!);
      assert.deepEqual(out, fresh(msgs[i]!), `message ${i} compressed from a fresh context`);
      assert.deepEqual(inflateRawSync(Buffer.concat([out, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }), msgs[i]);
    }
  }
  // Over connections: both peers decode everything, in any interleaving.
  const s1 = withDeflate('server', a);
  const s2 = withDeflate('server', a);
  const c1 = withDeflate('client', a);
  const c2 = withDeflate('client', a);
  for (const m of msgs) {
    s1.sendBinary(m);
    s2.sendText(m.toString('latin1'));
  }
  c1.feed(...s1.sent);
  c2.feed(...s2.sent);
  assert.deepEqual(c1.events.map((e) => Buffer.from((e as { data: Buffer }).data)), msgs);
  assert.deepEqual(c2.events.map((e) => (e as { data: string }).data), msgs.map((m) => m.toString('latin1')));
  // Identical frames for identical messages: the payload may be shared by a broadcast.
  assert.deepEqual(s1.sentFrames().map((f) => f.payload), s2.sentFrames().map((f) => f.payload));
});

test('shared inflater: interleaved messages of two connections decode, and one connection with takeover is not disturbed', () => {
  const shared = agreement({ clientNoContextTakeover: true });
  const s1 = withDeflate('server', shared);
  const s2 = withDeflate('server', shared);
  const own = withDeflate('server', DEFAULT);
  const texts = ['Hello', 'x'.repeat(3000), 'Hello', 'ünïcödé '.repeat(20), 'Hello'];
  for (const t of texts) {
    // Each shared-state message is a fresh stream; the takeover connection keeps its own.
    s1.feed(cframe(Opcode.Text, rawDeflate(Buffer.from(t)), { rsv: 4 }));
    own.feed(cframe(Opcode.Text, rawDeflate(Buffer.from(t)), { rsv: 4 }));
    s2.feed(cframe(Opcode.Text, rawDeflate(Buffer.from(t)), { rsv: 4 }));
  }
  for (const r of [s1, s2, own]) assert.deepEqual(r.events.map((e) => (e as { data: string }).data), texts);
  // A fragmented message on one connection with a whole message on another arriving between its frames.
  const p = rawDeflate(Buffer.from('fragmented '.repeat(30)));
  s1.feed(cframe(Opcode.Text, p.subarray(0, 4), { rsv: 4, fin: false }));
  s2.feed(cframe(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
  s1.feed(cframe(Opcode.Continuation, p.subarray(4)));
  assert.equal((s1.events.at(-1) as { data: string }).data, 'fragmented '.repeat(30));
  assert.deepEqual(s2.events.at(-1), hello);
});

test('shared inflater: a failed inflate (bad data, or cut off at the limit) does not break the next connection', () => {
  const a = agreement({ clientNoContextTakeover: true });
  // Valid data that stops half-way through a message, then garbage: the inflater is mid-stream when it fails.
  const good = rawDeflate(Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(40)));
  const cases: Array<{ payload: Buffer; code: number; maxPayload?: number }> = [
    { payload: hex('ff ff ff ff'), code: CloseCode.InvalidPayload },
    { payload: Buffer.concat([good.subarray(0, good.length >> 1), hex('ff ff ff ff ff ff')]), code: CloseCode.InvalidPayload },
    { payload: good, code: CloseCode.MessageTooBig, maxPayload: 500 },
  ];
  for (const c of cases) {
    const bad = withDeflate('server', a, EAGER, c.maxPayload);
    bad.feed(cframe(Opcode.Text, c.payload, { rsv: 4 }));
    assertFailed(bad, c.code);
    // Another connection's messages decode as if nothing happened; twice, so a reset after it is also checked.
    const next = withDeflate('server', a);
    next.feed(cframe(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }), cframe(Opcode.Text, good, { rsv: 4 }), cframe(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
    assert.deepEqual(next.failures(), []);
    assert.deepEqual(next.events.map((e) => (e as { data: string }).data), ['Hello', 'The quick brown fox jumps over the lazy dog. '.repeat(40), 'Hello']);
  }
});

test('closing a connection frees only its own context: shared state keeps working for the others', () => {
  const sharedBoth = agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true });
  const x = withDeflate('server', sharedBoth);
  const y = withDeflate('server', sharedBoth);
  x.transportClosed();
  y.feed(cframe(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv: 4 }));
  assert.deepEqual(y.events, [hello]);
  assert.equal(y.sendText('Hello'), true);
  assert.deepEqual(y.sentFrames()[0]!.payload, hex('f2 48 cd c9 c9 07 00'));
  // A connection with its own context, closed, is not used again.
  const own = withDeflate('server');
  own.sendText('Hello');
  own.transportClosed();
  assert.equal(own.sendText('Hello'), false);
});
